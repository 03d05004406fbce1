"""POST /tickets (idempotent with `Idempotency-Key`), GET /tickets, GET /tickets/{number}."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.model import Caller, Status, Ticket, TicketType
from helpdesk.service import TicketFilters
from helpdesk.settings import get_settings

from .deps import current_caller, get_service, ok, ticket_response
from .schemas import TicketIn, TicketList, TicketOut, responses, ticket_out

router = Router()
metrics = Metrics()

TicketNumber = Annotated[int, Path(gt=0, description="the ticket number (#88 → 88)")]
MAX_KEY_LENGTH = 255
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


def _create(caller: Caller, body: dict[str, Any]) -> Ticket:
    ticket = get_service().create_ticket(
        caller,
        title=body["title"],
        description=body.get("description") or "",
        type=TicketType(body["type"]),
        org_id=body.get("org_id"),
    )
    metrics.add_metric(name="TicketsCreated", unit=MetricUnit.Count, value=1)
    return ticket


@lru_cache(maxsize=1)
def _idempotency() -> tuple[Callable[..., dict[str, Any]], Any]:
    """The idempotent create, built on first use: its persistence layer makes a boto3 client."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from helpdesk.adapters import aws_clients

    settings = get_settings()
    if not settings.idempotency_table_name:
        raise RuntimeError("IDEMPOTENCY_TABLE_NAME is not set")
    client = aws_clients.client("dynamodb", settings)
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=client
    )
    config = IdempotencyConfig(
        event_key_jmespath="[sub, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config
    )
    def create_once(
        request: dict[str, Any], caller: Caller, created: list[Ticket]
    ) -> dict[str, Any]:
        created.append(_create(caller, request["body"]))
        return {"number": created[-1].number}

    return create_once, config


def reset_idempotency() -> None:
    """Forget the persistence layer (tests that change the settings)."""
    _idempotency.cache_clear()


@router.post(
    "/tickets",
    status_code=201,
    summary="Open a ticket",
    description="The same `Idempotency-Key` and body give the same ticket; the same key with "
    "another body is 422.",
    tags=["tickets"],
    responses=responses(201, TicketOut, 409),
)
def create_ticket(
    body: TicketIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[TicketOut]:
    caller = current_caller(router)
    payload = body.model_dump(mode="json")
    if idempotency_key is None:
        ticket = _create(caller, payload)
    else:
        key = idempotency_key.strip()
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise InvalidInput("Idempotency-Key", "'Idempotency-Key' must be 1-255 characters.")
        create_once, config = _idempotency()
        if router.lambda_context is not None:
            config.register_lambda_context(router.lambda_context)
        created: list[Ticket] = []
        request = {"sub": caller.id, "key": key, "body": payload}
        result = create_once(request=request, caller=caller, created=created)
        # A replay answers with the ticket as it is now; a first call has it in hand.
        ticket = created[0] if created else get_service().get_ticket(caller, int(result["number"]))
    return ticket_response(ticket, caller, 201, {"Location": f"/tickets/{ticket.number}"})


@router.get(
    "/tickets",
    summary="List the tickets the caller sees",
    tags=["tickets"],
    responses=responses(200, TicketList),
)
def list_tickets(
    status: Annotated[Status | None, Query()] = None,
    type: Annotated[TicketType | None, Query()] = None,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    assignee: Annotated[str | None, Query(max_length=128)] = None,
    org_id: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response[TicketList]:
    caller = current_caller(router)
    service = get_service()
    filters = TicketFilters(status=status, type=type, level=level, assignee=assignee, org_id=org_id)
    tickets, next_cursor = service.list_tickets(caller, filters, cursor, limit)
    items = [ticket_out(t, service.allowed(t, caller)) for t in tickets]
    return ok(TicketList(items=items, next_cursor=next_cursor))


@router.get(
    "/tickets/<number>",
    summary="One ticket",
    tags=["tickets"],
    responses=responses(200, TicketOut, 404),
)
def get_ticket(number: TicketNumber) -> Response[TicketOut]:
    caller = current_caller(router)
    return ticket_response(get_service().get_ticket(caller, number), caller)
