"""Batch's multi-node parallel (MNP) jobs, the parts that are data: node ranges (`targetNodes`)
and the container each node runs, SubmitJob's `nodeOverrides`, the rules RegisterJobDefinition
and SubmitJob apply to them, and the shapes DescribeJobs and ListJobs give a job's nodes
(`<jobId>#<index>`). Pure functions; errors are returned (Batch's `ClientException`), not raised.

Where the documentation gives a rule but not the words of the refusal, the message is ours
(docs/local-aws.md says so).
"""

from .rules import client_error

# NodeRangeProperty, targetNodes
# (https://docs.aws.amazon.com/batch/latest/APIReference/API_NodeRangeProperty.html): "0:3",
# ":n" (from 0), "n:" (to the highest index), "n"; "Your accumulative node ranges must account
# for all nodes (0:n). You can nest node ranges (for example, 0:10 and 4:5). In this case, the
# 4:5 range properties override the 0:10 properties."
# Node groups (https://docs.aws.amazon.com/batch/latest/userguide/mnp-node-groups.html): "up to
# five distinct node groups for each job", "up to 1,000 nodes".
MAX_NODE_GROUPS = 5
MAX_NODES = 1000


def target_range(spec: str, num_nodes: int) -> range | None:
    """The node indices `spec` names among `num_nodes`; None when it is not a range."""
    spec = (spec or "").strip()
    try:
        if ":" not in spec:
            i = int(spec)
            return range(i, i + 1) if i >= 0 else None
        a, b = spec.split(":", 1)
        lo = int(a) if a else 0
        hi = int(b) if b else num_nodes - 1
    except ValueError:
        return None
    return range(lo, hi + 1) if 0 <= lo <= hi else None


def container_of(node: int, ranges: list[dict], num_nodes: int) -> dict:
    """The container properties of `node`: of the narrowest range that holds it (a nested range
    overrides the wider one)."""
    holding = [(len(r), i) for i, nr in enumerate(ranges) if (r := target_range(nr.get("targetNodes", ""), num_nodes)) and node in r]
    if not holding:
        return {}
    _, i = min(holding)
    return dict(ranges[i].get("container") or {})


def apply_overrides(node: int, container: dict, overrides: list[dict], num_nodes: int) -> dict:
    """`container` with every `nodePropertyOverrides` entry whose `targetNodes` hold `node`
    applied in order: command replaced, environment merged, resource requirements replaced by
    type (NodePropertyOverride, https://docs.aws.amazon.com/batch/latest/APIReference/API_NodePropertyOverride.html)."""
    out = dict(container)
    for o in overrides:
        r = target_range(o.get("targetNodes", ""), num_nodes)
        if r is None or node not in r:
            continue
        c = o.get("containerOverrides") or {}
        if c.get("command"):
            out["command"] = c["command"]
        if c.get("environment"):
            env = {e["name"]: e.get("value", "") for e in out.get("environment") or []}
            env.update({e["name"]: e.get("value", "") for e in c["environment"]})
            out["environment"] = [{"name": k, "value": v} for k, v in env.items()]
        if c.get("resourceRequirements"):
            kinds = {r["type"] for r in c["resourceRequirements"]}
            kept = [r for r in out.get("resourceRequirements") or [] if r.get("type") not in kinds]
            out["resourceRequirements"] = kept + list(c["resourceRequirements"])
    return out


def node_containers(node_properties: dict, node_overrides: dict | None) -> tuple[int, int, list[dict]]:
    """The job's node count (`nodeOverrides.numNodes` when given), main node, and each node's
    container properties with the overrides applied."""
    n = int((node_overrides or {}).get("numNodes") or node_properties.get("numNodes") or 1)
    main = int(node_properties.get("mainNode") or 0)
    ranges = node_properties.get("nodeRangeProperties") or []
    overrides = (node_overrides or {}).get("nodePropertyOverrides") or []
    return n, main, [apply_overrides(i, container_of(i, ranges, n), overrides, n) for i in range(n)]


def registration_error(request: dict):
    """RegisterJobDefinition's rules for `type = multinode`, or None.

    JobDefinition (https://docs.aws.amazon.com/batch/latest/APIReference/API_RegisterJobDefinition.html):
    "If the job type is multinode, nodeProperties must be specified"; nodeProperties cannot be
    combined with containerProperties, and Fargate does not run multi-node jobs
    (https://docs.aws.amazon.com/batch/latest/userguide/create-multi-node-job-def.html).
    NodeProperties (https://docs.aws.amazon.com/batch/latest/APIReference/API_NodeProperties.html):
    mainNode "must be fewer than the number of nodes".
    """
    np = request.get("nodeProperties")
    multinode = str(request.get("type", "")).lower() == "multinode"
    if not multinode:
        return client_error("Error executing request, Exception : nodeProperties are only for jobs of type multinode") if np else None
    if not np:
        return client_error("Error executing request, Exception : a job definition of type multinode needs nodeProperties")
    if request.get("containerProperties") or request.get("ecsProperties") or request.get("eksProperties"):
        return client_error("Error executing request, Exception : nodeProperties cannot be combined with containerProperties, ecsProperties or eksProperties")
    if "FARGATE" in (request.get("platformCapabilities") or []):
        return client_error("Error executing request, Exception : Fargate does not support multi-node parallel jobs")
    n, main = int(np.get("numNodes") or 0), int(np.get("mainNode") or 0)
    if not 1 <= n <= MAX_NODES:
        return client_error(f"Error executing request, Exception : numNodes {n} is not between 1 and {MAX_NODES}")
    if not 0 <= main < n:
        return client_error(f"Error executing request, Exception : mainNode {main} must be fewer than numNodes {n}")
    ranges = np.get("nodeRangeProperties") or []
    if not 1 <= len(ranges) <= MAX_NODE_GROUPS:
        return client_error(f"Error executing request, Exception : {len(ranges)} node ranges; a job has 1 to {MAX_NODE_GROUPS} node groups")
    covered = set()
    for nr in ranges:
        r = target_range(nr.get("targetNodes", ""), n)
        if r is None or r.stop > n:
            return client_error(f"Error executing request, Exception : targetNodes {nr.get('targetNodes')!r} is not a range of nodes 0 to {n - 1}")
        covered.update(r)
    if covered != set(range(n)):
        missing = sorted(set(range(n)) - covered)
        return client_error(f"Error executing request, Exception : node ranges must account for all nodes (0:{n - 1}); nodes {missing} are in none")
    return None


def override_error(node_properties: dict, node_overrides: dict | None):
    """SubmitJob's rules for `nodeOverrides.numNodes`
    (https://docs.aws.amazon.com/batch/latest/APIReference/API_NodeOverrides.html): "There must
    be at least one node range in your job definition that has an open upper boundary, such as
    : or n:. The lower boundary of the node range that's specified in the job definition must
    be fewer than the number of nodes specified in the override. The main node index that's
    specified in the job definition must be fewer than the number of nodes specified in the
    override."""
    n = (node_overrides or {}).get("numNodes")
    if n is None:
        return None
    n = int(n)
    main = int(node_properties.get("mainNode") or 0)
    open_ranges = [nr.get("targetNodes", "") for nr in node_properties.get("nodeRangeProperties") or [] if str(nr.get("targetNodes", "")).endswith(":")]
    if not open_ranges:
        return client_error("Error executing request, Exception : numNodes can only be overridden when a node range has an open upper boundary (n:)")
    if not any(int(t.split(":")[0] or 0) < n for t in open_ranges):
        return client_error(f"Error executing request, Exception : the open node range must start below numNodes {n}")
    if main >= n:
        return client_error(f"Error executing request, Exception : mainNode {main} must be fewer than numNodes {n}")
    return None


def node_id(job_id: str, node: int) -> str:
    """A node's job id: "`<jobId>#<index>`"
    (https://docs.aws.amazon.com/batch/latest/userguide/multi-node-parallel-jobs.html)."""
    return f"{job_id}#{node}"


def split_node_id(job_id: str) -> tuple[str, int] | None:
    """(parent id, node index) of a node's job id; None for any other id."""
    parent, sep, index = (job_id or "").rpartition("#")
    if not sep or not index.isdigit():
        return None
    return parent, int(index)
