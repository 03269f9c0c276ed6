"""The lifecycle of Batch's compute environments and job queues, and the one place that finds
them in moto's backend: what status each has right now (CREATING, VALID, UPDATING, INVALID,
DELETING, DELETED), its statusReason, and the DELETED records Batch still lists for a while.

This module is the bottom of the Batch layer: the operations on compute environments and
queues (`compute_environments`, `job_queues`) write the lifecycle here, and the job engine
(`jobs`, `job_scheduler`) reads it to place jobs (queue priority, states, capacity). It imports
neither, so the engine and the Batch operations do not import each other back.
"""

import threading
import time

from . import config

_lock = threading.RLock()
# ARN -> {"kind": "ce"|"queue", "created": t, "updated": t|None, "deleting": t|None, "account", "region", "name"}
_life: dict[str, dict] = {}
# ARN -> (monotonic time it stops being listed, the DELETED record as DescribeX answers it)
_tombstones: dict[str, tuple[float, dict]] = {}


def backend_for(account: str, region: str):
    from moto.batch.models import batch_backends

    return batch_backends[account][region]


def backend(context):
    """The request's Batch backend, with what has finished deleting removed first."""
    b = backend_for(context.account_id, context.region)
    purge(b)
    return b


def record(arn: str, kind: str, account: str, region: str, name: str, tags: dict | None = None, roles_ready: tuple[float, str] | None = None) -> None:
    with _lock:
        _life[arn] = {"kind": kind, "created": time.monotonic(), "updated": None, "deleting": None, "account": account, "region": region, "name": name, "tags": dict(tags or {}), "roles_ready": roles_ready}


def set_field(arn: str, key: str, value) -> None:
    """Sets one field of a recorded resource (nothing when it is not recorded)."""
    with _lock:
        if arn in _life:
            _life[arn][key] = value


def field_of(arn: str, key: str):
    with _lock:
        return (_life.get(arn) or {}).get(key)


def mark_updated(arn: str) -> None:
    set_field(arn, "updated", time.monotonic())


def mark_deleting(arn: str, kind: str, account: str, region: str, name: str) -> None:
    with _lock:
        rec = _life.setdefault(arn, {"kind": kind, "created": 0.0, "updated": None, "account": account, "region": region, "name": name})
        rec["deleting"] = time.monotonic()


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


def reason(arn: str, status: str) -> str | None:
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
    return REASONS.get(status)


REASONS = {
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


def tombstones_matching(kind: str, wanted: list[str]) -> list[dict]:
    name_key, arn_key = ("jobQueueName", "jobQueueArn") if kind == "queue" else ("computeEnvironmentName", "computeEnvironmentArn")
    with _lock:
        stones = [dict(t) for _, t in _tombstones.values() if arn_key in t]
    return [t for t in stones if not wanted or t[name_key] in wanted or t[arn_key] in wanted]


def queue_by_arn(account: str, region: str, arn: str):
    q = backend_for(account, region)._job_queues.get(arn)
    return None if q is None or is_gone(arn) else q


def ce_by_arn(account: str, region: str, arn: str):
    return backend_for(account, region)._compute_environments.get(arn)
