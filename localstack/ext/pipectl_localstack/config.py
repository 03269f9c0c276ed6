"""Knobs of the local AWS: lifecycle delays (seconds) and where jobs run.

Every delay is read from an environment variable at start-up, scaled by
PIPECTL_LS_TIME_SCALE, and can be changed at runtime through the control endpoint
(POST /_pipectl/config). So can the job path: directories put before PATH for job
processes (PIPECTL_LS_JOB_PATH, or {"job_path": "..."}), which play the part of what a
container image has on its PATH: a spec naming its image's program (`rnn-textgen`) runs a
local build of it unchanged.
"""

import os
import threading

# name -> (environment variable, default seconds)
DELAYS = {
    "ce_create": ("PIPECTL_LS_CE_CREATE_SECONDS", 2.0),
    "ce_update": ("PIPECTL_LS_CE_UPDATE_SECONDS", 1.0),
    "ce_delete": ("PIPECTL_LS_CE_DELETE_SECONDS", 1.5),
    "queue_create": ("PIPECTL_LS_QUEUE_CREATE_SECONDS", 1.0),
    "queue_update": ("PIPECTL_LS_QUEUE_UPDATE_SECONDS", 0.5),
    "queue_delete": ("PIPECTL_LS_QUEUE_DELETE_SECONDS", 1.0),
    "fsx_create": ("PIPECTL_LS_FSX_CREATE_SECONDS", 3.0),
    "fsx_delete": ("PIPECTL_LS_FSX_DELETE_SECONDS", 2.0),
    "dra_create": ("PIPECTL_LS_DRA_CREATE_SECONDS", 1.0),
    "job_submitted": ("PIPECTL_LS_JOB_SUBMITTED_SECONDS", 0.3),
    "job_runnable": ("PIPECTL_LS_JOB_RUNNABLE_SECONDS", 1.0),
    "job_starting": ("PIPECTL_LS_JOB_STARTING_SECONDS", 0.5),
    # A multi-node job's child nodes start after its main node runs.
    "mnp_children": ("PIPECTL_LS_MNP_CHILDREN_SECONDS", 0.3),
    # A new IAM role is not usable by Batch at once (IAM is eventually consistent); a compute
    # environment validated sooner goes INVALID (see batch_lifecycle.py).
    "iam_propagation": ("PIPECTL_LS_IAM_PROPAGATION_SECONDS", 4.0),
    # How long the network interface of a deleted NAT gateway, interface endpoint or file
    # system stays (and blocks deleting its subnet, security group and VPC).
    "eni_release": ("PIPECTL_LS_ENI_RELEASE_SECONDS", 3.0),
    # How long a deleted compute environment or queue is still listed with status DELETED.
    "deleted_linger": ("PIPECTL_LS_DELETED_LINGER_SECONDS", 60.0),
    # A queue's jobStateTimeLimitActions maxTimeSeconds (600 at least on AWS) counts this many
    # seconds per second here: 600 s pass in 6 s.
    "time_limit_scale": ("PIPECTL_LS_TIME_LIMIT_SCALE", 0.01),
    # How long SQS refuses a deleted queue's name (QueueDeletedRecently; 60 s on AWS).
    "sqs_name_reuse": ("PIPECTL_LS_SQS_NAME_REUSE_SECONDS", 3.0),
}

_lock = threading.Lock()
_delays: dict[str, float] = {}


def _load() -> None:
    scale = float(os.environ.get("PIPECTL_LS_TIME_SCALE", "1"))
    for name, (env, default) in DELAYS.items():
        _delays[name] = float(os.environ.get(env, default)) * scale


_load()


def delay(name: str) -> float:
    with _lock:
        return _delays[name]


def all_delays() -> dict[str, float]:
    with _lock:
        return dict(_delays)


def set_delays(values: dict) -> dict[str, float]:
    """Sets named delays (unknown names are refused); returns the full set."""
    unknown = set(values) - set(DELAYS)
    if unknown:
        raise KeyError(f"unknown delays: {sorted(unknown)}; known: {sorted(DELAYS)}")
    with _lock:
        for k, v in values.items():
            _delays[k] = float(v)
        return dict(_delays)


def reset_delays() -> dict[str, float]:
    with _lock:
        _load()
        return dict(_delays)


_job_path: list[str] = [os.environ.get("PIPECTL_LS_JOB_PATH", "")]


def job_path() -> str:
    """Directories job processes find their program in before PATH (os.pathsep-separated)."""
    with _lock:
        return _job_path[0]


def set_job_path(value: str) -> str:
    if not isinstance(value, str):
        raise ValueError("job_path is a string of directories separated by os.pathsep")
    with _lock:
        _job_path[0] = value
        return value


def reset_job_path() -> str:
    return set_job_path(os.environ.get("PIPECTL_LS_JOB_PATH", ""))


def data_dir() -> str:
    """Scratch space for job processes, inside the repo's ignored paths by default."""
    return os.environ.get("PIPECTL_LS_DATA") or os.path.join(os.getcwd(), ".data")
