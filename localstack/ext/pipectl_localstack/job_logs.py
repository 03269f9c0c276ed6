"""A job's output in CloudWatch Logs, as Batch's awslogs driver writes it: the stream
`<job definition>/default/<task id>` in the job definition's awslogs-group, else Batch's
default /aws/batch/job (which Batch creates; any other group must already exist).
"""

import logging
import os
import select
import threading

from .job_model import LOG_GROUP, now_ms

LOG = logging.getLogger(__name__)


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
