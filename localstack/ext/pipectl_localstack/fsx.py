"""FSx for Lustre on LocalStack: moto's backend keeps file systems; this layer adds AWS's
capacity and throughput rules, the Lustre version AWS picks when none is asked for and what it
allows, ClientRequestToken idempotency (a token remembered with its parameters), the Lustre
mount name, a lifecycle that takes time (CREATING → AVAILABLE, DELETING → gone) and data
repository associations (CREATING → AVAILABLE, DELETING → gone).
"""

import hashlib
import json
import threading
import time
import uuid

from localstack.aws.api import CommonServiceException
from localstack.services.moto import call_moto

from . import config, enis

_lock = threading.RLock()
# file system id -> {"created": t, "deleting": t|None, "token": str|None, "account", "region"}
_life: dict[str, dict] = {}
# association id -> association dict plus private "_created"/"_deleting"/"_account"/"_region"
_dras: dict[str, dict] = {}

SSD = ("SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2")
LUSTRE_VERSIONS = ("2.10", "2.12", "2.15")
# client request token -> (digest of the request's parameters, file system id). AWS keeps a
# token after the file system is gone; so does the local AWS (for its lifetime).
_tokens: dict[str, tuple[str, str]] = {}
TIERS = {"PERSISTENT_1": (50, 100, 200), "PERSISTENT_2": (125, 250, 500, 1000)}


def backend_for(account: str, region: str):
    from moto.fsx.models import fsx_backends

    return fsx_backends[account][region]


def _error(code: str, message: str) -> CommonServiceException:
    return CommonServiceException(code, message)


def _gone_at(rec: dict) -> float:
    """When a file system being deleted is gone (monotonic): fsx_delete after the request."""
    return rec["deleting"] + config.delay("fsx_delete")


def lifecycle(fs_id: str) -> str:
    with _lock:
        rec = _life.get(fs_id)
        if rec is None:
            return "AVAILABLE"
        now = time.monotonic()
        if rec["deleting"] is not None:
            return "DELETED" if now >= _gone_at(rec) else "DELETING"
        return "CREATING" if now - rec["created"] < config.delay("fsx_create") else "AVAILABLE"


def purge() -> None:
    with _lock:
        for fs_id in [f for f, r in _life.items() if r["deleting"] is not None and lifecycle(f) == "DELETED"]:
            rec = _life.pop(fs_id)
            backend_for(rec["account"], rec["region"]).file_systems.pop(fs_id, None)
            enis.release_owner(fs_id, gone_at=_gone_at(rec))
            for dra_id in [d for d, a in _dras.items() if a["FileSystemId"] == fs_id]:
                _dras.pop(dra_id)
        for dra_id in [d for d, a in _dras.items() if _dra_lifecycle(a) == "DELETED"]:
            _dras.pop(dra_id)


enis.on_purge(purge)


def _validate_lustre(request: dict) -> dict:
    lustre = dict(request.get("LustreConfiguration") or {})
    deployment = lustre.get("DeploymentType") or "SCRATCH_1"
    capacity = int(request.get("StorageCapacity") or 0)
    if deployment == "SCRATCH_1":
        ok = capacity in (1200, 2400) or (capacity > 0 and capacity % 3600 == 0)
        rule = "1200, 2400, or a multiple of 3600 GiB"
    elif deployment in SSD:
        ok = capacity == 1200 or (capacity > 0 and capacity % 2400 == 0)
        rule = "1200 GiB or a multiple of 2400 GiB"
    else:
        raise _error("BadRequest", f"Unsupported DeploymentType {deployment}")
    if not ok:
        raise _error("InvalidParameterValue", f"StorageCapacity {capacity} is invalid for {deployment}: use {rule}")
    per_unit = lustre.get("PerUnitStorageThroughput")
    if deployment in TIERS:
        if per_unit not in TIERS[deployment]:
            raise _error("BadRequest", f"PerUnitStorageThroughput must be one of {TIERS[deployment]} for {deployment}")
    elif per_unit is not None:
        raise _error("BadRequest", f"PerUnitStorageThroughput is not supported for {deployment}")
    lustre["DeploymentType"] = deployment
    if lustre.get("DataCompressionType") not in (None, "NONE", "LZ4"):
        raise _error("BadRequest", f"DataCompressionType {lustre['DataCompressionType']} is invalid; use NONE or LZ4")
    lustre.setdefault("MountName", uuid.uuid4().hex[:8])
    lustre.setdefault("DataCompressionType", "NONE")
    return lustre


def lustre_version(deployment: str, requested: str | None, metadata_mode: bool = False) -> str:
    """The Lustre version AWS gives a new file system.

    CreateFileSystem, FileSystemTypeVersion
    (https://docs.aws.amazon.com/fsx/latest/APIReference/API_CreateFileSystem.html):
    "Default value is 2.10, except ... 2.12 when DeploymentType is set to PERSISTENT_2
    without a metadata configuration mode ... 2.15 ... with a metadata configuration mode";
    "2.10 is supported by the Scratch and Persistent_1 Lustre deployment types".
    """
    if requested is None:
        if deployment == "PERSISTENT_2":
            return "2.15" if metadata_mode else "2.12"
        return "2.10"
    if requested not in LUSTRE_VERSIONS:
        raise _error("BadRequest", f"FileSystemTypeVersion {requested} is invalid; valid values are {', '.join(LUSTRE_VERSIONS)}")
    if requested == "2.10" and deployment == "PERSISTENT_2":
        raise _error("BadRequest", "Lustre version 2.10 is not supported for deployment type PERSISTENT_2")
    return requested


def _digest(request: dict) -> str:
    body = {k: v for k, v in request.items() if k != "ClientRequestToken"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _replay(token: str | None, request: dict, kind: str):
    """ClientRequestToken (https://docs.aws.amazon.com/fsx/latest/APIReference/API_CreateFileSystem.html):
    "If a file system with the specified client request token exists and the parameters
    match, CreateFileSystem returns the description of the existing file system. If ... the
    parameters don't match, this call returns IncompatibleParameterError." The token is kept
    after the file system is deleted (how long AWS keeps it is not documented; here: for the
    local AWS's lifetime), so a new lifetime of a stack must use a new token."""
    if not token:
        return None
    with _lock:
        seen = _tokens.get(token)
    if seen is None:
        return None
    digest, resource_id = seen
    if digest != _digest(request):
        e = _error("IncompatibleParameterError", f"The client request token {token} was already used for a different request ({kind} {resource_id}).")
        e.Parameter = "ClientRequestToken"
        raise e
    return resource_id


def create_file_system(context, request):
    purge()
    token = request.get("ClientRequestToken")
    b = backend_for(context.account_id, context.region)
    earlier = _replay(token, request, "file system")
    if earlier is not None:
        if earlier in b.file_systems:
            return {"FileSystem": _describe_one(b.file_systems[earlier])}
        # The file system that token made is gone: AWS answers with what it made then.
        return {"FileSystem": {"FileSystemId": earlier, "FileSystemType": "LUSTRE", "Lifecycle": "DELETING"}}
    if request.get("FileSystemType") != "LUSTRE":
        return call_moto(context)
    lustre = _validate_lustre(request)
    version = lustre_version(lustre["DeploymentType"], request.get("FileSystemTypeVersion"), bool(lustre.get("MetadataConfiguration")))
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[context.account_id][context.region]
    for subnet in request.get("SubnetIds") or []:
        try:
            ec2.get_subnet(subnet)
        except Exception:
            raise _error("InvalidNetworkSettings", f"The subnet ID '{subnet}' does not exist")
    for sg in request.get("SecurityGroupIds") or []:
        if ec2.get_security_group_from_id(sg) is None:
            raise _error("InvalidNetworkSettings", f"The security group '{sg}' does not exist")
    fs = b.create_file_system(
        client_request_token=token,
        file_system_type="LUSTRE",
        storage_capacity=int(request["StorageCapacity"]),
        storage_type=request.get("StorageType") or "SSD",
        subnet_ids=request.get("SubnetIds") or [],
        security_group_ids=request.get("SecurityGroupIds") or [],
        tags=request.get("Tags"),
        kms_key_id=request.get("KmsKeyId"),
        windows_configuration=None,
        lustre_configuration=lustre,
        ontap_configuration=None,
        file_system_type_version=version,
        open_zfs_configuration=None,
    )
    with _lock:
        _life[fs.file_system_id] = {"created": time.monotonic(), "deleting": None, "token": token, "account": context.account_id, "region": context.region, "created_at": time.time(), "version": version}
        if token:
            _tokens[token] = (_digest(request), fs.file_system_id)
    subnets = request.get("SubnetIds") or []
    if subnets:
        enis.add_fsx(context.account_id, context.region, fs.file_system_id, subnets[0], request.get("SecurityGroupIds") or [])
    return {"FileSystem": _describe_one(fs)}


def _describe_one(fs) -> dict:
    d = fs.to_dict()
    state = lifecycle(fs.file_system_id)
    d["Lifecycle"] = state
    d["OwnerId"] = fs.backend.account_id
    d["VpcId"] = _vpc_of(fs)
    with _lock:
        rec = _life.get(fs.file_system_id)
        if rec:
            d["CreationTime"] = rec["created_at"]
            d["FileSystemTypeVersion"] = rec.get("version") or "2.10"
    return d


def _vpc_of(fs) -> str | None:
    try:
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[fs.backend.account_id][fs.backend.region_name]
        return ec2.get_subnet(fs.subnet_ids[0]).vpc_id if fs.subnet_ids else None
    except Exception:
        return None


def describe_file_systems(context, request):
    purge()
    b = backend_for(context.account_id, context.region)
    ids = request.get("FileSystemIds") or []
    for fs_id in ids:
        if fs_id not in b.file_systems:
            raise _error("FileSystemNotFound", f"File system '{fs_id}' does not exist.")
    systems = [fs for fid, fs in b.file_systems.items() if not ids or fid in ids]
    return {"FileSystems": [_describe_one(fs) for fs in systems]}


def delete_file_system(context, request):
    purge()
    b = backend_for(context.account_id, context.region)
    fs_id = request.get("FileSystemId")
    if fs_id not in b.file_systems:
        raise _error("FileSystemNotFound", f"File system '{fs_id}' does not exist.")
    state = lifecycle(fs_id)
    if state == "CREATING":
        raise _error("BadRequest", f"File system '{fs_id}' cannot be deleted while it is CREATING.")
    with _lock:
        rec = _life.setdefault(fs_id, {"created": 0.0, "token": None, "account": context.account_id, "region": context.region, "created_at": time.time()})
        if rec.get("deleting") is None:
            rec["deleting"] = time.monotonic()
    return {"FileSystemId": fs_id, "Lifecycle": "DELETING"}


# --- data repository associations ----------------------------------------------------------


def _dra_lifecycle(a: dict) -> str:
    now = time.monotonic()
    if a["_deleting"] is not None:
        return "DELETED" if now - a["_deleting"] >= config.delay("fsx_delete") / 2 else "DELETING"
    return "CREATING" if now - a["_created"] < config.delay("dra_create") else "AVAILABLE"


def _public(a: dict) -> dict:
    out = {k: v for k, v in a.items() if not k.startswith("_")}
    out["Lifecycle"] = _dra_lifecycle(a)
    return out


def create_data_repository_association(context, request):
    purge()
    b = backend_for(context.account_id, context.region)
    fs_id = request.get("FileSystemId")
    if fs_id not in b.file_systems:
        raise _error("FileSystemNotFound", f"File system '{fs_id}' does not exist.")
    # CreateDataRepositoryAssociation
    # (https://docs.aws.amazon.com/fsx/latest/APIReference/API_CreateDataRepositoryAssociation.html):
    # "Data repository associations are supported on all FSx for Lustre 2.12 and 2.15 file
    # systems, excluding scratch_1 deployment type." A 2.10 file system (what CreateFileSystem
    # makes when no version is given) is refused.
    fs = b.file_systems[fs_id]
    deployment = (fs.lustre_configuration or {}).get("DeploymentType")
    with _lock:
        version = (_life.get(fs_id) or {}).get("version") or "2.10"
    if deployment == "SCRATCH_1" or version == "2.10":
        raise _error("BadRequest", f"Data repository associations are not supported on file system '{fs_id}' (Lustre {version}, {deployment}): they need Lustre 2.12 or 2.15 and a deployment type other than SCRATCH_1.")
    if lifecycle(fs_id) != "AVAILABLE":
        raise _error("BadRequest", f"File system '{fs_id}' is not AVAILABLE (it is {lifecycle(fs_id)}).")
    token = request.get("ClientRequestToken")
    path = request.get("FileSystemPath")
    with _lock:
        for a in _dras.values():
            if token and a["_token"] == token:
                if a["_digest"] != _digest(request):
                    raise _error("IncompatibleParameterError", f"The client request token {token} was already used for a different request (association {a['AssociationId']}).")
                return {"Association": _public(a)}
            if a["FileSystemId"] == fs_id and a["FileSystemPath"] == path and a["_deleting"] is None:
                raise _error("BadRequest", f"File system path {path} is already linked to a data repository.")
        # Not documented, so the stricter answer (docs/local-aws.md): FSx updates a file
        # system's associations one at a time; creating one while another is still being
        # created or deleted on the same file system is refused (Terraform AWS provider issue
        # 24678 reports failures of parallel creation).
        for a in _dras.values():
            if a["FileSystemId"] == fs_id and _dra_lifecycle(a) in ("CREATING", "DELETING"):
                raise _error("BadRequest", f"File system '{fs_id}' is updating association {a['AssociationId']} ({_dra_lifecycle(a)}); create one association at a time.")
        dra_id = "dra-" + uuid.uuid4().hex[:17]
        a = {
            "AssociationId": dra_id,
            "ResourceARN": f"arn:aws:fsx:{context.region}:{context.account_id}:association/{fs_id}/{dra_id}",
            "FileSystemId": fs_id,
            "FileSystemPath": path,
            "DataRepositoryPath": request.get("DataRepositoryPath"),
            "BatchImportMetaDataOnCreate": bool(request.get("BatchImportMetaDataOnCreate")),
            "ImportedFileChunkSize": request.get("ImportedFileChunkSize") or 1024,
            "S3": request.get("S3") or {},
            "Tags": request.get("Tags") or [],
            "CreationTime": time.time(),
            "_created": time.monotonic(),
            "_deleting": None,
            "_token": token,
            "_digest": _digest(request),
        }
        _dras[dra_id] = a
        return {"Association": _public(a)}


def describe_data_repository_associations(context, request):
    purge()
    ids = request.get("AssociationIds") or []
    filters = {f.get("Name"): f.get("Values") or [] for f in request.get("Filters") or []}
    with _lock:
        for i in ids:
            if i not in _dras:
                raise _error("DataRepositoryAssociationNotFound", f"Association '{i}' does not exist.")
        out = [
            _public(a)
            for a in _dras.values()
            if (not ids or a["AssociationId"] in ids)
            and ("file-system-id" not in filters or a["FileSystemId"] in filters["file-system-id"])
        ]
    return {"Associations": out}


def delete_data_repository_association(context, request):
    purge()
    dra_id = request.get("AssociationId")
    with _lock:
        a = _dras.get(dra_id)
        if a is None:
            raise _error("DataRepositoryAssociationNotFound", f"Association '{dra_id}' does not exist.")
        if a["_deleting"] is None:
            a["_deleting"] = time.monotonic()
        return {"AssociationId": dra_id, "Lifecycle": "DELETING", "DeleteDataInFileSystem": bool(request.get("DeleteDataInFileSystem"))}


OPERATIONS = {
    "CreateFileSystem": create_file_system,
    "DescribeFileSystems": describe_file_systems,
    "DeleteFileSystem": delete_file_system,
    "CreateDataRepositoryAssociation": create_data_repository_association,
    "DescribeDataRepositoryAssociations": describe_data_repository_associations,
    "DeleteDataRepositoryAssociation": delete_data_repository_association,
}
