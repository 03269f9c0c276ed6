"""A job attempt's host processes: one per node, running the container command in a scratch
directory under the data directory, with the environment Batch gives a container (AWS_BATCH_*
variables, the local endpoint and credentials), output pumped to CloudWatch Logs; and their
end (the whole process group is killed).
"""

import os
import signal
import subprocess
import threading

from . import config
from .job_logs import LogSink
from .job_model import LOG_GROUP, Job


def start(job: Job, attempt_no: int, sink: LogSink, nodes=None) -> None:
    """Starts the attempt's processes, of every node or of `nodes` (appended to `job.procs`
    and kept by node in `job.node_procs`, their output readers in `job.readers`); raises
    OSError or ValueError when a container cannot start."""
    # The awslogs driver needs the job's log group to exist (Batch creates only its
    # default /aws/batch/job): the container does not start otherwise
    # (https://docs.aws.amazon.com/batch/latest/userguide/using_awslogs.html: "the log
    # group must exist").
    if job.log_group != LOG_GROUP and not sink.group_exists():
        raise ValueError(f"failed to initialize logging driver: ResourceNotFoundException: The specified log group {job.log_group} does not exist.")
    if not job.command:
        raise FileNotFoundError("no command: locally a job runs its command, not the image's default")
    for node in range(job.num_nodes) if nodes is None else nodes:
        workdir = os.path.join(config.data_dir(), "jobs", job.job_id.replace(":", "_"), f"attempt-{attempt_no}", f"node-{node}")
        os.makedirs(workdir, exist_ok=True)
        env = environment(job, attempt_no, node)
        command = job.nodes[node]["command"] if job.nodes else job.command
        if not command:
            raise FileNotFoundError(f"no command for node {node}")
        proc = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        job.procs.append(proc)
        job.node_procs[node] = proc
        reader = threading.Thread(target=sink.pump, args=(proc.stdout, node if job.num_nodes > 1 else None), daemon=True)
        reader.start()
        job.readers.append(reader)


def environment(job: Job, attempt: int, node: int) -> dict:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "PYTHONPATH")}
    # The job path stands for the image's PATH; Popen looks the program up in this PATH.
    if config.job_path():
        base["PATH"] = os.pathsep.join(p for p in (config.job_path(), base.get("PATH", "")) if p)
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
    base.update(job.nodes[node]["environment"] if job.nodes else job.environment)
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
    if job.num_nodes > 1 or job.node_properties is not None:
        base.update(
            {
                "AWS_BATCH_JOB_NODE_INDEX": str(node),
                "AWS_BATCH_JOB_NUM_NODES": str(job.num_nodes),
                "AWS_BATCH_JOB_MAIN_NODE_INDEX": str(job.main_node),
            }
        )
        # "only set in multi-node parallel job child nodes"
        # (https://docs.aws.amazon.com/batch/latest/userguide/mnp-env-vars.html); every node is
        # a process of this host here
        if node != job.main_node:
            base["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] = "127.0.0.1"
    return base


def kill(job: Job, nodes=None) -> None:
    """Kills the attempt's processes (of `nodes` only, when given) and waits for them."""
    procs = job.procs if nodes is None else [job.node_procs[n] for n in nodes if n in job.node_procs]
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

