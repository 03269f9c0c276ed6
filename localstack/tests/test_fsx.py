"""FSx for Lustre: lifecycle, AWS's capacity rules, idempotency, data repository associations."""

import pytest
from botocore.exceptions import ClientError
from conftest import statuses_until, wait_for


def fs_state(aws, fs_id):
    try:
        return aws.fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]["Lifecycle"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "FileSystemNotFound":
            return "GONE"
        raise


def create(aws, net, token=None, capacity=1200, version=None, **lustre):
    kw = {"ClientRequestToken": token} if token else {}
    if version:
        kw["FileSystemTypeVersion"] = version
    return aws.fsx.create_file_system(
        FileSystemType="LUSTRE", StorageCapacity=capacity, SubnetIds=[net["subnet"]], SecurityGroupIds=[net["sg"]],
        LustreConfiguration={"DeploymentType": "SCRATCH_2", **lustre}, Tags=[{"Key": "pipectl:stack", "Value": "test"}], **kw,
    )["FileSystem"]


def test_file_system_passes_through_creating_available_deleting(aws, net, name):
    fs = create(aws, net, token=name)
    assert fs["Lifecycle"] == "CREATING" and fs["LustreConfiguration"]["MountName"]
    assert create(aws, net, token=name)["FileSystemId"] == fs["FileSystemId"], "same token, same file system"
    seen = statuses_until(lambda: fs_state(aws, fs["FileSystemId"]), lambda s: s == "AVAILABLE", timeout=20)
    assert seen == ["CREATING", "AVAILABLE"], seen
    assert aws.fsx.delete_file_system(FileSystemId=fs["FileSystemId"])["Lifecycle"] == "DELETING"
    seen = statuses_until(lambda: fs_state(aws, fs["FileSystemId"]), lambda s: s == "GONE", timeout=20)
    assert seen == ["DELETING", "GONE"], seen


def test_capacity_and_throughput_rules(aws, net):
    with pytest.raises(ClientError, match="StorageCapacity 1000"):
        create(aws, net, capacity=1000)
    with pytest.raises(ClientError, match="StorageCapacity 3600"):
        create(aws, net, capacity=3600)
    with pytest.raises(ClientError, match="PerUnitStorageThroughput"):
        create(aws, net, capacity=2400, PerUnitStorageThroughput=200)
    ok = aws.fsx.create_file_system(
        FileSystemType="LUSTRE", StorageCapacity=2400, SubnetIds=[net["subnet"]],
        LustreConfiguration={"DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 1000},
    )["FileSystem"]
    assert ok["LustreConfiguration"]["PerUnitStorageThroughput"] == 1000


def test_data_repository_associations_need_an_available_file_system(aws, net, name):
    from conftest import control

    control("config", "POST", {"fsx_create": 1.0})
    fs = create(aws, net, version="2.15")["FileSystemId"]
    with pytest.raises(ClientError, match="not AVAILABLE"):
        aws.fsx.create_data_repository_association(FileSystemId=fs, FileSystemPath="/input", DataRepositoryPath=f"s3://{name}/in")
    wait_for(lambda: fs_state(aws, fs) == "AVAILABLE")
    dra = aws.fsx.create_data_repository_association(FileSystemId=fs, FileSystemPath="/input", DataRepositoryPath=f"s3://{name}/in")["Association"]
    assert dra["Lifecycle"] == "CREATING"
    get = lambda: aws.fsx.describe_data_repository_associations(Filters=[{"Name": "file-system-id", "Values": [fs]}])["Associations"]
    wait_for(lambda: get() and get()[0]["Lifecycle"] == "AVAILABLE")
    aws.fsx.delete_data_repository_association(AssociationId=dra["AssociationId"])
    wait_for(lambda: get() == [])


def test_associations_on_one_file_system_are_created_one_at_a_time(aws, net, name):
    """Stricter than documented (docs/local-aws.md): a second association while the first is
    still CREATING is refused with BadRequest; once it is AVAILABLE the second goes through."""
    from conftest import control

    control("config", "POST", {"fsx_create": 0.2, "dra_create": 1.0})
    fs = create(aws, net, version="2.15")["FileSystemId"]
    wait_for(lambda: fs_state(aws, fs) == "AVAILABLE")
    aws.fsx.create_data_repository_association(FileSystemId=fs, FileSystemPath="/a", DataRepositoryPath=f"s3://{name}/a")
    with pytest.raises(ClientError, match="one association at a time") as e:
        aws.fsx.create_data_repository_association(FileSystemId=fs, FileSystemPath="/b", DataRepositoryPath=f"s3://{name}/b")
    assert e.value.response["Error"]["Code"] == "BadRequest"
    get = lambda: aws.fsx.describe_data_repository_associations(Filters=[{"Name": "file-system-id", "Values": [fs]}])["Associations"]
    wait_for(lambda: all(a["Lifecycle"] == "AVAILABLE" for a in get()))
    aws.fsx.create_data_repository_association(FileSystemId=fs, FileSystemPath="/b", DataRepositoryPath=f"s3://{name}/b")
    for a in get():
        wait_for(lambda: all(x["Lifecycle"] == "AVAILABLE" for x in get()))
        aws.fsx.delete_data_repository_association(AssociationId=a["AssociationId"])
