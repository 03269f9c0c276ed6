"""Batch's compute environment operations (Create/Describe/Update/DeleteComputeEnvironment):
moto keeps the resource; this module adds AWS's request rules, the service-linked role when
none is given, the IAM propagation delay (a role too new to be assumed makes the environment
INVALID), and the lifecycle it records in `batch_lifecycle`.
"""

import time

from localstack.services.moto import call_moto, call_moto_with_request

from . import batch_lifecycle as life
from . import config, rules
from .iam_bridge import instance_profile_roles, role_created_at, service_linked_role_arn
from .rules import client_error


def _roles_ready(account: str, arns: list[str]) -> tuple[float, str] | None:
    """(monotonic time the youngest role becomes usable, its ARN), or None when all are."""
    youngest = None
    for arn in arns:
        created = role_created_at(account, arn)
        if created is not None and (youngest is None or created > youngest[0]):
            youngest = (created, arn)
    if youngest is None:
        return None
    ready = time.monotonic() + (youngest[0] + config.delay("iam_propagation") - time.time())
    return (ready, youngest[1]) if ready > time.monotonic() else None


def _launch_template_data(context, spec: dict | None) -> dict | None:
    if not spec:
        return None
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[context.account_id][context.region]
    try:
        if spec.get("launchTemplateId"):
            lt = ec2.get_launch_template(spec["launchTemplateId"])
        else:
            lt = ec2.get_launch_template_by_name(spec.get("launchTemplateName") or "")
        return lt.get_version(spec.get("version") or "$Default").data
    except Exception:
        raise client_error(f"Launch template {spec.get('launchTemplateId') or spec.get('launchTemplateName')} does not exist")


def _check_compute_resources(context, cr: dict) -> None:
    from moto.ec2.models import instance_types as it

    known = set(it.INSTANCE_TYPES)
    gpu_types = {k for k, v in it.INSTANCE_TYPES.items() if (v.get("GpuInfo") or {}).get("Gpus")}
    checks = (
        rules.instance_types(cr, known, set(it.INSTANCE_FAMILIES)),
        rules.spot_fleet_role(cr),
        rules.image_type(cr, gpu_types),
        rules.interfaces_and_groups(cr, _launch_template_data(context, cr.get("launchTemplate"))),
    )
    for err in checks:
        if err is not None:
            raise err


def _roles_of(context, request: dict) -> list[str]:
    """The roles Batch assumes or passes for a compute environment."""
    cr = request.get("computeResources") or {}
    arns = [request.get("serviceRole") or ""]
    if cr.get("spotIamFleetRole"):
        arns.append(cr["spotIamFleetRole"])
    if cr.get("instanceRole"):
        arns.extend(instance_profile_roles(context.account_id, cr["instanceRole"]))
    return [a for a in arns if a]


def create_compute_environment(context, request):
    life.backend(context)
    request = dict(request)
    err = rules.resource_name("computeEnvironmentName", request.get("computeEnvironmentName") or "")
    if err:
        raise err
    if request.get("computeResources") and request.get("type") == "MANAGED":
        _check_compute_resources(context, request["computeResources"])
    request.setdefault("state", "ENABLED")
    if not request.get("serviceRole"):
        # Batch uses its service-linked role when none is given.
        request["serviceRole"] = service_linked_role_arn(context.account_id)
    cr = request.get("computeResources") or {}
    groups_from_template = bool(cr) and not cr.get("securityGroupIds")
    if groups_from_template:
        # moto insists on securityGroupIds; with an EFA launch template they come from its
        # network interfaces (and are not shown as the compute environment's own).
        data = _launch_template_data(context, cr.get("launchTemplate")) or {}
        interfaces = data.get("NetworkInterfaces") or data.get("NetworkInterface") or []
        groups = [g for i in interfaces for g in (i.get("Groups") or i.get("SecurityGroupId") or [])]
        request["computeResources"] = dict(cr, securityGroupIds=groups)
    result = call_moto_with_request(context, request)
    ready = _roles_ready(context.account_id, _roles_of(context, request))
    life.record(result["computeEnvironmentArn"], "ce", context.account_id, context.region, result["computeEnvironmentName"], request.get("tags"), ready)
    if groups_from_template:
        life.set_field(result["computeEnvironmentArn"], "groups_from_template", True)
    return result


def describe_compute_environments(context, request):
    life.backend(context)
    result = call_moto(context)
    envs = []
    for ce in result.get("computeEnvironments", []):
        status = life.status_of(ce["computeEnvironmentArn"])
        if status == "DELETED":
            continue
        ce["status"] = status
        if life.field_of(ce["computeEnvironmentArn"], "groups_from_template"):
            (ce.get("computeResources") or {}).pop("securityGroupIds", None)
        reason = life.reason(ce["computeEnvironmentArn"], status)
        ce["statusReason"] = reason or "ComputeEnvironment Healthy"
        envs.append(ce)
    # DescribeComputeEnvironments lists deleted ones with the status DELETED for a while (the
    # ComputeEnvironmentDetail status enum has DELETED; how long is not documented).
    envs.extend(life.tombstones_matching("ce", request.get("computeEnvironments") or []))
    result["computeEnvironments"] = envs
    return result


def update_compute_environment(context, request):
    b = life.backend(context)
    ce = b.get_compute_environment(request.get("computeEnvironment") or "")
    if ce is None or life.is_gone(ce.arn):
        raise client_error(f"Compute environment {request.get('computeEnvironment')} does not exist")
    if life.status_of(ce.arn) in ("CREATING", "DELETING"):
        raise client_error(f"Compute environment {ce.name} cannot be updated while {life.status_of(ce.arn)}")
    # Batch validates the roles again at an update: the one the update names, else the
    # environment's own, and its instance profile's (also when the service-linked role stands
    # for the service role and the update names none).
    service_role = request.get("serviceRole") or getattr(ce, "service_role", None) or ""
    instance_profile = (getattr(ce, "compute_resources", None) or {}).get("instanceRole")
    roles = [service_role] + (instance_profile_roles(context.account_id, instance_profile) if instance_profile else [])
    life.set_field(ce.arn, "roles_ready", _roles_ready(context.account_id, [r for r in roles if r]))
    result = call_moto(context)
    cr = request.get("computeResources") or {}
    for key in ("minvCpus", "maxvCpus", "desiredvCpus"):
        if key in cr:
            ce.compute_resources[key] = cr[key]
    life.mark_updated(ce.arn)
    return result


def delete_compute_environment(context, request):
    b = life.backend(context)
    name = request.get("computeEnvironment") or ""
    ce = b.get_compute_environment(name)
    if ce is None or life.is_gone(ce.arn):
        raise client_error(f"Compute environment {name} does not exist")
    if life.status_of(ce.arn) == "DELETING":
        return {}
    if ce.state != "DISABLED":
        raise client_error(f"Cannot delete, compute environment {ce.name} is ENABLED; disable it first")
    for q in b._job_queues.values():
        if any(e.arn == ce.arn for e in q.environments):
            raise client_error("Cannot delete, found existing JobQueue relationship")
    life.mark_deleting(ce.arn, "ce", context.account_id, context.region, ce.name)
    return {}


OPERATIONS = {
    "CreateComputeEnvironment": create_compute_environment,
    "DescribeComputeEnvironments": describe_compute_environments,
    "UpdateComputeEnvironment": update_compute_environment,
    "DeleteComputeEnvironment": delete_compute_environment,
}
