"""Batch's job queue operations (Create/Describe/Update/DeleteJobQueue): moto keeps the
resource; this module adds AWS's rules (a queue uses only VALID compute environments, must be
DISABLED before it is deleted, and its jobs are then terminated) and the lifecycle it records
in `batch_lifecycle`.
"""

from localstack.services.moto import call_moto, call_moto_with_request

from . import batch_lifecycle as life
from . import rules
from .jobs import ENGINE
from .rules import client_error


def _check_queue_environments(b, order: list) -> None:
    for entry in order or []:
        ce = b.get_compute_environment(entry.get("computeEnvironment") or "")
        if ce is None or life.is_gone(ce.arn):
            raise client_error(f"computeEnvironment {entry.get('computeEnvironment')} does not exist")
        status = life.status_of(ce.arn)
        if status not in ("VALID", "UPDATING"):
            raise client_error(f"computeEnvironment {ce.name} is not VALID (it is {status})")


def _check_time_limits(actions: list | None) -> None:
    """`jobStateTimeLimitActions` as CreateJobQueue/UpdateJobQueue take them
    (https://docs.aws.amazon.com/batch/latest/APIReference/API_JobStateTimeLimitAction.html):
    state RUNNABLE, maxTimeSeconds 600 to 86,400, and for queues of EC2/ECS compute
    environments the action CANCEL only."""
    for a in actions or []:
        if a.get("state") != "RUNNABLE":
            raise client_error("jobStateTimeLimitActions.state must be RUNNABLE")
        if not 600 <= int(a.get("maxTimeSeconds") or 0) <= 86400:
            raise client_error("jobStateTimeLimitActions.maxTimeSeconds must be between 600 and 86400")
        if a.get("action") != "CANCEL":
            raise client_error("jobStateTimeLimitActions.action must be CANCEL for a job queue of ECS compute environments")


def create_job_queue(context, request):
    b = life.backend(context)
    _check_queue_environments(b, request.get("computeEnvironmentOrder"))
    existing = b.get_job_queue_by_name(request.get("jobQueueName") or "")
    if existing is not None and not life.is_gone(existing.arn):
        raise client_error(f"Job queue {existing.name} already exists")
    request = dict(request)
    request.setdefault("state", "ENABLED")  # AWS's default; moto insists on it
    err = rules.resource_name("jobQueueName", request.get("jobQueueName") or "")
    if err:
        raise err
    _check_time_limits(request.get("jobStateTimeLimitActions"))
    result = call_moto_with_request(context, request)
    life.record(result["jobQueueArn"], "queue", context.account_id, context.region, result["jobQueueName"], request.get("tags"))
    life.set_field(result["jobQueueArn"], "priority", request.get("priority"))
    life.set_field(result["jobQueueArn"], "time_limits", list(request.get("jobStateTimeLimitActions") or []))
    return result


def describe_job_queues(context, request):
    life.backend(context)
    result = call_moto(context)
    queues = []
    for q in result.get("jobQueues", []):
        status = life.status_of(q["jobQueueArn"])
        if status == "DELETED":
            continue
        q["status"] = status
        q["statusReason"] = life.REASONS.get(status) or "JobQueue Healthy"
        limits = life.field_of(q["jobQueueArn"], "time_limits")
        if limits:
            q["jobStateTimeLimitActions"] = limits
        queues.append(q)
    queues.extend(life.tombstones_matching("queue", request.get("jobQueues") or []))
    result["jobQueues"] = queues
    return result


def update_job_queue(context, request):
    b = life.backend(context)
    q = b.get_job_queue(request.get("jobQueue") or "")
    if q is None or life.is_gone(q.arn):
        raise client_error(f"Job queue {request.get('jobQueue')} does not exist")
    if life.status_of(q.arn) == "DELETING":
        raise client_error(f"Job queue {q.name} cannot be updated while DELETING")
    if request.get("computeEnvironmentOrder"):
        _check_queue_environments(b, request["computeEnvironmentOrder"])
    if "jobStateTimeLimitActions" in request:
        _check_time_limits(request["jobStateTimeLimitActions"])
    result = call_moto(context)
    if "jobStateTimeLimitActions" in request:
        life.set_field(q.arn, "time_limits", list(request["jobStateTimeLimitActions"] or []))
    life.mark_updated(q.arn)
    return result


def delete_job_queue(context, request):
    b = life.backend(context)
    name = request.get("jobQueue") or ""
    q = b.get_job_queue(name)
    if q is None or life.is_gone(q.arn):
        raise client_error(f"Job queue {name} does not exist")
    if life.status_of(q.arn) == "DELETING":
        return {}
    if q.state != "DISABLED":
        raise client_error(f"Job queue {q.name} must be DISABLED before it can be deleted")
    ENGINE.terminate_queue(q.arn, "Job queue deleted")
    life.mark_deleting(q.arn, "queue", context.account_id, context.region, q.name)
    return {}


OPERATIONS = {
    "CreateJobQueue": create_job_queue,
    "DescribeJobQueues": describe_job_queues,
    "UpdateJobQueue": update_job_queue,
    "DeleteJobQueue": delete_job_queue,
}
