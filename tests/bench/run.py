"""Driver of tests/bench/run: see that script's header."""

import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import boto3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PIPECTL = os.environ.get("PIPECTL_BIN") or os.path.join(ROOT, "target", "release", "pipectl")
SPEC = os.path.join(ROOT, "infra-specs", "two-hour-pipeline.toml")
NAIVE_INTERVAL = 10.0
COMMANDS = {"training": "sleep 8", "inference": "sleep 5", "documentation": "sleep 5"}


def spec_text(stack: str, n: int) -> str:
    out, phase = [], None
    for line in open(SPEC).read().splitlines():
        if line.startswith('name = "two-hour-pipeline"'):
            line = f'name = "{stack}"'
        if line.startswith("name = "):
            phase = line.split('"')[1]
        if line.startswith("command = [") and phase in COMMANDS:
            line = f'command = ["sh", "-c", "{COMMANDS[phase]}"]'
        out.append(line)
    text = "\n".join(out) + "\n"
    # g3s.xlarge has no Batch-provided image any more: an AMI of its own, as on AWS
    text = text.replace('instance_types = ["g3s.xlarge"]\n', 'instance_types = ["g3s.xlarge"]\nimage_id = "ami-0123456789abcdef0"\n', 1)
    prev = "documentation"
    extra = []
    for k in range(n - 3):
        name = f"extra-{k + 1}"
        extra.append(
            f'[[phases]]\nname = "{name}"\nqueue = "documentation"\nimage = "public.ecr.aws/docker/library/python:3.12-slim"\n'
            f'command = ["sh", "-c", "sleep 4"]\nvcpus = 2\nmemory = "3GiB"\nduration = "10m"\ndepends_on = ["{prev}"]\nuses_fsx = false\n'
        )
        prev = name
    # New phases go before the first table that is not a phase.
    i = text.index("\n[fsx]")
    return text[:i] + "\n" + "\n".join(extra) + text[i:]


def naive(runs_dir: str, stop: threading.Event, seen: dict, calls: list):
    """One DescribeJobs per job every 10 s, for every job the run record names."""
    batch = boto3.client("batch", endpoint_url="http://127.0.0.1:4566", region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test")
    jobs = {}
    while not stop.is_set():
        for path in glob.glob(os.path.join(runs_dir, "*.json")):
            try:
                rec = json.load(open(path))
            except ValueError:
                continue
            for p in rec["phases"]:
                if p.get("job_id"):
                    jobs.setdefault(p["job_id"], p["name"])
        for job_id, name in jobs.items():
            if name in seen:
                continue
            calls[0] += 1
            j = batch.describe_jobs(jobs=[job_id])["jobs"][0]
            if j["status"] in ("SUCCEEDED", "FAILED"):
                seen[name] = (time.time() * 1000) - j["stoppedAt"]
        if jobs and len(seen) == len(jobs):
            return
        stop.wait(NAIVE_INTERVAL)


def wait_for_jobs(runs_dir: str, n: int, timeout: float = 60.0) -> str:
    """The run id, once its record names a job for each of the n phases."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in glob.glob(os.path.join(runs_dir, "*.json")):
            try:
                rec = json.load(open(path))
            except ValueError:
                continue
            if sum(1 for p in rec["phases"] if p.get("job_id")) == n:
                return rec["run_id"]
        time.sleep(0.05)
    raise SystemExit("the run submitted no jobs within a minute")


def result(proc: subprocess.Popen) -> tuple[dict, dict]:
    """A finished `run --output json`: its record and its `finished` event."""
    out, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"pipectl run failed ({proc.returncode}):\n{err}")
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    return lines[-1], next(e for e in lines if e.get("event") == "finished")


def delays(rec: dict) -> list:
    return [(p["noticed_at_ms"] - p["stopped_at_ms"]) / 1000 for p in rec["phases"]]


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        stack = f"benchrun{os.getpid() % 100000}"
        spec = os.path.join(d, "spec.toml")
        open(spec, "w").write(spec_text(stack, n))
        env = dict(os.environ, NO_COLOR="1")
        subprocess.run([PIPECTL, "-q", "bootstrap", spec], cwd=d, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([PIPECTL, "-q", "up", "--yes", spec], cwd=d, env=env, check=True, stdout=subprocess.DEVNULL)
        try:
            stop, seen, calls = threading.Event(), {}, [0]
            runs = os.path.join(d, ".pipectl", "runs")
            t = threading.Thread(target=naive, args=(runs, stop, seen, calls))
            t.start()
            start = time.time()
            run = [PIPECTL, "-q", "run", "--no-metrics", "--output", "json"]
            events = subprocess.Popen(run + [spec], cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # the same jobs, watched by polling: a second watcher attached to a copy of the record
            run_id = wait_for_jobs(runs, n)
            copy = os.path.join(d, "polling-runs")
            shutil.copytree(runs, copy)
            polling = subprocess.Popen(run + ["--attach", run_id, "--no-events", "--runs-dir", copy, spec], cwd=d, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            rec, finished = result(events)
            wall = time.time() - start
            prec, pfinished = result(polling)
            t.join(timeout=60)
            stop.set()
            theirs = list(seen.values())
        finally:
            subprocess.run([PIPECTL, "-q", "down", "--yes", spec], cwd=d, env=env, check=True, stdout=subprocess.DEVNULL)
    run_s = sum(p["run_seconds"] for p in rec["phases"])
    ours, polled = delays(rec), delays(prec)
    print(f"{n} chained phases, {run_s:.0f} s of commands, run wall {wall:.1f} s; the same jobs watched three ways at once")
    print(f"{'watcher':<36}{'DescribeJobs':>13}{'job events':>11}{'notice delay median s':>23}{'max s':>8}")
    print(f"{'pipectl run, job events':<36}{finished['describe_jobs_calls']:>13}{finished['job_events']:>11}{statistics.median(ours):>23.2f}{max(ours):>8.2f}")
    print(f"{'pipectl run --no-events (poll 2..30)':<36}{pfinished['describe_jobs_calls']:>13}{pfinished['job_events']:>11}{statistics.median(polled):>23.2f}{max(polled):>8.2f}")
    print(f"{'naive, one call per job every 10 s':<36}{calls[0]:>13}{0:>11}{statistics.median(theirs) / 1000:>23.2f}{max(theirs) / 1000:>8.2f}")
    minutes = wall / 60
    print(f"events: {finished['describe_jobs_calls']} DescribeJobs over {minutes:.1f} min of run (one before the first event, "
          f"then one a minute); median notice delay {statistics.median(ours):.2f} s against polling's {statistics.median(polled):.2f} s")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
