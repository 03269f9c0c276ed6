"""From Batch's job requests to the engine's terms: a SubmitJob request and its job
definition become a `Job` (resources, environment, `Ref::` parameters, retry strategy,
timeout, log group), and ListJobs' filters become a predicate on a job. No I/O (a new job
gets a fresh id).
"""

import fnmatch
import uuid

from . import mnp
from .job_model import LOG_GROUP, Job


def build_job(backend, queue, jobdef, request, name, depends_on) -> Job:
    """The job a SubmitJob request describes, with the job definition's values where the
    request's containerOverrides (nodeOverrides for a multi-node job) leave them out."""
    overrides = request.get("containerOverrides") or {}
    node_properties, nodes = None, []
    if jobdef.type == "multinode" and jobdef.node_properties:
        # each node its range's container, with the request's nodeOverrides applied; the job's
        # own fields are the main node's (it decides the job)
        np = jobdef.node_properties
        num_nodes, main_node, containers = mnp.node_containers(np, request.get("nodeOverrides"))
        props, overrides = containers[main_node], {}
        node_properties = {**np, "numNodes": num_nodes}
    else:
        props = jobdef.container_properties or {}
        num_nodes, main_node, containers = 1, 0, []

    def requirement(kind: str, source: dict, default=None):
        for r in source.get("resourceRequirements") or []:
            if r.get("type", "").upper() == kind:
                return r.get("value")
        return default

    vcpus = float(requirement("VCPU", overrides, requirement("VCPU", props, props.get("vcpus") or 1)))
    memory = int(requirement("MEMORY", overrides, requirement("MEMORY", props, props.get("memory") or 2048)))
    gpus = int(requirement("GPU", overrides, requirement("GPU", props, 0)))
    env = {e["name"]: e.get("value", "") for e in props.get("environment") or []}
    env.update({e["name"]: e.get("value", "") for e in overrides.get("environment") or []})
    parameters = dict(jobdef.parameters or {})
    parameters.update(request.get("parameters") or {})
    command = overrides.get("command") or props.get("command") or []
    command = [_substitute(part, parameters) for part in command]
    for c in containers:
        nodes.append(
            {
                "image": c.get("image", ""),
                "command": [_substitute(part, parameters) for part in c.get("command") or []],
                "environment": {e["name"]: e.get("value", "") for e in c.get("environment") or []},
            }
        )
    retry = request.get("retryStrategy") or jobdef.retry_strategy or {}
    timeout = (request.get("timeout") or jobdef.timeout or {}).get("attemptDurationSeconds")
    return Job(
        job_id=str(uuid.uuid4()),
        name=name,
        account=backend.account_id,
        region=backend.region_name,
        queue_arn=queue.arn,
        jobdef_arn=jobdef.arn,
        jobdef_name=jobdef.name,
        image=props.get("image", ""),
        command=command,
        environment=env,
        vcpus=vcpus,
        memory=memory,
        gpus=gpus,
        num_nodes=num_nodes,
        main_node=main_node,
        timeout_s=int(timeout) if timeout else None,
        attempts_max=int(retry.get("attempts") or 1),
        evaluate_on_exit=retry.get("evaluateOnExit") or [],
        retry_strategy=retry or None,
        parameters=parameters,
        tags=request.get("tags") or {},
        depends_on=[{"jobId": d.get("jobId"), "type": d.get("type")} for d in depends_on],
        log_group=((props.get("logConfiguration") or {}).get("options") or {}).get("awslogs-group") or LOG_GROUP,
        node_properties=node_properties,
        nodes=nodes,
    )


def _substitute(part: str, parameters: dict) -> str:
    if isinstance(part, str) and part.startswith("Ref::"):
        return parameters.get(part[5:], part)
    return part


def filters_match(job: Job, filters: list) -> bool:
    for f in filters:
        name, values = f.get("name"), f.get("values") or []
        if name == "JOB_NAME" and not any(fnmatch.fnmatchcase(job.name, v) for v in values):
            return False
        if name == "JOB_DEFINITION" and not any(v in (job.jobdef_arn, job.jobdef_name) or job.jobdef_arn.endswith(f"/{v}") for v in values):
            return False
        if name == "BEFORE_CREATED_AT" and not all(job.created_at < int(v) for v in values):
            return False
        if name == "AFTER_CREATED_AT" and not all(job.created_at > int(v) for v in values):
            return False
    return True

