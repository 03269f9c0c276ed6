"""AWS Batch on LocalStack: moto's backend keeps compute environments, job queues and job
definitions; this layer adds what AWS does and moto does not.

- Lifecycles that take time: compute environments and queues are CREATING, then VALID;
  UPDATING after an update; DELETING, then DELETED (still listed, with the status DELETED, for
  a while: `deleted_linger`), then gone.
- IAM eventual consistency: a compute environment validated within `iam_propagation` seconds
  of the creation of a role it uses goes INVALID with an sts:AssumeRole reason, and stays
  INVALID until it is updated after the role has propagated.
- AWS's rules: a queue can only use VALID compute environments; a queue must be DISABLED before
  it is deleted (its jobs are terminated); a compute environment must be DISABLED and free of
  queue relationships ("Cannot delete, found existing JobQueue relationship") before deletion;
  nothing DELETING can be updated; the service role may be omitted (Batch's service-linked
  role); and the request rules in rules.py (names, images, instance types, AMI types, Spot
  fleet role, EFA interfaces versus security groups).
- Jobs are run by `jobs.ENGINE`.
"""

import threading
import time

from localstack.aws.api import CommonServiceException
from localstack.services.moto import call_moto, call_moto_with_request

from . import config, rules
from .iam_bridge import role_created_at, service_linked_role_arn
from .jobs import ENGINE, client_error

_lock = threading.RLock()
# ARN -> {"kind": "ce"|"queue", "created": t, "updated": t|None, "deleting": t|None, "account", "region", "name"}
_life: dict[str, dict] = {}
# ARN -> (monotonic time it stops being listed, the DELETED record as DescribeX answers it)
_tombstones: dict[str, tuple[float, dict]] = {}


def backend_for(account: str, region: str):
    from moto.batch.models import batch_backends

    return batch_backends[account][region]


def _record(arn: str, kind: str, account: str, region: str, name: str, tags: dict | None = None, roles_ready: tuple[float, str] | None = None) -> None:
    with _lock:
        _life[arn] = {"kind": kind, "created": time.monotonic(), "updated": None, "deleting": None, "account": account, "region": region, "name": name, "tags": dict(tags or {}), "roles_ready": roles_ready}


def _checked_at(rec: dict) -> float:
    """When Batch last validated the resource: the end of its CREATING or UPDATING."""
    kind = rec["kind"]
    if rec["updated"] is not None:
        return rec["updated"] + config.delay(f"{kind}_update")
    return rec["created"] + config.delay(f"{kind}_create")


def status_of(arn: str) -> str:
    """The lifecycle status of a compute environment or queue right now."""
    with _lock:
        rec = _life.get(arn)
        if rec is None:
            return "VALID"
        now = time.monotonic()
        kind = rec["kind"]
        if rec["deleting"] is not None:
            return "DELETED" if now - rec["deleting"] >= config.delay(f"{kind}_delete") else "DELETING"
        if now - rec["created"] < config.delay(f"{kind}_create"):
            return "CREATING"
        if rec["updated"] is not None and now - rec["updated"] < config.delay(f"{kind}_update"):
            return "UPDATING"
        ready = rec.get("roles_ready")
        if ready is not None and _checked_at(rec) < ready[0]:
            return "INVALID"
        return "VALID"


def _reason(arn: str, status: str) -> str | None:
    """statusReason for a status. An IAM role too new to be assumed reads as AWS reports it
    (CLIENT_ERROR ... not authorized to perform: sts:AssumeRole, as quoted in
    https://github.com/hashicorp/terraform-provider-aws/pull/21281; Batch's troubleshooting
    page https://docs.aws.amazon.com/batch/latest/userguide/invalid_compute_environment.html
    names the role as the usual cause)."""
    if status == "INVALID":
        with _lock:
            rec = _life.get(arn) or {}
        role = (rec.get("roles_ready") or (0, "?"))[1]
        return (
            f"CLIENT_ERROR - User: batch.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: {role} "
            "(Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied)"
        )
    return _REASONS.get(status)


def _roles_ready(account: str, arns: list[str]) -> tuple[float, str] | None:
    """(monotonic time the youngest role becomes usable, its ARN), or None when all are."""
    youngest = None
    for arn in arns:
        created = role_created_at(account, arn)
        if created is not None and (youngest is None or created > youngest[0]):
            youngest = (created, arn)
    if youngest is None:
        return None
    ready = time.monotonic() + (youngest[0] + config.delay("iam_propagation") - time.time())
    return (ready, youngest[1]) if ready > time.monotonic() else None


_REASONS = {
    "CREATING": "Creating",
    "VALID": None,
    "UPDATING": "Updating",
    "DELETING": "Deleting",
    "DELETED": "Deleted",
}


def is_gone(arn: str) -> bool:
    return status_of(arn) == "DELETED"


def _tombstone(arn: str, rec: dict) -> dict:
    """What DescribeComputeEnvironments / DescribeJobQueues answer for a deleted resource."""
    base = {"status": "DELETED", "state": "DISABLED", "statusReason": "Deleted", "tags": rec.get("tags") or {}}
    if rec["kind"] == "queue":
        return {**base, "jobQueueName": rec["name"], "jobQueueArn": arn, "priority": rec.get("priority", 1), "computeEnvironmentOrder": []}
    return {**base, "computeEnvironmentName": rec["name"], "computeEnvironmentArn": arn, "type": "MANAGED"}


def purge(backend) -> None:
    """Removes from moto what has finished deleting (the name can be used again); Batch still
    lists it with the status DELETED for `deleted_linger` seconds."""
    with _lock:
        now = time.monotonic()
        for arn in [a for a, (until, _) in _tombstones.items() if until <= now]:
            _tombstones.pop(arn)
        done = [arn for arn, rec in _life.items() if rec["deleting"] is not None and status_of(arn) == "DELETED"]
        for arn in done:
            rec = _life.pop(arn)
            _tombstones[arn] = (now + config.delay("deleted_linger"), _tombstone(arn, rec))
            b = backend_for(rec["account"], rec["region"])
            if rec["kind"] == "queue":
                b._job_queues.pop(arn, None)
            else:
                ce = b._compute_environments.get(arn)
                if ce is not None:
                    b.delete_compute_environment(ce.name)


def _tombstones_matching(kind: str, wanted: list[str]) -> list[dict]:
    name_key, arn_key = ("jobQueueName", "jobQueueArn") if kind == "queue" else ("computeEnvironmentName", "computeEnvironmentArn")
    with _lock:
        stones = [dict(t) for _, t in _tombstones.values() if arn_key in t]
    return [t for t in stones if not wanted or t[name_key] in wanted or t[arn_key] in wanted]


def queue_by_arn(account: str, region: str, arn: str):
    q = backend_for(account, region)._job_queues.get(arn)
    return None if q is None or is_gone(arn) else q


def ce_by_arn(account: str, region: str, arn: str):
    return backend_for(account, region)._compute_environments.get(arn)


def _backend(context):
    b = backend_for(context.account_id, context.region)
    purge(b)
    return b


# --- compute environments ------------------------------------------------------------------


def _launch_template_data(context, spec: dict | None) -> dict | None:
    if not spec:
        return None
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[context.account_id][context.region]
    try:
        if spec.get("launchTemplateId"):
            lt = ec2.get_launch_template(spec["launchTemplateId"])
        else:
            lt = ec2.get_launch_template_by_name(spec.get("launchTemplateName") or "")
        return lt.get_version(spec.get("version") or "$Default").data
    except Exception:
        raise client_error(f"Launch template {spec.get('launchTemplateId') or spec.get('launchTemplateName')} does not exist")


def _check_compute_resources(context, cr: dict) -> None:
    from moto.ec2.models import instance_types as it

    known = set(it.INSTANCE_TYPES)
    gpu_types = {k for k, v in it.INSTANCE_TYPES.items() if (v.get("GpuInfo") or {}).get("Gpus")}
    checks = (
        rules.instance_types(cr, known, set(it.INSTANCE_FAMILIES)),
        rules.spot_fleet_role(cr),
        rules.image_type(cr, gpu_types),
        rules.interfaces_and_groups(cr, _launch_template_data(context, cr.get("launchTemplate"))),
    )
    for err in checks:
        if err is not None:
            raise err


def _roles_of(context, request: dict) -> list[str]:
    """The roles Batch assumes or passes for a compute environment."""
    from .iam_bridge import instance_profile_roles

    cr = request.get("computeResources") or {}
    arns = [request.get("serviceRole") or ""]
    if cr.get("spotIamFleetRole"):
        arns.append(cr["spotIamFleetRole"])
    if cr.get("instanceRole"):
        arns.extend(instance_profile_roles(context.account_id, cr["instanceRole"]))
    return [a for a in arns if a]


def create_compute_environment(context, request):
    _backend(context)
    request = dict(request)
    err = rules.resource_name("computeEnvironmentName", request.get("computeEnvironmentName") or "")
    if err:
        raise err
    if request.get("computeResources") and request.get("type") == "MANAGED":
        _check_compute_resources(context, request["computeResources"])
    request.setdefault("state", "ENABLED")
    if not request.get("serviceRole"):
        # Batch uses its service-linked role when none is given.
        request["serviceRole"] = service_linked_role_arn(context.account_id)
    cr = request.get("computeResources") or {}
    groups_from_template = bool(cr) and not cr.get("securityGroupIds")
    if groups_from_template:
        # moto insists on securityGroupIds; with an EFA launch template they come from its
        # network interfaces (and are not shown as the compute environment's own).
        data = _launch_template_data(context, cr.get("launchTemplate")) or {}
        interfaces = data.get("NetworkInterfaces") or data.get("NetworkInterface") or []
        groups = [g for i in interfaces for g in (i.get("Groups") or i.get("SecurityGroupId") or [])]
        request["computeResources"] = dict(cr, securityGroupIds=groups)
    result = call_moto_with_request(context, request)
    ready = _roles_ready(context.account_id, _roles_of(context, request))
    _record(result["computeEnvironmentArn"], "ce", context.account_id, context.region, result["computeEnvironmentName"], request.get("tags"), ready)
    if groups_from_template:
        with _lock:
            _life[result["computeEnvironmentArn"]]["groups_from_template"] = True
    return result


def describe_compute_environments(context, request):
    _backend(context)
    result = call_moto(context)
    envs = []
    for ce in result.get("computeEnvironments", []):
        status = status_of(ce["computeEnvironmentArn"])
        if status == "DELETED":
            continue
        ce["status"] = status
        with _lock:
            if (_life.get(ce["computeEnvironmentArn"]) or {}).get("groups_from_template"):
                (ce.get("computeResources") or {}).pop("securityGroupIds", None)
        reason = _reason(ce["computeEnvironmentArn"], status)
        ce["statusReason"] = reason or "ComputeEnvironment Healthy"
        envs.append(ce)
    # DescribeComputeEnvironments lists deleted ones with the status DELETED for a while (the
    # ComputeEnvironmentDetail status enum has DELETED; how long is not documented).
    envs.extend(_tombstones_matching("ce", request.get("computeEnvironments") or []))
    result["computeEnvironments"] = envs
    return result


def update_compute_environment(context, request):
    b = _backend(context)
    ce = b.get_compute_environment(request.get("computeEnvironment") or "")
    if ce is None or is_gone(ce.arn):
        raise client_error(f"Compute environment {request.get('computeEnvironment')} does not exist")
    if status_of(ce.arn) in ("CREATING", "DELETING"):
        raise client_error(f"Compute environment {ce.name} cannot be updated while {status_of(ce.arn)}")
    if request.get("serviceRole"):
        with _lock:
            if ce.arn in _life:
                _life[ce.arn]["roles_ready"] = _roles_ready(context.account_id, [request["serviceRole"]])
    result = call_moto(context)
    cr = request.get("computeResources") or {}
    for key in ("minvCpus", "maxvCpus", "desiredvCpus"):
        if key in cr:
            ce.compute_resources[key] = cr[key]
    with _lock:
        if ce.arn in _life:
            _life[ce.arn]["updated"] = time.monotonic()
    return result


def delete_compute_environment(context, request):
    b = _backend(context)
    name = request.get("computeEnvironment") or ""
    ce = b.get_compute_environment(name)
    if ce is None or is_gone(ce.arn):
        raise client_error(f"Compute environment {name} does not exist")
    if status_of(ce.arn) == "DELETING":
        return {}
    if ce.state != "DISABLED":
        raise client_error(f"Cannot delete, compute environment {ce.name} is ENABLED; disable it first")
    for q in b._job_queues.values():
        if any(e.arn == ce.arn for e in q.environments):
            raise client_error("Cannot delete, found existing JobQueue relationship")
    with _lock:
        rec = _life.setdefault(ce.arn, {"kind": "ce", "created": 0.0, "updated": None, "account": context.account_id, "region": context.region, "name": ce.name})
        rec["deleting"] = time.monotonic()
    return {}


# --- job queues ------------------------------------------------------------------------------


def _check_queue_environments(b, order: list) -> None:
    for entry in order or []:
        ce = b.get_compute_environment(entry.get("computeEnvironment") or "")
        if ce is None or is_gone(ce.arn):
            raise client_error(f"computeEnvironment {entry.get('computeEnvironment')} does not exist")
        status = status_of(ce.arn)
        if status not in ("VALID", "UPDATING"):
            raise client_error(f"computeEnvironment {ce.name} is not VALID (it is {status})")


def create_job_queue(context, request):
    b = _backend(context)
    _check_queue_environments(b, request.get("computeEnvironmentOrder"))
    existing = b.get_job_queue_by_name(request.get("jobQueueName") or "")
    if existing is not None and not is_gone(existing.arn):
        raise client_error(f"Job queue {existing.name} already exists")
    request = dict(request)
    request.setdefault("state", "ENABLED")  # AWS's default; moto insists on it
    err = rules.resource_name("jobQueueName", request.get("jobQueueName") or "")
    if err:
        raise err
    result = call_moto_with_request(context, request)
    _record(result["jobQueueArn"], "queue", context.account_id, context.region, result["jobQueueName"], request.get("tags"))
    with _lock:
        _life[result["jobQueueArn"]]["priority"] = request.get("priority")
    return result


def describe_job_queues(context, request):
    _backend(context)
    result = call_moto(context)
    queues = []
    for q in result.get("jobQueues", []):
        status = status_of(q["jobQueueArn"])
        if status == "DELETED":
            continue
        q["status"] = status
        q["statusReason"] = _REASONS.get(status) or "JobQueue Healthy"
        queues.append(q)
    queues.extend(_tombstones_matching("queue", request.get("jobQueues") or []))
    result["jobQueues"] = queues
    return result


def update_job_queue(context, request):
    b = _backend(context)
    q = b.get_job_queue(request.get("jobQueue") or "")
    if q is None or is_gone(q.arn):
        raise client_error(f"Job queue {request.get('jobQueue')} does not exist")
    if status_of(q.arn) == "DELETING":
        raise client_error(f"Job queue {q.name} cannot be updated while DELETING")
    if request.get("computeEnvironmentOrder"):
        _check_queue_environments(b, request["computeEnvironmentOrder"])
    result = call_moto(context)
    with _lock:
        if q.arn in _life:
            _life[q.arn]["updated"] = time.monotonic()
    return result


def delete_job_queue(context, request):
    b = _backend(context)
    name = request.get("jobQueue") or ""
    q = b.get_job_queue(name)
    if q is None or is_gone(q.arn):
        raise client_error(f"Job queue {name} does not exist")
    if status_of(q.arn) == "DELETING":
        return {}
    if q.state != "DISABLED":
        raise client_error(f"Job queue {q.name} must be DISABLED before it can be deleted")
    ENGINE.terminate_queue(q.arn, "Job queue deleted")
    with _lock:
        rec = _life.setdefault(q.arn, {"kind": "queue", "created": 0.0, "updated": None, "account": context.account_id, "region": context.region, "name": q.name})
        rec["deleting"] = time.monotonic()
    return {}


# --- job definitions ---------------------------------------------------------------------------


def describe_job_definitions(context, request):
    """moto keeps a multi-node definition's nodeProperties but leaves them out of the answer."""
    b = _backend(context)
    result = call_moto(context)
    for d in result.get("jobDefinitions", []):
        jd = b._job_definitions.get(d.get("jobDefinitionArn"))
        if jd is not None and getattr(jd, "node_properties", None) and "nodeProperties" not in d:
            d["nodeProperties"] = jd.node_properties
    return result


def register_job_definition(context, request):
    err = rules.job_definition(request)
    if err:
        raise err
    return call_moto(context)


# --- jobs ------------------------------------------------------------------------------------


def submit_job(context, request):
    return ENGINE.submit(_backend(context), request)


def describe_jobs(context, request):
    return ENGINE.describe(request.get("jobs") or [])


def list_jobs(context, request):
    return ENGINE.list_jobs(_backend(context), request)


def cancel_job(context, request):
    return ENGINE.cancel(request.get("jobId") or "", request.get("reason") or "")


def terminate_job(context, request):
    return ENGINE.terminate(request.get("jobId") or "", request.get("reason") or "")


OPERATIONS = {
    "CreateComputeEnvironment": create_compute_environment,
    "DescribeComputeEnvironments": describe_compute_environments,
    "UpdateComputeEnvironment": update_compute_environment,
    "DeleteComputeEnvironment": delete_compute_environment,
    "CreateJobQueue": create_job_queue,
    "DescribeJobQueues": describe_job_queues,
    "UpdateJobQueue": update_job_queue,
    "DeleteJobQueue": delete_job_queue,
    "DescribeJobDefinitions": describe_job_definitions,
    "RegisterJobDefinition": register_job_definition,
    "SubmitJob": submit_job,
    "DescribeJobs": describe_jobs,
    "ListJobs": list_jobs,
    "CancelJob": cancel_job,
    "TerminateJob": terminate_job,
}

__all__ = ["OPERATIONS", "CommonServiceException", "status_of", "purge", "queue_by_arn", "ce_by_arn", "is_gone"]
