"""Leaves a Batch job running (a `sleep 611`) so that the test command can check that
localstack/stop ends it along with the runtime. Prints the job id."""

import uuid

from conftest import client, job_definition, wait_for


class Aws:
    ec2, iam, batch = client("ec2"), client("iam"), client("batch")


def main():
    aws, tag = Aws, uuid.uuid4().hex[:8]
    vpc = aws.ec2.create_vpc(CidrBlock="10.88.0.0/16")["Vpc"]["VpcId"]
    subnet = aws.ec2.create_subnet(VpcId=vpc, CidrBlock="10.88.0.0/20")["Subnet"]["SubnetId"]
    sg = aws.ec2.create_security_group(GroupName=f"sg-{tag}", Description="x", VpcId=vpc)["GroupId"]
    aws.iam.create_role(RoleName=f"inst-{tag}", AssumeRolePolicyDocument="{}")
    profile = aws.iam.create_instance_profile(InstanceProfileName=f"inst-{tag}")["InstanceProfile"]["Arn"]
    aws.batch.create_compute_environment(
        computeEnvironmentName=f"ce-{tag}", type="MANAGED",
        computeResources={"type": "EC2", "minvCpus": 0, "maxvCpus": 4, "instanceTypes": ["t3.medium"], "subnets": [subnet], "securityGroupIds": [sg], "instanceRole": profile},
    )
    wait_for(lambda: aws.batch.describe_compute_environments(computeEnvironments=[f"ce-{tag}"])["computeEnvironments"][0]["status"] == "VALID")
    aws.batch.create_job_queue(jobQueueName=f"q-{tag}", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": f"ce-{tag}"}])
    wait_for(lambda: aws.batch.describe_job_queues(jobQueues=[f"q-{tag}"])["jobQueues"][0]["status"] == "VALID")
    job_definition(aws, f"jd-{tag}", ["sleep", "611"])
    job = aws.batch.submit_job(jobName=f"j-{tag}", jobQueue=f"q-{tag}", jobDefinition=f"jd-{tag}")["jobId"]
    wait_for(lambda: aws.batch.describe_jobs(jobs=[job])["jobs"][0]["status"] == "RUNNING")
    print(job)


if __name__ == "__main__":
    main()
