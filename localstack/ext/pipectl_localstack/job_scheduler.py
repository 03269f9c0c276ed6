"""The job engine's scheduler: one thread that moves every job along its statuses on the
configured clock. It holds the jobs table; dependencies (a failed dependency fails its
dependents), array parents (their status follows their children), queue priority order,
compute-environment capacity (maxvCpus), launching an attempt, timeouts, injected Spot
interruptions, and the end of an attempt with Batch's retryStrategy (attempts, evaluateOnExit).

It reads Batch's queues and compute environments through `batch_lifecycle` (states, statuses,
capacity), never through the Batch operations, which call the engine.
"""

import fnmatch
import logging
import threading
import time
import uuid

from . import batch_lifecycle, config, faults, job_blocking, job_nodes, job_processes
from .job_logs import LogSink
from .job_model import TERMINAL, Job, now_ms

LOG = logging.getLogger(__name__)


class Scheduler:
    """All jobs of all accounts and regions, moved along by one scheduler thread."""

    def __init__(self):
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self.order: list[Job] = []
        self.in_use: dict[str, float] = {}  # CE ARN -> vCPUs held
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # --- lifecycle of the engine ------------------------------------------------------

    def start(self) -> None:
        with self.lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="pipectl-batch-jobs", daemon=True)
                self._thread.start()

    def shutdown(self) -> None:
        """Stops the scheduler and kills every job process still running."""
        self._stop.set()
        with self.lock:
            for job in self.order:
                if job.procs:
                    job_processes.kill(job)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the scheduler must survive a bad job
                LOG.exception("batch job scheduler tick failed")
            self._stop.wait(0.05)

    # --- the scheduler ----------------------------------------------------------------

    def tick(self) -> None:
        with self.lock:
            jobs = [j for j in self.order if j.status not in TERMINAL]
            for job in jobs:
                if job.children:
                    self._advance_parent(job)
                else:
                    self._advance(job)
            self._schedule_runnable([j for j in jobs if j.status == "RUNNABLE" and not j.children])

    def _advance(self, job: Job) -> None:
        elapsed = time.monotonic() - job.since
        if job.status == "SUBMITTED" and elapsed >= config.delay("job_submitted"):
            job.set_status("PENDING")
        elif job.status == "PENDING":
            deps = [self.jobs.get(d["jobId"]) for d in job.depends_on]
            if any(d is not None and d.status == "FAILED" for d in deps):
                job.set_status("FAILED", "Dependent Job failed")
            elif all(d is None or d.status == "SUCCEEDED" for d in deps):
                job.set_status("RUNNABLE")
        elif job.status == "STARTING" and elapsed >= config.delay("job_starting"):
            self._launch(job)
        elif job.status == "RUNNING":
            self._watch(job)

    def _advance_parent(self, job: Job) -> None:
        kids = job.children
        if job.status == "SUBMITTED" and time.monotonic() - job.since >= config.delay("job_submitted"):
            job.set_status("PENDING")
        if all(k.status in TERMINAL for k in kids):
            failed = sum(k.status == "FAILED" for k in kids)
            if failed:
                job.set_status("FAILED", f"{failed} of {len(kids)} child jobs failed")
            else:
                job.set_status("SUCCEEDED", "All child jobs succeeded")
        elif any(k.status in ("STARTING", "RUNNING") or k.status in TERMINAL for k in kids) and job.status != "RUNNING":
            job.started_at = job.started_at or now_ms()
            job.set_status("RUNNING")

    def _schedule_runnable(self, runnable: list[Job]) -> None:
        if not runnable:
            return

        def priority(job: Job) -> int:
            q = batch_lifecycle.queue_by_arn(job.account, job.region, job.queue_arn)
            return -int(q.priority) if q is not None else 0

        for job in sorted(runnable, key=lambda j: (priority(j), j.created_at)):
            # Time for the compute environment to scale up from zero.
            if time.monotonic() - job.since < config.delay("job_runnable"):
                continue
            queue = batch_lifecycle.queue_by_arn(job.account, job.region, job.queue_arn)
            if queue is None or queue.state != "ENABLED" or batch_lifecycle.status_of(queue.arn) != "VALID":
                continue
            if self._blocked(job, queue):
                continue
            need = job.vcpus * job.num_nodes
            for ce in queue.environments:
                if ce.state != "ENABLED" or batch_lifecycle.status_of(ce.arn) not in ("VALID", "UPDATING"):
                    continue
                cap = float((ce.compute_resources or {}).get("maxvCpus") or 0)
                if self.in_use.get(ce.arn, 0.0) + need <= cap:
                    self.in_use[ce.arn] = self.in_use.get(ce.arn, 0.0) + need
                    job.ce_arn, job.ce_name = ce.arn, ce.name
                    job.spot_kill_at = None
                    job.set_status("STARTING")
                    break

    def _blocked(self, job: Job, queue) -> bool:
        """Whether the job cannot be placed (Batch's blocked-queue reasons, or an injected
        one): its statusReason says why, and the queue's time-limit action cancels it."""
        envs = [
            {
                "status": batch_lifecycle.status_of(ce.arn),
                "state": ce.state,
                "max_vcpus": float((ce.compute_resources or {}).get("maxvCpus") or 0),
                "types": list((ce.compute_resources or {}).get("instanceTypes") or []),
            }
            for ce in queue.environments
        ]
        code = faults.runnable_hold(queue.name, time.monotonic() - job.since) or job_blocking.blocked(job, envs)
        if code is None:
            job.blocked_code = job.blocked_since = None
            return False
        if code != job.blocked_code:
            job.blocked_code, job.blocked_since = code, time.monotonic()
            types = [t for e in envs for t in e["types"]]
            job.status_reason = job_blocking.status_reason(code, types)
        limit = job_blocking.time_limit(batch_lifecycle.field_of(queue.arn, "time_limits"), code)
        if limit is not None and time.monotonic() - job.blocked_since >= limit * config.delay("time_limit_scale"):
            job.is_cancelled = True
            job.set_status("FAILED", job_blocking.cancelled_reason(code))
        return True

    def _release(self, job: Job) -> None:
        if job.ce_arn:
            self.in_use[job.ce_arn] = max(0.0, self.in_use.get(job.ce_arn, 0.0) - job.vcpus * job.num_nodes)
            job.ce_arn = None

    def _launch(self, job: Job) -> None:
        attempt_no = len(job.attempts) + 1
        job.task_id = uuid.uuid4().hex
        job.instance_id = "i-" + uuid.uuid4().hex[:17]
        job.log_stream = f"{job.jobdef_name}/default/{job.task_id}"
        job.attempt_started_ms = now_ms()
        job.attempt_started = time.monotonic()
        job.started_at = job.attempt_started_ms
        job.procs, job.readers = [], []
        ce = _ce_type(job)
        interrupt_after = faults.spot_interruption(job.queue_arn, job.name, ce)
        job.spot_kill_at = job.attempt_started + interrupt_after if interrupt_after is not None else None
        sink = LogSink(job.account, job.region, job.log_stream, job.log_group)
        try:
            job_nodes.launch(job, attempt_no, sink)
        except (OSError, ValueError) as e:
            job_processes.kill(job)
            job.set_status("RUNNING")
            self._finish(job, exit_code=None, reason=f"CannotStartContainerError: {e}", container_reason=f"CannotStartContainerError: {e}")
            return
        job.set_status("RUNNING")

    def _watch(self, job: Job) -> None:
        now = time.monotonic()
        if job.spot_kill_at is not None and now >= job.spot_kill_at:
            job_processes.kill(job)
            job_nodes.finish(job, None, f"Host EC2 (instance {job.instance_id}) terminated.")
            self._finish(job, exit_code=None, reason=f"Host EC2 (instance {job.instance_id}) terminated.")
            return
        if job.timeout_s and job.attempt_started is not None and now - job.attempt_started >= job.timeout_s:
            job_processes.kill(job)
            job_nodes.finish(job, 137, "Job attempt duration exceeded timeout")
            self._finish(job, exit_code=137, reason="Job attempt duration exceeded timeout")
            return
        job_nodes.tick(job, len(job.attempts) + 1)
        main = job.node_procs.get(job.main_node) or job.procs[0]
        code = main.poll()
        if code is None:
            return
        # the main node decides; the other nodes are stopped with it
        job_processes.kill(job)
        job_nodes.finish(job, code if code >= 0 else 128 - code, "Essential container in task exited")
        if job.terminate_reason is not None:
            self._finish(job, exit_code=code if code >= 0 else 143, reason=job.terminate_reason, final=True)
        else:
            self._finish(job, exit_code=code if code >= 0 else 128 - code, reason="Essential container in task exited")

    def _finish(self, job: Job, exit_code, reason: str, container_reason: str | None = None, final: bool = False) -> None:
        for r in job.readers:
            r.join(timeout=2)
        container = {
            "containerInstanceArn": f"arn:aws:ecs:{job.region}:{job.account}:container-instance/{job.instance_id}",
            "taskArn": f"arn:aws:ecs:{job.region}:{job.account}:task/{job.task_id}",
            "logStreamName": job.log_stream,
        }
        if exit_code is not None:
            container["exitCode"] = exit_code
        if container_reason:
            container["reason"] = container_reason
        job.attempts.append(
            {"container": container, "startedAt": job.attempt_started_ms, "stoppedAt": now_ms(), "statusReason": reason}
        )
        job.procs, job.readers = [], []
        self._release(job)
        if exit_code == 0 and job.terminate_reason is None:
            job.set_status("SUCCEEDED", reason)
            return
        if not final and not job.is_terminated and len(job.attempts) < job.attempts_max:
            action = evaluate_on_exit(job.evaluate_on_exit, reason, container_reason or "", exit_code)
            if action == "RETRY":
                job.set_status("RUNNABLE", reason)
                return
        job.set_status("FAILED", reason)



def evaluate_on_exit(rules: list, status_reason: str, reason: str, exit_code) -> str:
    """Batch's evaluateOnExit: the first rule whose patterns all match decides; with rules but
    no match, the attempt is retried."""
    for rule in rules:
        checks = [
            (rule.get("onStatusReason"), status_reason),
            (rule.get("onReason"), reason),
            (rule.get("onExitCode"), "" if exit_code is None else str(exit_code)),
        ]
        if all(pattern is None or fnmatch.fnmatchcase(value, pattern) for pattern, value in checks):
            return str(rule.get("action", "RETRY")).upper()
    return "RETRY"


def _ce_type(job: Job) -> str:
    ce = batch_lifecycle.ce_by_arn(job.account, job.region, job.ce_arn) if job.ce_arn else None
    return ((ce.compute_resources or {}).get("type") if ce else "") or ""

