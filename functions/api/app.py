"""The HTTP API function: API Gateway HTTP API (payload v2, JWT authorizer) → routers.

Handler: `app.lambda_handler` (CodeUri functions/api). The routers, errors and schemas are the
domain layer's `helpdesk.entrypoints.http`: one module name in Lambda, the tests and the local
stack. Configuration comes from the environment (helpdesk.settings): TABLE_NAME,
IDEMPOTENCY_TABLE_NAME, AWS_REGION, AWS_ENDPOINT_URL (local).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk import snapstart
from helpdesk.domain.errors import DomainError
from helpdesk.entrypoints.http import (
    actions,
    attachments,
    billing,
    conversation,
    directory,
    errors,
    tickets,
)
from helpdesk.entrypoints.http import links as link_routes
from helpdesk.entrypoints.http import quarantine as quarantine_routes
from helpdesk.entrypoints.http import time as time_routes
from helpdesk.entrypoints.http.context import caller_from_event
from helpdesk.entrypoints.http.deps import CALLER_KEY, get_service, set_service

__all__ = ["app", "get_service", "lambda_handler", "reset_idempotency", "set_service"]

reset_idempotency = tickets.reset_idempotency

logger = Logger()
# botocore only: patch_all() would import and patch every library X-Ray knows (requests,
# sqlite3, httpx, SQL drivers...), ~50 ms of cold start for calls this function never makes.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

app = APIGatewayHttpResolver(enable_validation=True)
for _module in (tickets, actions, conversation, time_routes, directory, billing, quarantine_routes):
    app.include_router(_module.router)
app.include_router(attachments.router)
app.include_router(link_routes.router)
errors.register(app)
# Every route: a query parameter its handler does not declare is 422 (Powertools ignores it).
app.use([errors.refuse_unknown_query])

# Lambda never runs two invocations in one process; the local stack may, and the resolver keeps
# the current request in class attributes: one request at a time.
_lock = threading.Lock()


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with _lock:
        if link_routes.is_public(event):
            return _resolve_public(event, context)
        try:
            caller = caller_from_event(event)
        except errors.Unauthenticated as exc:
            return errors.as_lambda_response(
                errors.problem(401, "unauthenticated", exc.title, exc.detail)
            )
        except DomainError as exc:
            return errors.as_lambda_response(errors.domain_problem(exc))
        logger.append_keys(caller=caller.id, role=caller.role.value)
        body_problem = errors.body_problem(event)
        if body_problem is not None:
            return errors.as_lambda_response(body_problem)
        app.append_context(**{CALLER_KEY: caller})
        return app.resolve(event, context)


def _resolve_public(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A link route (DESIGN.md §8): no JWT authorizer in front, no caller; the link is the
    credential. The body checks apply as to any route."""
    body_problem = errors.body_problem(event)
    if body_problem is not None:
        return errors.as_lambda_response(body_problem)
    return app.resolve(event, context)


# SnapStart (template parameter SnapStart): build the service before the snapshot.
snapstart.register(get_service)
