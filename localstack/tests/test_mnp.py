"""Multi-node parallel jobs as Batch runs them: node ranges and nodeOverrides decide each
node's container, RegisterJobDefinition and SubmitJob refuse what Batch refuses, the main node
starts first and decides the job, each node is described as `<jobId>#<node>` and listed by
ListJobs(multiNodeJobId), the main node's address is given to the children only, and a child
that loses its instance changes nothing for the others (Batch leaves that to the job).

The pure parts run without LocalStack too:
    localstack/.venv/bin/python -m pytest --noconftest localstack/tests/test_mnp.py -k pure
"""

import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ext"))

from pipectl_localstack import mnp  # noqa: E402


def props(num=2, main=0, ranges=None):
    return {"numNodes": num, "mainNode": main, "nodeRangeProperties": ranges or [{"targetNodes": "0:", "container": {"image": "x", "command": ["all"]}}]}


def test_pure_target_nodes_name_ranges_of_nodes():
    assert mnp.target_range("0:3", 8) == range(0, 4)
    assert mnp.target_range(":2", 8) == range(0, 3)
    assert mnp.target_range("5:", 8) == range(5, 8)
    assert mnp.target_range("4", 8) == range(4, 5)
    for bad in ("", "a:b", "3:1", "-1"):
        assert mnp.target_range(bad, 8) is None, bad


def test_pure_a_nested_range_overrides_and_node_overrides_apply_by_target():
    ranges = [
        {"targetNodes": "0:", "container": {"image": "x", "command": ["work"], "environment": [{"name": "ROLE", "value": "worker"}]}},
        {"targetNodes": "0", "container": {"image": "x", "command": ["lead"], "environment": [{"name": "ROLE", "value": "main"}]}},
    ]
    overrides = {"numNodes": 3, "nodePropertyOverrides": [{"targetNodes": "0:", "containerOverrides": {"environment": [{"name": "RUN", "value": "r1"}]}}]}
    n, main, nodes = mnp.node_containers(props(2, 0, ranges), overrides)
    assert (n, main) == (3, 0)
    assert [c["command"] for c in nodes] == [["lead"], ["work"], ["work"]]
    envs = [{e["name"]: e["value"] for e in c["environment"]} for c in nodes]
    assert envs == [{"ROLE": "main", "RUN": "r1"}, {"ROLE": "worker", "RUN": "r1"}, {"ROLE": "worker", "RUN": "r1"}]


def test_pure_registration_and_override_rules():
    ok = {"jobDefinitionName": "d", "type": "multinode", "nodeProperties": props()}
    assert mnp.registration_error(ok) is None
    for bad, words in [
        ({**ok, "nodeProperties": None}, "needs nodeProperties"),
        ({**ok, "containerProperties": {"image": "x"}}, "cannot be combined"),
        ({**ok, "platformCapabilities": ["FARGATE"]}, "Fargate"),
        ({**ok, "nodeProperties": props(2, 2)}, "mainNode 2 must be fewer than numNodes 2"),
        ({**ok, "nodeProperties": props(3, 0, [{"targetNodes": "0:1", "container": {}}])}, "nodes [2] are in none"),
        ({**ok, "nodeProperties": props(2, 0, [{"targetNodes": "x", "container": {}}])}, "not a range"),
        ({**ok, "nodeProperties": props(8, 0, [{"targetNodes": str(i), "container": {}} for i in range(6)] + [{"targetNodes": "6:", "container": {}}])}, "1 to 5 node groups"),
        ({"jobDefinitionName": "d", "type": "container", "nodeProperties": props()}, "only for jobs of type multinode"),
    ]:
        err = mnp.registration_error(bad)
        assert err is not None and err.code == "ClientException" and words in err.message, (words, err and err.message)
    assert mnp.override_error(props(), {"numNodes": 4}) is None
    closed = props(2, 0, [{"targetNodes": "0:1", "container": {}}])
    assert "open upper boundary" in mnp.override_error(closed, {"numNodes": 4}).message
    assert "must start below" in mnp.override_error(props(4, 0, [{"targetNodes": "0:2", "container": {}}, {"targetNodes": "3:", "container": {}}]), {"numNodes": 3}).message
    assert "mainNode 1" in mnp.override_error(props(2, 1), {"numNodes": 1}).message
    assert mnp.split_node_id("abc#2") == ("abc", 2)
    assert mnp.split_node_id("abc:2") is None


# --- against the local AWS --------------------------------------------------------------------

SCRIPT = (
    'echo "node=$AWS_BATCH_JOB_NODE_INDEX of $AWS_BATCH_JOB_NUM_NODES main=$AWS_BATCH_JOB_MAIN_NODE_INDEX '
    'addr=${AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS:-none} role=$ROLE run=$RUN"; '
)


def register(aws, name, main_cmd, child_cmd):
    container = {"image": "local", "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}]}
    aws.batch.register_job_definition(
        jobDefinitionName=name,
        type="multinode",
        nodeProperties={
            "numNodes": 2,
            "mainNode": 0,
            "nodeRangeProperties": [
                {"targetNodes": "0:", "container": {**container, "command": ["sh", "-c", SCRIPT + child_cmd], "environment": [{"name": "ROLE", "value": "child"}]}},
                {"targetNodes": "0", "container": {**container, "command": ["sh", "-c", SCRIPT + main_cmd], "environment": [{"name": "ROLE", "value": "main"}]}},
            ],
        },
    )


def submit(aws, name, q, **kw):
    over = {"nodePropertyOverrides": [{"targetNodes": "0:", "containerOverrides": {"environment": [{"name": "RUN", "value": "r1"}]}}], **kw}
    return aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name, nodeOverrides=over)["jobId"]


def test_nodes_run_their_ranges_the_main_node_first_and_deciding(aws, compute, name):
    from conftest import wait_job

    _, q = compute(name)
    # the child fails; the main node waits a moment and succeeds: the job succeeds
    register(aws, name, "sleep 1.5", "exit 4")
    job_id = submit(aws, name, q)
    job = wait_job(aws, job_id)
    assert job["status"] == "SUCCEEDED", job
    assert job["nodeProperties"]["numNodes"] == 2 and len(job["nodeProperties"]["nodeRangeProperties"]) == 2
    main, child = aws.batch.describe_jobs(jobs=[f"{job_id}#0", f"{job_id}#1"])["jobs"]
    assert main["nodeDetails"] == {"nodeIndex": 0, "isMainNode": True}
    assert child["nodeDetails"] == {"nodeIndex": 1, "isMainNode": False}
    assert (main["status"], main["container"]["exitCode"]) == ("SUCCEEDED", 0)
    assert (child["status"], child["container"]["exitCode"]) == ("FAILED", 4)
    assert child["startedAt"] >= main["startedAt"], "children start once the main node runs"
    listed = aws.batch.list_jobs(multiNodeJobId=job_id, jobStatus="FAILED")["jobSummaryList"]
    assert [(s["jobId"], s["nodeProperties"]) for s in listed] == [(f"{job_id}#1", {"isMainNode": False, "nodeIndex": 1, "numNodes": 2})]
    lines = [e["message"] for e in aws.logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=job["container"]["logStreamName"])["events"]]
    assert "[node 0] node=0 of 2 main=0 addr=none role=main run=r1" in lines, lines
    assert "[node 1] node=1 of 2 main=0 addr=127.0.0.1 role=child run=r1" in lines, lines


def test_the_main_nodes_exit_decides_and_a_lost_child_changes_nothing_for_batch(aws, compute, name):
    from conftest import control, wait_job

    _, q = compute(name)
    register(aws, name, "sleep 2; exit 3", "sleep 30")
    status, _ = control("faults", "POST", {"node_loss": {"queues": q, "node": 1, "after_seconds": 0.5, "count": 1}})
    assert status == 200
    job_id = submit(aws, name, q, numNodes=3)
    job = wait_job(aws, job_id)
    assert job["status"] == "FAILED" and job["attempts"][-1]["container"]["exitCode"] == 3
    nodes = aws.batch.describe_jobs(jobs=[f"{job_id}#{i}" for i in range(3)])["jobs"]
    assert [n["status"] for n in nodes] == ["FAILED", "FAILED", "FAILED"]
    assert nodes[1]["statusReason"].startswith("Host EC2 (instance i-")
    assert nodes[2]["statusReason"] == "stopped with the main node", "node 2 ran until the main node ended"
    assert nodes[2]["stoppedAt"] >= nodes[0]["stoppedAt"] - 50
    assert nodes[1]["stoppedAt"] < nodes[0]["stoppedAt"] - 500, "the lost node did not stop the job"


def test_submit_refuses_a_node_count_the_definition_cannot_take(aws, compute, name):
    _, q = compute(name)
    register(aws, name, "true", "true")
    with pytest.raises(ClientError, match="mainNode 0 must be fewer than numNodes 0|numNodes"):
        submit(aws, name, q, numNodes=0)
    bad = f"{name}-bad"
    with pytest.raises(ClientError, match="node ranges must account for all nodes"):
        aws.batch.register_job_definition(
            jobDefinitionName=bad, type="multinode",
            nodeProperties={"numNodes": 3, "mainNode": 0, "nodeRangeProperties": [{"targetNodes": "0:1", "container": {"image": "local", "command": ["true"]}}]},
        )
