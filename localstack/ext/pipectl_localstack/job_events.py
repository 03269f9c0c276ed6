"""Batch's job state-change events, sent to EventBridge as AWS sends them: on every status
change after the submission ("Events aren't created for the initial job submission",
https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html), an event with
source `aws.batch`, detail-type `Batch Job State Change` and as detail the job as DescribeJobs
describes it at that moment ("resembles the JobDetail object", same page), put on the job's
account's default event bus, where LocalStack's EventBridge matches it against the rules and
delivers it to their targets (an SQS queue's message body is the whole event).

Delivered from a thread of its own, so a status change never waits for EventBridge. AWS
delivers events at least once and in no guaranteed order
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event.html); the
`events` fault setting makes that happen here on purpose: a seeded share of the events sent
twice, held back so the next overtakes them, or dropped.
"""

import heapq
import itertools
import json
import logging
import threading
import time

from . import faults, job_shapes
from .job_model import Job

LOG = logging.getLogger(__name__)

SOURCE = "aws.batch"
DETAIL_TYPE = "Batch Job State Change"

_lock = threading.Condition()
_pending: list = []  # heap of (due, seq, account, region, entry)
_seq = itertools.count()
_thread: threading.Thread | None = None
_sent = {"events": 0}


def entry(job: Job) -> dict:
    """The PutEvents entry of the job's current state."""
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Resources": [job.arn],
        "Detail": json.dumps(job_shapes.detail(job)),
    }


def on_status(job: Job) -> None:
    """Called on every status change: schedules the event (the submission sends none)."""
    if job.status == "SUBMITTED":
        return
    e = entry(job)
    now = time.monotonic()
    with _lock:
        for delay in faults.event_delays():
            heapq.heappush(_pending, (now + delay, next(_seq), job.account, job.region, e))
        _lock.notify()
    _ensure_thread()


def _ensure_thread() -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="pipectl-batch-events", daemon=True)
            _thread.start()


def _loop() -> None:
    while True:
        with _lock:
            while not _pending or _pending[0][0] > time.monotonic():
                timeout = None if not _pending else max(0.0, _pending[0][0] - time.monotonic())
                _lock.wait(timeout)
            _, _, account, region, e = heapq.heappop(_pending)
        _put(account, region, e)


def _put(account: str, region: str, e: dict) -> None:
    from localstack.aws.connect import connect_to

    try:
        events = connect_to(aws_access_key_id=account, region_name=region).events
        out = events.put_events(Entries=[e])
        if out.get("FailedEntryCount"):
            LOG.warning("Batch event not accepted: %s", out.get("Entries"))
        _sent["events"] += 1
    except Exception as err:  # noqa: BLE001 - a lost event is what AWS may do too; log it
        LOG.warning("Batch event not sent: %s", err)


def sent() -> int:
    return _sent["events"]
