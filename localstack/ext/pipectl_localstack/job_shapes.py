"""The shapes Batch answers jobs in: a DescribeJobs JobDetail and a ListJobs JobSummary, built
from the engine's `Job`. Pure functions.
"""

from .job_model import Job


def detail(job: Job) -> dict:
    last = job.attempts[-1]["container"] if job.attempts else {}
    container = {
        "image": job.image,
        "command": job.command,
        "vcpus": int(job.vcpus),
        "memory": job.memory,
        "environment": [{"name": k, "value": v} for k, v in job.environment.items()],
        "resourceRequirements": [{"type": "VCPU", "value": str(job.vcpus).rstrip("0").rstrip(".")}, {"type": "MEMORY", "value": str(job.memory)}]
        + ([{"type": "GPU", "value": str(job.gpus)}] if job.gpus else []),
    }
    if job.log_stream:
        container["logStreamName"] = job.log_stream
    for k in ("exitCode", "reason", "taskArn", "containerInstanceArn"):
        if k in last:
            container[k] = last[k]
    detail = {
        "jobArn": job.arn,
        "jobName": job.name,
        "jobId": job.job_id,
        "jobQueue": job.queue_arn,
        "status": job.status,
        "attempts": list(job.attempts),
        "createdAt": job.created_at,
        "dependsOn": job.depends_on,
        "jobDefinition": job.jobdef_arn,
        "parameters": job.parameters,
        "container": container,
        "tags": job.tags,
        "platformCapabilities": ["EC2"],
        "isCancelled": job.is_cancelled,
        "isTerminated": job.is_terminated,
    }
    if job.status_reason:
        detail["statusReason"] = job.status_reason
    if job.started_at:
        detail["startedAt"] = job.started_at
    if job.stopped_at:
        detail["stoppedAt"] = job.stopped_at
    if job.timeout_s:
        detail["timeout"] = {"attemptDurationSeconds": job.timeout_s}
    if job.retry_strategy:
        detail["retryStrategy"] = job.retry_strategy
    if job.num_nodes > 1:
        detail["nodeProperties"] = {"numNodes": job.num_nodes, "mainNode": job.main_node}
    if job.children:
        summary = {}
        for k in job.children:
            summary[k.status] = summary.get(k.status, 0) + 1
        detail["arrayProperties"] = {"size": job.array_size, "statusSummary": summary}
    elif job.array_index is not None:
        detail["arrayProperties"] = {"index": job.array_index}
    return detail

def summary(job: Job) -> dict:
    s = {
        "jobArn": job.arn,
        "jobId": job.job_id,
        "jobName": job.name,
        "createdAt": job.created_at,
        "status": job.status,
        "jobDefinition": job.jobdef_arn,
    }
    for key, value in (("statusReason", job.status_reason), ("startedAt", job.started_at), ("stoppedAt", job.stopped_at)):
        if value:
            s[key] = value
    if job.attempts:
        c = job.attempts[-1]["container"]
        s["container"] = {k: c[k] for k in ("exitCode", "reason") if k in c}
    if job.array_size:
        s["arrayProperties"] = {"size": job.array_size}
    elif job.array_index is not None:
        s["arrayProperties"] = {"index": job.array_index}
    return s
