"""The shapes Batch answers jobs in: a DescribeJobs JobDetail and a ListJobs JobSummary, built
from the engine's `Job`, and those of a multi-node job's nodes (`<jobId>#<node>`). Pure
functions.
"""

from . import mnp
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
        detail["nodeProperties"] = job.node_properties or {"numNodes": job.num_nodes, "mainNode": job.main_node}
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
    if job.num_nodes > 1:
        s["nodeProperties"] = {"numNodes": job.num_nodes}
    if job.array_size:
        s["arrayProperties"] = {"size": job.array_size}
    elif job.array_index is not None:
        s["arrayProperties"] = {"index": job.array_index}
    return s


def _node(job: Job, node: int, shape: dict) -> dict:
    """`shape` (the job's detail or summary) as node `node`'s: its id `<jobId>#<node>`, its own
    status, times, exit code and reason (before it started: the job's status)."""
    state = job.node_state.get(node) or {}
    out = {**shape, "jobId": mnp.node_id(job.job_id, node), "jobArn": mnp.node_id(job.arn, node)}
    out["status"] = state.get("status") or (job.status if job.status in ("SUBMITTED", "PENDING", "RUNNABLE") else "STARTING")
    for key in ("startedAt", "stoppedAt"):
        out.pop(key, None)
        if state.get(key):
            out[key] = state[key]
    if state.get("reason"):
        out["statusReason"] = state["reason"]
    return out


def node_detail(job: Job, node: int) -> dict:
    """DescribeJobs of `<jobId>#<node>`: the node's container and `nodeDetails`
    (https://docs.aws.amazon.com/batch/latest/APIReference/API_NodeDetails.html). Which other
    fields AWS gives a node is not documented; these are the parent's."""
    d = _node(job, node, detail(job))
    d.pop("nodeProperties", None)
    d["nodeDetails"] = {"nodeIndex": node, "isMainNode": node == job.main_node}
    spec = job.nodes[node] if node < len(job.nodes) else {}
    container = {**d["container"], "image": spec.get("image", job.image), "command": spec.get("command", job.command)}
    container["environment"] = [{"name": k, "value": v} for k, v in (spec.get("environment") or {}).items()]
    container.pop("exitCode", None)
    state = job.node_state.get(node) or {}
    if "exitCode" in state:
        container["exitCode"] = state["exitCode"]
    d["container"] = container
    return d


def node_summary(job: Job, node: int) -> dict:
    """ListJobs(multiNodeJobId) of one node: `nodeProperties` {isMainNode, nodeIndex, numNodes}
    (https://docs.aws.amazon.com/batch/latest/APIReference/API_NodePropertiesSummary.html)."""
    s = _node(job, node, summary(job))
    s["nodeProperties"] = {"isMainNode": node == job.main_node, "nodeIndex": node, "numNodes": job.num_nodes}
    state = job.node_state.get(node) or {}
    s["container"] = {"exitCode": state["exitCode"]} if "exitCode" in state else {}
    return s
