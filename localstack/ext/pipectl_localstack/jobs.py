"""The Batch job engine: jobs that move through SUBMITTED → PENDING → RUNNABLE → STARTING →
RUNNING → SUCCEEDED | FAILED on the configured clock, and whose container command runs as a
host process in a scratch directory, with its output in CloudWatch Logs.

Honoured: dependsOn (a failed dependency fails its dependents), array jobs (children
`<id>:<index>`), multi-node jobs (one process per node; the main node decides), job timeout,
retryStrategy (attempts and evaluateOnExit), TerminateJob, CancelJob, queue priority order
and compute-environment capacity (maxvCpus), and injected Spot interruptions.
"""

import fnmatch
import logging
import os
import select
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field

from localstack.aws.api import CommonServiceException

from . import config, faults, rules

LOG = logging.getLogger(__name__)

TERMINAL = ("SUCCEEDED", "FAILED")
BEFORE_START = ("SUBMITTED", "PENDING", "RUNNABLE")
LOG_GROUP = "/aws/batch/job"


def now_ms() -> int:
    return int(time.time() * 1000)


def client_error(message: str) -> CommonServiceException:
    return CommonServiceException("ClientException", message)


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
    terminate_reason: str | None = None
    instance_id: str = ""
    task_id: str = ""
    log_stream: str | None = None
    # logConfiguration awslogs-group, else Batch's default group
    log_group: str = LOG_GROUP

    @property
    def arn(self) -> str:
        return f"arn:aws:batch:{self.region}:{self.account}:job/{self.job_id}"

    def set_status(self, status: str, reason: str | None = None) -> None:
        LOG.debug("job %s (%s): %s -> %s %s", self.job_id, self.name, self.status, status, reason or "")
        self.status = status
        if reason is not None:
            self.status_reason = reason
        self.since = time.monotonic()
        if status in TERMINAL and self.stopped_at is None:
            self.stopped_at = now_ms()


class Engine:
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
                    _kill(job)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the scheduler must survive a bad job
                LOG.exception("batch job scheduler tick failed")
            self._stop.wait(0.05)

    # --- API --------------------------------------------------------------------------

    def submit(self, backend, request: dict) -> dict:
        from . import batch

        batch.purge(backend)
        queue = backend.get_job_queue(request.get("jobQueue") or "")
        if queue is None or batch.is_gone(queue.arn):
            raise client_error(f"Job queue {request.get('jobQueue')} does not exist")
        jobdef = backend.get_job_definition(request.get("jobDefinition") or "")
        if jobdef is None or jobdef.status != "ACTIVE":
            raise client_error(f"Job definition {request.get('jobDefinition')} does not exist")
        name = request.get("jobName") or ""
        depends_on = request.get("dependsOn") or []
        for err in (rules.job_name(name), rules.depends_on(depends_on)):
            if err is not None:
                raise err
        with self.lock:
            for dep in depends_on:
                if dep.get("jobId") not in self.jobs:
                    raise client_error(f"Dependent job {dep.get('jobId')} does not exist")
        array_size = (request.get("arrayProperties") or {}).get("size")
        if array_size is not None and not 2 <= array_size <= 10000:
            raise client_error("Array size must be between 2 and 10000")

        job = self._build(backend, queue, jobdef, request, name, depends_on)
        job.array_size = array_size
        with self.lock:
            self._add(job)
            if array_size:
                for i in range(array_size):
                    child = self._build(backend, queue, jobdef, request, name, depends_on)
                    child.job_id = f"{job.job_id}:{i}"
                    child.array_index = i
                    child.parent = job
                    job.children.append(child)
                    self._add(child)
        self.start()
        return {"jobArn": job.arn, "jobName": job.name, "jobId": job.job_id}

    def _add(self, job: Job) -> None:
        self.jobs[job.job_id] = job
        self.order.append(job)

    def _build(self, backend, queue, jobdef, request, name, depends_on) -> Job:
        overrides = request.get("containerOverrides") or {}
        if jobdef.type == "multinode" and jobdef.node_properties:
            np = jobdef.node_properties
            props = (np.get("nodeRangeProperties") or [{}])[0].get("container") or {}
            num_nodes = int(np.get("numNodes") or 1)
            main_node = int(np.get("mainNode") or 0)
        else:
            props = jobdef.container_properties or {}
            num_nodes, main_node = 1, 0

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
        )

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def describe(self, ids: list[str]) -> dict:
        if len(ids) > 100:
            raise client_error("A maximum of 100 jobs can be described at a time")
        with self.lock:
            return {"jobs": [self._detail(self.jobs[i]) for i in ids if i in self.jobs]}

    def list_jobs(self, backend, request: dict) -> dict:
        with self.lock:
            if request.get("arrayJobId"):
                parent = self.jobs.get(request["arrayJobId"])
                candidates = list(parent.children) if parent else []
            elif request.get("multiNodeJobId"):
                candidates = []
            else:
                queue = backend.get_job_queue(request.get("jobQueue") or "")
                if queue is None:
                    raise client_error(f"Job queue {request.get('jobQueue')} does not exist")
                candidates = [j for j in self.order if j.queue_arn == queue.arn and j.parent is None]
            filters = request.get("filters") or []
            status = request.get("jobStatus")
            if status is None and not filters:
                status = "RUNNING"
            out = [j for j in candidates if (status is None or j.status == status) and _filters_match(j, filters)]
            out.sort(key=lambda j: j.created_at, reverse=True)
            start = int(request.get("nextToken") or 0)
            size = int(request.get("maxResults") or 100)
            page = out[start : start + size]
            result = {"jobSummaryList": [self._summary(j) for j in page]}
            if start + size < len(out):
                result["nextToken"] = str(start + size)
            return result

    def cancel(self, job_id: str, reason: str) -> dict:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise client_error(f"Job {job_id} does not exist")
            for j in [job, *job.children]:
                if j.status in BEFORE_START:
                    j.is_cancelled = True
                    j.set_status("FAILED", reason)
        return {}

    def terminate(self, job_id: str, reason: str) -> dict:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise client_error(f"Job {job_id} does not exist")
            for j in [job, *job.children]:
                if j.status in TERMINAL:
                    continue
                j.is_terminated = True
                if j.status in ("STARTING", "RUNNING") and j.procs:
                    j.terminate_reason = reason
                    _kill(j)
                else:
                    self._release(j)
                    j.set_status("FAILED", reason)
        return {}

    def terminate_queue(self, queue_arn: str, reason: str) -> None:
        with self.lock:
            ids = [j.job_id for j in self.order if j.queue_arn == queue_arn and j.status not in TERMINAL and j.parent is None]
        for i in ids:
            self.terminate(i, reason)

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
        from . import batch

        if not runnable:
            return

        def priority(job: Job) -> int:
            q = batch.queue_by_arn(job.account, job.region, job.queue_arn)
            return -int(q.priority) if q is not None else 0

        for job in sorted(runnable, key=lambda j: (priority(j), j.created_at)):
            # Time for the compute environment to scale up from zero.
            if time.monotonic() - job.since < config.delay("job_runnable"):
                continue
            queue = batch.queue_by_arn(job.account, job.region, job.queue_arn)
            if queue is None or queue.state != "ENABLED" or batch.status_of(queue.arn) != "VALID":
                continue
            need = job.vcpus * job.num_nodes
            for ce in queue.environments:
                if ce.state != "ENABLED" or batch.status_of(ce.arn) not in ("VALID", "UPDATING"):
                    continue
                cap = float((ce.compute_resources or {}).get("maxvCpus") or 0)
                if self.in_use.get(ce.arn, 0.0) + need <= cap:
                    self.in_use[ce.arn] = self.in_use.get(ce.arn, 0.0) + need
                    job.ce_arn, job.ce_name = ce.arn, ce.name
                    job.spot_kill_at = None
                    job.set_status("STARTING")
                    break

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
            # The awslogs driver needs the job's log group to exist (Batch creates only its
            # default /aws/batch/job): the container does not start otherwise
            # (https://docs.aws.amazon.com/batch/latest/userguide/using_awslogs.html: "the log
            # group must exist").
            if job.log_group != LOG_GROUP and not sink.group_exists():
                raise ValueError(f"failed to initialize logging driver: ResourceNotFoundException: The specified log group {job.log_group} does not exist.")
            if not job.command:
                raise FileNotFoundError("no command: locally a job runs its command, not the image's default")
            for node in range(job.num_nodes):
                workdir = os.path.join(config.data_dir(), "jobs", job.job_id.replace(":", "_"), f"attempt-{attempt_no}", f"node-{node}")
                os.makedirs(workdir, exist_ok=True)
                env = _environment(job, attempt_no, node)
                proc = subprocess.Popen(
                    job.command,
                    cwd=workdir,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
                job.procs.append(proc)
                reader = threading.Thread(target=sink.pump, args=(proc.stdout, node if job.num_nodes > 1 else None), daemon=True)
                reader.start()
                job.readers.append(reader)
        except (OSError, ValueError) as e:
            _kill(job)
            job.set_status("RUNNING")
            self._finish(job, exit_code=None, reason=f"CannotStartContainerError: {e}", container_reason=f"CannotStartContainerError: {e}")
            return
        job.set_status("RUNNING")

    def _watch(self, job: Job) -> None:
        now = time.monotonic()
        if job.spot_kill_at is not None and now >= job.spot_kill_at:
            _kill(job)
            self._finish(job, exit_code=None, reason=f"Host EC2 (instance {job.instance_id}) terminated.")
            return
        if job.timeout_s and job.attempt_started is not None and now - job.attempt_started >= job.timeout_s:
            _kill(job)
            self._finish(job, exit_code=137, reason="Job attempt duration exceeded timeout")
            return
        main = job.procs[job.main_node] if job.main_node < len(job.procs) else job.procs[0]
        code = main.poll()
        if code is None:
            return
        # the main node decides; the other nodes are stopped with it
        _kill(job)
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
            action = _evaluate(job.evaluate_on_exit, reason, container_reason or "", exit_code)
            if action == "RETRY":
                job.set_status("RUNNABLE", reason)
                return
        job.set_status("FAILED", reason)

    # --- output shapes ----------------------------------------------------------------

    def _detail(self, job: Job) -> dict:
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

    def _summary(self, job: Job) -> dict:
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


def _substitute(part: str, parameters: dict) -> str:
    if isinstance(part, str) and part.startswith("Ref::"):
        return parameters.get(part[5:], part)
    return part


def _filters_match(job: Job, filters: list) -> bool:
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


def _evaluate(rules: list, status_reason: str, reason: str, exit_code) -> str:
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
    from . import batch

    ce = batch.ce_by_arn(job.account, job.region, job.ce_arn) if job.ce_arn else None
    return ((ce.compute_resources or {}).get("type") if ce else "") or ""


def _environment(job: Job, attempt: int, node: int) -> dict:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "PYTHONPATH")}
    port = os.environ.get("GATEWAY_LISTEN", "127.0.0.1:4566").split(",")[0].rsplit(":", 1)[-1]
    base.update(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": job.account,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": job.region,
            "AWS_DEFAULT_REGION": job.region,
            # lets localstack/stop find (and end) job processes this runtime started
            "PIPECTL_LS_OWNER": str(os.getpid()),
        }
    )
    base.update(job.environment)
    base.update(
        {
            "AWS_BATCH_JOB_ID": job.job_id,
            "AWS_BATCH_JOB_ATTEMPT": str(attempt),
            "AWS_BATCH_JQ_NAME": job.queue_arn.rsplit("/", 1)[-1],
            "AWS_BATCH_CE_NAME": job.ce_name or "",
        }
    )
    if job.array_index is not None:
        base["AWS_BATCH_JOB_ARRAY_INDEX"] = str(job.array_index)
    if job.num_nodes > 1:
        base.update(
            {
                "AWS_BATCH_JOB_NODE_INDEX": str(node),
                "AWS_BATCH_JOB_NUM_NODES": str(job.num_nodes),
                "AWS_BATCH_JOB_MAIN_NODE_INDEX": str(job.main_node),
            }
        )
    return base


def _kill(job: Job) -> None:
    for p in job.procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    for p in job.procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class LogSink:
    """Streams a job's output to CloudWatch Logs (its job definition's awslogs-group, else
    /aws/batch/job) as it is written."""

    def __init__(self, account: str, region: str, stream: str, group: str = LOG_GROUP):
        self.account, self.region, self.stream, self.group = account, region, stream, group
        self._ready = False
        self._lock = threading.Lock()

    def group_exists(self) -> bool:
        groups = self._client().describe_log_groups(logGroupNamePrefix=self.group).get("logGroups") or []
        return any(g.get("logGroupName") == self.group for g in groups)

    def _client(self):
        from localstack.aws.connect import connect_to

        return connect_to(aws_access_key_id=self.account, region_name=self.region).logs

    def _ensure(self, logs) -> None:
        if self._ready:
            return
        calls = [(logs.create_log_stream, {"logGroupName": self.group, "logStreamName": self.stream})]
        if self.group == LOG_GROUP:
            calls.insert(0, (logs.create_log_group, {"logGroupName": LOG_GROUP}))
        for call, kwargs in calls:
            try:
                call(**kwargs)
            except Exception as e:  # already exists
                if "AlreadyExists" not in type(e).__name__ and "AlreadyExists" not in str(e):
                    raise
        self._ready = True

    def put(self, lines: list[str]) -> None:
        if not lines:
            return
        with self._lock:
            try:
                logs = self._client()
                self._ensure(logs)
                ts = now_ms()
                logs.put_log_events(
                    logGroupName=self.group,
                    logStreamName=self.stream,
                    logEvents=[{"timestamp": ts, "message": line} for line in lines],
                )
            except Exception:
                LOG.exception("failed to write job output to CloudWatch Logs")

    def pump(self, pipe, node) -> None:
        """Reads the process's output until it closes; lines are sent in batches, and whatever
        is buffered is sent as soon as the process pauses for a moment (so that a follower sees
        output promptly)."""
        prefix = f"[node {node}] " if node is not None else ""
        fd = pipe.fileno()
        pending = b""
        lines: list[str] = []
        while True:
            ready, _, _ = select.select([fd], [], [], 0.3)
            if not ready:
                self.put(lines)
                lines = []
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            lines.extend(prefix + c.decode("utf-8", "replace") for c in complete)
            if len(lines) >= 200:
                self.put(lines)
                lines = []
        if pending:
            lines.append(prefix + pending.decode("utf-8", "replace"))
        self.put(lines)
        pipe.close()


ENGINE = Engine()
