"""Finding tickets (DESIGN.md §7): every filter of GET /tickets, the search, the orders and
the pages, on the DynamoDB adapter (moto). Expected numbers are typed from the scenario."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.changes import TicketUpdated
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.listing import (
    ACTIVE_STATUSES,
    Sort,
    TicketQuery,
    created_range,
    parse_statuses,
)
from helpdesk.domain.model import Caller, Priority, TicketType
from helpdesk.domain.search import parse_query
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L2, L2B, MANAGER, OTHER_CLIENT, Clock


def find(service: HelpdeskService, caller: Caller, limit: int = 2, **fields: Any) -> list[int]:
    """Every number listed for this query, page after page (small pages on purpose)."""
    query = TicketQuery(**fields)
    numbers: list[int] = []
    cursor: str | None = None
    for _ in range(100):
        page, cursor = service.list_tickets(caller, query, cursor, limit)
        numbers.extend(t.number for t in page)
        if cursor is None:
            return numbers
    raise AssertionError("the pages never end")


def open_ticket(
    service: HelpdeskService, caller: Caller, title: str, kind: TicketType, org: str | None = None
) -> int:
    return service.create_ticket(caller, title=title, description="", type=kind, org_id=org).number


@pytest.fixture
def desk(service: HelpdeskService, clock: Clock) -> dict[str, int]:
    """Six tickets, one minute apart, in the states the tests look for."""
    made: dict[str, int] = {}

    def tick(name: str, number: int) -> None:
        made[name] = number
        clock.now += timedelta(minutes=1)

    tick(
        "user",
        open_ticket(service, CLIENT, "Création de l'utilisateur Fabrice", TicketType.ASSISTANCE),
    )
    tick(
        "printer",
        open_ticket(service, CLIENT, "Imprimante du 2e étage en panne", TicketType.INCIDENT),
    )
    tick("report", open_ticket(service, CLIENT, "Nouveau rapport des ventes", TicketType.EVOLUTION))
    tick(
        "globex", open_ticket(service, OTHER_CLIENT, "Création d'un compte", TicketType.ASSISTANCE)
    )
    tick("spam", open_ticket(service, CLIENT, "Gagnez un iPhone", TicketType.ASSISTANCE))
    tick("mine", open_ticket(service, MANAGER, "Utilisateurs bloqués", TicketType.INCIDENT, "acme"))
    service.perform(L1, made["user"], Action.TAKE, ActionInput(priority=Priority.HIGH))
    clock.now += timedelta(minutes=1)
    service.perform(
        L2, made["printer"], Action.TAKE, ActionInput(assignee=L2B.id, priority=Priority.CRITICAL)
    )
    clock.now += timedelta(minutes=1)
    service.perform(L2, made["mine"], Action.TAKE, ActionInput(priority=Priority.CRITICAL))
    clock.now += timedelta(minutes=1)
    service.perform(L1, made["spam"], Action.CANCEL, ActionInput(reason="Spam"))
    clock.now += timedelta(minutes=1)
    return made


def test_status_lists_and_active(service: HelpdeskService, desk: dict[str, int]) -> None:
    n = desk
    assert find(service, L1, statuses=parse_statuses("open")) == [n["globex"], n["report"]]
    assert find(service, L1, statuses=parse_statuses("taken,closed")) == [
        n["spam"],
        n["mine"],
        n["printer"],
        n["user"],
    ]
    active = find(service, L1, statuses=parse_statuses("active"))
    assert sorted(active) == sorted([n["user"], n["printer"], n["report"], n["globex"], n["mine"]])
    assert parse_statuses("active") == ACTIVE_STATUSES
    with pytest.raises(InvalidInput) as bad:
        parse_statuses("open,bogus")
    assert bad.value.field == "status"


def test_priority_requester_org(service: HelpdeskService, desk: dict[str, int]) -> None:
    n = desk
    assert find(service, L1, priority=Priority.CRITICAL) == [n["mine"], n["printer"]]
    assert find(service, L1, requester=MANAGER.id) == [n["mine"]]
    assert find(service, L1, org_id="globex") == [n["globex"]]
    assert find(service, CLIENT, org_id="globex") == []


def test_assignee_me_and_none(service: HelpdeskService, desk: dict[str, int]) -> None:
    n = desk
    assert find(service, L2B, assignee="me") == [n["printer"]]
    assert find(service, L2, assignee="me") == [n["mine"]]
    assert find(service, L1, assignee="me") == [n["user"]]
    # The queue: nobody holds it and it is not closed (the cancelled spam is not there).
    queue = find(service, L1, unassigned=True, statuses=parse_statuses("active"))
    assert queue == [n["globex"], n["report"]]
    assert find(service, L1, unassigned=True, statuses=parse_statuses("active"), level=1) == [
        n["globex"]
    ]
    # Closed and unassigned: the cancelled spam, from the broad index.
    assert find(service, L1, unassigned=True, statuses=parse_statuses("closed")) == [n["spam"]]


def test_search_by_word_starts_case_and_accents(
    service: HelpdeskService, desk: dict[str, int]
) -> None:
    n = desk
    assert find(service, L1, search=parse_query("creat util")) == [n["user"]]
    assert find(service, L1, search=parse_query("CREATION")) == [n["user"], n["globex"]]
    assert find(service, L1, search=parse_query("etage")) == [n["printer"]]
    assert find(service, L1, search=parse_query("util")) == [n["mine"], n["user"]]
    assert find(service, L1, search=parse_query("tilisateur")) == []  # a start, not a middle
    assert find(service, L1, search=parse_query("creation inconnu")) == []
    assert find(service, L1, search=parse_query(f"#{n['printer']}")) == [n["printer"]]
    assert find(service, L1, search=parse_query(str(n["printer"]))) == [n["printer"]]
    # A client searches its organisation only.
    assert find(service, CLIENT, search=parse_query("creation")) == [n["user"]]
    assert find(service, OTHER_CLIENT, search=parse_query("creation")) == [n["globex"]]
    assert find(service, OTHER_CLIENT, search=parse_query(f"#{n['user']}")) == []
    # Combined with other filters.
    assert find(
        service,
        L1,
        search=parse_query("creation"),
        type=TicketType.ASSISTANCE,
        statuses=parse_statuses("taken"),
    ) == [n["user"]]


def test_a_new_title_keeps_the_search_right(
    service: HelpdeskService, uow: DynamoUnitOfWork, desk: dict[str, int], clock: Clock
) -> None:
    number = desk["report"]
    before = uow.tickets.get(number)
    after = replace(
        before, title="Tableau de bord des ventes", version=before.version + 1, updated_at=clock.now
    )
    uow.add(TicketUpdated(before, after))
    uow.commit()
    assert find(service, L1, search=parse_query("tableau bord")) == [number]
    assert find(service, L1, search=parse_query("ventes")) == [number]
    assert find(service, L1, search=parse_query("rapport")) == []


def test_created_range_in_paris_days(service: HelpdeskService, clock: Clock) -> None:
    # 23:30 UTC on 30 November is 1 December in Paris.
    clock.now = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    late_november = open_ticket(service, CLIENT, "a", TicketType.ASSISTANCE)
    clock.now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    december = open_ticket(service, CLIENT, "b", TicketType.ASSISTANCE)
    start, before = created_range(date(2026, 12, 1), date(2026, 12, 1))
    assert find(service, L1, created_from=start, created_before=before) == [december]
    start, before = created_range(None, date(2026, 11, 30))
    assert find(service, L1, created_from=start, created_before=before) == [late_november]
    with pytest.raises(InvalidInput) as bad:
        created_range(date(2026, 12, 2), date(2026, 12, 1))
    assert bad.value.field == "created_to"


def test_orders(service: HelpdeskService, desk: dict[str, int]) -> None:
    n = desk
    everything = [n["user"], n["printer"], n["report"], n["globex"], n["spam"], n["mine"]]
    # updated: the last change first (the fixture's actions, then the creations).
    by_update = [n["spam"], n["mine"], n["printer"], n["user"], n["globex"], n["report"]]
    assert find(service, L1) == by_update
    assert find(service, L1, sort=Sort.parse("updated")) == by_update
    assert find(service, L1, sort=Sort.parse("-updated")) == by_update[::-1]
    assert find(service, L1, sort=Sort.parse("number")) == sorted(everything, reverse=True)
    assert find(service, L1, sort=Sort.parse("created")) == sorted(everything, reverse=True)
    assert find(service, L1, sort=Sort.parse("-number")) == sorted(everything)
    # priority: critical first, then oldest; normal ones by age.
    expected = [n["printer"], n["mine"], n["user"], n["report"], n["globex"], n["spam"]]
    assert find(service, L1, sort=Sort.parse("priority")) == expected
    assert find(service, L1, sort=Sort.parse("-priority")) == expected[::-1]
    active_by_priority = find(
        service, L1, sort=Sort.parse("priority"), statuses=parse_statuses("active")
    )
    assert active_by_priority == [n["printer"], n["mine"], n["user"], n["report"], n["globex"]]
    with pytest.raises(InvalidInput) as bad:
        Sort.parse("oldest")
    assert bad.value.field == "sort"


def test_pages_do_not_repeat_or_skip(service: HelpdeskService, desk: dict[str, int]) -> None:
    for sort in ("updated", "-updated", "number", "priority", "-priority"):
        for limit in (1, 2, 4, 100):
            pages = find(service, MANAGER, limit=limit, sort=Sort.parse(sort))
            assert sorted(pages) == sorted(desk.values()), (sort, limit)
            assert len(pages) == len(set(pages))


def test_forged_cursors_are_invalid(service: HelpdeskService, desk: dict[str, int]) -> None:
    _, cursor = service.list_tickets(L1, TicketQuery(), None, 1)
    assert cursor is not None
    for query in (TicketQuery(org_id="acme"), TicketQuery(sort=Sort.parse("priority"))):
        with pytest.raises(InvalidInput) as bad:
            service.list_tickets(L1, query, cursor, 1)
        assert bad.value.field == "cursor"
