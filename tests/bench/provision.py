"""Driver of tests/bench/provision: see that script's header."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PIPECTL = os.environ.get("PIPECTL_BIN") or os.path.join(ROOT, "target", "release", "pipectl")
SPEC = os.path.join(ROOT, "infra-specs", "two-hour-pipeline.toml")

# What each kind waits for in the local AWS, by the delay names of /_pipectl/config.
UP = {"compute-environment": ["ce_create"], "job-queue": ["queue_create"], "file-system": ["fsx_create"], "data-repository-association": ["dra_create"]}
# What a create waits for before it answers, where that is less than readiness: FSx's create
# answers at CREATING (with the DNS and mount names); its dependents wait for AVAILABLE.
CREATED = {"file-system": []}
# A deleted NAT gateway's or file system's network interface holds its subnet (and the
# security group, the VPC) for `eni_release` more (enis.py).
DOWN = {"compute-environment": ["ce_update", "ce_delete"], "job-queue": ["queue_update", "queue_delete"], "file-system": ["fsx_delete", "eni_release"], "nat-gateway": ["eni_release"]}


def seed_text(text: str, stack: str) -> str:
    """The seed spec under another stack name, its g3s.xlarge with an AMI of its own (Batch
    has no image for g3s any more; the local AWS refuses it as AWS does)."""
    text = text.replace('name = "two-hour-pipeline"', f'name = "{stack}"', 1)
    return text.replace('instance_types = ["g3s.xlarge"]\n', 'instance_types = ["g3s.xlarge"]\nimage_id = "ami-0123456789abcdef0"\n', 1)


def delays():
    with urllib.request.urlopen("http://127.0.0.1:4566/_pipectl/config", timeout=5) as r:
        body = json.load(r)
    return body.get("delays", body)


def critical_path(resources, cost, reverse=False):
    """Longest path through the graph, each node weighted by the delays it waits for."""
    by_id = {r["id"]: r for r in resources}
    # Teardown waits only for what depends on a resource to be ready: what merely used it as it
    # was created (a launch template naming the file system) does not hold its deletion.
    deps = {r["id"]: [d for d in r["depends_on"] + ([] if reverse else r.get("uses", [])) if d in by_id] for r in resources}
    if reverse:  # teardown: a resource goes after everything that depended on it
        rdeps = {i: [] for i in by_id}
        for i, ds in deps.items():
            for d in ds:
                rdeps[d].append(i)
        deps = rdeps
    memo = {}

    def finish(i):
        if i not in memo:
            memo[i] = max((finish(d) for d in deps[i]), default=0.0) + cost(by_id[i])
        return memo[i]

    return max(finish(i) for i in by_id)


def critical_path_up(resources, d):
    """`up`'s longest path. A resource's create answers once it is created (CREATED delays);
    it is ready (usable) after its READY delays. What depends on it (`depends_on`) starts once
    it is ready; what only uses it (`uses`) once it is created. A compute environment is not
    VALID before the roles it names are `iam_propagation` seconds old (the local AWS, like IAM,
    makes it INVALID until then: compute_environments.py), however early it is created. `up`
    ends when every resource is ready, except those only created (FSx)."""
    by_id = {r["id"]: r for r in resources}
    created_cost = lambda r: sum(d[k] for k in CREATED.get(r["kind"], UP.get(r["kind"], [])))
    ready_cost = lambda r: sum(d[k] for k in UP.get(r["kind"], []))
    starts, readies = {}, {}

    def roles(i):
        """The IAM roles resource i names, directly or through an instance profile."""
        out = set()
        for x in by_id[i]["depends_on"]:
            kind = by_id.get(x, {}).get("kind")
            if kind == "iam-role":
                out.add(x)
            elif kind == "instance-profile":
                out |= roles(x)
        return out

    def start(i):
        if i not in starts:
            r = by_id[i]
            starts[i] = max([ready(x) for x in r["depends_on"] if x in by_id]
                            + [start(x) + created_cost(by_id[x]) for x in r.get("uses", []) if x in by_id], default=0.0)
        return starts[i]

    def ready(i):
        if i not in readies:
            r = by_id[i]
            at = start(i) + ready_cost(r)
            if r["kind"] == "compute-environment":
                at = max([at] + [start(x) + d["iam_propagation"] for x in roles(i)])
            readies[i] = at
        return readies[i]

    return max(start(i) + created_cost(by_id[i]) if by_id[i]["kind"] in CREATED else ready(i) for i in by_id)
def run(args, cwd, json_out=True):
    t = time.monotonic()
    out = subprocess.run([PIPECTL, *args], cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"pipectl {' '.join(args)} failed:\n{out.stderr}")
    return time.monotonic() - t, json.loads(out.stdout) if json_out else out.stdout


def main():
    rounds = int(sys.argv[1])
    d = delays()
    plan = json.loads(subprocess.run([PIPECTL, "plan", SPEC, "--output", "json", "-q"], capture_output=True, text=True, check=True).stdout)
    res = plan["resources"]
    cp_up = critical_path_up(res, d)
    cp_down = critical_path(res, lambda r: sum(d[k] for k in DOWN.get(r["kind"], [])), reverse=True)

    ups, downs = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            spec = os.path.join(tmp, "spec.toml")
            stack = f"bench-{os.getpid()}-{len(ups)}"
            with open(SPEC) as f, open(spec, "w") as g:
                g.write(seed_text(f.read(), stack))
            run(["bootstrap", spec], tmp, json_out=False)  # the administrator's, not timed
            wall, s = run(["up", "--yes", "-q", "--output", "json", spec], tmp)
            ups.append((wall, sum(s["calls"].values())))
            wall, s = run(["down", "--yes", "-q", "--output", "json", spec], tmp)
            downs.append((wall, sum(s["calls"].values())))

    cli = subprocess.run(["bash", os.path.join(ROOT, "tests", "bench", "aws-cli-baseline.sh")], capture_output=True, text=True)
    if cli.returncode != 0:
        sys.exit(f"the AWS CLI baseline failed:\n{cli.stderr}")
    base = {line.split()[0]: (float(line.split()[1]), int(line.split()[2])) for line in cli.stdout.splitlines() if line.split()[:1] in (["up"], ["down"])}

    med = lambda xs: statistics.median(x[0] for x in xs)
    print(f"seed spec, {len(res)} resources; local AWS delays: CE {d['ce_create']}s, queue {d['queue_create']}s, FSx {d['fsx_create']}s, IAM propagation {d['iam_propagation']}s, interface release {d['eni_release']}s; {rounds} round(s), median")
    print(f"{'':18}{'wall s':>8}{'critical path s':>17}{'wall/path':>11}{'AWS calls':>11}{'vs AWS CLI':>12}")
    for name, xs, cp, key in (("pipectl up", ups, cp_up, "up"), ("pipectl down", downs, cp_down, "down")):
        w = med(xs)
        calls = statistics.median(x[1] for x in xs)
        print(f"{name:18}{w:8.1f}{cp:17.1f}{w / cp:11.2f}{calls:11.0f}{base[key][0] / w:11.1f}x")
    for key in ("up", "down"):
        w, calls = base[key]
        cp = cp_up if key == "up" else cp_down
        print(f"{'aws cli ' + key:18}{w:8.1f}{cp:17.1f}{w / cp:11.2f}{calls:11d}{'1.0x':>12}")


main()
