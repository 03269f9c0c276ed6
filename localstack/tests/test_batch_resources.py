"""Compute environments and job queues as a client sees them: lifecycles that take time and
AWS's rules for creating and deleting them."""

import pytest
from botocore.exceptions import ClientError
from conftest import statuses_until, wait_for


def ce_status(aws, ce):
    envs = aws.batch.describe_compute_environments(computeEnvironments=[ce])["computeEnvironments"]
    return envs[0]["status"] if envs else "GONE"


def q_status(aws, q):
    qs = aws.batch.describe_job_queues(jobQueues=[q])["jobQueues"]
    return qs[0]["status"] if qs else "GONE"


def test_compute_environment_goes_creating_valid_updating_deleting_gone(aws, net, compute, name):
    from conftest import control

    control("config", "POST", {"ce_create": 1.0, "ce_update": 0.6, "ce_delete": 0.8})
    ce = f"{name}-ce"
    aws.batch.create_compute_environment(
        computeEnvironmentName=ce, type="MANAGED", state="ENABLED", serviceRole=net["role"],
        computeResources={"type": "EC2", "minvCpus": 0, "maxvCpus": 8, "instanceTypes": ["t3.medium"], "subnets": [net["subnet"]], "securityGroupIds": [net["sg"]], "instanceRole": net["profile"]},
    )
    seen = statuses_until(lambda: ce_status(aws, ce), lambda s: s == "VALID")
    assert seen[0] == "CREATING" and seen[-1] == "VALID", seen

    aws.batch.update_compute_environment(computeEnvironment=ce, state="DISABLED")
    seen = statuses_until(lambda: ce_status(aws, ce), lambda s: s == "VALID")
    assert seen == ["UPDATING", "VALID"], seen

    aws.batch.delete_compute_environment(computeEnvironment=ce)
    seen = statuses_until(lambda: ce_status(aws, ce), lambda s: s == "DELETED")
    assert seen == ["DELETING", "DELETED"], seen


def test_queue_needs_a_valid_environment_and_blocks_its_deletion(aws, net, compute, name):
    from conftest import control

    control("config", "POST", {"ce_create": 1.5})
    ce = f"{name}-ce"
    aws.batch.create_compute_environment(
        computeEnvironmentName=ce, type="MANAGED", state="ENABLED", serviceRole=net["role"],
        computeResources={"type": "EC2", "minvCpus": 0, "maxvCpus": 8, "instanceTypes": ["t3.medium"], "subnets": [net["subnet"]], "securityGroupIds": [net["sg"]], "instanceRole": net["profile"]},
    )
    q = f"{name}-q"
    with pytest.raises(ClientError, match="is not VALID"):
        aws.batch.create_job_queue(jobQueueName=q, priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce}])
    wait_for(lambda: ce_status(aws, ce) == "VALID")
    aws.batch.create_job_queue(jobQueueName=q, priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce}])
    seen = statuses_until(lambda: q_status(aws, q), lambda s: s == "VALID")
    assert seen[0] == "CREATING", seen

    # a CE cannot go while ENABLED, nor while a queue refers to it
    with pytest.raises(ClientError, match="ENABLED"):
        aws.batch.delete_compute_environment(computeEnvironment=ce)
    aws.batch.update_compute_environment(computeEnvironment=ce, state="DISABLED")
    with pytest.raises(ClientError, match="found existing JobQueue relationship"):
        aws.batch.delete_compute_environment(computeEnvironment=ce)

    # a queue must be DISABLED before deletion; while it is DELETING the CE is still held
    with pytest.raises(ClientError, match="DISABLED"):
        aws.batch.delete_job_queue(jobQueue=q)
    aws.batch.update_job_queue(jobQueue=q, state="DISABLED")
    aws.batch.delete_job_queue(jobQueue=q)
    assert q_status(aws, q) == "DELETING"
    with pytest.raises(ClientError, match="found existing JobQueue relationship"):
        aws.batch.delete_compute_environment(computeEnvironment=ce)
    wait_for(lambda: q_status(aws, q) == "DELETED")
    aws.batch.delete_compute_environment(computeEnvironment=ce)
    wait_for(lambda: ce_status(aws, ce) == "DELETED")


def test_unknown_iam_role_is_refused_and_service_role_may_be_omitted(aws, net, name):
    # g3s.xlarge needs an AMI of its own (ECS_AL2023_NVIDIA does not support g3): test_strict.py
    resources = {
        "type": "EC2", "minvCpus": 0, "maxvCpus": 4, "instanceTypes": ["g3s.xlarge"], "subnets": [net["subnet"]], "securityGroupIds": [net["sg"]], "instanceRole": net["profile"],
        "ec2Configuration": [{"imageType": "ECS_AL2023_NVIDIA", "imageIdOverride": "ami-0123456789abcdef0"}],
    }
    with pytest.raises(ClientError, match="Could not find IAM role"):
        aws.batch.create_compute_environment(computeEnvironmentName=f"{name}-a", type="MANAGED", serviceRole="arn:aws:iam::000000000000:role/nope", computeResources=resources)
    out = aws.batch.create_compute_environment(computeEnvironmentName=f"{name}-b", type="MANAGED", computeResources=resources)
    env = aws.batch.describe_compute_environments(computeEnvironments=[out["computeEnvironmentArn"]])["computeEnvironments"][0]
    assert env["serviceRole"].endswith("AWSServiceRoleForBatch")
    assert env["computeResources"]["instanceTypes"] == ["g3s.xlarge"]


def test_multi_node_job_definition_is_described_with_its_node_properties(aws, name):
    container = {"image": "busybox", "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}],
                 "linuxParameters": {"devices": [{"hostPath": "/dev/infiniband/uverbs0"}]}}
    arn = aws.batch.register_job_definition(jobDefinitionName=name, type="multinode",
                                            nodeProperties={"numNodes": 2, "mainNode": 0, "nodeRangeProperties": [{"targetNodes": "0:", "container": container}]})["jobDefinitionArn"]
    d = aws.batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"][0]
    assert d["nodeProperties"]["numNodes"] == 2
    assert d["nodeProperties"]["nodeRangeProperties"][0]["container"]["linuxParameters"]["devices"][0]["hostPath"] == "/dev/infiniband/uverbs0"
    aws.batch.deregister_job_definition(jobDefinition=arn)
