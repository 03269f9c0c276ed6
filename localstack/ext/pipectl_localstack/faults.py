"""Fault injection, off by default: throttling and 5xx answers at given rates, and Spot
interruptions of Batch job attempts, and the loss of one node of a multi-node job. Every draw comes from one RNG seeded by the
configuration, so a failing sequence of requests can be replayed with the same seed.

Configured by PIPECTL_LS_FAULTS (JSON) at start-up and at runtime through
GET/POST/DELETE /_pipectl/faults:

    {"seed": 7,
     "throttle_rate": 0.2,             # fraction of requests answered with throttling
     "error_rate": 0.05,               # fraction answered with a 5xx
     "services": ["batch", "ec2"],     # only these services (default: all)
     "operations": ["DescribeJobs"],   # only these operations (default: all)
     "spot": {"queues": "*training*",  # job queue name glob
              "count": 1,              # interrupt this many attempts (or "rate": 0.5)
              "after_seconds": 0.5},   # into the attempt
     "runnable": {"queues": "*training*", # hold jobs of these queues RUNNABLE, blocked
                  "reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", # for this reason
                  "seconds": 30},       # this long (null: until cancelled)
     "node_loss": {"queues": "*training*", # the instance of one node of a multi-node job
                   "node": 1,             # goes away (this node index; not the main node's
                   "after_seconds": 2.0,  # job: Batch does nothing to the others)
                   "count": 1},           # this many jobs
     "events": {"duplicate_rate": 0.3, # Batch's job events (job_events): sent twice,
                "delay_rate": 0.3,     # held back this long so later ones overtake them,
                "delay_seconds": 1.0,
                "drop_rate": 0.1}}     # or never sent
"""

import fnmatch
import json
import logging
import os
import random
import threading

from localstack.aws.api import CommonServiceException

LOG = logging.getLogger(__name__)

_lock = threading.Lock()
_cfg: dict = {}
_rng = random.Random(0)
_counts = {
    "requests": 0,
    "throttled": 0,
    "errors": 0,
    "spot_interruptions": 0,
    "nodes_lost": 0,
    "events_duplicated": 0,
    "events_delayed": 0,
    "events_dropped": 0,
}

THROTTLE = {
    "ec2": ("RequestLimitExceeded", "Request limit exceeded.", 503),
    "batch": ("TooManyRequestsException", "Too Many Requests", 429),
    "s3": ("SlowDown", "Please reduce your request rate.", 503),
}
UNAVAILABLE = {
    "ec2": ("Unavailable", "The server is overloaded and can't handle the request.", 503),
    "s3": ("ServiceUnavailable", "Service is unable to handle request.", 503),
}
DEFAULT_THROTTLE = ("ThrottlingException", "Rate exceeded", 400)
BLOCKED_REASONS = {
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
}
DEFAULT_UNAVAILABLE = ("ServiceUnavailable", "Service unavailable (injected)", 503)


def configure(cfg: dict) -> dict:
    known = {"seed", "throttle_rate", "error_rate", "services", "operations", "spot", "events", "runnable", "node_loss"}
    unknown = set(cfg) - known
    if unknown:
        raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
    runnable = cfg.get("runnable") or {}
    if runnable and runnable.get("reason") not in BLOCKED_REASONS:
        raise ValueError(f"runnable.reason must be one of {sorted(BLOCKED_REASONS)}")
    events = cfg.get("events") or {}
    known_events = {"duplicate_rate", "delay_rate", "delay_seconds", "drop_rate"}
    if set(events) - known_events:
        raise ValueError(f"unknown event fault settings {sorted(set(events) - known_events)}; known: {sorted(known_events)}")
    for key, rate in [(k, cfg.get(k, 0)) for k in ("throttle_rate", "error_rate")] + [
        (f"events.{k}", v) for k, v in events.items() if k.endswith("_rate")
    ]:
        if not 0 <= float(rate) <= 1:
            raise ValueError(f"{key} must be between 0 and 1")
    global _cfg, _rng
    with _lock:
        _cfg = json.loads(json.dumps(cfg))
        for key in ("spot", "node_loss"):
            if key in _cfg:
                _cfg[key].setdefault("remaining", _cfg[key].get("count"))
        _rng = random.Random(cfg.get("seed", 0))
        for k in _counts:
            _counts[k] = 0
        return snapshot_locked()


def reset() -> dict:
    return configure({})


def snapshot_locked() -> dict:
    return {"config": _cfg, "counts": dict(_counts)}


def snapshot() -> dict:
    with _lock:
        return snapshot_locked()


def load_from_env() -> None:
    raw = os.environ.get("PIPECTL_LS_FAULTS")
    if raw:
        configure(json.loads(raw))
        LOG.warning("pipectl fault injection on: %s", raw)


def handler(chain, context, response) -> None:
    """A request handler: answers a selected request with an injected error."""
    if context.service is None or context.operation is None or getattr(context, "is_internal_call", False):
        return
    service = context.service.service_name
    with _lock:
        if not _cfg or not (_cfg.get("throttle_rate") or _cfg.get("error_rate")):
            return
        if _cfg.get("services") and service not in _cfg["services"]:
            return
        if _cfg.get("operations") and context.operation.name not in _cfg["operations"]:
            return
        _counts["requests"] += 1
        draw = _rng.random()
        throttle = float(_cfg.get("throttle_rate", 0))
        error = float(_cfg.get("error_rate", 0))
        if draw < throttle:
            _counts["throttled"] += 1
            code, message, status = THROTTLE.get(service, DEFAULT_THROTTLE)
        elif draw < throttle + error:
            _counts["errors"] += 1
            code, message, status = UNAVAILABLE.get(service, DEFAULT_UNAVAILABLE)
        else:
            return
    raise CommonServiceException(code, message, status_code=status, sender_fault=status < 500)


def spot_interruption(queue_arn: str, job_name: str, ce_type: str):
    """Seconds into the attempt at which it is interrupted, or None."""
    with _lock:
        spot = _cfg.get("spot")
        if not spot or ce_type != "SPOT":
            return None
        queue = queue_arn.rsplit("/", 1)[-1]
        if not fnmatch.fnmatchcase(queue, spot.get("queues", "*")):
            return None
        if spot.get("remaining") is not None:
            if spot["remaining"] <= 0:
                return None
            spot["remaining"] -= 1
        elif _rng.random() >= float(spot.get("rate", 0)):
            return None
        _counts["spot_interruptions"] += 1
        return float(spot.get("after_seconds", 0.5))


def node_loss(queue_arn: str, num_nodes: int):
    """(node index, seconds into the attempt) at which one node of a multi-node job's attempt
    loses its instance, or None."""
    with _lock:
        loss = _cfg.get("node_loss")
        if not loss or num_nodes < 2:
            return None
        if not fnmatch.fnmatchcase(queue_arn.rsplit("/", 1)[-1], loss.get("queues", "*")):
            return None
        node = int(loss.get("node", 1))
        if node >= num_nodes or (loss.get("remaining") is not None and loss["remaining"] <= 0):
            return None
        if loss.get("remaining") is not None:
            loss["remaining"] -= 1
        _counts["nodes_lost"] += 1
        return node, float(loss.get("after_seconds", 1.0))


def event_delays() -> list:
    """When to send one Batch job event, in seconds from now: once at once, or as the event
    faults draw it (twice, held back, or not at all)."""
    with _lock:
        ev = _cfg.get("events")
        if not ev:
            return [0.0]
        if _rng.random() < float(ev.get("drop_rate", 0)):
            _counts["events_dropped"] += 1
            return []
        first = 0.0
        if _rng.random() < float(ev.get("delay_rate", 0)):
            _counts["events_delayed"] += 1
            first = float(ev.get("delay_seconds", 1.0))
        if _rng.random() < float(ev.get("duplicate_rate", 0)):
            _counts["events_duplicated"] += 1
            return [first, first + 0.05]
        return [first]


def runnable_hold(queue_name: str, runnable_for: float):
    """The blocked-queue reason a job of this queue is held RUNNABLE for, `runnable_for`
    seconds after it became RUNNABLE; None when no fault holds it."""
    with _lock:
        hold = _cfg.get("runnable")
        if not hold or not fnmatch.fnmatchcase(queue_name, hold.get("queues", "*")):
            return None
        seconds = hold.get("seconds")
        if seconds is not None and runnable_for >= float(seconds):
            return None
        return hold["reason"]
