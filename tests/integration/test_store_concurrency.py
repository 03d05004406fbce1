"""Two writers on one ticket version, and sequential numbers under concurrent creation."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from helpdesk import side_effects
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.repositories import DynamoTicketRepository
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.directory import Consultant
from helpdesk.domain.errors import StaleVersion, StatusConflict
from helpdesk.domain.model import Caller, Status, Ticket, TicketType
from helpdesk.domain.workflow import Action, ActionContext, ActionInput, Transition, decide
from helpdesk.ports import TicketChanged
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L2, L2B, MANAGER, REGION, TABLE_NAME, Clock
from tests.integration.store_support import (
    own_service,
    partition_items,
    raw_item,
    ticket_item,
)

BARRIER_TIMEOUT = 10
# Concurrent requests on one ticket in the concurrency tests, each in its own environment.
ENVIRONMENTS = 20


def in_progress_ticket(service: HelpdeskService, title: str = "race") -> Ticket:
    number = service.create_ticket(
        CLIENT, title=title, description="", type=TicketType.ASSISTANCE
    ).number
    for action in (Action.TAKE, Action.START):
        service.perform(L1, number, action, ActionInput())
    return service.uow.tickets.get(number)


def answered_ticket(service: HelpdeskService, title: str = "race") -> Ticket:
    number = in_progress_ticket(service, title).number
    service.perform(L1, number, Action.SEND_ANSWER, ActionInput(message="done"))
    return service.uow.tickets.get(number)


def events_for_version(uow: DynamoUnitOfWork, number: int, version: int) -> list[str]:
    return [e.action for e in uow.tickets.history(number) if e.version == version]


def commit(uow: DynamoUnitOfWork, transition: Transition) -> None:
    """What the service commits for an applied action: one unit of work."""
    uow.add(*side_effects.of_transition(transition))
    uow.commit()


# ---------- deterministic: two transitions decided from the same loaded ticket ----------


def test_second_commit_of_the_same_version_loses_with_the_stored_ticket(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    ticket = in_progress_ticket(service)
    context = ActionContext(now=clock())
    hold = decide(ticket, L1, Action.HOLD, ActionInput(reason="r"), context)
    answer = decide(ticket, L1, Action.SEND_ANSWER, ActionInput(message="m"), context)
    commit(uow, hold)
    with pytest.raises(TicketChanged) as lost:
        commit(uow, answer)
    assert lost.value.status_changed is True
    assert lost.value.current == hold.ticket  # the stored ticket, from the failed condition
    stored = uow.tickets.get(ticket.number)
    assert (stored.status, stored.version) == (Status.ON_HOLD, ticket.version + 1)
    assert events_for_version(uow, ticket.number, ticket.version + 1) == ["hold"]
    assert len(uow.tickets.history(ticket.number)) == ticket.version + 1


def test_version_only_conflict_is_reported_without_status_change(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    ticket = in_progress_ticket(service)
    context = ActionContext(now=clock())
    first = decide(ticket, MANAGER, Action.ESCALATE, ActionInput(), context)
    second = decide(ticket, L1, Action.ESCALATE, ActionInput(), context)
    commit(uow, first)
    with pytest.raises(TicketChanged) as lost:
        commit(uow, second)
    assert lost.value.status_changed is False
    assert lost.value.current.version == ticket.version + 1
    assert events_for_version(uow, ticket.number, ticket.version + 1) == ["escalate"]
    assert uow.tickets.history(ticket.number)[-1].actor == MANAGER.id
    assert uow.tickets.get(ticket.number).support_level == 2


def interleave(
    uow: DynamoUnitOfWork, monkeypatch: pytest.MonkeyPatch, other: Callable[[], Any]
) -> None:
    """Run `other` (another writer) right after the next ticket read, once."""
    original = uow.tickets.get
    done = False

    def get_ticket(number: int) -> Ticket:
        nonlocal done
        ticket = original(number)
        if not done:
            done = True
            other()
        return ticket

    monkeypatch.setattr(uow.tickets, "get", get_ticket)


def test_service_status_conflict_is_409_with_allowed_actions(
    service: HelpdeskService, uow: DynamoUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = in_progress_ticket(service)
    n = ticket.number
    interleave(uow, monkeypatch, lambda: service.perform(L1, n, Action.HOLD, ActionInput()))
    with pytest.raises(StatusConflict) as conflict:
        service.perform(L1, n, Action.SEND_ANSWER, ActionInput(message="m"))
    assert "Un instant" in conflict.value.detail
    assert conflict.value.allowed_actions == ["resume", "assign"]
    assert events_for_version(uow, n, ticket.version + 1) == ["hold"]
    assert len(uow.tickets.history(n)) == ticket.version + 1


def test_service_retries_when_only_the_version_changed(
    service: HelpdeskService, uow: DynamoUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = answered_ticket(service)
    n = ticket.number
    # A client comment suspends the countdown: version + 1, same status.
    interleave(uow, monkeypatch, lambda: service.add_comment(CLIENT, n, body="hm"))
    transition = service.perform(L1, n, Action.CLOSE, ActionInput(note="phoned"))
    assert transition.before.version == ticket.version + 1
    stored = uow.tickets.get(n)
    assert (stored.status, stored.version) == (Status.CLOSED, ticket.version + 2)
    assert events_for_version(uow, n, ticket.version + 2) == ["close"]
    assert len(partition_items(uow.table.client, n, "COMMENT#")) == 1


@pytest.mark.parametrize("status_changes", [False, True])
def test_service_if_match_loser_gets_stale_version(
    service: HelpdeskService,
    uow: DynamoUnitOfWork,
    monkeypatch: pytest.MonkeyPatch,
    status_changes: bool,
) -> None:
    ticket = answered_ticket(service)
    n = ticket.number

    def other() -> None:
        if status_changes:
            service.perform(CLIENT, n, Action.REOPEN, ActionInput(reason="no"))
        else:
            service.add_comment(CLIENT, n, body="hm")

    interleave(uow, monkeypatch, other)
    with pytest.raises(StaleVersion) as stale:
        service.perform(L1, n, Action.CLOSE, ActionInput(note="x"), expected_version=ticket.version)
    assert stale.value.current_version == ticket.version + 1
    assert uow.tickets.get(n).version == ticket.version + 1
    assert [e.action for e in uow.tickets.history(n) if e.version > ticket.version] == (
        ["reopen"] if status_changes else []
    )


def test_service_if_match_mismatch_before_any_write(service: HelpdeskService) -> None:
    ticket = in_progress_ticket(service)
    with pytest.raises(StaleVersion) as stale:
        service.perform(L1, ticket.number, Action.HOLD, ActionInput(), expected_version=1)
    assert stale.value.current_version == ticket.version
    assert service.uow.tickets.get(ticket.number).version == ticket.version


# ---------- real threads ----------


@contextmanager
def reading_together(parties: int) -> Iterator[None]:
    """Inside, `parties` threads' ticket reads wait for each other: they load one version.

    Each thread runs its own service (`perform_job`), so the read is patched on the class."""
    barrier = threading.Barrier(parties, timeout=BARRIER_TIMEOUT)
    original = DynamoTicketRepository.get
    # A take reads the ticket with the taker's roster entry (one BatchGetItem): held too, or
    # the two takes would only race by chance.
    original_with_consultant = DynamoTicketRepository.get_with_consultant

    def get_ticket(self: DynamoTicketRepository, number: int) -> Ticket:
        ticket = original(self, number)
        barrier.wait()
        return ticket

    def get_with_consultant(
        self: DynamoTicketRepository, number: int, consultant_id: str
    ) -> tuple[Ticket, Consultant | None]:
        found = original_with_consultant(self, number, consultant_id)
        barrier.wait()
        return found

    DynamoTicketRepository.get = get_ticket  # type: ignore[method-assign]
    DynamoTicketRepository.get_with_consultant = get_with_consultant  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoTicketRepository.get = original  # type: ignore[method-assign]
        DynamoTicketRepository.get_with_consultant = original_with_consultant  # type: ignore[method-assign]


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs in threads at once; each result is the return value or the exception."""
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        try:
            results[index] = jobs[index]()
        except Exception as exc:  # collected for the assertions
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def perform_job(
    service: HelpdeskService,
    caller: Caller,
    number: int,
    action: Action,
    params: ActionInput,
    expected_version: int | None = None,
) -> Callable[[], Any]:
    """The action, run by a service of its own (another Lambda environment)."""
    own = own_service(service)
    return lambda: own.perform(caller, number, action, params, expected_version)


@pytest.mark.parametrize("if_match", [False, True])
def test_threads_racing_on_one_version_one_wins(
    service: HelpdeskService,
    uow: DynamoUnitOfWork,
    if_match: bool,
) -> None:
    tickets = [in_progress_ticket(service, f"race {i}") for i in range(10)]
    for ticket in tickets:
        n, version = ticket.number, ticket.version
        expected = version if if_match else None
        with reading_together(2):
            results = run_together(
                [
                    perform_job(service, L1, n, Action.HOLD, ActionInput(), expected),
                    perform_job(
                        service, L1, n, Action.SEND_ANSWER, ActionInput(message="m"), expected
                    ),
                ]
            )
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert isinstance(losers[0], StaleVersion if if_match else StatusConflict), losers
        stored = uow.tickets.get(n)
        assert stored.version == version + 1
        assert stored.status is winners[0].ticket.status
        assert events_for_version(uow, n, version + 1) == [winners[0].event.action]
        assert len(uow.tickets.history(n)) == version + 1


def test_threads_same_action_twice_applies_once(
    service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    """Two consultants of the level take the same ticket at once: one take applies."""
    number = service.create_ticket(
        CLIENT, title="dup", description="", type=TicketType.INCIDENT
    ).number
    with reading_together(2):
        results = run_together(
            [
                perform_job(service, L2, number, Action.TAKE, ActionInput()),
                perform_job(service, L2B, number, Action.TAKE, ActionInput()),
            ]
        )
    assert isinstance(next(r for r in results if isinstance(r, Exception)), StatusConflict)
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert [e.action for e in uow.tickets.history(number)] == ["create", "take"]
    assert len(uow.tickets.with_tasks(number)[1]) == 1


def test_threads_version_only_race_retries(service: HelpdeskService, uow: DynamoUnitOfWork) -> None:
    for i in range(5):
        ticket = answered_ticket(service, f"answered {i}")
        n = ticket.number
        with reading_together(2):
            results = run_together(
                [
                    functools.partial(
                        own_service(service).add_comment, CLIENT, n, body="a question"
                    ),
                    perform_job(service, L1, n, Action.CLOSE, ActionInput(note="n")),
                ]
            )
        assert not any(isinstance(r, Exception) for r in results), results
        stored = uow.tickets.get(n)
        assert stored.status is Status.CLOSED
        assert [e.action for e in uow.tickets.history(n)][-1] == "close"
        assert len(partition_items(uow.table.client, n, "COMMENT#")) == 1


def environment_uow(barrier: threading.Barrier) -> DynamoUnitOfWork:
    """A unit of work of its own (own client), as in another Lambda execution environment,
    whose first ticket read waits at `barrier`: every environment decides on one version."""
    own = DynamoUnitOfWork(Table(boto3.client("dynamodb", region_name=REGION), TABLE_NAME))
    original = own.tickets.get
    waited = False

    def get(number: int) -> Ticket:
        nonlocal waited
        ticket = original(number)
        if not waited:
            waited = True
            barrier.wait()
        return ticket

    own.tickets.get = get  # type: ignore[method-assign]
    return own


@pytest.mark.parametrize("if_match", [False, True], ids=["no-if-match", "if-match"])
def test_twenty_environments_start_one_taken_ticket_once(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock, if_match: bool
) -> None:
    """Twenty `start`s of one taken ticket, each in its own service and unit of work (as
    twenty Lambda environments would run them), read version 2 at once: the conditional write
    lets exactly one apply; the others get 409 (StatusConflict) or, with If-Match, 412
    (StaleVersion)."""
    number = service.create_ticket(
        CLIENT, title="twenty starts", description="", type=TicketType.ASSISTANCE
    ).number
    service.perform(L1, number, Action.TAKE, ActionInput())
    taken = uow.tickets.get(number)
    assert (taken.status, taken.version) == (Status.TAKEN, 2)
    barrier = threading.Barrier(ENVIRONMENTS, timeout=BARRIER_TIMEOUT)
    services = [HelpdeskService(environment_uow(barrier), clock=clock) for _ in range(ENVIRONMENTS)]
    expected = taken.version if if_match else None
    results = run_together(
        [
            functools.partial(s.perform, L1, number, Action.START, ActionInput(), expected)
            for s in services
        ]
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    loser_type = StaleVersion if if_match else StatusConflict
    assert all(type(r) is loser_type for r in losers), losers
    assert len(losers) == ENVIRONMENTS - 1
    stored = uow.tickets.get(number)
    assert (stored.status, stored.version) == (Status.IN_PROGRESS, 3)
    history = [e.action for e in uow.tickets.history(number)]
    assert history.count("start") == 1, history
    assert len(history) == 3


# ---------- sequential numbers ----------


@pytest.mark.slow
def test_thousand_concurrent_creations_get_numbers_1_to_1000(
    service: HelpdeskService, dynamodb: Any
) -> None:
    total, workers = 1000, 8

    def create(i: int) -> int:
        return (
            own_service(service)
            .create_ticket(CLIENT, title=f"ticket {i}", description="", type=TicketType.ASSISTANCE)
            .number
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        numbers = list(pool.map(create, range(total)))
    assert sorted(numbers) == list(range(1, total + 1))
    counter = raw_item(dynamodb, keys.COUNTER_KEY["pk"], keys.COUNTER_KEY["sk"])
    assert counter is not None and counter["value"] == total
    count = dynamodb.query(
        TableName=TABLE_NAME,
        IndexName="all_tickets",
        KeyConditionExpression="all_pk = :p",
        ExpressionAttributeValues={":p": {"S": keys.ALL_TICKETS_PK}},
        Select="COUNT",
    )["Count"]
    assert count == total
    assert ticket_item(dynamodb, total)["title"].startswith("ticket ")
    assert [e.action for e in service.uow.tickets.history(total)] == ["create"]
