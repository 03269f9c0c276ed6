"""Jobs that cannot be placed stay RUNNABLE with Batch's blocked-queue reason in their
statusReason, and a queue's jobStateTimeLimitActions cancel them after maxTimeSeconds
(https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable.html)."""

import pytest
from botocore.exceptions import ClientError

from conftest import control, job_definition, wait_for, wait_job


def _reason(aws, job_id):
    j = aws.batch.describe_jobs(jobs=[job_id])["jobs"][0]
    return j["status"], j.get("statusReason") or ""


def _register(aws, name, vcpus, memory):
    aws.batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={"image": "local", "command": ["true"], "resourceRequirements": [{"type": "VCPU", "value": str(vcpus)}, {"type": "MEMORY", "value": str(memory)}]},
    )


def test_a_job_over_every_environments_max_vcpus_is_blocked_with_that_reason(aws, compute, name):
    _, q = compute(name, max_vcpus=4)
    job_definition(aws, name, ["true"], vcpus=8)
    job_id = aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"]
    status, reason = wait_for(lambda: (lambda s: s if s[1] else None)(_reason(aws, job_id)))
    assert status == "RUNNABLE"
    assert reason.startswith("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - "), reason


def test_a_job_no_instance_type_can_hold_is_blocked_with_that_reason(aws, compute, name):
    _, q = compute(name, max_vcpus=64)
    _register(aws, name, 2, 65536)  # g4dn.xlarge has 16 GiB
    job_id = aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"]
    status, reason = wait_for(lambda: (lambda s: s if s[1] else None)(_reason(aws, job_id)))
    assert status == "RUNNABLE"
    assert reason.startswith("MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - "), reason


def test_a_capacity_fault_holds_jobs_then_lets_them_run(aws, compute, name):
    _, q = compute(name)
    assert control("faults", "POST", {"runnable": {"queues": q, "reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", "seconds": 2}})[0] == 200
    job_definition(aws, name, ["true"])
    job_id = aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"]
    _, reason = wait_for(lambda: (lambda s: s if s[1] else None)(_reason(aws, job_id)))
    assert reason.startswith("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for instance type [g4dn.xlarge]"), reason
    assert wait_job(aws, job_id)["status"] == "SUCCEEDED"
    assert control("faults", "POST", {"runnable": {"reason": "NOT_A_REASON"}})[0] == 400


def test_a_time_limit_action_cancels_a_job_blocked_for_its_reason(aws, compute, name):
    _, q = compute(name, max_vcpus=4)
    limit = {"reason": "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", "state": "RUNNABLE", "maxTimeSeconds": 600, "action": "CANCEL"}
    aws.batch.update_job_queue(jobQueue=q, jobStateTimeLimitActions=[limit])
    assert aws.batch.describe_job_queues(jobQueues=[q])["jobQueues"][0]["jobStateTimeLimitActions"] == [limit]
    control("config", "POST", {"time_limit_scale": 0.003})  # 600 s pass in 1.8 s
    job_definition(aws, name, ["true"], vcpus=8)
    job = wait_job(aws, aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"])
    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"
    for bad in ({**limit, "maxTimeSeconds": 599}, {**limit, "state": "STARTING"}, {**limit, "action": "TERMINATE"}):
        with pytest.raises(ClientError) as e:
            aws.batch.update_job_queue(jobQueue=q, jobStateTimeLimitActions=[bad])
        assert e.value.response["Error"]["Code"] == "ClientException"
