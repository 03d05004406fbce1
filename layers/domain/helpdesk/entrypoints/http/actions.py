"""POST /tickets/{number}/actions/{action}: the only way a ticket's status changes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.metrics import MetricUnit

from helpdesk.domain.errors import Forbidden, NotFound
from helpdesk.domain.workflow import HUMAN_ACTIONS, Action, ActionInput

from .deps import current_caller, get_service, ticket_response
from .schemas import ActionIn, TicketOut, responses
from .tickets import TicketNumber

router = Router()
metrics = Metrics()

ACTION_NAMES = ", ".join(a.value for a in HUMAN_ACTIONS)


def parse_action(name: str) -> Action:
    try:
        action = Action(name)
    except ValueError:
        raise NotFound(f"There is no action '{name}'; actions are: {ACTION_NAMES}.") from None
    if action not in HUMAN_ACTIONS:
        raise Forbidden(f"'{name}' is performed by the system only.")
    return action


def parse_if_match(value: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` → 3; absent or `*` → None; anything else is 0, which no
    version matches (versions start at 1), so the service answers 412."""
    if value is None or value.strip() in ("", "*"):
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip().strip('"')
    if not text.isdigit():
        return 0
    return int(text)


@router.post(
    "/tickets/<number>/actions/<action>",
    summary="Perform a workflow action",
    description=f'Actions: {ACTION_NAMES}. `If-Match: "<version>"` is honoured (412).',
    tags=["actions"],
    responses=responses(200, TicketOut, 404, 409, 412),
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
    expected = parse_if_match(if_match)
    fields = body or ActionIn()
    params = ActionInput(**fields.model_dump())
    service = get_service()
    transition = service.perform(caller, number, chosen, params, expected_version=expected)
    metrics.add_metric(name="ActionsApplied", unit=MetricUnit.Count, value=1)
    return ticket_response(transition.ticket, caller)
