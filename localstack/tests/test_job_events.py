"""Batch's job state-change events reach an SQS queue through an EventBridge rule, as on AWS
(https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html): one event per
status change after the submission, the job's DescribeJobs detail inside; and the event
faults send some twice, late or never."""

import json

from conftest import client, control, job_definition, wait_for, wait_job


def _rule_to_queue(name, queue_arns):
    """An SQS queue and a rule that delivers the given job queues' job events to it."""
    sqs, events = client("sqs"), client("events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"], "detail": {"jobQueue": queue_arns}}
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    out = events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    assert out["FailedEntryCount"] == 0
    return sqs, url


def _drain(sqs, url, until, timeout=30):
    """Every event received until `until(events)` holds."""
    got = []

    def more():
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return until(got)

    wait_for(more, timeout=timeout, interval=0)
    return got


def _run(aws, compute, name, command=("sleep", "0.5")):
    _, q = compute(name)
    queue_arn = aws.batch.describe_job_queues(jobQueues=[q])["jobQueues"][0]["jobQueueArn"]
    sqs, url = _rule_to_queue(name, [queue_arn])
    job_definition(aws, name, list(command))
    job_id = aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"]
    return sqs, url, job_id, queue_arn


def test_every_status_change_after_the_submission_sends_an_event_with_the_jobs_detail(aws, compute, name):
    sqs, url, job_id, queue_arn = _run(aws, compute, name)
    job = wait_job(aws, job_id)
    got = _drain(sqs, url, lambda evs: any(e["detail"]["status"] == "SUCCEEDED" for e in evs))
    assert {e["source"] for e in got} == {"aws.batch"}
    assert {e["detail-type"] for e in got} == {"Batch Job State Change"}
    assert all(e["resources"] == [job["jobArn"]] and e["detail"]["jobQueue"] == queue_arn for e in got)
    statuses = [e["detail"]["status"] for e in got]
    # no event for the submission; every later state once (no faults). Sent in order, but
    # EventBridge delivers "in no guaranteed order" (eb-service-event.html) and LocalStack's
    # does swap two events a tick apart on a loaded machine (PENDING, RUNNABLE: seen).
    lifecycle = ["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    assert sorted(statuses, key=lifecycle.index) == lifecycle, statuses
    last = got[-1]["detail"]
    assert last["jobId"] == job_id and last["stoppedAt"] == job["stoppedAt"]
    assert last["attempts"][0]["container"]["exitCode"] == 0


def test_a_rule_for_other_queues_receives_nothing(aws, compute, name):
    _, q = compute(name)
    sqs, url = _rule_to_queue(name, ["arn:aws:batch:us-east-1:000000000000:job-queue/someone-else"])
    job_definition(aws, name, ["true"])
    wait_job(aws, aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"])
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_event_faults_send_twice_late_or_never(aws, compute, name):
    status, _ = control("faults", "POST", {"seed": 3, "events": {"duplicate_rate": 1.0}})
    assert status == 200
    sqs, url, job_id, _ = _run(aws, compute, name)
    wait_job(aws, job_id)
    got = _drain(sqs, url, lambda evs: sum(e["detail"]["status"] == "SUCCEEDED" for e in evs) == 2)
    statuses = [e["detail"]["status"] for e in got]
    assert sorted(statuses) == sorted(["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"] * 2), statuses
    assert control("faults")[1]["counts"]["events_duplicated"] == 5

    control("faults", "POST", {"seed": 3, "events": {"drop_rate": 1.0}})
    job_id = aws.batch.submit_job(jobName=name, jobQueue=name + "-q", jobDefinition=name)["jobId"]
    wait_job(aws, job_id)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
    assert control("faults")[1]["counts"]["events_dropped"] == 5

    assert control("faults", "POST", {"events": {"drop_rate": 2}})[0] == 400
    assert control("faults", "POST", {"events": {"lose": 1}})[0] == 400


def test_a_deleted_queues_name_is_refused_for_a_while_as_on_aws(name):
    sqs = client("sqs", retries={"mode": "standard", "max_attempts": 1})
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    try:
        sqs.create_queue(QueueName=name)
        raise AssertionError("a deleted queue's name was taken again at once")
    except sqs.exceptions.QueueDeletedRecently:
        pass
    control("config", "POST", {"sqs_name_reuse": 0.5})
    wait_for(lambda: _created(sqs, name), timeout=5, interval=0.2)


def _created(sqs, name):
    try:
        return sqs.create_queue(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDeletedRecently:
        return None
