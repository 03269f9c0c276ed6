"""The job engine's pure decisions, without a running LocalStack (the modules are imported from
this checkout; LocalStack's package must be importable, as it is in localstack/.venv):
a SubmitJob request and its job definition → a job, ListJobs filters, evaluateOnExit, and the
DescribeJobs / ListJobs shapes.

Alone: localstack/.venv/bin/python -m pytest --noconftest localstack/tests/test_job_decisions.py
"""

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ext"))

from pipectl_localstack.job_requests import build_job, filters_match  # noqa: E402
from pipectl_localstack.job_scheduler import evaluate_on_exit  # noqa: E402
from pipectl_localstack.job_shapes import detail, summary  # noqa: E402

BACKEND = SimpleNamespace(account_id="000000000000", region_name="us-east-1")
QUEUE = SimpleNamespace(arn="arn:aws:batch:us-east-1:000000000000:job-queue/q")


def jobdef(**overrides):
    base = {
        "type": "container",
        "node_properties": None,
        "container_properties": {
            "image": "busybox",
            "command": ["run", "Ref::input"],
            "resourceRequirements": [{"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "4096"}],
            "environment": [{"name": "A", "value": "from-definition"}, {"name": "B", "value": "kept"}],
        },
        "parameters": {"input": "default.csv"},
        "retry_strategy": {"attempts": 3, "evaluateOnExit": [{"onExitCode": "1", "action": "EXIT"}]},
        "timeout": {"attemptDurationSeconds": 60},
        "arn": "arn:aws:batch:us-east-1:000000000000:job-definition/train:1",
        "name": "train",
    }
    base.update(overrides)
    return SimpleNamespace(**base)


def test_a_request_overrides_its_job_definition():
    request = {
        "containerOverrides": {"resourceRequirements": [{"type": "VCPU", "value": "4"}], "environment": [{"name": "A", "value": "from-request"}]},
        "parameters": {"input": "given.csv"},
        "timeout": {"attemptDurationSeconds": 30},
    }
    job = build_job(BACKEND, QUEUE, jobdef(), request, "n", [])
    assert (job.vcpus, job.memory, job.gpus) == (4.0, 4096, 0)
    assert job.environment == {"A": "from-request", "B": "kept"}
    assert job.command == ["run", "given.csv"]
    assert job.parameters == {"input": "given.csv"}
    assert job.timeout_s == 30
    assert (job.attempts_max, job.evaluate_on_exit) == (3, [{"onExitCode": "1", "action": "EXIT"}])
    assert job.log_group == "/aws/batch/job"
    assert job.arn == f"arn:aws:batch:us-east-1:000000000000:job/{job.job_id}"


def test_a_multi_node_definition_gives_nodes_a_main_node_and_its_log_group():
    container = {"image": "x", "command": ["c"], "vcpus": 8, "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/pipectl/train"}}}
    nodes = {"numNodes": 4, "mainNode": 1, "nodeRangeProperties": [{"targetNodes": "0:", "container": container}]}
    job = build_job(BACKEND, QUEUE, jobdef(type="multinode", node_properties=nodes), {}, "n", [{"jobId": "a", "type": None, "extra": 1}])
    assert (job.num_nodes, job.main_node, job.vcpus, job.memory) == (4, 1, 8.0, 2048)
    assert job.log_group == "/pipectl/train"
    assert job.depends_on == [{"jobId": "a", "type": None}]
    assert job.timeout_s == 60


def test_list_jobs_filters():
    job = build_job(BACKEND, QUEUE, jobdef(), {}, "train-7", [])
    job.created_at = 1000
    assert filters_match(job, [{"name": "JOB_NAME", "values": ["train-*"]}])
    assert not filters_match(job, [{"name": "JOB_NAME", "values": ["eval-*"]}])
    assert filters_match(job, [{"name": "JOB_DEFINITION", "values": ["train"]}])
    assert filters_match(job, [{"name": "JOB_DEFINITION", "values": ["train:1"]}])
    assert not filters_match(job, [{"name": "JOB_DEFINITION", "values": ["eval"]}])
    assert filters_match(job, [{"name": "AFTER_CREATED_AT", "values": ["999"]}, {"name": "BEFORE_CREATED_AT", "values": ["1001"]}])
    assert not filters_match(job, [{"name": "BEFORE_CREATED_AT", "values": ["1000"]}])


def test_evaluate_on_exit_first_matching_rule_decides_else_retry():
    rules = [{"onExitCode": "12", "action": "exit"}, {"onStatusReason": "Host EC2*", "action": "RETRY"}, {"onReason": "*", "action": "EXIT"}]
    assert evaluate_on_exit(rules, "Essential container in task exited", "", 137) == "EXIT"  # the third rule
    assert evaluate_on_exit(rules, "Essential container in task exited", "", 12) == "EXIT"
    assert evaluate_on_exit(rules, "Host EC2 (instance i-1) terminated.", "", None) == "RETRY"
    assert evaluate_on_exit([{"onExitCode": "2", "action": "EXIT"}], "x", "", 3) == "RETRY"
    assert evaluate_on_exit([], "x", "", 1) == "RETRY"


def test_shapes_of_an_array_job_and_its_children():
    parent = build_job(BACKEND, QUEUE, jobdef(), {}, "arr", [])
    parent.array_size = 2
    kids = [build_job(BACKEND, QUEUE, jobdef(), {}, "arr", []) for _ in range(2)]
    for i, k in enumerate(kids):
        k.array_index, k.parent = i, parent
    parent.children = kids
    kids[0].set_status("FAILED", "boom")
    d = detail(parent)
    assert d["arrayProperties"] == {"size": 2, "statusSummary": {"FAILED": 1, "SUBMITTED": 1}}
    assert d["container"]["resourceRequirements"] == [{"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "4096"}]
    assert d["retryStrategy"]["attempts"] == 3 and d["timeout"] == {"attemptDurationSeconds": 60}
    s = summary(kids[0])
    assert s["arrayProperties"] == {"index": 0}
    assert s["status"] == "FAILED" and s["statusReason"] == "boom" and "stoppedAt" in s
    assert summary(parent)["arrayProperties"] == {"size": 2}
