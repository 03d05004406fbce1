"""What the routes share: the service (built once per container, lazily), the caller, and the
answers: a response `*Out` model (schemas.py), never a hand-made dict."""

from __future__ import annotations

import os
from typing import Annotated, TypeVar

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit

from helpdesk.domain.listing import MAX_LIMIT
from helpdesk.domain.model import Caller, Status, Ticket, attachments_count
from helpdesk.service import HelpdeskService

from .context import caller_from_event
from .schemas import Model, TicketOut, ticket_out

JSON = "application/json"

# `limit` and `cursor` of every list (DESIGN.md §7): 1-100 items a page, 25 by default.
PageLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items a page (1-100)")]
PageCursor = Annotated[
    str | None, Query(max_length=4096, description="the `next_cursor` of the page before")
]
CALLER_KEY = "caller"

OutModel = TypeVar("OutModel", bound=Model)

_service: HelpdeskService | None = None
# Powertools' metrics are one set per process, flushed by the handler's log_metrics.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))


def count_if_closed(ticket: Ticket) -> None:
    """`TicketsClosed` (the dashboard's business figures) when an action closed the ticket; an
    action never applies to a closed ticket, so a closed one after it was closed by it.
    Auto-closures are counted by the jobs function (dimension `job`)."""
    if ticket.status is Status.CLOSED:
        metrics.add_metric(name="TicketsClosed", unit=MetricUnit.Count, value=1)


def set_service(service: HelpdeskService | None) -> None:
    """Use this service from now on (tests, the local stack); None rebuilds from settings."""
    global _service
    _service = service


def get_service() -> HelpdeskService:
    """The container's service, built on first use from the environment (helpdesk.settings)."""
    global _service
    if _service is None:
        from helpdesk import bootstrap  # nothing talks to AWS before the first request

        _service = bootstrap.service()
    return _service


def current_caller(router: BaseRouter) -> Caller:
    """The request's caller: set by the handler's authentication, else read from the event."""
    caller = router.context.get(CALLER_KEY)
    if isinstance(caller, Caller):
        return caller
    caller = caller_from_event(router.current_event.raw_event)
    router.append_context(**{CALLER_KEY: caller})
    return caller


def ticket_response(
    ticket: Ticket, caller: Caller, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[TicketOut]:
    """A ticket with what this caller may do now, and its version as the ETag."""
    service = get_service()
    body = ticket_out(
        ticket, service.allowed(ticket, caller), attachments_count(ticket, caller), service.clock()
    )
    all_headers = {"ETag": f'"{ticket.version}"', **(headers or {})}
    return ok(body, status_code, all_headers)


def ok(
    body: OutModel, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[OutModel]:
    """A JSON answer whose body is its response model: the resolver validates it against the
    route's return annotation and serialises it (`model_dump(mode="json")`)."""
    return Response(status_code=status_code, content_type=JSON, body=body, headers=headers)
