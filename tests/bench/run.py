"""Driver of tests/bench/run: see that script's header."""

import glob
import json
import os
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


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        stack = f"benchrun{os.getpid() % 100000}"
        spec = os.path.join(d, "spec.toml")
        open(spec, "w").write(spec_text(stack, n))
        env = dict(os.environ, NO_COLOR="1")
        subprocess.run([PIPECTL, "-q", "up", "--yes", spec], cwd=d, env=env, check=True, stdout=subprocess.DEVNULL)
        try:
            stop, seen, calls = threading.Event(), {}, [0]
            t = threading.Thread(target=naive, args=(os.path.join(d, ".pipectl", "runs"), stop, seen, calls))
            t.start()
            start = time.time()
            r = subprocess.run([PIPECTL, "-q", "run", "--no-metrics", "--output", "json", spec], cwd=d, env=env,
                               check=True, capture_output=True, text=True)
            wall = time.time() - start
            t.join(timeout=60)
            stop.set()
            lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
            rec = lines[-1]
            finished = next(e for e in lines if e.get("event") == "finished")
            ours = [(p["noticed_at_ms"] - p["stopped_at_ms"]) for p in rec["phases"]]
            theirs = list(seen.values())
        finally:
            subprocess.run([PIPECTL, "-q", "down", "--yes", spec], cwd=d, env=env, check=True, stdout=subprocess.DEVNULL)
    run_s = sum(p["run_seconds"] for p in rec["phases"])
    print(f"{n} chained phases, {run_s:.0f} s of commands, run wall {wall:.1f} s; pipectl poll 2..30 s (default), naive: every job every {NAIVE_INTERVAL:.0f} s")
    print(f"{'watcher':<28}{'DescribeJobs':>13}{'notice delay median s':>23}{'max s':>8}")
    print(f"{'pipectl run (batched)':<28}{finished['describe_jobs_calls']:>13}{statistics.median(ours) / 1000:>23.2f}{max(ours) / 1000:>8.2f}")
    print(f"{'naive, one call per job':<28}{calls[0]:>13}{statistics.median(theirs) / 1000:>23.2f}{max(theirs) / 1000:>8.2f}")
    print(f"calls: pipectl makes {calls[0] / max(finished['describe_jobs_calls'], 1):.1f}x fewer; median delay ratio pipectl/naive {statistics.median(ours) / max(statistics.median(theirs), 1):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
