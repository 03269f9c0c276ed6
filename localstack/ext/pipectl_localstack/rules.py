"""AWS Batch's documented request rules that moto does not check, each beside the page it
follows. Pure functions: each returns an error (Batch's `ClientException`, HTTP 400, its only
client error) or None; the Batch operations and the job engine raise what they return. The
bottom of the Batch modules: it imports none of them.

Where the documentation gives a rule but not the words of the refusal, the message is ours and
docs/local-aws.md, "What the local AWS enforces", says so.
"""

import re

from localstack.aws.api import CommonServiceException


def client_error(message: str) -> CommonServiceException:
    return CommonServiceException("ClientException", message)


# SubmitJob, jobName (https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html):
# "It can be up to 128 letters long. The first character must be alphanumeric, can contain
# uppercase and lowercase letters, numbers, hyphens (-), and underscores (_)."
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# RegisterJobDefinition, jobDefinitionName; CreateComputeEnvironment, computeEnvironmentName;
# CreateJobQueue, jobQueueName: "up to 128 letters (uppercase and lowercase), numbers, hyphens,
# and underscores".
RESOURCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
# ContainerProperties, image (https://docs.aws.amazon.com/batch/latest/APIReference/API_ContainerProperties.html):
# "Up to 255 letters (uppercase and lowercase), numbers, hyphens, underscores, colons, periods,
# forward slashes, and number signs are allowed."
IMAGE = re.compile(r"[A-Za-z0-9_:./#-]{1,255}")
# SubmitJob, dependsOn; job dependencies
# (https://docs.aws.amazon.com/batch/latest/userguide/job_dependencies.html): "A job can depend
# upon a maximum of 20 jobs."
MAX_DEPENDS_ON = 20


def job_name(name: str):
    if not JOB_NAME.fullmatch(name or ""):
        return client_error(
            f"Error executing request, Exception : jobName {name!r} is invalid: up to 128 letters, numbers, "
            "hyphens and underscores, the first character alphanumeric"
        )
    return None


def depends_on(deps: list):
    if len(deps) > MAX_DEPENDS_ON:
        return client_error(f"Error executing request, Exception : A job can depend upon a maximum of {MAX_DEPENDS_ON} jobs; dependsOn has {len(deps)}")
    return None


def resource_name(what: str, name: str):
    if not RESOURCE_NAME.fullmatch(name or ""):
        return client_error(f"Error executing request, Exception : {what} {name!r} is invalid: up to 128 letters, numbers, hyphens and underscores")
    return None


def image(value: str | None, where: str):
    if value is not None and not IMAGE.fullmatch(value):
        return client_error(
            f"Error executing request, Exception : {where}.image {value!r} is invalid: up to 255 letters, numbers, "
            "hyphens, underscores, colons, periods, forward slashes and number signs"
        )
    return None


def job_definition(request: dict):
    """RegisterJobDefinition: the name, and every image it names."""
    err = resource_name("jobDefinitionName", request.get("jobDefinitionName") or "")
    if err:
        return err
    container = request.get("containerProperties") or {}
    if container:
        err = image(container.get("image"), "containerProperties")
        if err:
            return err
    for i, node_range in enumerate((request.get("nodeProperties") or {}).get("nodeRangeProperties") or []):
        err = image((node_range.get("container") or {}).get("image"), f"nodeProperties.nodeRangeProperties[{i}].container")
        if err:
            return err
    return None


# --- compute environments -------------------------------------------------------------------

# Ec2Configuration (https://docs.aws.amazon.com/batch/latest/APIReference/API_Ec2Configuration.html)
IMAGE_TYPES = ("ECS_AL2", "ECS_AL2_NVIDIA", "ECS_AL2023", "ECS_AL2023_NVIDIA", "EKS_AL2", "EKS_AL2_NVIDIA", "EKS_AL2023", "EKS_AL2023_NVIDIA")
# "ECS_AL2023_NVIDIA doesn't support p3 and g3 instance types." (g3s is of the g3 family.)
NOT_ON_AL2023_NVIDIA = ("p3", "p3dn", "g3", "g3s")


def family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def spot_fleet_role(cr: dict):
    """CreateComputeEnvironment, ComputeResource.spotIamFleetRole
    (https://docs.aws.amazon.com/batch/latest/APIReference/API_ComputeResource.html): "This
    parameter is required for SPOT compute environments that use BEST_FIT allocation strategy
    or if the allocation strategy isn't specified." (Whether AWS refuses the request or marks
    the environment INVALID is not documented; refused here.)"""
    if cr.get("type") == "SPOT" and cr.get("allocationStrategy") in (None, "BEST_FIT") and not cr.get("spotIamFleetRole"):
        return client_error(
            "Error executing request, Exception : spotIamFleetRole is required for a SPOT compute environment "
            "whose allocationStrategy is BEST_FIT or not specified"
        )
    return None


def instance_types(cr: dict, known: set[str], families: set[str]):
    """An instance type EC2 does not have is refused by CreateComputeEnvironment ("Error
    executing request, Exception : Instance type can only be one of [...]", as AWS answers)."""
    for t in cr.get("instanceTypes") or []:
        if t == "optimal" or t in known or (("." not in t) and t in families):
            continue
        close = sorted(k for k in known if family(k) == family(t))[:8] or sorted(known)[:8]
        return client_error(f"Error executing request, Exception : Instance type can only be one of [{', '.join(close)}, ...]; {t} is not one")
    return None


def image_type(cr: dict, gpu_types: set[str]):
    """The image Batch would launch must exist and suit the instance types.

    Ec2Configuration: "Effective June 30, 2026, AWS Batch will block creation of new Amazon
    ECS compute environments using Batch-provided Amazon Linux 2 AMIs" (an imageIdOverride is
    the user's own AMI, not Batch's); "ECS_AL2023_NVIDIA doesn't support p3 and g3 instance
    types", and ECS_AL2023_NVIDIA is the default for GPU instance families. What Batch then
    does with a p3/g3 type on ECS_AL2023_NVIDIA is not documented; refused here (docs/local-aws.md)."""
    configs = cr.get("ec2Configuration") or []
    types = cr.get("instanceTypes") or []
    gpu = [t for t in types if t in gpu_types or family(t) in NOT_ON_AL2023_NVIDIA]
    if not configs:
        configs = [{"imageType": "ECS_AL2023_NVIDIA" if gpu else "ECS_AL2023"}]
    for c in configs:
        kind = c.get("imageType")
        if kind not in IMAGE_TYPES:
            return client_error("Error executing request, Exception : Invalid imageType in ComputeResources.ec2Configuration")
        own_ami = bool(c.get("imageIdOverride"))
        if kind in ("ECS_AL2", "ECS_AL2_NVIDIA") and not own_ami:
            return client_error(
                f"Error executing request, Exception : {kind}: AWS Batch no longer creates Amazon ECS compute "
                "environments with Batch-provided Amazon Linux 2 AMIs (since June 30, 2026); use ECS_AL2023 or "
                "ECS_AL2023_NVIDIA, or an AMI of your own in imageIdOverride"
            )
        old = [t for t in gpu if family(t) in NOT_ON_AL2023_NVIDIA]
        if kind == "ECS_AL2023_NVIDIA" and old and not own_ami:
            return client_error(
                f"Error executing request, Exception : ECS_AL2023_NVIDIA doesn't support p3 and g3 instance types "
                f"({', '.join(old)}); name an AMI with a driver for them in imageIdOverride, or use a current GPU type"
            )
    return None


def interfaces_and_groups(cr: dict, template_data: dict | None):
    """A launch template with network interfaces excludes the compute environment's security
    groups: "Either compute environment Security Groups or Network Interfaces in Launch
    template are exclusively allowed" (Batch's answer, HTTP 400, as reported in
    https://github.com/aws/aws-cdk/issues/21577; the Batch EFA page,
    https://docs.aws.amazon.com/batch/latest/userguide/efa.html, puts the group on the
    interface)."""
    if not template_data or not cr.get("securityGroupIds"):
        return None
    if template_data.get("NetworkInterfaces") or template_data.get("NetworkInterface"):
        return client_error(
            "Error executing request, Exception : Either compute environment Security Groups or Network "
            "Interfaces in Launch template are exclusively allowed"
        )
    return None
