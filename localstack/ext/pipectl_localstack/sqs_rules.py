"""SQS as AWS has it where LocalStack is lenient by default: a queue's name cannot be used
again for a while after the queue was deleted (`QueueDeletedRecently`; DeleteQueue: "you must
wait at least 60 seconds before creating a queue with the same name",
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html).
LocalStack has the check behind SQS_DELAY_RECENTLY_DELETED with a fixed 60 s; here it is on,
on the local AWS's short clock (the `sqs_name_reuse` delay, default 3 s, changeable at runtime).
"""

from . import config


class _NameReuse:
    """Stands for LocalStack's RECENTLY_DELETED_TIMEOUT, which it only ever subtracts from the
    time: reads the delay at each use, so /_pipectl/config changes it at once."""

    def __rsub__(self, now: float) -> float:
        return now - config.delay("sqs_name_reuse")

    def __repr__(self) -> str:
        return f"{config.delay('sqs_name_reuse')}"


def install() -> None:
    from localstack import config as ls_config
    from localstack.services.sqs import constants

    ls_config.SQS_DELAY_RECENTLY_DELETED = True
    constants.RECENTLY_DELETED_TIMEOUT = _NameReuse()
