"""Action links (DESIGN.md §8): `GET /links/{token}` and `POST /links/{token}`.

The link is the credential: these two routes have no JWT authorizer (template.yaml: `Auth:
Authorizer: NONE`, throttled by route settings) and the handler resolves them without a
caller (`is_public`). `GET` never writes (mail scanners open links); `POST` performs the
link's action as the ticket's requester. 404: an unknown (or malformed) token; 410 with
`state` `used`, `expired` or `superseded`: a link that no longer acts.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field

from helpdesk.action_links import LinkActions
from helpdesk.domain.calendar import iso
from helpdesk.domain.comments import MAX_BODY
from helpdesk.domain.links import LinkGone
from helpdesk.domain.model import Ticket

from .deps import count_if_closed, get_service, ok, ticket_response
from .errors import problem
from .schemas import (
    Body,
    Model,
    Problem,
    QuoteOut,
    Text,
    TicketOut,
    quote_out,
)


class LinkUseIn(Body):
    """POST /links/{token}: the reason, required to refuse a quote or reopen an answer."""

    reason: Text | None = Field(
        default=None, max_length=MAX_BODY, description="required for refuse-quote and reopen"
    )


class LinkTicketOut(Model):
    """The ticket as an action link's page shows it."""

    number: int
    title: str
    status: str
    status_label: str
    quote: QuoteOut | None


class LinkOut(Model):
    """GET /links/{token}: a valid link (any other state is a 410 problem)."""

    action: str = Field(description="approve-quote, refuse-quote, confirm or reopen")
    state: Literal["valid"]
    expires_at: str
    ticket: LinkTicketOut


def link_out(action: str, expires_at: dt.datetime, ticket: Ticket) -> LinkOut:
    latest = ticket.quote
    return LinkOut(
        action=action,
        state="valid",
        expires_at=iso(expires_at),
        ticket=LinkTicketOut(
            number=ticket.number,
            title=ticket.title,
            status=ticket.status.value,
            status_label=ticket.status.label,
            quote=quote_out(latest) if latest else None,
        ),
    )


router = Router()
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

# The routes API Gateway serves without an authorizer (template.yaml), as (method, path).
PUBLIC_ROUTES = (("GET", "/links/{token}"), ("POST", "/links/{token}"))
_PUBLIC_PATH = re.compile(r"/links/[^/]+")

LinkToken = Annotated[str, Path(description="the token of the link, as the mail gives it")]
# Documented as optional authentication: the link is the credential.
NO_TOKEN: list[dict[str, list[str]]] = [{}]


def is_public(event: Mapping[str, Any]) -> bool:
    """A request for a link route: resolved without a caller (and there is no JWT)."""
    http = (event.get("requestContext") or {}).get("http") or {}
    path = str(event.get("rawPath") or http.get("path") or "")
    return http.get("method") in ("GET", "POST") and _PUBLIC_PATH.fullmatch(path) is not None


def _links() -> LinkActions:
    return LinkActions(get_service())


def _answers(model: type[BaseModel], *problems: int) -> dict[int, OpenAPIResponse]:
    described = {
        404: "No such link (the token is unknown)",
        410: "The link no longer acts: `state` is used, expired or superseded",
        422: "Invalid input (field, errors): the reason an action requires",
    }
    answers: dict[int, OpenAPIResponse] = {
        200: {"description": "OK", "content": {"application/json": {"model": model}}}
    }
    for code in problems:
        answers[code] = {
            "description": described[code],
            "content": {"application/problem+json": {"model": Problem}},
        }
    return answers


@router.exception_handler(LinkGone)
def _gone(exc: LinkGone) -> Response[Any]:
    return problem(410, "link-gone", exc.title, exc.detail, state=exc.state.value)


@router.get(
    "/links/<token>",
    operation_id="inspectLink",
    summary="What an action link lets do (no bearer token: the link is the credential)",
    description=(
        "The decision a mail's link offers and the ticket it is about. Changes nothing "
        "(mail scanners open links). 410 with `state` when the link was used, has expired "
        "(30 days) or the ticket has moved on since the mail."
    ),
    tags=["links"],
    security=NO_TOKEN,
    responses=_answers(LinkOut, 404, 410, 422),
)
def inspect_link(token: LinkToken) -> Response[LinkOut]:
    opened = _links().inspect(token)
    grant = opened.link.grant
    return ok(link_out(grant.action, grant.expires_at, opened.ticket))


@router.post(
    "/links/<token>",
    operation_id="useLink",
    summary="Perform an action link's decision (no bearer token: the link is the credential)",
    description=(
        "Performs the link's action as the ticket's requester (the history records "
        "`via: link`) and answers the ticket as the client sees it. `reason` is required to "
        "refuse a quote or reopen an answer. A link works once: 410 `used` afterwards."
    ),
    tags=["links"],
    security=NO_TOKEN,
    responses=_answers(TicketOut, 404, 410, 422),
)
def use_link(token: LinkToken, body: LinkUseIn | None = None) -> Response[TicketOut]:
    reason = body.reason if body is not None else None
    ticket, caller = _links().use(token, reason)
    metrics.add_metric(name="LinkActionsApplied", unit=MetricUnit.Count, value=1)
    count_if_closed(ticket)
    return ticket_response(ticket, caller)
