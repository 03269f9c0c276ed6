"""The calls pipectl makes outside Batch and FSx answer on the same port: S3 with the
security settings pipectl applies, CloudWatch metrics and dashboards, Logs, STS, IAM, EC2
launch templates with IMDSv2."""

import json

import pytest
from botocore.exceptions import ClientError
from conftest import client


def test_s3_bucket_with_pipectl_security_settings(aws, name):
    s3 = aws.s3
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "pipectl:stack", "Value": name}]})
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    s3.put_object(Bucket=name, Key="x", Body=b"1")
    with pytest.raises(ClientError, match="BucketNotEmpty"):
        s3.delete_bucket(Bucket=name)


def test_cloudwatch_metrics_dashboards_logs_sts(aws, name):
    cw = client("cloudwatch")
    cw.put_metric_data(Namespace="Pipectl", MetricData=[{"MetricName": "PhaseDuration", "Dimensions": [{"Name": "Stack", "Value": name}, {"Name": "Phase", "Value": "training"}], "Value": 35.0, "Unit": "Seconds"}])
    metrics = cw.list_metrics(Namespace="Pipectl", Dimensions=[{"Name": "Stack", "Value": name}])["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["PhaseDuration"]
    cw.put_dashboard(DashboardName=f"pipectl-{name}", DashboardBody=json.dumps({"widgets": []}))
    assert cw.get_dashboard(DashboardName=f"pipectl-{name}")["DashboardName"] == f"pipectl-{name}"
    assert client("sts").get_caller_identity()["Account"] == "000000000000"


def test_launch_template_keeps_imdsv2_and_encryption(aws, name):
    lt = aws.ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 100, "VolumeType": "gp3", "Encrypted": True}}],
        },
    )["LaunchTemplate"]
    data = aws.ec2.describe_launch_template_versions(LaunchTemplateId=lt["LaunchTemplateId"], Versions=["1"])["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


def test_a_roles_permissions_boundary_is_kept_and_a_missing_one_refused(aws, name):
    """The local AWS keeps and returns a role's boundary (so a test can check that every role
    pipectl creates carries it) and refuses a boundary that does not exist, as IAM does
    (CreateRole: NoSuchEntity, https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html)."""
    iam = aws.iam
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    arn = iam.create_policy(PolicyName=f"{name}-boundary", Path="/pipectl/", PolicyDocument=doc)["Policy"]["Arn"]
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    try:
        iam.create_role(RoleName=name, Path=f"/pipectl/{name}/", AssumeRolePolicyDocument=trust, PermissionsBoundary=arn)
        got = iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]
        assert got == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.create_role(RoleName=f"{name}-2", AssumeRolePolicyDocument=trust, PermissionsBoundary=f"{arn}-missing")
    finally:
        iam.delete_role(RoleName=name)
        iam.delete_policy(PolicyArn=arn)
