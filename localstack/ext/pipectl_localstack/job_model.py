"""A Batch job as the local job engine keeps it: its definition as submitted (image, command,
resources, retry strategy, timeout, dependencies, array and multi-node shape), its status on
the SUBMITTED → PENDING → RUNNABLE → STARTING → RUNNING → SUCCEEDED | FAILED path, its attempts,
and the run-time state of its current attempt. Data only: no scheduling, no processes.
"""

import logging
import time
from dataclasses import dataclass, field

LOG = logging.getLogger(__name__)

# Called with the job after each change of its status (job_events sends Batch's events).
STATUS_OBSERVERS: list = []

TERMINAL = ("SUCCEEDED", "FAILED")
BEFORE_START = ("SUBMITTED", "PENDING", "RUNNABLE")
LOG_GROUP = "/aws/batch/job"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Job:
    job_id: str
    name: str
    account: str
    region: str
    queue_arn: str
    jobdef_arn: str
    jobdef_name: str
    image: str
    command: list
    environment: dict
    vcpus: float
    memory: int
    gpus: int
    num_nodes: int
    main_node: int
    timeout_s: int | None
    attempts_max: int
    evaluate_on_exit: list
    retry_strategy: dict | None
    parameters: dict
    tags: dict
    depends_on: list
    array_size: int | None = None
    array_index: int | None = None
    parent: "Job | None" = None
    children: list = field(default_factory=list)
    status: str = "SUBMITTED"
    status_reason: str | None = None
    created_at: int = field(default_factory=now_ms)
    started_at: int | None = None
    stopped_at: int | None = None
    attempts: list = field(default_factory=list)
    is_cancelled: bool = False
    is_terminated: bool = False
    # runtime
    since: float = field(default_factory=time.monotonic)
    ce_arn: str | None = None
    ce_name: str | None = None
    procs: list = field(default_factory=list)
    readers: list = field(default_factory=list)
    attempt_started_ms: int | None = None
    attempt_started: float | None = None
    spot_kill_at: float | None = None
    # why it cannot be placed (job_blocking's code) and since when (monotonic)
    blocked_code: str | None = None
    blocked_since: float | None = None
    terminate_reason: str | None = None
    instance_id: str = ""
    task_id: str = ""
    log_stream: str | None = None
    # logConfiguration awslogs-group, else Batch's default group
    log_group: str = LOG_GROUP
    # multi-node: the effective nodeProperties (numNodes override applied), each node's
    # container ({"image", "command", "environment"}), each node's process and state
    # ({"status", "startedAt", "stoppedAt", "exitCode", "reason"}) in the current attempt,
    # whether the child nodes were started, and an injected node loss (node, monotonic time)
    node_properties: dict | None = None
    nodes: list = field(default_factory=list)
    node_procs: dict = field(default_factory=dict)
    node_state: dict = field(default_factory=dict)
    children_started: bool = False
    node_loss: tuple | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:batch:{self.region}:{self.account}:job/{self.job_id}"

    def set_status(self, status: str, reason: str | None = None) -> None:
        LOG.debug("job %s (%s): %s -> %s %s", self.job_id, self.name, self.status, status, reason or "")
        changed = status != self.status
        self.status = status
        if reason is not None:
            self.status_reason = reason
        self.since = time.monotonic()
        if status in TERMINAL and self.stopped_at is None:
            self.stopped_at = now_ms()
        if changed:
            for observe in STATUS_OBSERVERS:
                observe(self)

