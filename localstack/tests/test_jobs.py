"""Batch jobs that really run: timing, failure, dependencies, retries, arrays, termination,
priority and logs."""

import time

from conftest import control, job_definition, statuses_until, wait_for, wait_job


def test_a_job_runs_its_command_for_its_real_duration(aws, compute, name):
    _, q = compute(name)
    job_definition(aws, name, ["python3", "-c", "import time; print('start'); time.sleep(2); print('done')"])
    job_id = aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"]
    seen = statuses_until(lambda: aws.batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"], lambda s: s in ("SUCCEEDED", "FAILED"))
    # In lifecycle order. PENDING lasts one engine tick for a job without dependencies, which a
    # poller on a loaded machine can miss (seen in CI); the states with a duration must be seen.
    lifecycle = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    assert [s for s in lifecycle if s in seen] == seen, seen
    assert {"SUBMITTED", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"} <= set(seen), seen
    job = aws.batch.describe_jobs(jobs=[job_id])["jobs"][0]
    run = (job["stoppedAt"] - job["startedAt"]) / 1000
    # At least the 2 s it sleeps; above that only interpreter start-up and the engine's tick,
    # which a loaded 2-core machine stretches (2.22 s seen in CI): a wide upper bound.
    assert 2.0 <= run <= 3.5, run
    assert job["startedAt"] - job["createdAt"] > 0, "queue wait is reported separately"
    attempt = job["attempts"][0]
    assert attempt["container"]["exitCode"] == 0
    assert attempt["startedAt"] == job["startedAt"] and attempt["stoppedAt"] == job["stoppedAt"]
    events = aws.logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=job["container"]["logStreamName"])["events"]
    assert [e["message"] for e in events] == ["start", "done"]


def test_a_failing_command_fails_the_job_with_its_exit_code(aws, compute, name):
    _, q = compute(name)
    job_definition(aws, name, ["sh", "-c", "echo oops >&2; exit 3"])
    job = wait_job(aws, aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"])
    assert job["status"] == "FAILED"
    assert job["attempts"][-1]["container"]["exitCode"] == 3
    assert job["statusReason"] == "Essential container in task exited"
    missing = f"{name}-missing"
    job_definition(aws, missing, ["no-such-binary-anywhere"])
    job = wait_job(aws, aws.batch.submit_job(jobName=missing, jobQueue=q, jobDefinition=missing)["jobId"])
    assert job["status"] == "FAILED" and "CannotStartContainerError" in job["statusReason"]


def test_a_dependency_chain_runs_in_order_and_a_failure_propagates(aws, compute, name):
    _, q = compute(name)
    job_definition(aws, name, ["sleep", "0.5"])
    first = aws.batch.submit_job(jobName=f"{name}-1", jobQueue=q, jobDefinition=name)["jobId"]
    second = aws.batch.submit_job(jobName=f"{name}-2", jobQueue=q, jobDefinition=name, dependsOn=[{"jobId": first}])["jobId"]
    third = aws.batch.submit_job(jobName=f"{name}-3", jobQueue=q, jobDefinition=name, dependsOn=[{"jobId": second}])["jobId"]
    assert aws.batch.describe_jobs(jobs=[third])["jobs"][0]["status"] in ("SUBMITTED", "PENDING")
    jobs = {j["jobId"]: j for j in (wait_job(aws, i) for i in (first, second, third))}
    assert all(j["status"] == "SUCCEEDED" for j in jobs.values())
    assert jobs[second]["startedAt"] >= jobs[first]["stoppedAt"]
    assert jobs[third]["startedAt"] >= jobs[second]["stoppedAt"]

    bad = f"{name}-bad"
    job_definition(aws, bad, ["false"])
    failing = aws.batch.submit_job(jobName=bad, jobQueue=q, jobDefinition=bad)["jobId"]
    dependent = aws.batch.submit_job(jobName=f"{name}-after", jobQueue=q, jobDefinition=name, dependsOn=[{"jobId": failing}])["jobId"]
    job = wait_job(aws, dependent)
    assert job["status"] == "FAILED" and job["statusReason"] == "Dependent Job failed"
    assert "startedAt" not in job


def test_a_spot_interruption_is_retried_by_the_retry_strategy(aws, compute, name):
    from conftest import control

    _, q = compute(name, kind="SPOT")
    status, _ = control("faults", "POST", {"seed": 1, "spot": {"queues": q, "count": 1, "after_seconds": 0.3}})
    assert status == 200
    retry = {"attempts": 3, "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "RETRY"}, {"onReason": "*", "action": "EXIT"}]}
    job_definition(aws, name, ["sleep", "1"], retry=retry)
    job = wait_job(aws, aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"])
    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    first, second = job["attempts"]
    assert first["statusReason"].startswith("Host EC2 (instance i-") and first["statusReason"].endswith(") terminated.")
    assert "exitCode" not in first["container"]
    # Interrupted 0.3 s in, well before the 1 s command would have ended on its own.
    assert 0.25 <= (first["stoppedAt"] - first["startedAt"]) / 1000 < 0.95
    assert second["container"]["exitCode"] == 0
    assert control("faults")[1]["counts"]["spot_interruptions"] == 1


def test_exit_rules_stop_retries_and_timeouts_kill(aws, compute, name):
    _, q = compute(name)
    retry = {"attempts": 3, "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "RETRY"}, {"onReason": "*", "action": "EXIT"}]}
    job_definition(aws, name, ["sh", "-c", "exit 1"], retry=retry)
    job = wait_job(aws, aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"])
    assert job["status"] == "FAILED" and len(job["attempts"]) == 1
    plain = f"{name}-plain"
    job_definition(aws, plain, ["sh", "-c", "exit 1"], retry={"attempts": 2})
    job = wait_job(aws, aws.batch.submit_job(jobName=plain, jobQueue=q, jobDefinition=plain)["jobId"])
    assert len(job["attempts"]) == 2, "without rules every failure is retried"
    slow = f"{name}-slow"
    job_definition(aws, slow, ["sleep", "30"], timeout=1)
    job = wait_job(aws, aws.batch.submit_job(jobName=slow, jobQueue=q, jobDefinition=slow)["jobId"])
    assert job["status"] == "FAILED" and job["statusReason"] == "Job attempt duration exceeded timeout"
    assert (job["stoppedAt"] - job["startedAt"]) / 1000 < 2


def test_array_jobs_run_every_child_with_its_index(aws, compute, name):
    _, q = compute(name)
    job_definition(aws, name, ["sh", "-c", "echo index=$AWS_BATCH_JOB_ARRAY_INDEX"])
    parent = aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name, arrayProperties={"size": 3})["jobId"]
    job = wait_job(aws, parent)
    assert job["status"] == "SUCCEEDED"
    assert job["arrayProperties"]["statusSummary"] == {"SUCCEEDED": 3}
    children = aws.batch.list_jobs(arrayJobId=parent, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert sorted(c["arrayProperties"]["index"] for c in children) == [0, 1, 2]
    child = aws.batch.describe_jobs(jobs=[f"{parent}:2"])["jobs"][0]
    events = aws.logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=child["container"]["logStreamName"])["events"]
    assert [e["message"] for e in events] == ["index=2"]


def test_terminate_and_cancel(aws, compute, name):
    _, q = compute(name)
    job_definition(aws, name, ["sleep", "30"])
    running = aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"]
    wait_for(lambda: aws.batch.describe_jobs(jobs=[running])["jobs"][0]["status"] == "RUNNING")
    waiting = aws.batch.submit_job(jobName=f"{name}-w", jobQueue=q, jobDefinition=name, dependsOn=[{"jobId": running}])["jobId"]
    aws.batch.cancel_job(jobId=waiting, reason="not needed")
    aws.batch.terminate_job(jobId=running, reason="stopped by test")
    job = wait_job(aws, running, timeout=5)
    assert job["status"] == "FAILED" and job["statusReason"] == "stopped by test" and job["isTerminated"]
    assert (job["stoppedAt"] - job["startedAt"]) / 1000 < 5
    cancelled = aws.batch.describe_jobs(jobs=[waiting])["jobs"][0]
    assert cancelled["status"] == "FAILED" and cancelled["statusReason"] == "not needed" and cancelled["isCancelled"]


def test_higher_priority_queue_is_scheduled_first(aws, compute, net, name):
    # one CE with room for one job; two queues share it
    ce, low = compute(name, max_vcpus=1, priority=1)
    high = f"{name}-high"
    aws.batch.create_job_queue(jobQueueName=high, priority=10, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce}])
    wait_for(lambda: aws.batch.describe_job_queues(jobQueues=[high])["jobQueues"][0]["status"] == "VALID")
    job_definition(aws, name, ["sleep", "0.5"])
    hold = f"{name}-hold"
    # long enough that both waiting jobs are RUNNABLE before capacity frees up
    job_definition(aws, hold, ["sleep", "3"])
    blocker = aws.batch.submit_job(jobName=f"{name}-blocker", jobQueue=low, jobDefinition=hold)["jobId"]
    wait_for(lambda: aws.batch.describe_jobs(jobs=[blocker])["jobs"][0]["status"] == "RUNNING")
    low_job = aws.batch.submit_job(jobName=f"{name}-low", jobQueue=low, jobDefinition=name)["jobId"]
    time.sleep(0.1)
    high_job = aws.batch.submit_job(jobName=f"{name}-high", jobQueue=high, jobDefinition=name)["jobId"]
    lo, hi = wait_job(aws, low_job), wait_job(aws, high_job)
    assert hi["startedAt"] < lo["startedAt"], "the higher-priority queue's job ran first"
    assert lo["startedAt"] >= hi["stoppedAt"], "capacity (maxvCpus) is respected"


def test_list_jobs_filters_by_status(aws, compute, name):
    _, q = compute(name)
    job_definition(aws, name, ["true"])
    ids = [aws.batch.submit_job(jobName=f"{name}-{i}", jobQueue=q, jobDefinition=name)["jobId"] for i in range(3)]
    for i in ids:
        wait_job(aws, i)
    listed = aws.batch.list_jobs(jobQueue=q, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert sorted(j["jobId"] for j in listed) == sorted(ids)
    assert aws.batch.list_jobs(jobQueue=q)["jobSummaryList"] == [], "the default status filter is RUNNING"


def test_the_job_path_plays_the_images_path(aws, compute, name, tmp_path):
    """A spec names its image's program; locally, the job path says where a build of it is."""
    _, q = compute(name)
    program = f"{name}-tool"
    (tmp_path / program).write_text("#!/bin/sh\necho from-the-job-path\n")
    (tmp_path / program).chmod(0o755)
    job_definition(aws, name, [program])
    job = wait_job(aws, aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"])
    assert job["status"] == "FAILED" and "CannotStartContainerError" in job["statusReason"], "not on PATH yet"
    status, answer = control("config", "POST", {"job_path": str(tmp_path)})
    assert status == 200 and answer["job_path"] == str(tmp_path), answer
    job = wait_job(aws, aws.batch.submit_job(jobName=name, jobQueue=q, jobDefinition=name)["jobId"])
    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    events = aws.logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=job["container"]["logStreamName"])["events"]
    assert [e["message"] for e in events] == ["from-the-job-path"]
    # a DELETE puts it back (the fixture does too)
    assert control("config", "DELETE")[1]["job_path"] == ""
    assert control("config", "POST", {"job_path": 3})[0] == 400
