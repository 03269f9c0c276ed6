"""Network interfaces that block deletion, as on AWS.

- DeleteSubnet, DeleteSecurityGroup and DeleteVpc are refused with `DependencyViolation` while
  a network interface remains in the subnet, uses the group, or sits in the VPC (EC2 error
  codes, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html: "The
  specified object has dependent resources"; messages as EC2 words them, "The subnet 'subnet-…'
  has dependencies and cannot be deleted.", "resource sg-… has a dependent object", "The vpc
  'vpc-…' has dependencies and cannot be deleted."). LocalStack deletes them regardless.
- The interfaces AWS manages go some time after their owner: a NAT gateway's and an interface
  endpoint's are released `eni_release` seconds after DeleteNatGateway / DeleteVpcEndpoints
  (requester-managed interfaces are detached and deleted by the service that made them,
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html; how long it
  takes is not documented). moto never deletes a NAT gateway's interface at all, nor lets its
  Elastic IP go; here the address is disassociated as the interface goes.
- FSx for Lustre puts an interface in its subnet with its security groups; it goes when the
  file system is gone (fsx.py calls `add_fsx` and `release_owner`).
"""

import threading
import time

from localstack.aws.api import CommonServiceException
from localstack.services.moto import call_moto

from . import config

_lock = threading.Lock()
# eni id -> (account, region, monotonic time it goes)
_releasing: dict[str, tuple[str, str, float]] = {}
# owner id (fs-…) -> [(account, region, eni id)]
_owned: dict[str, list[tuple[str, str, str]]] = {}
# what owners register to finish their own deletions first (fsx.purge)
_owner_purges: list = []


def on_purge(fn) -> None:
    """Registers a function that completes owners' deletions (and so releases interfaces)."""
    _owner_purges.append(fn)


def _backend(account: str, region: str):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def purge() -> None:
    """Deletes the interfaces whose owner went long enough ago."""
    for owner_purge in _owner_purges:
        owner_purge()
    now = time.monotonic()
    with _lock:
        due = [(eni, acct, region) for eni, (acct, region, at) in _releasing.items() if at <= now]
        for eni, _, _ in due:
            _releasing.pop(eni)
    for eni, acct, region in due:
        b = _backend(acct, region)
        # The Elastic IP of a deleted NAT gateway leaves it: "Deleting a public NAT gateway
        # disassociates its Elastic IP address, but does not release the address"
        # (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteNatGateway.html).
        # Until then CreateNatGateway refuses the address (moto: Resource.AlreadyAssociated);
        # moto itself never lets it go.
        for address in list(b.addresses):
            if getattr(address.eni, "id", None) == eni:
                b.disassociate_address(address=address.public_ip)
        b.enis.pop(eni, None)


def _release_later(account: str, region: str, eni_ids: list[str], since: float | None = None) -> None:
    """Releases the interfaces `eni_release` seconds after `since` (monotonic; now if None)."""
    at = (time.monotonic() if since is None else since) + config.delay("eni_release")
    with _lock:
        for eni in eni_ids:
            _releasing[eni] = (account, region, at)


def add_fsx(account: str, region: str, fs_id: str, subnet_id: str, groups: list[str]) -> str:
    """The interface FSx makes for a file system in its subnet."""
    b = _backend(account, region)
    eni = b.create_network_interface(
        b.get_subnet(subnet_id), None, group_ids=groups, description=f"ENI for Amazon FSx file system {fs_id}"
    )
    eni.requester_managed = True
    eni.interface_type = "interface"
    with _lock:
        _owned.setdefault(fs_id, []).append((account, region, eni.id))
    return eni.id


def release_owner(owner: str, gone_at: float | None = None) -> None:
    """The owner is gone (since `gone_at`, monotonic, when known): its interfaces follow
    `eni_release` seconds after it went, however late this is called. AWS releases them on
    its own clock, not when someone next looks: a file system found DELETED late must not
    hold its subnet longer."""
    with _lock:
        owned = _owned.pop(owner, [])
    for account, region, eni in owned:
        _release_later(account, region, [eni], gone_at)


def _remaining(b, pred) -> list:
    return [e for e in b.enis.values() if pred(e)]


def _eni_vpc(e) -> str | None:
    return getattr(getattr(e, "subnet", None), "vpc_id", None)


def _eni_groups(e) -> set[str]:
    groups = getattr(e, "_group_set", None) or getattr(e, "group_set", None) or []
    return {getattr(g, "id", g) for g in groups}


def _refuse_while(context, holds, message: str):
    """DependencyViolation while an interface `holds` the resource; else moto deletes it."""
    purge()
    if _remaining(_backend(context.account_id, context.region), holds):
        raise CommonServiceException("DependencyViolation", message)
    return call_moto(context)


def delete_subnet(context, request):
    subnet = request.get("SubnetId")
    held = lambda e: getattr(getattr(e, "subnet", None), "id", None) == subnet  # noqa: E731
    return _refuse_while(context, held, f"The subnet '{subnet}' has dependencies and cannot be deleted.")


def delete_security_group(context, request):
    group = request.get("GroupId")
    if group is None:
        return call_moto(context)
    return _refuse_while(context, lambda e: group in _eni_groups(e), f"resource {group} has a dependent object")


def delete_vpc(context, request):
    vpc = request.get("VpcId")
    return _refuse_while(context, lambda e: _eni_vpc(e) == vpc, f"The vpc '{vpc}' has dependencies and cannot be deleted.")


def delete_nat_gateway(context, request):
    purge()
    b = _backend(context.account_id, context.region)
    nat = b.nat_gateways.get(request.get("NatGatewayId"))
    result = call_moto(context)
    eni = getattr(nat, "_eni", None)
    if eni is not None:
        _release_later(context.account_id, context.region, [eni.id])
    return result


def delete_vpc_endpoints(context, request):
    purge()
    b = _backend(context.account_id, context.region)
    held = []
    for vpce_id in request.get("VpcEndpointIds") or []:
        ep = b.vpc_end_points.get(vpce_id)
        if ep is not None and ep.network_interface_ids:
            held.extend(ep.network_interface_ids)
            ep.network_interface_ids = []  # moto would drop them at once
    result = call_moto(context)
    _release_later(context.account_id, context.region, held)
    return result


def describe_network_interfaces(context, request):
    purge()
    return call_moto(context)


def _after_purge(context, request):
    """An operation that sees what released interfaces let go (an Elastic IP's association)."""
    purge()
    return call_moto(context)


def create_nat_gateway(context, request):
    """CreateNatGateway after a purge; a refused one leaves no interface behind (moto makes the
    gateway's interface before it checks the Elastic IP, and keeps it when the check fails,
    which would then hold the subnet forever; AWS makes nothing for a refused request)."""
    purge()
    b = _backend(context.account_id, context.region)
    before = set(b.enis)
    try:
        return call_moto(context)
    except Exception:
        for eni in set(b.enis) - before:
            b.enis.pop(eni, None)
        raise


OPERATIONS = {
    "DeleteSubnet": delete_subnet,
    "DeleteSecurityGroup": delete_security_group,
    "DeleteVpc": delete_vpc,
    "DeleteNatGateway": delete_nat_gateway,
    "DeleteVpcEndpoints": delete_vpc_endpoints,
    "DescribeNetworkInterfaces": describe_network_interfaces,
    "CreateNatGateway": create_nat_gateway,
    "DescribeAddresses": _after_purge,
}
