"""EC2 client tokens as AWS keeps them: a request with a token seen before answers what the
first request answered when its parameters are the same, and `IdempotentParameterMismatch`
when they differ.

Ensuring idempotency (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html):
a repeated request with the same client token and the same parameters returns the original
result; with a changed parameter it fails with IdempotentParameterMismatch ("The request uses
the same client token as a previous, but non-identical request", errors overview,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). AWS keeps a token
for hours at least ("at least 24 hours after the termination of the instance" for RunInstances);
how long for other calls is not documented, so here a token is kept for the local AWS's
lifetime. LocalStack's EC2 ignores ClientToken (CreateNatGateway makes a second gateway).

Every EC2 operation whose API model has a ClientToken member is covered.
"""

import hashlib
import json
import threading

from localstack.aws.api import CommonServiceException

_lock = threading.Lock()
# (account, region, operation, token) -> (parameter digest, status, body bytes, content type)
_seen: dict[tuple, tuple[str, int | None, bytes | None, str | None]] = {}


def _digest(params: dict) -> str:
    body = {k: v for k, v in params.items() if k != "ClientToken"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _key(context, token: str) -> tuple:
    return (context.account_id, context.region, context.operation.name, token)


def _applies(context) -> str | None:
    if context.service is None or context.operation is None or context.service.service_name != "ec2":
        return None
    if getattr(context, "is_internal_call", False):
        return None
    shape = context.operation.input_shape
    if shape is None or "ClientToken" not in shape.members:
        return None
    req = getattr(context, "service_request", None) or {}
    return req.get("ClientToken") or None


def handler(chain, context, response) -> None:
    """A request handler: replays or refuses a request whose token was seen before."""
    token = _applies(context)
    if token is None:
        return
    digest = _digest(dict(context.service_request))
    with _lock:
        seen = _seen.get(_key(context, token))
    if seen is None:
        context.pipectl_token = (token, digest)
        return
    if seen[0] != digest:
        raise CommonServiceException(
            "IdempotentParameterMismatch",
            "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
        )
    if seen[2] is not None:
        response.status_code = seen[1]
        response.set_data(seen[2])
        if seen[3]:
            response.headers["Content-Type"] = seen[3]
        chain.stop()


def remember(chain, context, response) -> None:
    """A response handler: keeps a successful answer under its token."""
    pending = getattr(context, "pipectl_token", None)
    if pending is None or response is None or response.status_code >= 400:
        return
    token, digest = pending
    with _lock:
        _seen[_key(context, token)] = (digest, response.status_code, response.get_data(), response.headers.get("Content-Type"))
