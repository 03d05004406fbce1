"""What the routes share: the service (built once per container, lazily), the caller, and the
shape of a ticket answer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from helpdesk.domain.model import Caller, Ticket
from helpdesk.service import HelpdeskService
from helpdesk.settings import get_settings

from .context import caller_from_event
from .schemas import ticket_out

JSON = "application/json"
CALLER_KEY = "caller"

_service: HelpdeskService | None = None


def set_service(service: HelpdeskService | None) -> None:
    """Use this service from now on (tests, the local stack); None rebuilds from settings."""
    global _service
    _service = service


def get_service() -> HelpdeskService:
    """The container's service, built on first use from the environment (helpdesk.settings)."""
    global _service
    if _service is None:
        # imported here: nothing talks to AWS before the first request
        from helpdesk.adapters import aws_clients
        from helpdesk.adapters.dynamo import DynamoStore

        settings = get_settings()
        client = aws_clients.client("dynamodb", settings)
        _service = HelpdeskService(DynamoStore(client, settings.table_name))
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
) -> Response[Any]:
    """A ticket with what this caller may do now, and its version as the ETag."""
    body = ticket_out(ticket, get_service().allowed(ticket, caller))
    all_headers = {"ETag": f'"{ticket.version}"', **(headers or {})}
    return Response(status_code=status_code, content_type=JSON, body=body, headers=all_headers)


def ok(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status_code, content_type=JSON, body=body, headers=headers)


def listing(items: list[dict[str, Any]], next_cursor: str | None = None) -> Response[Any]:
    """A list answer: `{"items": [...], "next_cursor": ...}`."""
    return ok({"items": items, "next_cursor": next_cursor})
