"""The nodes of a multi-node parallel job's attempt, as Batch runs them
(https://docs.aws.amazon.com/batch/latest/userguide/job-lifecycle.html): the main node starts
first; "When the main node reaches the RUNNING status after the node's container is running,
the child nodes are launched"; each node ends SUCCEEDED or FAILED by its own exit code; when a
child node dies "AWS Batch does nothing to the other nodes" (the application decides); "The
job is finished only if the main node exits. All child nodes are then stopped"
(https://docs.aws.amazon.com/batch/latest/userguide/multi-node-parallel-jobs.html). An injected
node loss (faults `node_loss`) takes one child's instance away.
"""

import time

from . import config, faults, job_processes
from .job_logs import LogSink
from .job_model import Job, now_ms


def launch(job: Job, attempt_no: int, sink: LogSink) -> None:
    """Starts the attempt: every node of a single-node job, the main node of a multi-node one."""
    job.node_procs, job.node_state, job.children_started = {}, {}, False
    if job.num_nodes < 2:
        job_processes.start(job, attempt_no, sink)
        return
    job.node_state = {i: {"status": "STARTING"} for i in range(job.num_nodes)}
    job_processes.start(job, attempt_no, sink, nodes=[job.main_node])
    job.node_state[job.main_node] = {"status": "RUNNING", "startedAt": now_ms()}
    lost = faults.node_loss(job.queue_arn, job.num_nodes)
    job.node_loss = (lost[0], time.monotonic() + lost[1]) if lost and lost[0] != job.main_node else None


def tick(job: Job, attempt_no: int) -> None:
    """A running multi-node attempt: its child nodes started once the main node runs, their
    exits recorded, an injected node loss carried out. The job itself is left alone."""
    if job.num_nodes < 2:
        return
    if not job.children_started and time.monotonic() - (job.attempt_started or 0) >= config.delay("mnp_children"):
        job.children_started = True
        children = [i for i in range(job.num_nodes) if i != job.main_node]
        sink = LogSink(job.account, job.region, job.log_stream, job.log_group)
        for i in children:
            try:
                job_processes.start(job, attempt_no, sink, nodes=[i])
                job.node_state[i] = {"status": "RUNNING", "startedAt": now_ms()}
            except (OSError, ValueError) as e:
                job.node_state[i] = {"status": "FAILED", "reason": f"CannotStartContainerError: {e}", "stoppedAt": now_ms()}
    if job.node_loss and time.monotonic() >= job.node_loss[1] and job.node_loss[0] in job.node_procs:
        node = job.node_loss[0]
        job.node_loss = None
        job_processes.kill(job, nodes=[node])
        _ended(job, node, None, f"Host EC2 (instance i-{job.job_id[:8]}{node:09d}) terminated.")
    for i, p in job.node_procs.items():
        if i != job.main_node and job.node_state.get(i, {}).get("status") == "RUNNING":
            code = p.poll()
            if code is not None:
                _ended(job, i, code if code >= 0 else 128 - code, "Essential container in task exited")


def finish(job: Job, exit_code, reason: str) -> None:
    """The main node ended the attempt with `exit_code`: its state, and every child still
    running stopped with it (the child's status then is not documented: it takes the main
    node's, with a reason saying so)."""
    if job.num_nodes < 2:
        return
    _ended(job, job.main_node, exit_code, reason)
    status = job.node_state[job.main_node]["status"]
    for i in range(job.num_nodes):
        if job.node_state.get(i, {}).get("status") in ("STARTING", "RUNNING"):
            job.node_state[i] = {**job.node_state[i], "status": status, "stoppedAt": now_ms(), "reason": "stopped with the main node"}


def _ended(job: Job, node: int, exit_code, reason: str) -> None:
    state = job.node_state.setdefault(node, {})
    state.update({"status": "SUCCEEDED" if exit_code == 0 else "FAILED", "stoppedAt": now_ms(), "reason": reason})
    if exit_code is not None:
        state["exitCode"] = exit_code
