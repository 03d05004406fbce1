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

from helpdesk.adapters import keys
from helpdesk.adapters.dynamo import DynamoStore, TicketChanged
from helpdesk.domain.errors import StaleVersion, StatusConflict
from helpdesk.domain.model import Caller, Status, Ticket, TicketType
from helpdesk.domain.workflow import Action, ActionContext, ActionInput, decide
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L2, L2B, MANAGER, REGION, TABLE_NAME, Clock
from tests.integration.store_support import partition_items, raw_item, ticket_item

BARRIER_TIMEOUT = 10
# Concurrent requests on one ticket in the concurrency tests, each in its own environment.
ENVIRONMENTS = 20


def in_progress_ticket(service: HelpdeskService, title: str = "race") -> Ticket:
    number = service.create_ticket(
        CLIENT, title=title, description="", type=TicketType.ASSISTANCE
    ).number
    for action in (Action.TAKE, Action.START):
        service.perform(L1, number, action, ActionInput())
    return service.store.get_ticket(number)


def answered_ticket(service: HelpdeskService, title: str = "race") -> Ticket:
    number = in_progress_ticket(service, title).number
    service.perform(L1, number, Action.SEND_ANSWER, ActionInput(message="done"))
    return service.store.get_ticket(number)


def events_for_version(store: DynamoStore, number: int, version: int) -> list[str]:
    return [e.action for e in store.history(number) if e.version == version]


# ---------- deterministic: two transitions decided from the same loaded ticket ----------


def test_second_commit_of_the_same_version_loses_with_the_stored_ticket(
    service: HelpdeskService, store: DynamoStore, clock: Clock
) -> None:
    ticket = in_progress_ticket(service)
    context = ActionContext(now=clock())
    hold = decide(ticket, L1, Action.HOLD, ActionInput(reason="r"), context)
    answer = decide(ticket, L1, Action.SEND_ANSWER, ActionInput(message="m"), context)
    store.commit(hold)
    with pytest.raises(TicketChanged) as lost:
        store.commit(answer)
    assert lost.value.status_changed is True
    assert lost.value.current == hold.ticket  # the stored ticket, from the failed condition
    stored = store.get_ticket(ticket.number)
    assert (stored.status, stored.version) == (Status.ON_HOLD, ticket.version + 1)
    assert events_for_version(store, ticket.number, ticket.version + 1) == ["hold"]
    assert len(store.history(ticket.number)) == ticket.version + 1


def test_version_only_conflict_is_reported_without_status_change(
    service: HelpdeskService, store: DynamoStore, clock: Clock
) -> None:
    ticket = in_progress_ticket(service)
    context = ActionContext(now=clock())
    first = decide(ticket, MANAGER, Action.ESCALATE, ActionInput(), context)
    second = decide(ticket, L1, Action.ESCALATE, ActionInput(), context)
    store.commit(first)
    with pytest.raises(TicketChanged) as lost:
        store.commit(second)
    assert lost.value.status_changed is False
    assert lost.value.current.version == ticket.version + 1
    assert events_for_version(store, ticket.number, ticket.version + 1) == ["escalate"]
    assert store.history(ticket.number)[-1].actor == MANAGER.id
    assert store.get_ticket(ticket.number).support_level == 2


def interleave(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch, other: Callable[[], Any]
) -> None:
    """Run `other` (another writer) right after the next ticket read, once."""
    original = store.get_ticket
    done = False

    def get_ticket(number: int) -> Ticket:
        nonlocal done
        ticket = original(number)
        if not done:
            done = True
            other()
        return ticket

    monkeypatch.setattr(store, "get_ticket", get_ticket)


def test_service_status_conflict_is_409_with_allowed_actions(
    service: HelpdeskService, store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = in_progress_ticket(service)
    n = ticket.number
    interleave(store, monkeypatch, lambda: service.perform(L1, n, Action.HOLD, ActionInput()))
    with pytest.raises(StatusConflict) as conflict:
        service.perform(L1, n, Action.SEND_ANSWER, ActionInput(message="m"))
    assert "Un instant" in conflict.value.detail
    assert conflict.value.allowed_actions == ["resume"]
    assert events_for_version(store, n, ticket.version + 1) == ["hold"]
    assert len(store.history(n)) == ticket.version + 1


def test_service_retries_when_only_the_version_changed(
    service: HelpdeskService, store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = answered_ticket(service)
    n = ticket.number
    # A client comment suspends the countdown: version + 1, same status.
    interleave(store, monkeypatch, lambda: service.add_comment(CLIENT, n, body="hm"))
    transition = service.perform(L1, n, Action.CLOSE, ActionInput(note="phoned"))
    assert transition.before.version == ticket.version + 1
    stored = store.get_ticket(n)
    assert (stored.status, stored.version) == (Status.CLOSED, ticket.version + 2)
    assert events_for_version(store, n, ticket.version + 2) == ["close"]
    assert len(partition_items(store.client, n, "COMMENT#")) == 1


@pytest.mark.parametrize("status_changes", [False, True])
def test_service_if_match_loser_gets_stale_version(
    service: HelpdeskService,
    store: DynamoStore,
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

    interleave(store, monkeypatch, other)
    with pytest.raises(StaleVersion) as stale:
        service.perform(L1, n, Action.CLOSE, ActionInput(note="x"), expected_version=ticket.version)
    assert stale.value.current_version == ticket.version + 1
    assert store.get_ticket(n).version == ticket.version + 1
    assert [e.action for e in store.history(n) if e.version > ticket.version] == (
        ["reopen"] if status_changes else []
    )


def test_service_if_match_mismatch_before_any_write(service: HelpdeskService) -> None:
    ticket = in_progress_ticket(service)
    with pytest.raises(StaleVersion) as stale:
        service.perform(L1, ticket.number, Action.HOLD, ActionInput(), expected_version=1)
    assert stale.value.current_version == ticket.version
    assert service.store.get_ticket(ticket.number).version == ticket.version


# ---------- real threads ----------


@contextmanager
def reading_together(store: DynamoStore, parties: int) -> Iterator[None]:
    """Inside, `parties` threads' ticket reads wait for each other: they load one version."""
    barrier = threading.Barrier(parties, timeout=BARRIER_TIMEOUT)
    original = store.get_ticket

    def get_ticket(number: int) -> Ticket:
        ticket = original(number)
        barrier.wait()
        return ticket

    store.get_ticket = get_ticket  # type: ignore[method-assign]
    try:
        yield
    finally:
        del store.get_ticket


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
    return lambda: service.perform(caller, number, action, params, expected_version)


@pytest.mark.parametrize("if_match", [False, True])
def test_threads_racing_on_one_version_one_wins(
    service: HelpdeskService,
    store: DynamoStore,
    if_match: bool,
) -> None:
    tickets = [in_progress_ticket(service, f"race {i}") for i in range(10)]
    for ticket in tickets:
        n, version = ticket.number, ticket.version
        expected = version if if_match else None
        with reading_together(store, 2):
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
        stored = store.get_ticket(n)
        assert stored.version == version + 1
        assert stored.status is winners[0].ticket.status
        assert events_for_version(store, n, version + 1) == [winners[0].event.action]
        assert len(store.history(n)) == version + 1


def test_threads_same_action_twice_applies_once(
    service: HelpdeskService, store: DynamoStore
) -> None:
    """Two consultants of the level take the same ticket at once: one take applies."""
    number = service.create_ticket(
        CLIENT, title="dup", description="", type=TicketType.INCIDENT
    ).number
    with reading_together(store, 2):
        results = run_together(
            [
                perform_job(service, L2, number, Action.TAKE, ActionInput()),
                perform_job(service, L2B, number, Action.TAKE, ActionInput()),
            ]
        )
    assert isinstance(next(r for r in results if isinstance(r, Exception)), StatusConflict)
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert [e.action for e in store.history(number)] == ["create", "take"]
    assert len(store.tasks(number)) == 1


def test_threads_version_only_race_retries(service: HelpdeskService, store: DynamoStore) -> None:
    for i in range(5):
        ticket = answered_ticket(service, f"answered {i}")
        n = ticket.number
        with reading_together(store, 2):
            results = run_together(
                [
                    functools.partial(service.add_comment, CLIENT, n, body="a question"),
                    perform_job(service, L1, n, Action.CLOSE, ActionInput(note="n")),
                ]
            )
        assert not any(isinstance(r, Exception) for r in results), results
        stored = store.get_ticket(n)
        assert stored.status is Status.CLOSED
        assert [e.action for e in store.history(n)][-1] == "close"
        assert len(partition_items(store.client, n, "COMMENT#")) == 1


def environment_store(store: DynamoStore, barrier: threading.Barrier) -> DynamoStore:
    """A store of its own (own client), as in another Lambda execution environment, whose
    first ticket read waits at `barrier`: every environment decides on the same version."""
    client = boto3.client("dynamodb", region_name=REGION)
    own = DynamoStore(client, store.table)
    original = own.get_ticket
    waited = False

    def get_ticket(number: int) -> Ticket:
        nonlocal waited
        ticket = original(number)
        if not waited:
            waited = True
            barrier.wait()
        return ticket

    own.get_ticket = get_ticket  # type: ignore[method-assign]
    return own


@pytest.mark.parametrize("if_match", [False, True], ids=["no-if-match", "if-match"])
def test_twenty_environments_start_one_taken_ticket_once(
    service: HelpdeskService, store: DynamoStore, clock: Clock, if_match: bool
) -> None:
    """Twenty `start`s of one taken ticket, each in its own service and store (as twenty
    Lambda environments would run them), read version 2 at once: the conditional write lets
    exactly one apply; the others get 409 (StatusConflict) or, with If-Match, 412
    (StaleVersion)."""
    number = service.create_ticket(
        CLIENT, title="twenty starts", description="", type=TicketType.ASSISTANCE
    ).number
    service.perform(L1, number, Action.TAKE, ActionInput())
    taken = store.get_ticket(number)
    assert (taken.status, taken.version) == (Status.TAKEN, 2)
    barrier = threading.Barrier(ENVIRONMENTS, timeout=BARRIER_TIMEOUT)
    services = [
        HelpdeskService(environment_store(store, barrier), clock=clock)
        for _ in range(ENVIRONMENTS)
    ]
    expected = taken.version if if_match else None
    results = run_together(
        [perform_job(s, L1, number, Action.START, ActionInput(), expected) for s in services]
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    loser_type = StaleVersion if if_match else StatusConflict
    assert all(type(r) is loser_type for r in losers), losers
    assert len(losers) == ENVIRONMENTS - 1
    stored = store.get_ticket(number)
    assert (stored.status, stored.version) == (Status.IN_PROGRESS, 3)
    history = [e.action for e in store.history(number)]
    assert history.count("start") == 1, history
    assert len(history) == 3


# ---------- sequential numbers ----------


@pytest.mark.slow
def test_thousand_concurrent_creations_get_numbers_1_to_1000(
    service: HelpdeskService, dynamodb: Any
) -> None:
    total, workers = 1000, 8

    def create(i: int) -> int:
        return service.create_ticket(
            CLIENT, title=f"ticket {i}", description="", type=TicketType.ASSISTANCE
        ).number

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
    assert [e.action for e in service.store.history(total)] == ["create"]
