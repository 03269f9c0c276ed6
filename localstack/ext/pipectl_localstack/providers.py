"""Service providers for AWS Batch and FSx on LocalStack's port: every operation of the
service's specification is dispatched either to this extension (lifecycles, jobs, rules) or
to moto's backend."""

from localstack.services.plugins import Service, aws_provider


def _dispatch_table(service_name: str, own: dict) -> dict:
    from localstack.aws.spec import load_service
    from localstack.services.moto import call_moto

    def to_moto(context, request):
        return call_moto(context)

    return {op: own.get(op, to_moto) for op in load_service(service_name).operation_names}


class _Provider:
    def __init__(self, service: str):
        self.service = service


def _service(name: str, own: dict) -> Service:
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service

    service = Service(name=name, skeleton=Skeleton(load_service(name), _dispatch_table(name, own)))
    service._provider = _Provider(name)
    return service


@aws_provider(api="batch")
def batch():
    from . import batch as impl

    return _service("batch", impl.OPERATIONS)


@aws_provider(api="fsx")
def fsx():
    from . import fsx as impl

    return _service("fsx", impl.OPERATIONS)
