"""Fixtures for testing the local AWS as a client sees it: boto3 against the running
LocalStack (started by localstack/start), unique names per test, a shared network and IAM
roles, and helpers to wait on lifecycles."""

import json
import os
import time
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config

ENDPOINT = os.environ.get("PIPECTL_LS_ENDPOINT", "http://127.0.0.1:4566")


def client(service, retries=None):
    cfg = Config(retries=retries or {"mode": "standard", "max_attempts": 10}, read_timeout=30)
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )


def control(path, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{ENDPOINT}/_pipectl/{path}", data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="session", autouse=True)
def endpoint_up():
    try:
        urllib.request.urlopen(f"{ENDPOINT}/_localstack/health", timeout=5)
    except OSError as e:
        pytest.exit(f"LocalStack is not running at {ENDPOINT} (start it with localstack/start): {e}", returncode=2)


# The lifecycle delays the tests run under unless a test sets its own: a fifth to a tenth of
# the local AWS's defaults, which stand for nothing but a readable pace (the states are the
# same, only shorter). Jobs keep theirs: the lifecycle test must see every state that lasts.
# What a test measures a delay against, it reads from /_pipectl/config or sets itself.
FAST = {
    "ce_create": 0.4, "ce_update": 0.2, "ce_delete": 0.3,
    "queue_create": 0.2, "queue_update": 0.1, "queue_delete": 0.2,
    "fsx_create": 0.5, "fsx_delete": 0.4, "dra_create": 0.2,
    "iam_propagation": 0.8, "eni_release": 0.6,
}


@pytest.fixture(autouse=True)
def clean_faults():
    control("faults", "DELETE")
    control("config", "DELETE")
    control("config", "POST", FAST)
    yield
    control("faults", "DELETE")
    control("config", "DELETE")


@pytest.fixture
def name():
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def aws():
    class Clients:
        ec2 = client("ec2")
        iam = client("iam")
        batch = client("batch")
        fsx = client("fsx")
        logs = client("logs")
        s3 = client("s3")

    return Clients


@pytest.fixture(scope="session")
def net(aws):
    """A VPC, subnet, security group, Batch service role and instance profile."""
    tag = uuid.uuid4().hex[:8]
    vpc = aws.ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnet = aws.ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.0.0/20", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sg = aws.ec2.create_security_group(GroupName=f"sg-{tag}", Description="tests", VpcId=vpc)["GroupId"]
    role = aws.iam.create_role(RoleName=f"svc-{tag}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    aws.iam.create_role(RoleName=f"inst-{tag}", AssumeRolePolicyDocument="{}")
    profile = aws.iam.create_instance_profile(InstanceProfileName=f"inst-{tag}")["InstanceProfile"]["Arn"]
    aws.iam.add_role_to_instance_profile(InstanceProfileName=f"inst-{tag}", RoleName=f"inst-{tag}")
    # New roles are not usable by Batch at once (IAM propagation): wait as a user would (the
    # tests' delays are set first: a session fixture is made before a test's own fixtures).
    control("config", "POST", FAST)
    time.sleep(control("config")[1]["delays"]["iam_propagation"])
    return {"vpc": vpc, "subnet": subnet, "sg": sg, "role": role, "profile": profile}


def wait_for(fn, timeout=30.0, interval=0.1):
    """Polls fn until it returns a truthy value; returns it, or fails with the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def statuses_until(fn, done, timeout=30.0, interval=0.05):
    """Polls fn (returning a status) and records each distinct status until done(status)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = fn()
        if not seen or seen[-1] != s:
            seen.append(s)
        if done(s):
            return seen
        time.sleep(interval)
    raise AssertionError(f"still not done after {timeout}s: {seen}")


@pytest.fixture
def compute(aws, net):
    """Creates a VALID compute environment + ENABLED queue; returns (ce_name, queue_name)."""

    def make(name, kind="EC2", max_vcpus=16, priority=1, instance_types=("g4dn.xlarge",), queue=True):
        ce = f"{name}-ce"
        aws.batch.create_compute_environment(
            computeEnvironmentName=ce,
            type="MANAGED",
            state="ENABLED",
            serviceRole=net["role"],
            computeResources={
                "type": kind,
                "minvCpus": 0,
                "maxvCpus": max_vcpus,
                "instanceTypes": list(instance_types),
                "subnets": [net["subnet"]],
                "securityGroupIds": [net["sg"]],
                "instanceRole": net["profile"],
                **({"allocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED"} if kind == "SPOT" else {}),
            },
        )
        wait_for(lambda: aws.batch.describe_compute_environments(computeEnvironments=[ce])["computeEnvironments"][0]["status"] == "VALID")
        if not queue:
            return ce, None
        q = f"{name}-q"
        aws.batch.create_job_queue(jobQueueName=q, state="ENABLED", priority=priority, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce}])
        wait_for(lambda: aws.batch.describe_job_queues(jobQueues=[q])["jobQueues"][0]["status"] == "VALID")
        return ce, q

    return make


def job_definition(aws, name, command, retry=None, timeout=None, vcpus=1):
    kw = {}
    if retry:
        kw["retryStrategy"] = retry
    if timeout:
        kw["timeout"] = {"attemptDurationSeconds": timeout}
    aws.batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={"image": "local", "command": command, "resourceRequirements": [{"type": "VCPU", "value": str(vcpus)}, {"type": "MEMORY", "value": "512"}]},
        **kw,
    )
    return name


def wait_job(aws, job_id, timeout=60):
    def done():
        j = aws.batch.describe_jobs(jobs=[job_id])["jobs"][0]
        return j if j["status"] in ("SUCCEEDED", "FAILED") else None

    return wait_for(done, timeout=timeout)
