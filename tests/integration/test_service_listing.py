"""Listing tickets: scoped to the caller, filtered, paginated by opaque cursors."""

from __future__ import annotations

import base64
import json

import pytest

from helpdesk.domain.errors import Forbidden, InvalidInput
from helpdesk.domain.listing import TicketQuery
from helpdesk.domain.model import Caller, Status, Ticket, TicketType
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, FINANCE, L1, L2, L2B, MANAGER, OTHER_CLIENT


def list_all(
    service: HelpdeskService, caller: Caller, filters: TicketQuery, limit: int = 100
) -> list[int]:
    """Every ticket number the caller sees with these filters, following the cursors."""
    numbers: list[int] = []
    cursor: str | None = None
    while True:
        page, cursor = service.list_tickets(caller, filters, cursor, limit)
        numbers.extend(t.number for t in page)
        if cursor is None:
            return numbers


def create(
    service: HelpdeskService, caller: Caller, kind: TicketType, org_id: str | None = None
) -> Ticket:
    return service.create_ticket(caller, title="t", description="", type=kind, org_id=org_id)


def encode(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def test_client_sees_only_its_organisation(service: HelpdeskService) -> None:
    acme = [create(service, CLIENT, TicketType.ASSISTANCE).number for _ in range(3)]
    globex = [create(service, OTHER_CLIENT, TicketType.INCIDENT).number for _ in range(2)]
    assert list_all(service, CLIENT, TicketQuery()) == sorted(acme, reverse=True)
    assert list_all(service, OTHER_CLIENT, TicketQuery()) == sorted(globex, reverse=True)
    assert list_all(service, CLIENT, TicketQuery(org_id="globex")) == []
    assert list_all(service, L1, TicketQuery()) == sorted(acme + globex, reverse=True)
    assert list_all(service, MANAGER, TicketQuery(org_id="globex")) == sorted(
        globex, reverse=True
    )
    with pytest.raises(Forbidden):
        service.list_tickets(FINANCE, TicketQuery(), None, 10)


def test_filters(service: HelpdeskService) -> None:
    assistance = create(service, CLIENT, TicketType.ASSISTANCE).number  # 1
    incident = create(service, CLIENT, TicketType.INCIDENT).number  # 2
    evolution = create(service, CLIENT, TicketType.EVOLUTION).number  # 3
    other = create(service, OTHER_CLIENT, TicketType.INCIDENT).number  # 4
    service.perform(L1, assistance, Action.TAKE, ActionInput())
    service.perform(L2, incident, Action.TAKE, ActionInput(assignee=L2B.id))
    service.perform(L2, evolution, Action.TAKE, ActionInput())
    service.perform(L2, evolution, Action.START, ActionInput())
    service.perform(OTHER_CLIENT, other, Action.CANCEL, ActionInput())

    def numbers(caller: Caller, status: Status | None = None, **filters: object) -> list[int]:
        statuses = frozenset({status}) if status is not None else None
        query = TicketQuery(statuses=statuses, **filters)  # type: ignore[arg-type]
        return list_all(service, caller, query, limit=2)

    assert numbers(CLIENT, status=Status.TAKEN) == [incident, assistance]
    assert numbers(CLIENT, status=Status.IN_PROGRESS) == [evolution]
    assert numbers(CLIENT, type=TicketType.INCIDENT) == [incident]
    assert numbers(L1, type=TicketType.INCIDENT) == [other, incident]
    assert numbers(L1, level=2) == [other, evolution, incident]
    assert numbers(L1, level=2, status=Status.TAKEN) == [incident]
    assert numbers(L1, level=2, status=Status.CLOSED) == [other]
    assert numbers(L1, status=Status.CLOSED) == [other]
    assert numbers(L1, assignee=L2B.id) == [incident]
    assert numbers(L1, assignee=L2.id, type=TicketType.EVOLUTION) == [evolution]
    assert numbers(CLIENT, assignee=L2B.id, level=2) == [incident]
    assert numbers(OTHER_CLIENT, assignee=L2B.id) == []
    with pytest.raises(InvalidInput) as bad_limit:
        service.list_tickets(L1, TicketQuery(), None, 0)
    assert bad_limit.value.field == "limit"


def test_cursor_pagination_10_10_5(service: HelpdeskService) -> None:
    for _ in range(25):
        create(service, CLIENT, TicketType.ASSISTANCE)
    create(service, OTHER_CLIENT, TicketType.ASSISTANCE)  # 26, never in acme's pages
    seen: list[int] = []
    sizes: list[int] = []
    cursor: str | None = None
    for _ in range(3):
        page, cursor = service.list_tickets(CLIENT, TicketQuery(), cursor, 10)
        sizes.append(len(page))
        seen.extend(t.number for t in page)
        if cursor is None:
            break
    assert sizes == [10, 10, 5]
    assert cursor is None
    assert seen == list(range(25, 0, -1))
    # With a filter, pages still fill up to the limit.
    page, cursor = service.list_tickets(
        MANAGER, TicketQuery(type=TicketType.ASSISTANCE), None, 10
    )
    assert [t.number for t in page] == list(range(26, 16, -1)) and cursor is not None


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "%%%",
        encode(["pk", "sk"]),
        encode({"pk": "TICKET#1", "sk": "TICKET", "org_pk": 1, "org_sk": "x"}),
        encode({"pk": "TICKET#1", "sk": "TICKET", "password": "x"}),
        # A key of another organisation's partition.
        encode({"pk": "TICKET#2", "sk": "TICKET", "org_pk": "ORG#globex", "org_sk": "0000000002"}),
        # A key of another index.
        encode({"pk": "TICKET#2", "sk": "TICKET", "all_pk": "TICKETS", "all_sk": "0000000002"}),
    ],
)
def test_forged_cursor_is_invalid_input(service: HelpdeskService, cursor: str) -> None:
    create(service, CLIENT, TicketType.ASSISTANCE)
    create(service, OTHER_CLIENT, TicketType.ASSISTANCE)
    with pytest.raises(InvalidInput) as refused:
        service.list_tickets(CLIENT, TicketQuery(), cursor, 10)
    assert refused.value.field == "cursor"
