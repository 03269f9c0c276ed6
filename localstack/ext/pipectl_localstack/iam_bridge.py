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
        from localstack.services.iam.models import iam_stores

        return iam_stores[self.account_id]["us-east-1"]

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
