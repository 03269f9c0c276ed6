"""Fault injection, off by default: throttling and 5xx answers at given rates, and Spot
interruptions of Batch job attempts. Every draw comes from one RNG seeded by the
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
              "after_seconds": 0.5}}   # into the attempt
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
_counts = {"requests": 0, "throttled": 0, "errors": 0, "spot_interruptions": 0}

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
DEFAULT_UNAVAILABLE = ("ServiceUnavailable", "Service unavailable (injected)", 503)


def configure(cfg: dict) -> dict:
    known = {"seed", "throttle_rate", "error_rate", "services", "operations", "spot"}
    unknown = set(cfg) - known
    if unknown:
        raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
    for key in ("throttle_rate", "error_rate"):
        rate = float(cfg.get(key, 0))
        if not 0 <= rate <= 1:
            raise ValueError(f"{key} must be between 0 and 1")
    global _cfg, _rng
    with _lock:
        _cfg = json.loads(json.dumps(cfg))
        if "spot" in _cfg:
            _cfg["spot"].setdefault("remaining", _cfg["spot"].get("count"))
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
