"""The HTTP API function: API Gateway HTTP API (payload v2, JWT authorizer) → routers.

Handler: `app.lambda_handler` (CodeUri functions/api). The routers, errors and schemas are the
domain layer's `helpdesk.entrypoints.http`: one module name in Lambda, the tests and the local
stack. Configuration comes from the environment (helpdesk.settings): TABLE_NAME,
IDEMPOTENCY_TABLE_NAME, AWS_REGION, AWS_ENDPOINT_URL (local).
"""

from __future__ import annotations

import importlib
import os
import threading
from types import ModuleType
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk import snapstart
from helpdesk.adapters.aws_clients import share_botocore_data
from helpdesk.domain.errors import DomainError
from helpdesk.entrypoints.http import errors
from helpdesk.entrypoints.http.context import caller_from_event
from helpdesk.entrypoints.http.deps import CALLER_KEY, get_service, set_service
from helpdesk.entrypoints.http.idempotency import reset_idempotency

__all__ = [
    "app",
    "get_service",
    "include_all_routes",
    "lambda_handler",
    "reset_idempotency",
    "set_service",
]

logger = Logger()
share_botocore_data()  # before Tracer(): one parse of botocore's data per process
# botocore only: patch_all() would import and patch every library X-Ray knows (requests,
# sqlite3, httpx, SQL drivers...), ~50 ms of cold start for calls this function never makes.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

app = APIGatewayHttpResolver(enable_validation=True)
errors.register(app)
# Every route: a query parameter its handler does not declare is 422 (Powertools ignores it).
app.use([errors.refuse_unknown_query])

# The routers, by the path segment that names them (the first one, or the one after
# /tickets/{n}), each imported and included on the first request for one of its paths: a cold
# start pays for the routes it serves, not for all of them (bench/results.md, Cold start). Every
# path belongs to one router module, so a request resolves exactly as with all of them
# included; a path of no group includes them all first (its 404 or 405 is then the same too).
ROUTER_OF_SEGMENT = {
    "tickets": "tickets",
    "actions": "actions",
    "comments": "conversation",
    "history": "conversation",
    "quotes": "conversation",
    "tasks": "time",
    "time-entries": "time",
    "attachments": "attachments",
    "orgs": "directory",
    "consultants": "directory",
    "billing": "billing",
    "mail": "quarantine",
    "links": "links",
}
_included: set[str] = set()


def router_module(name: str) -> ModuleType:
    return importlib.import_module(f"helpdesk.entrypoints.http.{name}")


def include_routes_for(path: str) -> None:
    """Include the router that serves `path`, if it is not yet."""
    parts = path.strip("/").split("/")
    segment = parts[2] if parts[0] == "tickets" and len(parts) > 2 else parts[0]
    name = ROUTER_OF_SEGMENT.get(segment)
    for module in (name,) if name else sorted(set(ROUTER_OF_SEGMENT.values())):
        if module not in _included:
            app.include_router(router_module(module).router)
            _included.add(module)


def include_all_routes() -> APIGatewayHttpResolver:
    """Every route (the OpenAPI document, tests that list the routes)."""
    include_routes_for("/")
    return app


def __getattr__(name: str) -> ModuleType:
    """`app.billing`, `app.attachments`...: a router module, imported on first use (tests)."""
    if name in ROUTER_OF_SEGMENT.values():
        return router_module(name)
    raise AttributeError(name)


def _path(event: dict[str, Any]) -> str:
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(event.get("rawPath") or http.get("path") or "/")


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
        include_routes_for(_path(event))
        if _is_public(event):
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


def _is_public(event: dict[str, Any]) -> bool:
    return "links" in _included and bool(router_module("links").is_public(event))


def _resolve_public(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A link route (DESIGN.md §8): no JWT authorizer in front, no caller; the link is the
    credential. The body checks apply as to any route."""
    body_problem = errors.body_problem(event)
    if body_problem is not None:
        return errors.as_lambda_response(body_problem)
    return app.resolve(event, context)


# SnapStart (template parameter SnapStart): the snapshot holds the service and every router, so
# no restored environment imports one on its first request.
snapstart.register(get_service, include_all_routes)
