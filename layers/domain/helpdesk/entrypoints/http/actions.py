"""POST /tickets/{number}/actions/{action}: the only way a ticket's status changes."""

from __future__ import annotations

import os
import re
from typing import Annotated

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field

from helpdesk.domain.comments import MAX_BODY
from helpdesk.domain.errors import Forbidden, NotFound
from helpdesk.domain.model import Priority, TicketType
from helpdesk.domain.tickets import MAX_DESCRIPTION
from helpdesk.domain.workflow import HUMAN_ACTIONS, Action, ActionInput

from .deps import count_if_closed, current_caller, get_service, ticket_response
from .errors import InvalidHeader
from .schemas import (
    Body,
    Money,
    Quantity,
    StrictInt,
    StrictStr,
    Text,
    TicketOut,
    responses,
)
from .tickets import TicketNumber


class ActionIn(Body):
    """Every field an action may take; which ones count depends on the action."""

    assignee: StrictStr | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    amount: Money | None = Field(default=None, description='EUR, e.g. "1200.00"')
    days: Quantity | None = None
    description: Text | None = Field(default=None, max_length=MAX_DESCRIPTION)
    validity_days: StrictInt | None = None
    reason: Text | None = Field(default=None, max_length=MAX_BODY)
    message: Text | None = Field(default=None, max_length=MAX_BODY)
    note: Text | None = Field(default=None, max_length=MAX_BODY)
    quote_version: StrictInt | None = None


router = Router()
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

ACTION_NAMES = ", ".join(a.value for a in HUMAN_ACTIONS)


def parse_action(name: str) -> Action:
    try:
        action = Action(name)
    except ValueError:
        raise NotFound(f"There is no action '{name}'; actions are: {ACTION_NAMES}.") from None
    if action not in HUMAN_ACTIONS:
        raise Forbidden(f"'{name}' is performed by the system only.")
    return action


# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text;
# If-Match = "*" / #entity-tag: a comma-separated list (§5.6.1: spaces around the commas,
# empty elements ignored). A tag may itself hold a comma: the list is scanned, not split.
_LIST_ELEMENT = re.compile(r'[ \t]*(?:((?:W/)?"([\x21\x23-\x7e\x80-\xff]*)"))?[ \t]*(?:,|\Z)')


def parse_if_match(value: str | None) -> frozenset[int] | None:
    """The ticket versions an `If-Match` header accepts: None when absent or `*` (any
    version), else the set of versions its entity tags name (`"3"`, `W/"3"`, `"2", "3"`): the
    request goes on when the ticket's version is in it (412 otherwise). A tag that names no
    version (`"abc"`) matches nothing. A value that is not an entity-tag list (`garbage`, `3`
    without quotes, an empty value) is InvalidHeader (400)."""
    if value is None:
        return None
    if value.strip(" \t") == "*":
        return None
    versions: set[int] = set()
    tags = position = 0
    while position < len(value):
        element = _LIST_ELEMENT.match(value, position)
        if element is None or element.end() == position:
            break
        if element.group(1) is not None:
            tags += 1
            opaque = element.group(2)
            if opaque.isascii() and opaque.isdigit() and len(opaque) <= 18:
                versions.add(int(opaque))
        position = element.end()
    if position < len(value) or tags == 0:
        raise InvalidHeader(
            "If-Match",
            '\'If-Match\' must be * or a list of entity tags such as "3", W/"3" or '
            f'"2", "3" (got {value[:60]!r}).',
        )
    return frozenset(versions)


@router.post(
    "/tickets/<number>/actions/<action>",
    operation_id="performAction",
    summary="Perform a workflow action",
    description=f'Actions: {ACTION_NAMES}. `If-Match: "<version>"` is honoured (412).',
    tags=["actions"],
    responses=responses(200, TicketOut, 400, 404, 409, 412),
)
def perform_action(
    number: TicketNumber,
    # Documented as an enum, checked by parse_action: another name is a 404, not a 422.
    action: Annotated[
        str,
        Path(
            description=ACTION_NAMES,
            json_schema_extra={"enum": [a.value for a in HUMAN_ACTIONS]},
        ),
    ],
    body: ActionIn | None = None,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> Response[TicketOut]:
    caller = current_caller(router)
    chosen = parse_action(action)
    expected = parse_if_match(if_match)  # the accepted versions, or None: any
    fields = body or ActionIn()
    params = ActionInput(**fields.model_dump())
    service = get_service()
    transition = service.perform(caller, number, chosen, params, expected_version=expected)
    metrics.add_metric(name="ActionsApplied", unit=MetricUnit.Count, value=1)
    count_if_closed(transition.ticket)
    return ticket_response(transition.ticket, caller)
