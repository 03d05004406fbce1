"""Hour budgets against moto (DESIGN.md §10): the month counter moves in the time entry's own
transaction, the 80 % and 100 % alerts are queued once per month each, and
`GET /orgs/{org_id}/consumption` answers managers, finance and the organisation's clients."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.domain.errors import MonthLocked
from helpdesk.domain.model import TicketType
from helpdesk.domain.timekeeping import TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.notifier import Notifier
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L1B, L2, MANAGER, Clock
from tests.integration.store_support import outbox_items, own_service, raw_item
from tests.integration.test_notifier import notifier, sent_mail, ses, stored_outbox

__all__ = ["notifier", "ses"]  # the notifier's fixtures

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
CONTRACT = {"included_minutes": 600, "monthly_fee": "1500.00", "alert_emails": ["dsi@acme.example"]}


@pytest.fixture
def budgeted(service: HelpdeskService, clock: Clock) -> HelpdeskService:
    clock.now = NOW
    service.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example"],
                    auto_close_days=7, hourly_rate="90.00", contract=CONTRACT)
    service.put_consultant(MANAGER, "boss-1", name="Boss", email="boss@consult.example",
                           level=None, role="manager")
    return service


def _taken(service: HelpdeskService, ticket_type: TicketType = TicketType.ASSISTANCE) -> int:
    number = service.create_ticket(CLIENT, title="Accès", description="", type=ticket_type).number
    service.perform(L1 if ticket_type is TicketType.ASSISTANCE else L2, number, Action.TAKE,
                    ActionInput())
    return number


def _counter(dynamodb: Any, month: str = "2026-11") -> dict[str, Any] | None:
    key = keys.budget_key("acme", month)
    return raw_item(dynamodb, key["pk"], key["sk"])


def _alert_kinds(dynamodb: Any, number: int) -> list[str]:
    return [str(i["kind"]) for i in outbox_items(dynamodb, number) if "budget" in str(i["kind"])]


def test_the_counter_moves_in_the_entrys_own_transaction(
    budgeted: HelpdeskService, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = _taken(budgeted)
    transactions: list[list[dict[str, Any]]] = []
    real = Table.transact

    def spy(self: Table, operations: Any) -> None:
        transactions.append(list(operations))
        real(self, operations)

    monkeypatch.setattr(Table, "transact", spy)
    budgeted.log_time(L1, number, minutes=480, kind=TimeKind.ANALYSIS)  # 80 % exactly
    assert len(transactions) == 1
    written = [next(iter(op.values()))["Key" if "Key" in next(iter(op.values())) else "Item"]
               for op in transactions[0]]
    pks = [w["pk"]["S"] for w in written]
    assert "BUDGET#acme" in pks  # the counter
    assert any(pk == f"TICKET#{number}" for pk in pks)  # the entry, its task, its mails
    counter = _counter(dynamodb)
    assert counter is not None and int(counter["minutes"]) == 480 and counter.get("alerted_80")
    assert "alerted_100" not in counter
    assert _alert_kinds(dynamodb, number) == [
        "budget_alert_80_2026-11_0", "staff_budget_alert_80_2026-11",
    ]


def test_alerts_once_per_month_even_after_going_back_under(
    budgeted: HelpdeskService, dynamodb: Any, clock: Clock
) -> None:
    number = _taken(budgeted)
    first = budgeted.log_time(L1, number, minutes=500, kind=TimeKind.ANALYSIS)
    budgeted.delete_time_entry(L1, number, first.id)
    assert int(_counter(dynamodb)["minutes"]) == 0  # type: ignore[index]
    budgeted.log_time(L1, number, minutes=500, kind=TimeKind.ANALYSIS)
    budgeted.log_time(L1, number, minutes=100, kind=TimeKind.ANALYSIS)  # 600: 100 %
    assert sorted(_alert_kinds(dynamodb, number)) == [
        "budget_alert_100_2026-11_0", "budget_alert_80_2026-11_0",
        "staff_budget_alert_100_2026-11", "staff_budget_alert_80_2026-11",
    ]
    # Another month starts from nothing: its own alerts.
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    budgeted.log_time(L1, number, minutes=480, kind=TimeKind.ANALYSIS)
    assert int(_counter(dynamodb, "2026-12")["minutes"]) == 480  # type: ignore[index]
    assert "budget_alert_80_2026-12_0" in _alert_kinds(dynamodb, number)


def test_evolution_time_never_consumes(budgeted: HelpdeskService, dynamodb: Any) -> None:
    number = _taken(budgeted, TicketType.EVOLUTION)
    budgeted.log_time(L2, number, minutes=700, kind=TimeKind.ANALYSIS)
    assert _counter(dynamodb) is None
    assert _alert_kinds(dynamodb, number) == []


def test_a_refused_entry_leaves_the_counter_as_it_was(
    budgeted: HelpdeskService, dynamodb: Any, table: Table, clock: Clock
) -> None:
    number = _taken(budgeted)
    budgeted.log_time(L1, number, minutes=100, kind=TimeKind.ANALYSIS)
    table.write(table.put({**keys.month_lock_key("2026-11"), "status": "exported"}))
    with pytest.raises(MonthLocked):
        budgeted.log_time(L1, number, minutes=450, kind=TimeKind.ANALYSIS)
    assert int(_counter(dynamodb)["minutes"]) == 100  # type: ignore[index]
    assert _alert_kinds(dynamodb, number) == []


def test_an_entry_moved_to_another_month_moves_its_minutes(
    budgeted: HelpdeskService, dynamodb: Any, clock: Clock
) -> None:
    clock.now = datetime(2026, 10, 30, 9, tzinfo=UTC)
    number = _taken(budgeted)
    clock.now = NOW
    logged = budgeted.log_time(L1, number, minutes=90, kind=TimeKind.ANALYSIS,
                               day=date(2026, 10, 31))
    budgeted.edit_time_entry(L1, number, logged.id, day=date(2026, 11, 2))
    assert int(_counter(dynamodb, "2026-10")["minutes"]) == 0  # type: ignore[index]
    assert int(_counter(dynamodb, "2026-11")["minutes"]) == 90  # type: ignore[index]


def test_entries_racing_past_the_thresholds_alert_once_each(
    budgeted: HelpdeskService, dynamodb: Any
) -> None:
    number = _taken(budgeted)
    budgeted.log_time(L1, number, minutes=400, kind=TimeKind.ANALYSIS)
    consultants = [L1, L1B, L2, MANAGER]
    barrier = threading.Barrier(10, timeout=10)
    errors: list[BaseException] = []

    def log(i: int) -> None:
        try:
            barrier.wait()
            own_service(budgeted).log_time(
                consultants[i % 4], number, minutes=30, kind=TimeKind.ANALYSIS
            )
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert int(_counter(dynamodb)["minutes"]) == 700  # type: ignore[index]
    assert sorted(_alert_kinds(dynamodb, number)) == [
        "budget_alert_100_2026-11_0", "budget_alert_80_2026-11_0",
        "staff_budget_alert_100_2026-11", "staff_budget_alert_80_2026-11",
    ]


def test_the_alerts_reach_the_alert_emails_and_the_active_managers(
    budgeted: HelpdeskService, table: Table, notifier: Notifier
) -> None:
    budgeted.put_consultant(MANAGER, "boss-2", name="Gone", email="gone@consult.example",
                            level=None, role="manager", active=False)
    number = _taken(budgeted)
    budgeted.log_time(L1, number, minutes=480, kind=TimeKind.ANALYSIS)
    before = len(sent_mail())
    for item in stored_outbox(table, number):
        if "budget" in str(item["kind"]):
            assert notifier.deliver(item["pk"], item["sk"]).outcome == "sent"
    mails = sent_mail()[before:]
    assert sorted(str(m["To"]) for m in mails) == ["boss@consult.example", "dsi@acme.example"]
    assert {str(m["Subject"]) for m in mails} == {
        "Forfait d'heures atteint à 80 % : Acme, Novembre 2026"
    }
