"""EC2 additions: instance types pipectl's specs use that moto lacks (g3/g3s), and placement
groups (create, describe, delete; cluster, spread, partition), which LocalStack answers with
"not implemented".
"""

import copy
import threading
import uuid

from localstack.aws.api import CommonServiceException

# True facts from EC2 DescribeInstanceTypes (us-east-1): vCPUs, memory MiB, NVIDIA M60 GPUs,
# no EFA, Xen, up to 10 Gigabit.
G3_TYPES = {
    "g3s.xlarge": (4, 31232, 1, "Up to 10 Gigabit"),
    "g3.4xlarge": (16, 124928, 1, "Up to 10 Gigabit"),
    "g3.8xlarge": (32, 249856, 2, "10 Gigabit"),
    "g3.16xlarge": (64, 499712, 4, "25 Gigabit"),
}


def add_instance_types() -> None:
    """Adds the g3 family to moto's instance-type table, used by both DescribeInstanceTypes and
    moto's Batch validation."""
    from moto.ec2.models import instance_types as it

    template = it.INSTANCE_TYPES["g4dn.xlarge"]
    for name, (vcpus, mem, gpus, net) in G3_TYPES.items():
        if name in it.INSTANCE_TYPES:
            continue
        t = copy.deepcopy(template)
        t["InstanceType"] = name
        t["Hypervisor"] = "xen"
        t["VCpuInfo"] = {"DefaultVCpus": vcpus, "DefaultCores": vcpus // 2, "DefaultThreadsPerCore": 2, "ValidCores": [vcpus // 2], "ValidThreadsPerCore": [1, 2]}
        t["MemoryInfo"] = {"SizeInMiB": mem}
        t["GpuInfo"] = {"Gpus": [{"Count": gpus, "Manufacturer": "NVIDIA", "MemoryInfo": {"SizeInMiB": 8192}, "Name": "M60"}], "TotalGpuMemoryInMiB": 8192 * gpus}
        t["InstanceStorageSupported"] = False
        t.pop("InstanceStorageInfo", None)
        t["NetworkInfo"] = dict(t["NetworkInfo"], EfaSupported=False, NetworkPerformance=net, EnaSupport="supported")
        t["NetworkInfo"].pop("EfaInfo", None)
        it.INSTANCE_TYPES[name] = t
        # the backend lists types from a table built at import time
        it.InstanceTypeBackend.instance_types.append(it.InstanceType(name))
    for fam in ("g3s", "g3"):
        if fam not in it.INSTANCE_FAMILIES:
            it.INSTANCE_FAMILIES.append(fam)
    # offerings, so that DescribeInstanceTypeOfferings lists them where g4dn is offered
    for location_type, regions in it.INSTANCE_TYPE_OFFERINGS.items():
        for region, offers in regions.items():
            locations = {o.get("Location") for o in offers if o.get("InstanceType") == "g4dn.xlarge"}
            for name in G3_TYPES:
                if any(o.get("InstanceType") == name for o in offers):
                    continue
                for loc in locations:
                    offers.append({"InstanceType": name, "Location": loc})


# --- placement groups -------------------------------------------------------------------

_lock = threading.Lock()
# (account, region) -> name -> group
_groups: dict[tuple[str, str], dict[str, dict]] = {}


def _store(context) -> dict[str, dict]:
    return _groups.setdefault((context.account_id, context.region), {})


def create_placement_group(context, request):
    name = request.get("GroupName")
    strategy = request.get("Strategy") or "cluster"
    if not name:
        raise CommonServiceException("MissingParameter", "The request must contain the parameter GroupName")
    if strategy not in ("cluster", "spread", "partition"):
        raise CommonServiceException("InvalidParameterValue", f"Value ({strategy}) for parameter strategy is invalid.")
    tags = []
    for spec in request.get("TagSpecifications") or []:
        if spec.get("ResourceType") == "placement-group":
            tags.extend(spec.get("Tags") or [])
    with _lock:
        store = _store(context)
        if name in store:
            raise CommonServiceException("InvalidPlacementGroup.Duplicate", f"The placement group '{name}' already exists.")
        group_id = "pg-" + uuid.uuid4().hex[:17]
        group = {
            "GroupName": name,
            "GroupId": group_id,
            "GroupArn": f"arn:aws:ec2:{context.region}:{context.account_id}:placement-group/{name}",
            "State": "available",
            "Strategy": strategy,
            "Tags": tags,
        }
        if strategy == "partition":
            group["PartitionCount"] = request.get("PartitionCount") or 2
        if strategy == "spread":
            group["SpreadLevel"] = request.get("SpreadLevel") or "rack"
        store[name] = group
        return {"PlacementGroup": copy.deepcopy(group)}


def _matches(group: dict, filters: list[dict]) -> bool:
    for f in filters or []:
        name, values = f.get("Name"), f.get("Values") or []
        if name == "group-name" and group["GroupName"] not in values:
            return False
        if name == "strategy" and group["Strategy"] not in values:
            return False
        if name == "state" and group["State"] not in values:
            return False
        if name and name.startswith("tag:"):
            key = name[4:]
            if not any(t["Key"] == key and t["Value"] in values for t in group["Tags"]):
                return False
        if name == "tag-key" and not any(t["Key"] in values for t in group["Tags"]):
            return False
    return True


def describe_placement_groups(context, request):
    names = request.get("GroupNames") or []
    ids = request.get("GroupIds") or []
    with _lock:
        groups = list(_store(context).values())
    for n in names:
        if not any(g["GroupName"] == n for g in groups):
            raise CommonServiceException("InvalidPlacementGroup.Unknown", f"The Placement Group '{n}' is unknown.")
    out = [
        copy.deepcopy(g)
        for g in groups
        if (not names or g["GroupName"] in names) and (not ids or g["GroupId"] in ids) and _matches(g, request.get("Filters"))
    ]
    return {"PlacementGroups": out}


def delete_placement_group(context, request):
    name = request.get("GroupName")
    with _lock:
        if _store(context).pop(name, None) is None:
            raise CommonServiceException("InvalidPlacementGroup.Unknown", f"The Placement Group '{name}' is unknown.")
    return {}


OPERATIONS = {
    "CreatePlacementGroup": create_placement_group,
    "DescribePlacementGroups": describe_placement_groups,
    "DeletePlacementGroup": delete_placement_group,
}


# --- Spot price history -----------------------------------------------------------------
# moto answers DescribeSpotPriceHistory with fixed placeholder prices and ignores the time
# window. Here the history is what a test (or a user) loads through /_pipectl/spot-prices,
# answered with EC2's rules: records inside [StartTime, EndTime] plus, per type and zone, the
# last change before StartTime (the price in effect when the window opens), newest first.

_spot_lock = threading.Lock()
_spot: list[dict] = []


def _ts(v) -> float:
    from datetime import datetime, timezone

    if v is None:
        return 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, datetime):
        return v.replace(tzinfo=v.tzinfo or timezone.utc).timestamp()
    try:
        return float(v)
    except ValueError:
        pass
    return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()


def set_spot_prices(body: dict) -> dict:
    """{"prices": [{"InstanceType", "AvailabilityZone", "SpotPrice", "Timestamp" (ISO 8601 or
    epoch seconds), "ProductDescription" (default Linux/UNIX)}], "replace": bool}"""
    rows = []
    for p in body.get("prices") or []:
        for key in ("InstanceType", "AvailabilityZone", "SpotPrice", "Timestamp"):
            if key not in p:
                raise ValueError(f"each price needs {key}")
        rows.append(
            {
                "InstanceType": p["InstanceType"],
                "AvailabilityZone": p["AvailabilityZone"],
                "SpotPrice": f"{float(p['SpotPrice']):.6f}",
                "ProductDescription": p.get("ProductDescription", "Linux/UNIX"),
                "ts": _ts(p["Timestamp"]),
            }
        )
    with _spot_lock:
        if body.get("replace", True):
            _spot.clear()
        _spot.extend(rows)
        return {"prices": len(_spot)}


def reset_spot_prices() -> dict:
    with _spot_lock:
        _spot.clear()
    return {"prices": 0}


def describe_spot_price_history(context, request):
    from datetime import datetime, timezone

    types = set(request.get("InstanceTypes") or [])
    products = set(request.get("ProductDescriptions") or [])
    zone = request.get("AvailabilityZone")
    start = _ts(request.get("StartTime")) if request.get("StartTime") else None
    end = _ts(request.get("EndTime")) if request.get("EndTime") else None
    with _spot_lock:
        rows = [
            r
            for r in _spot
            if (not types or r["InstanceType"] in types)
            and (not products or r["ProductDescription"] in products)
            and (not zone or r["AvailabilityZone"] == zone)
        ]
    out = []
    keys = {(r["InstanceType"], r["AvailabilityZone"], r["ProductDescription"]) for r in rows}
    for key in keys:
        series = sorted((r for r in rows if (r["InstanceType"], r["AvailabilityZone"], r["ProductDescription"]) == key), key=lambda r: r["ts"])
        inside = [r for r in series if (start is None or r["ts"] >= start) and (end is None or r["ts"] <= end)]
        if start is not None:
            before = [r for r in series if r["ts"] < start]
            if before:
                inside.insert(0, before[-1])
        out.extend(inside)
    out.sort(key=lambda r: r["ts"], reverse=True)
    token = int(request.get("NextToken") or 0)
    size = int(request.get("MaxResults") or 1000)
    page = out[token : token + size]
    result = {
        "SpotPriceHistory": [
            {
                "AvailabilityZone": r["AvailabilityZone"],
                "InstanceType": r["InstanceType"],
                "ProductDescription": r["ProductDescription"],
                "SpotPrice": r["SpotPrice"],
                "Timestamp": datetime.fromtimestamp(r["ts"], tz=timezone.utc),
            }
            for r in page
        ]
    }
    if token + size < len(out):
        result["NextToken"] = str(token + size)
    return result


OPERATIONS["DescribeSpotPriceHistory"] = describe_spot_price_history
