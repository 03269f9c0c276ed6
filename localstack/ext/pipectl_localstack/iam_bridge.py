"""Makes moto's Batch look roles and instance profiles up in LocalStack's own IAM store.

LocalStack keeps IAM in `localstack.services.iam.models.iam_stores`; moto's Batch asks moto's
IAM backend, which is empty, so every CreateComputeEnvironment would fail with "Could not find
IAM role". The adapter answers the two questions Batch asks.
"""

from types import SimpleNamespace

SERVICE_LINKED_PREFIX = ":role/aws-service-role/batch.amazonaws.com/"


class LocalStackIam:
    def __init__(self, account_id: str):
        self.account_id = account_id

    def _store(self):
        return _store(self.account_id)

    def get_role_by_arn(self, arn: str):
        from moto.iam.exceptions import NotFoundException as IAMNotFoundException

        if SERVICE_LINKED_PREFIX in (arn or ""):
            return SimpleNamespace(arn=arn, name="AWSServiceRoleForBatch")
        for name, entity in self._store().ROLES.items():
            if entity.role.get("Arn") == arn or name == arn:
                return SimpleNamespace(arn=entity.role.get("Arn"), name=name)
        raise IAMNotFoundException(f"Role {arn} not found")

    def get_instance_profiles(self):
        out = []
        for name, entity in self._store().INSTANCE_PROFILES.items():
            out.append(SimpleNamespace(arn=entity.instance_profile.get("Arn"), name=name))
        return out


def service_linked_role_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}{SERVICE_LINKED_PREFIX}AWSServiceRoleForBatch"


def install() -> None:
    from moto.batch import models

    models.BatchBackend.iam_backend = property(lambda self: LocalStackIam(self.account_id))


def _store(account_id: str):
    from localstack.services.iam.models import iam_stores

    return iam_stores[account_id]["us-east-1"]


def role_created_at(account_id: str, arn: str) -> float | None:
    """When a role of LocalStack's IAM was created (epoch seconds); None for Batch's
    service-linked role (it exists before any request of ours) or a role not found."""
    if not arn or SERVICE_LINKED_PREFIX in arn:
        return None
    for name, entity in _store(account_id).ROLES.items():
        if entity.role.get("Arn") == arn or name == arn:
            created = entity.role.get("CreateDate")
            return created.timestamp() if hasattr(created, "timestamp") else None
    return None


def instance_profile_roles(account_id: str, profile: str) -> list[str]:
    """The ARNs of the roles in an instance profile, named by ARN or by name."""
    store = _store(account_id)
    for name, entity in store.INSTANCE_PROFILES.items():
        ip = entity.instance_profile
        if ip.get("Arn") == profile or name == profile or profile.endswith(f"/{name}"):
            # LocalStack keeps the profile's role by name on the entity (AddRoleToInstanceProfile)
            role = store.ROLES.get(getattr(entity, "role_name", None) or "")
            arns = [role.role.get("Arn")] if role is not None else []
            arns += [r.get("Arn") for r in ip.get("Roles") or []]
            return [a for a in arns if a]
    return []
