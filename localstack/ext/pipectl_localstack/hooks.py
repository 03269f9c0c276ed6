"""Start-up hook: patches moto (IAM bridge, instance types), adds fault injection, request
validation against AWS's API models, EC2 placement groups and the request log to the chain,
and the control endpoints under /_pipectl."""

import json
import logging

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)


def _ec2_overrides():
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service

    from . import ec2, enis

    operations = {**ec2.OPERATIONS, **enis.OPERATIONS}
    skeleton = Skeleton(load_service("ec2"), operations)

    def handler(chain, context, response):
        if context.service is not None and context.service.service_name == "ec2" and context.operation is not None and context.operation.name in operations:
            response.update_from(skeleton.invoke(context))
            chain.stop()

    return handler


def _routes(router):
    from localstack.http import Response

    from . import config, faults

    def reply(body, status=200):
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def faults_endpoint(request, **_):
        try:
            if request.method == "POST":
                return reply(faults.configure(request.get_json(force=True) or {}))
            if request.method == "DELETE":
                return reply(faults.reset())
            return reply(faults.snapshot())
        except ValueError as e:
            return reply({"error": str(e)}, 400)

    def config_endpoint(request, **_):
        try:
            if request.method == "POST":
                body = dict(request.get_json(force=True) or {})
                if "job_path" in body:
                    config.set_job_path(body.pop("job_path"))
                delays = config.set_delays(body) if body else config.all_delays()
                return reply({"delays": delays, "job_path": config.job_path()})
            if request.method == "DELETE":
                return reply({"delays": config.reset_delays(), "job_path": config.reset_job_path()})
            return reply({"delays": config.all_delays(), "data_dir": config.data_dir(), "job_path": config.job_path()})
        except (KeyError, ValueError) as e:
            return reply({"error": str(e)}, 400)

    def spot_endpoint(request, **_):
        from . import ec2

        try:
            if request.method == "POST":
                return reply(ec2.set_spot_prices(request.get_json(force=True) or {}))
            return reply(ec2.reset_spot_prices())
        except (KeyError, ValueError) as e:
            return reply({"error": str(e)}, 400)

    def requests_endpoint(request, **_):
        from . import validation

        if request.method == "DELETE":
            return reply(validation.clear_requests())
        return reply({"requests": validation.requests(request.args.get("service"), request.args.get("operation"))})

    router.add("/_pipectl/requests", requests_endpoint, methods=["GET", "DELETE"])
    router.add("/_pipectl/faults", faults_endpoint, methods=["GET", "POST", "DELETE"])
    router.add("/_pipectl/spot-prices", spot_endpoint, methods=["POST", "DELETE"])
    router.add("/_pipectl/config", config_endpoint, methods=["GET", "POST", "DELETE"])


@hooks.on_infra_start()
def pipectl_patches():
    from localstack.aws.handlers import run_custom_response_handlers, serve_custom_service_request_handlers
    from localstack.services.edge import ROUTER

    from . import ec2, faults, iam_bridge, job_events, job_model, sqs_rules, tokens, validation

    iam_bridge.install()
    sqs_rules.install()
    # Batch's job state-change events go to EventBridge as jobs move
    job_model.STATUS_OBSERVERS.append(job_events.on_status)
    ec2.add_instance_types()
    faults.load_from_env()
    # faults first, so that overridden operations can be throttled too
    serve_custom_service_request_handlers.append(faults.handler)
    # AWS refuses a request that breaks its API model before anything else looks at it
    serve_custom_service_request_handlers.append(validation.handler)
    # EC2 client tokens: a repeated request answers as the first did, a changed one is refused
    serve_custom_service_request_handlers.append(tokens.handler)
    serve_custom_service_request_handlers.append(_ec2_overrides())
    run_custom_response_handlers.append(tokens.remember)
    run_custom_response_handlers.append(validation.log_response)
    _routes(ROUTER)
    LOG.info("pipectl LocalStack extension installed")


@hooks.on_infra_shutdown()
def pipectl_shutdown():
    from .jobs import ENGINE

    ENGINE.shutdown()
