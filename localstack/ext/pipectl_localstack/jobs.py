"""The Batch job engine's API: SubmitJob, DescribeJobs, ListJobs, CancelJob, TerminateJob,
and terminating a deleted queue's jobs, answered from the jobs table `job_scheduler` keeps
and moves along. Jobs go SUBMITTED → PENDING → RUNNABLE → STARTING → RUNNING → SUCCEEDED |
FAILED on the configured clock, and their container command runs as a host process in a
scratch directory, with its output in CloudWatch Logs.

Honoured: dependsOn (a failed dependency fails its dependents), array jobs (children
`<id>:<index>`), multi-node jobs (node ranges and nodeOverrides, one process per node, the
main node first and deciding, nodes described as `<id>#<node>`: job_nodes, mnp), job timeout,
retryStrategy (attempts and evaluateOnExit), TerminateJob, CancelJob, queue priority order
and compute-environment capacity (maxvCpus), and injected Spot interruptions.

The engine sees Batch's queues and compute environments through `batch_lifecycle` only; the
Batch operations (`batch`, `job_queues`) call it, and it never imports them back.
"""

from . import batch_lifecycle, job_processes, job_shapes, mnp, rules
from .job_model import BEFORE_START, TERMINAL, Job
from .job_requests import build_job, filters_match
from .job_scheduler import Scheduler
from .rules import client_error


class Engine(Scheduler):
    """The scheduler's jobs table, as Batch's job operations read and change it."""

    # --- API --------------------------------------------------------------------------

    def submit(self, backend, request: dict) -> dict:
        batch_lifecycle.purge(backend)
        queue = backend.get_job_queue(request.get("jobQueue") or "")
        if queue is None or batch_lifecycle.is_gone(queue.arn):
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

        if jobdef.type == "multinode" and jobdef.node_properties:
            err = mnp.override_error(jobdef.node_properties, request.get("nodeOverrides"))
            if err is not None:
                raise err
        job = build_job(backend, queue, jobdef, request, name, depends_on)
        job.array_size = array_size
        with self.lock:
            self._add(job)
            if array_size:
                for i in range(array_size):
                    child = build_job(backend, queue, jobdef, request, name, depends_on)
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

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def describe(self, ids: list[str]) -> dict:
        if len(ids) > 100:
            raise client_error("A maximum of 100 jobs can be described at a time")
        with self.lock:
            out = []
            for i in ids:
                node = mnp.split_node_id(i)
                parent = self.jobs.get(node[0]) if node else None
                if i in self.jobs:
                    out.append(job_shapes.detail(self.jobs[i]))
                elif parent is not None and parent.num_nodes > 1 and node[1] < parent.num_nodes:
                    out.append(job_shapes.node_detail(parent, node[1]))
            return {"jobs": out}

    def list_jobs(self, backend, request: dict) -> dict:
        with self.lock:
            if request.get("arrayJobId"):
                parent = self.jobs.get(request["arrayJobId"])
                candidates = list(parent.children) if parent else []
            elif request.get("multiNodeJobId"):
                # "lists all nodes that are associated with the specified job"; filters do not
                # apply (https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobs.html)
                parent = self.jobs.get(request["multiNodeJobId"])
                nodes = [job_shapes.node_summary(parent, n) for n in range(parent.num_nodes)] if parent and parent.num_nodes > 1 else []
                status = request.get("jobStatus") or "RUNNING"
                return {"jobSummaryList": [s for s in nodes if s["status"] == status]}
            else:
                queue = backend.get_job_queue(request.get("jobQueue") or "")
                if queue is None:
                    raise client_error(f"Job queue {request.get('jobQueue')} does not exist")
                candidates = [j for j in self.order if j.queue_arn == queue.arn and j.parent is None]
            filters = request.get("filters") or []
            status = request.get("jobStatus")
            if status is None and not filters:
                status = "RUNNING"
            out = [j for j in candidates if (status is None or j.status == status) and filters_match(j, filters)]
            out.sort(key=lambda j: j.created_at, reverse=True)
            start = int(request.get("nextToken") or 0)
            size = int(request.get("maxResults") or 100)
            page = out[start : start + size]
            result = {"jobSummaryList": [job_shapes.summary(j) for j in page]}
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
                    job_processes.kill(j)
                else:
                    self._release(j)
                    j.set_status("FAILED", reason)
        return {}

    def terminate_queue(self, queue_arn: str, reason: str) -> None:
        with self.lock:
            ids = [j.job_id for j in self.order if j.queue_arn == queue_arn and j.status not in TERMINAL and j.parent is None]
        for i in ids:
            self.terminate(i, reason)


ENGINE = Engine()
