"""EC2 additions (placement groups, g3 instance types) and seeded fault injection."""

import pytest
from botocore.exceptions import ClientError
from conftest import client, control


def test_placement_groups_create_describe_delete(aws, name):
    pg = aws.ec2.create_placement_group(GroupName=name, Strategy="cluster", TagSpecifications=[{"ResourceType": "placement-group", "Tags": [{"Key": "pipectl:stack", "Value": name}]}])["PlacementGroup"]
    assert pg["State"] == "available" and pg["GroupId"].startswith("pg-")
    found = aws.ec2.describe_placement_groups(Filters=[{"Name": "tag:pipectl:stack", "Values": [name]}])["PlacementGroups"]
    assert [g["GroupName"] for g in found] == [name]
    with pytest.raises(ClientError, match="Duplicate"):
        aws.ec2.create_placement_group(GroupName=name, Strategy="cluster")
    aws.ec2.delete_placement_group(GroupName=name)
    with pytest.raises(ClientError, match="Unknown"):
        aws.ec2.describe_placement_groups(GroupNames=[name])


def test_instance_types_pipectl_uses_have_their_true_facts(aws):
    types = {t["InstanceType"]: t for t in aws.ec2.describe_instance_types(InstanceTypes=["g3s.xlarge", "g4dn.xlarge", "g4dn.8xlarge", "t3.medium"])["InstanceTypes"]}
    g3s = types["g3s.xlarge"]
    assert g3s["VCpuInfo"]["DefaultVCpus"] == 4 and g3s["MemoryInfo"]["SizeInMiB"] == 31232
    assert g3s["GpuInfo"]["Gpus"][0]["Name"] == "M60" and g3s["NetworkInfo"]["EfaSupported"] is False
    assert types["g4dn.xlarge"]["NetworkInfo"]["EfaSupported"] is False
    assert types["g4dn.8xlarge"]["NetworkInfo"]["EfaSupported"] is True


def test_throttling_is_seen_and_retried_by_the_client(aws, name):
    status, state = control("faults", "POST", {"seed": 42, "throttle_rate": 0.5, "services": ["batch"]})
    assert status == 200
    no_retry = client("batch", retries={"mode": "standard", "max_attempts": 1})
    codes = set()
    for _ in range(20):
        try:
            no_retry.describe_job_queues()
        except ClientError as e:
            codes.add(e.response["Error"]["Code"])
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert codes == {"TooManyRequestsException"}
    # a client that retries gets through every time
    for _ in range(10):
        aws.batch.describe_job_queues()
    counts = control("faults")[1]["counts"]
    assert counts["throttled"] > 0 and counts["requests"] >= 30
    # other services are untouched
    aws.ec2.describe_vpcs()


def test_faults_replay_with_the_same_seed(aws):
    def run():
        control("faults", "POST", {"seed": 7, "throttle_rate": 0.3, "error_rate": 0.2, "services": ["ec2"]})
        c = client("ec2", retries={"mode": "standard", "max_attempts": 1})
        out = []
        for _ in range(15):
            try:
                c.describe_vpcs()
                out.append("ok")
            except ClientError as e:
                out.append(e.response["Error"]["Code"])
        return out

    first, second = run(), run()
    assert first == second
    assert {"RequestLimitExceeded", "Unavailable"} <= set(first), first


def test_control_endpoint_refuses_bad_settings():
    assert control("faults", "POST", {"throttle_rate": 2})[0] == 400
    assert control("faults", "POST", {"bogus": 1})[0] == 400
    assert control("config", "POST", {"no_such_delay": 1})[0] == 400
    status, body = control("config")
    assert status == 200 and body["delays"]["ce_create"] > 0
