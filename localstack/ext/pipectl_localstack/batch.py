"""AWS Batch on LocalStack: the operations this extension answers itself instead of moto.
moto's backend keeps compute environments, job queues and job definitions; this layer adds
what AWS does and moto does not.

- Lifecycles that take time: compute environments and queues are CREATING, then VALID;
  UPDATING after an update; DELETING, then DELETED (still listed, with the status DELETED, for
  a while: `deleted_linger`), then gone.
- IAM eventual consistency: a compute environment validated within `iam_propagation` seconds
  of the creation of a role it uses goes INVALID with an sts:AssumeRole reason, and stays
  INVALID until it is updated after the role has propagated.
- AWS's rules: a queue can only use VALID compute environments; a queue must be DISABLED before
  it is deleted (its jobs are terminated); a compute environment must be DISABLED and free of
  queue relationships ("Cannot delete, found existing JobQueue relationship") before deletion;
  nothing DELETING can be updated; the service role may be omitted (Batch's service-linked
  role); and the request rules in rules.py (names, images, instance types, AMI types, Spot
  fleet role, EFA interfaces versus security groups).
- Jobs are run by `jobs.ENGINE`.

Where each part lives, lowest first (each imports only modules below it, so there is no
import cycle): `rules` (request rules and `client_error`), `batch_lifecycle` (the lifecycle
store and the lookups the job engine needs), the job engine (`job_model`, `job_requests`,
`job_shapes`, `job_logs`, `job_processes`, `job_scheduler`, `jobs`), then
`compute_environments` and `job_queues` (deleting a queue terminates its jobs), and this
module, the operation table the provider serves.
"""

from localstack.services.moto import call_moto

from . import compute_environments, job_queues, mnp, rules
from .batch_lifecycle import backend
from .jobs import ENGINE

# --- job definitions ---------------------------------------------------------------------------


def describe_job_definitions(context, request):
    """moto keeps a multi-node definition's nodeProperties but leaves them out of the answer."""
    b = backend(context)
    result = call_moto(context)
    for d in result.get("jobDefinitions", []):
        jd = b._job_definitions.get(d.get("jobDefinitionArn"))
        if jd is not None and getattr(jd, "node_properties", None) and "nodeProperties" not in d:
            d["nodeProperties"] = jd.node_properties
    return result


def register_job_definition(context, request):
    err = rules.job_definition(request) or mnp.registration_error(request)
    if err:
        raise err
    return call_moto(context)


# --- jobs ------------------------------------------------------------------------------------


def submit_job(context, request):
    return ENGINE.submit(backend(context), request)


def describe_jobs(context, request):
    return ENGINE.describe(request.get("jobs") or [])


def list_jobs(context, request):
    return ENGINE.list_jobs(backend(context), request)


def cancel_job(context, request):
    return ENGINE.cancel(request.get("jobId") or "", request.get("reason") or "")


def terminate_job(context, request):
    return ENGINE.terminate(request.get("jobId") or "", request.get("reason") or "")


OPERATIONS = {
    **compute_environments.OPERATIONS,
    **job_queues.OPERATIONS,
    "DescribeJobDefinitions": describe_job_definitions,
    "RegisterJobDefinition": register_job_definition,
    "SubmitJob": submit_job,
    "DescribeJobs": describe_jobs,
    "ListJobs": list_jobs,
    "CancelJob": cancel_job,
    "TerminateJob": terminate_job,
}

__all__ = ["OPERATIONS"]
