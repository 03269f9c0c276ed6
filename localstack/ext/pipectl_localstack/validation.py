"""Every request checked against AWS's published API model, and a log of what was asked.

AWS checks each request against its service model before it acts: required members, enum
values, string and list lengths, number ranges and (where the model has one) the pattern.
LocalStack and moto check little of this, so a request AWS refuses could pass here. This
handler walks the botocore model that ships with LocalStack (the same model the SDKs are
generated from) and refuses what it finds, with the error code the service uses for a
malformed request:

- EC2: `MissingParameter` / `InvalidParameterValue`
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
- IAM and STS: `ValidationError`
  (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).
- CloudWatch: `MissingParameter` / `InvalidParameterValue`
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html).
- CloudWatch Logs: `InvalidParameterException`
  (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html).
- Batch: `ClientException`, its only client error
  (https://docs.aws.amazon.com/batch/latest/APIReference/CommonErrors.html).
- FSx: `BadRequest` (https://docs.aws.amazon.com/fsx/latest/APIReference/API_CreateFileSystem.html#API_CreateFileSystem_Errors).
- S3: `InvalidArgument` (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).

The message follows AWS's "1 validation error detected: Value 'x' at 'name' failed to satisfy
constraint: ..." shape. Which code a given service returns for each kind of violation is not
documented operation by operation; docs/local-aws.md says so.

The request log keeps (user agent, service, operation, parameters, answer code) of the last
requests for tests: GET /_pipectl/requests (filters ?service=&operation=), DELETE clears it.
"""

import collections
import json
import re
import threading
import time

from localstack.aws.api import CommonServiceException

CHECKED = {"batch", "fsx", "ec2", "iam", "sts", "cloudwatch", "logs", "s3"}
CODES = {
    # service: (missing, invalid)
    "ec2": ("MissingParameter", "InvalidParameterValue"),
    "cloudwatch": ("MissingParameter", "InvalidParameterValue"),
    "iam": ("ValidationError", "ValidationError"),
    "sts": ("ValidationError", "ValidationError"),
    "logs": ("InvalidParameterException", "InvalidParameterException"),
    "batch": ("ClientException", "ClientException"),
    "fsx": ("BadRequest", "BadRequest"),
    "s3": ("InvalidArgument", "InvalidArgument"),
}

_patterns: dict[str, re.Pattern | None] = {}


def _pattern(p: str):
    if p not in _patterns:
        try:
            _patterns[p] = re.compile(p)
        except re.error:
            _patterns[p] = None  # a Java-only construct: not checked
    return _patterns[p]


def _show(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 100 else text[:97] + "..."


def problems(params, shape, name: str = "") -> list[tuple[str, str, str]]:
    """(kind, member path, constraint) for every violation of `shape` in `params`."""
    out: list[tuple[str, str, str]] = []
    if params is None:
        return out
    meta = shape.metadata
    t = shape.type_name
    if t == "structure":
        if not isinstance(params, dict):
            return out
        for req in meta.get("required", []):
            if params.get(req) is None:
                out.append(("missing", f"{name}.{req}" if name else req, "Member must not be null"))
        for key, value in params.items():
            member = shape.members.get(key)
            if member is not None and value is not None:
                out.extend(problems(value, member, f"{name}.{key}" if name else key))
        return out
    if t == "list" and isinstance(params, list):
        out.extend(_length(params, meta, name, "length"))
        for i, item in enumerate(params):
            out.extend(problems(item, shape.member, f"{name}.{i + 1}"))
        return out
    if t == "map" and isinstance(params, dict):
        out.extend(_length(params, meta, name, "length"))
        for k, v in params.items():
            out.extend(problems(k, shape.key, f"{name}.key"))
            out.extend(problems(v, shape.value, f"{name}.{k}"))
        return out
    if t == "string" and isinstance(params, str):
        if shape.enum and params not in shape.enum:
            out.append(("invalid", name, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"))
        out.extend(_length(params, meta, name, "length"))
        pat = meta.get("pattern")
        if pat and _pattern(pat) is not None and not _pattern(pat).search(params):
            out.append(("invalid", name, f"Member must satisfy regular expression pattern: {pat}"))
        return out
    if t in ("integer", "long", "float", "double") and isinstance(params, (int, float)) and not isinstance(params, bool):
        if "min" in meta and params < meta["min"]:
            out.append(("invalid", name, f"Member must have value greater than or equal to {meta['min']}"))
        if "max" in meta and params > meta["max"]:
            out.append(("invalid", name, f"Member must have value less than or equal to {meta['max']}"))
    return out


def _length(value, meta, name, what) -> list[tuple[str, str, str]]:
    n = len(value)
    if "min" in meta and n < meta["min"]:
        return [("invalid", name, f"Member must have {what} greater than or equal to {meta['min']}")]
    if "max" in meta and n > meta["max"]:
        return [("invalid", name, f"Member must have {what} less than or equal to {meta['max']}")]
    return []


def _params(context) -> dict:
    req = getattr(context, "service_request", None)
    return dict(req) if isinstance(req, dict) else {}


def error_for(service: str, operation, params: dict) -> CommonServiceException | None:
    """The error AWS answers a request that breaks its model with, or None."""
    found = problems(params, operation.input_shape) if operation.input_shape is not None else []
    if not found:
        return None
    missing_code, invalid_code = CODES.get(service, ("ValidationException", "ValidationException"))
    kind, member, rule = found[0]
    if service == "ec2":
        if kind == "missing":
            return CommonServiceException(missing_code, f"The request must contain the parameter {member}")
        return CommonServiceException(invalid_code, f"Value ({_show(_value_at(params, member))}) for parameter {member} is invalid. {rule}")
    code = missing_code if kind == "missing" else invalid_code
    details = "; ".join(
        f"Value {'null' if k == 'missing' else repr(_show(_value_at(params, m)))} at '{m}' failed to satisfy constraint: {r}"
        for k, m, r in found[:10]
    )
    return CommonServiceException(code, f"{len(found)} validation error{'s' if len(found) > 1 else ''} detected: {details}")


def _value_at(params, path: str):
    cur = params
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) - 1 < len(cur):
            cur = cur[int(part) - 1]
        else:
            return None
    return cur


# Documented constraints the service models do not carry.
# PutRetentionPolicy (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html):
# "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
# 1827, 2192, 2557, 2922, 3288, and 3653."
RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}


def _documented(service: str, operation: str, params: dict) -> CommonServiceException | None:
    if service == "logs" and operation == "PutRetentionPolicy":
        days = params.get("retentionInDays")
        if days not in RETENTION_DAYS:
            return CommonServiceException(
                "InvalidParameterException",
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {sorted(RETENTION_DAYS)}",
            )
    return None


def handler(chain, context, response) -> None:
    """A request handler: refuses a request that breaks the service's model."""
    if context.service is None or context.operation is None or getattr(context, "is_internal_call", False):
        return
    service = context.service.service_name
    if service not in CHECKED:
        return
    params = _params(context)
    err = error_for(service, context.operation, params) or _documented(service, context.operation.name, params)
    if err is not None:
        raise err


# --- the request log ------------------------------------------------------------------------

_log_lock = threading.Lock()
_log: collections.deque = collections.deque(maxlen=50_000)
_SECRET = re.compile(r"(?i)secret|password|token|credential|body|userdata|policydocument")


def _redact(value, key: str = ""):
    if _SECRET.search(key) and key not in ("ClientToken", "ClientRequestToken", "NextToken", "nextToken"):
        return "<redacted>"
    if isinstance(value, dict):
        return {k: _redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, key) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def log_response(chain, context, response) -> None:
    """A response handler: appends the request and its answer code to the log."""
    if context.service is None or context.operation is None or getattr(context, "is_internal_call", False):
        return
    code = None
    exc = getattr(context, "service_exception", None)
    if exc is not None:
        code = getattr(exc, "code", None) or type(exc).__name__
    elif response is not None and response.status_code >= 400:
        code = str(response.status_code)
    entry = {
        "at": time.time(),  # when it was answered (for timelines of a benchmark)
        "user_agent": (context.request.headers.get("User-Agent") or "") if context.request is not None else "",
        "service": context.service.service_name,
        "operation": context.operation.name,
        "parameters": _redact(_params(context)),
        "status": response.status_code if response is not None else None,
        "code": code,
    }
    with _log_lock:
        _log.append(entry)


def requests(service: str | None = None, operation: str | None = None) -> list[dict]:
    with _log_lock:
        return [e for e in _log if (not service or e["service"] == service) and (not operation or e["operation"] == operation)]


def clear_requests() -> dict:
    with _log_lock:
        _log.clear()
    return {"requests": 0}
