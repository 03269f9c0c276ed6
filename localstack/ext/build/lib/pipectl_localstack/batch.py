"""AWS Batch on LocalStack: moto's backend keeps compute environments, job queues and job
definitions; this layer adds what AWS does and moto does not.

- Lifecycles that take time: compute environments and queues are CREATING, then VALID;
  UPDATING after an update; DELETING, then gone.
- AWS's rules: a queue can only use VALID compute environments; a queue must be DISABLED before
  it is deleted (its jobs are terminated); a compute environment must be DISABLED and free of
  queue relationships ("Cannot delete, found existing JobQueue relationship") before deletion;
  the service role may be omitted (Batch's service-linked role).
- Jobs are run by `jobs.ENGINE`.
"""

import threading
import time

from localstack.aws.api import CommonServiceException
from localstack.services.moto import call_moto, call_moto_with_request

from . import config
from .iam_bridge import service_linked_role_arn
from .jobs import ENGINE, client_error

_lock = threading.RLock()
# ARN -> {"kind": "ce"|"queue", "created": t, "updated": t|None, "deleting": t|None, "account", "region", "name"}
_life: dict[str, dict] = {}


def backend_for(account: str, region: str):
    from moto.batch.models import batch_backends

    return batch_backends[account][region]


def _record(arn: str, kind: str, account: str, region: str, name: str) -> None:
    with _lock:
        _life[arn] = {"kind": kind, "created": time.monotonic(), "updated": None, "deleting": None, "account": account, "region": region, "name": name}


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
        return "VALID"


_REASONS = {
    "CREATING": "Creating",
    "VALID": None,
    "UPDATING": "Updating",
    "DELETING": "Deleting",
}


def is_gone(arn: str) -> bool:
    return status_of(arn) == "DELETED"


def purge(backend) -> None:
    """Removes from moto what has finished deleting."""
    with _lock:
        done = [arn for arn, rec in _life.items() if rec["deleting"] is not None and status_of(arn) == "DELETED"]
        for arn in done:
            rec = _life.pop(arn)
            b = backend_for(rec["account"], rec["region"])
            if rec["kind"] == "queue":
                b._job_queues.pop(arn, None)
            else:
                ce = b._compute_environments.get(arn)
                if ce is not None:
                    b.delete_compute_environment(ce.name)


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


def create_compute_environment(context, request):
    _backend(context)
    request = dict(request)
    request.setdefault("state", "ENABLED")
    if not request.get("serviceRole"):
        # Batch uses its service-linked role when none is given.
        request["serviceRole"] = service_linked_role_arn(context.account_id)
    result = call_moto_with_request(context, request)
    _record(result["computeEnvironmentArn"], "ce", context.account_id, context.region, result["computeEnvironmentName"])
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
        reason = _REASONS.get(status)
        ce["statusReason"] = reason or "ComputeEnvironment Healthy"
        envs.append(ce)
    result["computeEnvironments"] = envs
    return result


def update_compute_environment(context, request):
    b = _backend(context)
    ce = b.get_compute_environment(request.get("computeEnvironment") or "")
    if ce is None or is_gone(ce.arn):
        raise client_error(f"Compute environment {request.get('computeEnvironment')} does not exist")
    if status_of(ce.arn) in ("CREATING", "DELETING"):
        raise client_error(f"Compute environment {ce.name} cannot be updated while {status_of(ce.arn)}")
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
    result = call_moto_with_request(context, request)
    _record(result["jobQueueArn"], "queue", context.account_id, context.region, result["jobQueueName"])
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
    result["jobQueues"] = queues
    return result


def update_job_queue(context, request):
    b = _backend(context)
    q = b.get_job_queue(request.get("jobQueue") or "")
    if q is None or is_gone(q.arn):
        raise client_error(f"Job queue {request.get('jobQueue')} does not exist")
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
    "SubmitJob": submit_job,
    "DescribeJobs": describe_jobs,
    "ListJobs": list_jobs,
    "CancelJob": cancel_job,
    "TerminateJob": terminate_job,
}

__all__ = ["OPERATIONS", "CommonServiceException", "status_of", "purge", "queue_by_arn", "ce_by_arn", "is_gone"]
