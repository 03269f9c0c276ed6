"""Why a RUNNABLE job cannot be placed, as Batch says it: when the job at the head of a queue
cannot run, Batch writes the reason into the job's `statusReason` (ListJobs, DescribeJobs) and
cancels it after `maxTimeSeconds` when the queue's `jobStateTimeLimitActions` name that reason
("Jobs stuck in a RUNNABLE status",
https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable.html):

- `MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE`: every compute environment's `maxvCpus` is
  below what the job needs;
- `MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT`: no instance type of the compute environments has
  the job's vCPUs, memory and GPUs;
- `ACTION_REQUIRED`: every compute environment of the queue is INVALID (no time-limit action
  applies);
- `CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY`: EC2 has no capacity for the types; the local AWS
  cannot run out, so this one comes from fault injection (`"runnable"` fault setting), as can
  the others.

Pure decisions on the queue's compute environments and the job; the scheduler applies them.
The text after each code follows AWS's pages where they quote it; where they do not, it is
written here (docs/local-aws.md says which).
"""

CAPACITY = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
MAX_RESOURCE = "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"
RESOURCE_REQUIREMENT = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"
INVALID = "ACTION_REQUIRED"

MESSAGES = {
    CAPACITY: "Service cannot fulfill the capacity requested for instance type [{types}]",
    MAX_RESOURCE: "CE(s) associated with the job queue cannot meet the CPU requirement of the job.",
    RESOURCE_REQUIREMENT: "The job resource requirement (vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue.",
    INVALID: "CE(s) associated with the job queue are invalid.",
}


def status_reason(code: str, types: list[str]) -> str:
    """`CODE - message`, as Batch writes a blocked job's statusReason."""
    return f"{code} - " + MESSAGES[code].format(types=", ".join(types))


def instance_fits(type_name: str, vcpus: float, memory_mib: int, gpus: int) -> bool | None:
    """Whether one instance of the type holds the job; None for a family or `optimal` (any
    size of it may)."""
    from moto.ec2.models import instance_types as it

    t = it.INSTANCE_TYPES.get(type_name)
    if t is None:
        return None
    cpu = t["VCpuInfo"]["DefaultVCpus"]
    mem = t["MemoryInfo"]["SizeInMiB"]
    gpu = sum(g.get("Count", 0) for g in (t.get("GpuInfo") or {}).get("Gpus", []))
    return vcpus <= cpu and memory_mib <= mem and gpus <= gpu


def blocked(job, environments: list[dict]) -> str | None:
    """The reason code the job cannot be placed for, or None when it can (or must wait its
    turn). `environments`: the queue's compute environments, each
    {"status", "state", "max_vcpus", "types"}."""
    if not environments:
        return None
    if all(e["status"] == "INVALID" for e in environments):
        return INVALID
    need = job.vcpus * job.num_nodes
    if all(e["max_vcpus"] < need for e in environments):
        return MAX_RESOURCE
    fits = [instance_fits(t, job.vcpus, job.memory, job.gpus) for e in environments for t in e["types"]]
    if fits and all(f is False for f in fits):
        return RESOURCE_REQUIREMENT
    return None


def time_limit(actions: list | None, code: str) -> float | None:
    """The `maxTimeSeconds` of the queue's CANCEL action for this reason, if any."""
    for a in actions or []:
        if a.get("state") == "RUNNABLE" and a.get("reason") == code and a.get("action") == "CANCEL":
            return float(a.get("maxTimeSeconds") or 0)
    return None


def cancelled_reason(code: str) -> str:
    return f"Canceled by JobStateTimeLimit action due to reason: {code}"
