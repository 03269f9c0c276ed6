"""The local AWS refuses what AWS refuses: Lustre versions and data repository associations,
client tokens, Batch's request rules, images for GPU types, IAM propagation, DELETED records,
requests that break the API model, and the request log."""

import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ENDPOINT, control, job_definition, wait_for


def code_of(exc) -> str:
    return exc.value.response["Error"]["Code"]


def lustre(aws, net, **kw):
    return aws.fsx.create_file_system(
        FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[net["subnet"]], SecurityGroupIds=[net["sg"]],
        LustreConfiguration={"DeploymentType": kw.pop("deployment", "SCRATCH_2")}, **kw,
    )["FileSystem"]


# --- FSx ----------------------------------------------------------------------------------


def test_lustre_version_defaults_to_2_10_and_associations_need_2_12(aws, net, name):
    control("config", "POST", {"fsx_create": 0.2})
    old = lustre(aws, net)
    assert old["FileSystemTypeVersion"] == "2.10"
    new = lustre(aws, net, FileSystemTypeVersion="2.15")
    assert new["FileSystemTypeVersion"] == "2.15"
    for fs in (old, new):
        wait_for(lambda fs=fs: aws.fsx.describe_file_systems(FileSystemIds=[fs["FileSystemId"]])["FileSystems"][0]["Lifecycle"] == "AVAILABLE")
    with pytest.raises(ClientError, match="Lustre 2.10") as e:
        aws.fsx.create_data_repository_association(FileSystemId=old["FileSystemId"], FileSystemPath="/in", DataRepositoryPath=f"s3://{name}/")
    assert code_of(e) == "BadRequest"
    dra = aws.fsx.create_data_repository_association(FileSystemId=new["FileSystemId"], FileSystemPath="/in", DataRepositoryPath=f"s3://{name}/")
    assert dra["Association"]["FileSystemId"] == new["FileSystemId"]
    with pytest.raises(ClientError) as e:
        lustre(aws, net, FileSystemTypeVersion="2.11")
    assert code_of(e) == "BadRequest"


def test_persistent_2_defaults_to_2_12(aws, net):
    fs = aws.fsx.create_file_system(
        FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[net["subnet"]],
        LustreConfiguration={"DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 125},
    )["FileSystem"]
    assert fs["FileSystemTypeVersion"] == "2.12"


def test_fsx_token_reused_with_other_parameters_is_refused_even_after_deletion(aws, net, name):
    control("config", "POST", {"fsx_create": 0.1, "fsx_delete": 0.1})
    fs = lustre(aws, net, ClientRequestToken=name)
    assert lustre(aws, net, ClientRequestToken=name)["FileSystemId"] == fs["FileSystemId"]
    with pytest.raises(ClientError) as e:
        lustre(aws, net, ClientRequestToken=name, FileSystemTypeVersion="2.15")
    assert code_of(e) == "IncompatibleParameterError"
    wait_for(lambda: aws.fsx.describe_file_systems(FileSystemIds=[fs["FileSystemId"]])["FileSystems"][0]["Lifecycle"] == "AVAILABLE")
    aws.fsx.delete_file_system(FileSystemId=fs["FileSystemId"])
    time.sleep(0.5)
    again = lustre(aws, net, ClientRequestToken=name)
    assert again["FileSystemId"] == fs["FileSystemId"], "the token still names the first (deleted) file system"


# --- EC2 client tokens -----------------------------------------------------------------------


def test_ec2_client_token_replays_or_is_refused(aws, name):
    first = aws.ec2.create_launch_template(LaunchTemplateName=name, ClientToken=name, LaunchTemplateData={"InstanceType": "t3.medium"})
    again = aws.ec2.create_launch_template(LaunchTemplateName=name, ClientToken=name, LaunchTemplateData={"InstanceType": "t3.medium"})
    assert again["LaunchTemplate"]["LaunchTemplateId"] == first["LaunchTemplate"]["LaunchTemplateId"]
    with pytest.raises(ClientError) as e:
        aws.ec2.create_launch_template(LaunchTemplateName=name, ClientToken=name, LaunchTemplateData={"InstanceType": "t3.large"})
    assert code_of(e) == "IdempotentParameterMismatch"
    aws.ec2.delete_launch_template(LaunchTemplateId=first["LaunchTemplate"]["LaunchTemplateId"])
    with pytest.raises(ClientError) as e:
        aws.ec2.create_launch_template(LaunchTemplateName=name, ClientToken=name, LaunchTemplateData={"InstanceType": "t3.small"})
    assert code_of(e) == "IdempotentParameterMismatch", "kept after the template is gone"


# --- Batch compute environments ----------------------------------------------------------------


def ce_request(net, name, **cr):
    resources = {
        "type": "EC2", "minvCpus": 0, "maxvCpus": 4, "instanceTypes": ["t3.medium"], "subnets": [net["subnet"]],
        "securityGroupIds": [net["sg"]], "instanceRole": net["profile"], **cr,
    }
    return {"computeEnvironmentName": name, "type": "MANAGED", "serviceRole": net["role"], "computeResources": {k: v for k, v in resources.items() if v is not None}}


def refused(aws, request, match):
    with pytest.raises(ClientError, match=match) as e:
        aws.batch.create_compute_environment(**request)
    assert code_of(e) == "ClientException"


def test_efa_launch_template_excludes_compute_environment_security_groups(aws, net, name):
    lt = aws.ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={"NetworkInterfaces": [{"DeviceIndex": 0, "InterfaceType": "efa", "Groups": [net["sg"]]}]},
    )["LaunchTemplate"]["LaunchTemplateId"]
    template = {"launchTemplateId": lt, "version": "1"}
    refused(aws, ce_request(net, name, launchTemplate=template, instanceTypes=["g4dn.8xlarge"]), "exclusively allowed")
    ok = ce_request(net, name, launchTemplate=template, instanceTypes=["g4dn.8xlarge"], securityGroupIds=None)
    assert aws.batch.create_compute_environment(**ok)["computeEnvironmentName"] == name


def test_images_batch_no_longer_provides_are_refused(aws, net, name):
    refused(aws, ce_request(net, name, ec2Configuration=[{"imageType": "ECS_AL2"}]), "Amazon Linux 2")
    refused(aws, ce_request(net, name, instanceTypes=["g3s.xlarge"]), "doesn't support p3 and g3")
    refused(aws, ce_request(net, name, instanceTypes=["p3.2xlarge"], ec2Configuration=[{"imageType": "ECS_AL2023_NVIDIA"}]), "p3")
    refused(aws, ce_request(net, name, ec2Configuration=[{"imageType": "ECS_AL2025"}]), "Invalid imageType")
    own = ce_request(net, name, instanceTypes=["g3s.xlarge"], ec2Configuration=[{"imageType": "ECS_AL2023_NVIDIA", "imageIdOverride": "ami-0123456789abcdef0"}])
    assert aws.batch.create_compute_environment(**own)["computeEnvironmentName"] == name


def test_spot_best_fit_needs_a_fleet_role_and_unknown_types_are_refused(aws, net, name):
    refused(aws, ce_request(net, name, type="SPOT"), "spotIamFleetRole")
    refused(aws, ce_request(net, name, type="SPOT", allocationStrategy="BEST_FIT"), "spotIamFleetRole")
    refused(aws, ce_request(net, name, instanceTypes=["g4dn.xlargee"]), "g4dn.xlargee")
    refused(aws, ce_request(net, f"{name}!"), "computeEnvironmentName")
    ok = ce_request(net, name, type="SPOT", allocationStrategy="SPOT_PRICE_CAPACITY_OPTIMIZED")
    assert aws.batch.create_compute_environment(**ok)["computeEnvironmentName"] == name


def test_a_role_too_new_makes_the_environment_invalid_until_it_is_updated(aws, net, name):
    control("config", "POST", {"iam_propagation": 2.0, "ce_create": 0.2, "ce_update": 0.2})
    role = aws.iam.create_role(RoleName=f"fresh-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    request = ce_request(net, name)
    request["serviceRole"] = role
    aws.batch.create_compute_environment(**request)
    describe = lambda: aws.batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"][0]
    wait_for(lambda: describe()["status"] == "INVALID")
    assert "sts:AssumeRole" in describe()["statusReason"] and role in describe()["statusReason"]
    time.sleep(1.0)
    assert describe()["status"] == "INVALID", "stays INVALID until updated"
    time.sleep(1.2)
    aws.batch.update_compute_environment(computeEnvironment=name, serviceRole=role)
    wait_for(lambda: describe()["status"] == "VALID")


def test_deleted_environments_and_queues_are_listed_as_deleted_for_a_while(aws, net, compute, name):
    control("config", "POST", {"ce_delete": 0.2, "queue_delete": 0.2, "deleted_linger": 1.5})
    ce, q = compute(name, instance_types=("t3.medium",))
    aws.batch.update_job_queue(jobQueue=q, state="DISABLED")
    wait_for(lambda: aws.batch.describe_job_queues(jobQueues=[q])["jobQueues"][0]["status"] == "VALID")
    aws.batch.delete_job_queue(jobQueue=q)
    with pytest.raises(ClientError, match="DELETING"):
        aws.batch.update_job_queue(jobQueue=q, state="ENABLED")
    listed = lambda: aws.batch.describe_job_queues(jobQueues=[q])["jobQueues"]
    wait_for(lambda: listed() and listed()[0]["status"] == "DELETED")
    assert listed()[0]["state"] == "DISABLED"
    with pytest.raises(ClientError, match="does not exist"):
        aws.batch.delete_job_queue(jobQueue=q)
    wait_for(lambda: listed() == [], timeout=10)


# --- Batch jobs -----------------------------------------------------------------------------


def test_job_names_dependencies_and_images_follow_batch_rules(aws, compute, name):
    _, q = compute(name, instance_types=("t3.medium",))
    jd = job_definition(aws, f"{name}-jd", ["true"])
    for bad in ("-starts-with-hyphen", "has space", "x" * 129):
        with pytest.raises(ClientError, match="jobName") as e:
            aws.batch.submit_job(jobName=bad, jobQueue=q, jobDefinition=jd)
        assert code_of(e) == "ClientException"
    ids = [aws.batch.submit_job(jobName=f"d{i}", jobQueue=q, jobDefinition=jd)["jobId"] for i in range(21)]
    with pytest.raises(ClientError, match="maximum of 20"):
        aws.batch.submit_job(jobName="many", jobQueue=q, jobDefinition=jd, dependsOn=[{"jobId": i} for i in ids])
    aws.batch.submit_job(jobName="twenty", jobQueue=q, jobDefinition=jd, dependsOn=[{"jobId": i} for i in ids[:20]])
    with pytest.raises(ClientError, match="image"):
        aws.batch.register_job_definition(jobDefinitionName=f"{name}-bad", type="container", containerProperties={"image": "repo@sha256:abc", "vcpus": 1, "memory": 512})
    with pytest.raises(ClientError, match="image"):
        aws.batch.register_job_definition(jobDefinitionName=f"{name}-long", type="container", containerProperties={"image": "a" * 256, "vcpus": 1, "memory": 512})


# --- the API model, and the request log --------------------------------------------------------


def unchecked(service):
    """A boto3 client that does not validate on the client side, as a buggy caller would."""
    return boto3.client(
        service, endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def test_requests_that_break_the_api_model_are_refused_with_the_services_code(net, name):
    fsx, ec2, logs = unchecked("fsx"), unchecked("ec2"), unchecked("logs")
    with pytest.raises(ClientError, match="StorageType") as e:
        fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, StorageType="FLOPPY", SubnetIds=[net["subnet"]])
    assert code_of(e) == "BadRequest" and "1 validation error detected" in str(e.value)
    with pytest.raises(ClientError) as e:
        fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[net["subnet"]], ClientRequestToken="x" * 64)
    assert code_of(e) == "BadRequest" and "ClientRequestToken" in str(e.value)
    with pytest.raises(ClientError) as e:
        ec2.create_placement_group(GroupName=name, Strategy="huddle")
    assert code_of(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(CidrBlock="10.0.0.0/24")
    assert code_of(e) == "MissingParameter" and "VpcId" in str(e.value)
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="x" * 513)
    assert code_of(e) == "InvalidParameterException" and "512" in str(e.value)


def test_log_retention_is_one_of_the_periods_cloudwatch_logs_keeps(aws, name):
    aws.logs.create_log_group(logGroupName=f"/t/{name}")
    with pytest.raises(ClientError) as e:
        aws.logs.put_retention_policy(logGroupName=f"/t/{name}", retentionInDays=31)
    assert code_of(e) == "InvalidParameterException"
    aws.logs.put_retention_policy(logGroupName=f"/t/{name}", retentionInDays=30)


def test_the_request_log_says_what_was_asked_and_answered(aws, name):
    control("requests", "DELETE")
    before = time.time()
    aws.ec2.describe_vpcs()
    with pytest.raises(ClientError):
        aws.batch.delete_job_queue(jobQueue=f"missing-{uuid.uuid4().hex[:6]}")
    after = time.time()
    status, body = control("requests?service=batch")
    assert status == 200
    entries = [e for e in body["requests"] if e["operation"] == "DeleteJobQueue"]
    assert entries and entries[-1]["code"] == "ClientException" and entries[-1]["parameters"]["jobQueue"].startswith("missing-")
    _, everything = control("requests")
    vpcs = [e for e in everything["requests"] if e["service"] == "ec2" and e["operation"] == "DescribeVpcs" and e["code"] is None]
    assert vpcs
    # when each was answered, in order (a benchmark's timeline is read from it)
    assert before <= vpcs[-1]["at"] <= entries[-1]["at"] <= after


# --- network interfaces -----------------------------------------------------------------------


def _file_system_in_a_vpc(aws, name, cidr):
    """A VPC, a subnet, a security group and a file system in them (fsx_create 0.1 s,
    fsx_delete 0.3 s, eni_release 1 s): (vpc, subnet, sg, fs)."""
    control("config", "POST", {"fsx_create": 0.1, "fsx_delete": 0.3, "eni_release": 1.0})
    vpc = aws.ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnet = aws.ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sg = aws.ec2.create_security_group(GroupName=name, Description="t", VpcId=vpc)["GroupId"]
    fs = aws.fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[subnet], SecurityGroupIds=[sg], LustreConfiguration={"DeploymentType": "SCRATCH_2"})["FileSystem"]["FileSystemId"]
    return vpc, subnet, sg, fs


def test_interfaces_block_deleting_their_subnet_group_and_vpc_until_released(aws, name):
    vpc, subnet, sg, fs = _file_system_in_a_vpc(aws, name, "10.88")
    enis = aws.ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkInterfaces"]
    assert len(enis) == 1 and fs in enis[0]["Description"]
    for call, match in (
        (lambda: aws.ec2.delete_subnet(SubnetId=subnet), "has dependencies"),
        (lambda: aws.ec2.delete_security_group(GroupId=sg), "dependent object"),
        (lambda: aws.ec2.delete_vpc(VpcId=vpc), "has dependencies"),
    ):
        with pytest.raises(ClientError, match=match) as e:
            call()
        assert code_of(e) == "DependencyViolation"
    wait_for(lambda: aws.fsx.describe_file_systems(FileSystemIds=[fs])["FileSystems"][0]["Lifecycle"] == "AVAILABLE")
    aws.fsx.delete_file_system(FileSystemId=fs)
    gone = lambda: not aws.ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkInterfaces"]
    wait_for(gone, timeout=15)
    aws.ec2.delete_security_group(GroupId=sg)
    aws.ec2.delete_subnet(SubnetId=subnet)
    aws.ec2.delete_vpc(VpcId=vpc)


def test_a_file_systems_interface_goes_on_aws_clock_not_when_someone_next_looks(aws, name):
    # Released eni_release after the file system went (fsx_delete after DeleteFileSystem),
    # even when nothing asked about either in between (the clock once started at the look).
    vpc, subnet, sg, fs = _file_system_in_a_vpc(aws, name, "10.89")
    wait_for(lambda: aws.fsx.describe_file_systems(FileSystemIds=[fs])["FileSystems"][0]["Lifecycle"] == "AVAILABLE")
    aws.fsx.delete_file_system(FileSystemId=fs)
    time.sleep(2.0)  # gone at 0.3 s, released at 1.3 s; nothing looked meanwhile
    assert aws.ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkInterfaces"] == []
    aws.ec2.delete_security_group(GroupId=sg)
    aws.ec2.delete_subnet(SubnetId=subnet)
    aws.ec2.delete_vpc(VpcId=vpc)


def _deleted_nat_gateway(aws, cidr):
    """A VPC, a subnet and an Elastic IP whose NAT gateway was just deleted: (vpc, subnet, eip)."""
    vpc = aws.ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnet = aws.ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.0.0/24")["Subnet"]["SubnetId"]
    eip = aws.ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = aws.ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    aws.ec2.delete_nat_gateway(NatGatewayId=nat)
    return vpc, subnet, eip


def test_a_nat_gateways_interface_goes_some_time_after_the_gateway(aws):
    control("config", "POST", {"eni_release": 1.5})
    vpc, subnet, eip = _deleted_nat_gateway(aws, "10.89")
    with pytest.raises(ClientError) as e:
        aws.ec2.delete_subnet(SubnetId=subnet)
    assert code_of(e) == "DependencyViolation"
    time.sleep(1.7)
    aws.ec2.release_address(AllocationId=eip)
    aws.ec2.delete_subnet(SubnetId=subnet)
    aws.ec2.delete_vpc(VpcId=vpc)


def test_a_deleted_nat_gateways_address_is_refused_until_it_is_let_go_and_a_refusal_leaves_nothing(aws):
    control("config", "POST", {"eni_release": 1.0})
    vpc, subnet, eip = _deleted_nat_gateway(aws, "10.88")
    interfaces = lambda: aws.ec2.describe_network_interfaces(  # noqa: E731
        Filters=[{"Name": "subnet-id", "Values": [subnet]}]
    )["NetworkInterfaces"]
    held = len(interfaces())
    with pytest.raises(ClientError) as e:
        aws.ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)
    assert code_of(e) == "Resource.AlreadyAssociated"
    assert len(interfaces()) == held, "a refused CreateNatGateway leaves no interface"
    time.sleep(1.2)
    address = aws.ec2.describe_addresses(AllocationIds=[eip])["Addresses"][0]
    assert "AssociationId" not in address, address
    again = aws.ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    aws.ec2.delete_nat_gateway(NatGatewayId=again)
    time.sleep(1.2)
    aws.ec2.release_address(AllocationId=eip)
    aws.ec2.delete_subnet(SubnetId=subnet)
    aws.ec2.delete_vpc(VpcId=vpc)


def test_a_new_instance_role_makes_the_environment_invalid_until_it_is_updated(aws, net, name):
    """The instance profile's role counts as the service role does (Batch validates the roles a
    compute environment uses when it is created and when it is updated), also when Batch's
    service-linked role stands for the service role and the update names no role."""
    control("config", "POST", {"iam_propagation": 2.0, "ce_create": 0.2, "ce_update": 0.2})
    role = aws.iam.create_role(RoleName=f"fresh-{name}", Path=f"/pipectl/{name}/", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    profile = aws.iam.create_instance_profile(InstanceProfileName=f"fresh-{name}", Path=f"/pipectl/{name}/")["InstanceProfile"]["Arn"]
    aws.iam.add_role_to_instance_profile(InstanceProfileName=f"fresh-{name}", RoleName=f"fresh-{name}")
    request = ce_request(net, name, instanceRole=profile)
    del request["serviceRole"]
    aws.batch.create_compute_environment(**request)
    describe = lambda: aws.batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"][0]
    wait_for(lambda: describe()["status"] == "INVALID")
    assert role in describe()["statusReason"]
    time.sleep(2.2)
    aws.batch.update_compute_environment(computeEnvironment=name, state="ENABLED")
    wait_for(lambda: describe()["status"] == "VALID")
