"""Hour budgets (DESIGN.md §10), pure: consumption, thresholds, alerts once per month, and the
service's use of them over the in-memory unit of work. Expected values are typed by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from helpdesk.domain.budget import (
    BudgetUse,
    Consumption,
    budget_move,
    consumption_month,
    crossed,
    entry_moves,
    overage,
)
from helpdesk.domain.contract import parse_contract
from helpdesk.domain.directory import new_consultant, new_organisation
from helpdesk.domain.errors import Forbidden, InvalidInput, NotFound
from helpdesk.domain.model import Caller, Role, TicketType
from helpdesk.domain.notifications import NotificationKind
from helpdesk.domain.timekeeping import TimeEntry, TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.unit.builders import CLIENT, FINANCE, MANAGER, OTHER_CLIENT
from tests.unit.fakes import InMemoryUnitOfWork

ORG = "acme"


def counter(minutes: int, alerted: tuple[int, ...] = ()) -> Consumption:
    return Consumption(ORG, "2026-11", minutes, frozenset(alerted))


def entry(minutes: int, day: date = date(2026, 11, 10), billable: bool = True) -> TimeEntry:
    return TimeEntry(
        id="e1", ticket_number=1, org_id=ORG, consultant="lea", day=day, minutes=minutes,
        kind=TimeKind.ANALYSIS, comment="", billable=billable,
        created_at=datetime(2026, 11, 10, 9, tzinfo=UTC),
    )


# ----------------------------------------------------------------------------- thresholds
def test_exactly_80_percent_crosses_80_and_not_100() -> None:
    # 600 included: 80 % is 480 minutes exactly.
    assert crossed(600, counter(470), 10) == (80,)
    assert crossed(600, counter(470), 9) == ()


def test_one_entry_may_cross_both_thresholds() -> None:
    assert crossed(600, counter(100), 500) == (80, 100)


def test_exactly_100_percent_crosses_100() -> None:
    assert crossed(600, counter(480, (80,)), 120) == (100,)


def test_a_threshold_already_reached_is_not_crossed_again() -> None:
    assert crossed(600, counter(500, (80,)), 30) == ()


def test_back_under_and_over_again_in_the_same_month_alerts_no_second_time() -> None:
    # 500 (80 % alerted), an entry deleted gives back 100 → 400, then 90 more → 490.
    under = budget_move(600, counter(500, (80,)), -100)
    assert under.alerts == ()
    back = replace(counter(400), alerted=frozenset({80}))
    assert budget_move(600, back, 90).alerts == ()


def test_a_delete_lowers_the_consumption_and_alerts_nothing() -> None:
    move = budget_move(600, counter(700, (80, 100)), -250)
    assert (move.minutes_after, move.alerts) == (450, ())


def test_no_budget_no_alert() -> None:
    assert crossed(None, counter(0), 100_000) == ()
    use = BudgetUse("2026-11", None, 1234)
    assert (use.remaining_minutes, use.overage_minutes) == (None, None)


def test_a_budget_of_zero_is_reached_by_the_first_minute() -> None:
    assert crossed(0, counter(0), 1) == (80, 100)
    assert crossed(0, counter(0), 0) == ()


def test_remaining_is_negative_and_overage_positive_when_over() -> None:
    use = BudgetUse("2026-11", 600, 725)
    assert (use.remaining_minutes, use.overage_minutes) == (-125, 125)
    assert BudgetUse("2026-11", 600, 200).overage_minutes == 0
    assert overage(600, 600) == 0


# ----------------------------------------------------------------------------- moves
def test_evolution_minutes_are_ignored() -> None:
    assert entry_moves(None, entry(90, billable=False)) == {}


def test_a_new_entry_consumes_in_its_paris_month() -> None:
    assert entry_moves(None, entry(90, day=date(2026, 12, 1))) == {"2026-12": 90}


def test_an_edit_moves_the_difference_and_a_delete_gives_back() -> None:
    assert entry_moves(entry(90), entry(120)) == {"2026-11": 30}
    assert entry_moves(entry(90), entry(90)) == {}
    assert entry_moves(entry(90), None) == {"2026-11": -90}


def test_an_edit_across_the_month_boundary_moves_minutes_between_months() -> None:
    before = entry(90, day=date(2026, 11, 30))
    after = entry(60, day=date(2026, 12, 1))
    assert entry_moves(before, after) == {"2026-11": -90, "2026-12": 60}


def test_the_default_month_is_the_current_month_in_paris() -> None:
    # 2026-11-30T23:30Z is December 1st, 00:30 in Paris.
    assert consumption_month(None, datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "2026-12"
    assert consumption_month(None, datetime(2026, 11, 30, 22, 59, tzinfo=UTC)) == "2026-11"
    assert consumption_month("2026-02", datetime(2026, 11, 30, tzinfo=UTC)) == "2026-02"


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-11", "", "2026-11-01", "abcd-ef"])
def test_a_bad_month_is_invalid_input_naming_month(month: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        consumption_month(month, datetime(2026, 11, 30, tzinfo=UTC))
    assert raised.value.field == "month"


# ----------------------------------------------------------------------------- the service
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
L1 = Caller(id="cons-l1", role=Role.CONSULTANT, level=1, email="l1@consult.example")


@pytest.fixture
def fake() -> tuple[HelpdeskService, InMemoryUnitOfWork]:
    uow = InMemoryUnitOfWork()
    contract = parse_contract({"included_minutes": 600, "alert_emails": ["dsi@acme.example"]})
    org = replace(new_organisation(ORG, "Acme", ["acme.example"], 7, "90.00"), contract=contract)
    uow.directory.orgs[ORG] = org
    assert org.contract == contract
    uow.directory.orgs["globex"] = new_organisation("globex", "Globex", ["globex.example"], 7)
    uow.directory.consultants[L1.id] = new_consultant(L1.id, "Léa", "l1@consult.example", 1)
    service = HelpdeskService(uow, clock=lambda: NOW)
    return service, uow


def _taken(service: HelpdeskService) -> int:
    ticket = service.create_ticket(CLIENT, title="Accès", description="", type=TicketType.ASSISTANCE)
    service.perform(L1, ticket.number, Action.TAKE, ActionInput())
    return ticket.number


def _alerts(uow: InMemoryUnitOfWork) -> list[tuple[str, str, bool]]:
    kinds = (NotificationKind.BUDGET_ALERT, NotificationKind.STAFF_BUDGET_ALERT)
    return [(m.key, m.to, m.to_managers) for m in uow.mails if m.kind in kinds]


def test_alerts_go_once_per_threshold_to_the_alert_emails_and_the_managers(
    fake: tuple[HelpdeskService, InMemoryUnitOfWork],
) -> None:
    service, uow = fake
    number = _taken(service)
    service.log_time(L1, number, minutes=470, kind=TimeKind.ANALYSIS)
    assert _alerts(uow) == []
    first = service.log_time(L1, number, minutes=10, kind=TimeKind.ANALYSIS)  # 480 = 80 %
    assert _alerts(uow) == [
        ("budget_alert_80_2026-11_0", "dsi@acme.example", False),
        ("staff_budget_alert_80_2026-11", "", True),
    ]
    service.delete_time_entry(L1, number, first.id)  # back to 470
    service.log_time(L1, number, minutes=20, kind=TimeKind.ANALYSIS)  # 490: over 80 % again
    assert len(_alerts(uow)) == 2
    service.log_time(L1, number, minutes=110, kind=TimeKind.ANALYSIS)  # 600 = 100 %
    assert [key for key, _to, _m in _alerts(uow)][2:] == [
        "budget_alert_100_2026-11_0", "staff_budget_alert_100_2026-11",
    ]
    assert uow.directory.consumption(ORG, "2026-11").minutes == 600
    assert uow.directory.consumption(ORG, "2026-11").alerted == {80, 100}


def test_an_edit_that_crosses_alerts_and_the_counter_follows(
    fake: tuple[HelpdeskService, InMemoryUnitOfWork],
) -> None:
    service, uow = fake
    number = _taken(service)
    logged = service.log_time(L1, number, minutes=300, kind=TimeKind.ANALYSIS)
    service.edit_time_entry(L1, number, logged.id, minutes=500)
    assert [key for key, _to, _m in _alerts(uow)] == [
        "budget_alert_80_2026-11_0", "staff_budget_alert_80_2026-11",
    ]
    assert uow.directory.consumption(ORG, "2026-11").minutes == 500


def test_a_counter_moved_meanwhile_is_read_again_and_decides_once(
    fake: tuple[HelpdeskService, InMemoryUnitOfWork],
) -> None:
    service, uow = fake
    number = _taken(service)
    service.log_time(L1, number, minutes=400, kind=TimeKind.ANALYSIS)
    other = _taken(service)
    # Another entry commits 100 minutes (crossing 80 %) between this one's read and its commit.
    uow.interleave(lambda: service.log_time(L1, other, minutes=100, kind=TimeKind.ANALYSIS))
    service.log_time(L1, number, minutes=30, kind=TimeKind.ANALYSIS)
    assert uow.directory.consumption(ORG, "2026-11").minutes == 530
    assert [key for key, _to, _m in _alerts(uow)] == [
        "budget_alert_80_2026-11_0", "staff_budget_alert_80_2026-11",
    ]


def test_consumption_roles(fake: tuple[HelpdeskService, InMemoryUnitOfWork]) -> None:
    service, _uow = fake
    number = _taken(service)
    service.log_time(L1, number, minutes=700, kind=TimeKind.ANALYSIS)
    for caller in (MANAGER, FINANCE, CLIENT):
        org, use = service.consumption(caller, ORG, "2026-11")
        assert (org.org_id, use.consumed_minutes, use.remaining_minutes,
                use.overage_minutes) == (ORG, 700, -100, 100)
    assert service.consumption(CLIENT, ORG, None)[1].month == "2026-11"
    with pytest.raises(NotFound):
        service.consumption(OTHER_CLIENT, ORG, "2026-11")
    with pytest.raises(Forbidden):
        service.consumption(L1, ORG, "2026-11")
    with pytest.raises(NotFound):
        service.consumption(MANAGER, "nowhere", "2026-11")
    with pytest.raises(InvalidInput):
        service.consumption(MANAGER, ORG, "2026-13")


def test_the_alert_mails_are_french_with_both_parts_and_the_figures() -> None:
    from helpdesk.domain.budget_mail import budget_alerts
    from tests.unit.builders import base_ticket

    contract = {"included_minutes": 600, "alert_emails": ["dsi@acme.example", "pdg@acme.example"]}
    org = new_organisation(ORG, "Acme", ["acme.example"], contract=contract)
    mails = budget_alerts(org, base_ticket(), budget_move(600, counter(400), 210))
    assert [(m.kind.value, m.to, m.to_managers) for m in mails] == [
        ("budget_alert", "dsi@acme.example", False),
        ("budget_alert", "pdg@acme.example", False),
        ("staff_budget_alert", "", True),
        ("budget_alert", "dsi@acme.example", False),
        ("budget_alert", "pdg@acme.example", False),
        ("staff_budget_alert", "", True),
    ]
    eighty, hundred = mails[0], mails[3]
    assert eighty.subject == "Forfait d'heures atteint à 80 % : Acme, Novembre 2026"
    assert hundred.subject == "Forfait d'heures atteint : Acme, Novembre 2026"
    # 600 minutes = 10 h included; 610 minutes = 10,17 h consumed; 610/600 = 101.67 % → 102 %
    assert "Heures incluses : 10 h" in eighty.body
    assert "Heures consommées : 10,17 h" in eighty.body
    assert "Consommation : 102 %" in eighty.body
    assert eighty.body.startswith("Bonjour,\n") and "<html" in eighty.html
    assert "dépassement" in hundred.body


def test_a_month_already_over_a_threshold_unalerted_alerts_with_its_next_entry() -> None:
    # The budget was set (or lowered) below what the month had consumed: 500 of 600 minutes,
    # no alert yet: the next entry that adds minutes alerts 80 %, and only that.
    assert crossed(600, counter(500), 10) == (80,)
    assert crossed(600, counter(500), -10) == ()


def test_entries_that_each_read_the_counter_before_the_other_still_alert_once(
    fake: tuple[HelpdeskService, InMemoryUnitOfWork],
) -> None:
    # 460 logged. This entry of 10 reads 460 (470 foreseen: no alert); before it commits,
    # another entry's 10 minutes land, having read 460 too (no alert either): 470. After its
    # commit this entry reads 480 (80 %) and queues the alert in a transaction of its own.
    service, uow = fake
    number = _taken(service)
    service.log_time(L1, number, minutes=460, kind=TimeKind.ANALYSIS)

    def racing() -> None:
        uow.directory.budgets[(ORG, "2026-11")] = Consumption(ORG, "2026-11", 470)

    uow.interleave(racing)
    committed = uow.committed
    service.log_time(L1, number, minutes=10, kind=TimeKind.ANALYSIS)
    assert uow.committed == committed + 2  # the entry, then the alert on its own
    assert uow.directory.consumption(ORG, "2026-11").minutes == 480
    assert uow.directory.consumption(ORG, "2026-11").alerted == {80}
    assert [key for key, _to, _m in _alerts(uow)] == [
        "budget_alert_80_2026-11_0", "staff_budget_alert_80_2026-11",
    ]
