"""An If-Match list (DESIGN.md §7: it matches when any tag matches) stays race-free in the
service: the conditional write is on the version `decide` saw; a concurrent writer that moves
the ticket to another version the list names lets the action apply on that version, one
outside the list is 412 and writes nothing."""

from __future__ import annotations

import pytest

from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.errors import StaleVersion
from helpdesk.domain.model import Status
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1
from tests.integration.test_store_concurrency import (
    answered_ticket,
    events_for_version,
    interleave,
)


def test_a_concurrent_change_to_a_listed_version_lets_the_action_apply_on_it(
    service: HelpdeskService, uow: DynamoUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = answered_ticket(service)
    n, v = ticket.number, ticket.version
    interleave(uow, monkeypatch, lambda: service.add_comment(CLIENT, n, body="hm"))
    transition = service.perform(
        L1, n, Action.CLOSE, ActionInput(note="phoned"), expected_version=frozenset({v, v + 1})
    )
    assert transition.before.version == v + 1
    stored = uow.tickets.get(n)
    assert (stored.status, stored.version) == (Status.CLOSED, v + 2)
    assert events_for_version(uow, n, v + 2) == ["close"]


def test_a_concurrent_change_to_an_unlisted_version_is_412_and_writes_nothing(
    service: HelpdeskService, uow: DynamoUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = answered_ticket(service)
    n, v = ticket.number, ticket.version
    interleave(uow, monkeypatch, lambda: service.add_comment(CLIENT, n, body="hm"))
    with pytest.raises(StaleVersion) as stale:
        service.perform(
            L1, n, Action.CLOSE, ActionInput(note="x"), expected_version=frozenset({v, v + 5})
        )
    assert stale.value.current_version == v + 1
    assert uow.tickets.get(n).version == v + 1
    assert events_for_version(uow, n, v + 1) == []
