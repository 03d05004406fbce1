"""The monthly client report (DESIGN.md §10), pure: which clocks count as met or missed in the
month, and the figures per organisation. Clocks are typed by hand; tickets are given clocks
through `ticket_clocks` (the one function that reads them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.domain import client_report
from helpdesk.domain.calendar import month_bounds
from helpdesk.domain.client_report import ReportTerms, build_reports, clock_outcome
from helpdesk.domain.contract import DEFAULT_CONTRACT
from helpdesk.domain.model import Priority, Ticket, TicketType
from helpdesk.domain.sla import ClockState, SlaClock, SlaClocks
from helpdesk.domain.ticket_sla import TicketSla
from tests.unit.builders import base_ticket

CAL = DEFAULT_CONTRACT.calendar  # Monday-Friday 09:00-18:00 Paris, French holidays
START, END = month_bounds("2026-10")


def at(day: int, hour: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


MET_IN_OCTOBER = SlaClock(60, ClockState.MET, timedelta(minutes=30), None, None, at(6, 8))
MET_IN_SEPTEMBER = replace(MET_IN_OCTOBER, done_at=at(29, 8, 9))
MISSED_IN_OCTOBER = SlaClock(60, ClockState.MISSED, timedelta(minutes=90), None, at(7, 8),
                             at(7, 9))
# Running since Wednesday October 28th, 09:00 Paris (08:00Z), due 10:00: never answered.
RUNNING_PAST_DUE = SlaClock(60, ClockState.RUNNING, timedelta(0), at(28, 8), at(28, 9))
# Running since Friday October 30th 17:30 Paris, due Monday November 2nd 09:30: not missed
# in October.
RUNNING_IN_TIME = SlaClock(60, ClockState.RUNNING, timedelta(0), at(30, 16), at(2, 8, 11))
FROZEN = SlaClock(60, ClockState.PAUSED, timedelta(minutes=10), None, None, at(8, 8))


@pytest.mark.parametrize(
    ("clock", "outcome"),
    [
        (MET_IN_OCTOBER, ClockState.MET),
        (MET_IN_SEPTEMBER, None),
        (MISSED_IN_OCTOBER, ClockState.MISSED),
        (replace(MISSED_IN_OCTOBER, due_at=at(30, 8, 9)), None),  # missed in September
        (RUNNING_PAST_DUE, ClockState.MISSED),
        (RUNNING_IN_TIME, None),
        (FROZEN, None),
    ],
)
def test_a_clock_counts_in_the_month_its_outcome_was_decided(
    clock: SlaClock, outcome: ClockState | None
) -> None:
    assert clock_outcome(clock, START, END, CAL) is outcome


def test_reports_count_per_organisation_type_and_priority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clocks = {
        1: SlaClocks(MET_IN_OCTOBER, MISSED_IN_OCTOBER),
        2: SlaClocks(MET_IN_OCTOBER, RUNNING_PAST_DUE),
        3: SlaClocks(MISSED_IN_OCTOBER, FROZEN),
    }

    def read(ticket: Ticket) -> SlaClocks | None:
        return clocks.get(ticket.number)

    monkeypatch.setattr(client_report, "ticket_clocks", read)
    tickets = [
        base_ticket("assistance", number=1, org_id="acme", priority=Priority.HIGH,
                    created_at=at(5, 8), updated_at=at(9, 8)),
        base_ticket("incident", number=2, org_id="acme", priority=Priority.HIGH,
                    created_at=at(1, 8, 9), updated_at=at(9, 8), closed_at=at(9, 8)),
        base_ticket("assistance", number=3, org_id="acme", priority=Priority.CRITICAL,
                    created_at=at(31, 23), updated_at=at(31, 23)),  # November 1st in Paris
        base_ticket("assistance", number=4, org_id="elsewhere", created_at=at(5, 8)),
    ]
    terms = {"acme": ReportTerms("acme", "Acme", included_minutes=600),
             "globex": ReportTerms("globex", "Globex")}
    reports = build_reports("2026-10", terms, tickets,
                            {("acme", 1): ("assistance", 90), ("acme", 3): ("assistance", 5)},
                            {"acme": 95})
    assert [r.org_id for r in reports] == ["acme", "globex"]
    acme, globex = reports
    assert acme.opened == {TicketType.ASSISTANCE: 1}
    assert acme.closed == {TicketType.INCIDENT: 1}
    high_take, high_answer = acme.counts(Priority.HIGH, "take"), acme.counts(Priority.HIGH, "answer")
    assert (high_take.met, high_take.missed, high_answer.met, high_answer.missed) == (2, 0, 0, 2)
    critical = acme.counts(Priority.CRITICAL, "take")
    assert (critical.met, critical.missed) == (0, 1)
    assert [(t.ticket_number, t.minutes) for t in acme.time] == [(1, 90), (3, 5)]
    assert (acme.consumed_minutes, acme.budget.remaining_minutes, acme.budget.overage_minutes) == (
        95, 505, 0)
    assert (globex.opened, globex.time, globex.budget.overage_minutes) == ({}, [], None)


def test_a_ticket_without_clocks_counts_in_no_service_level() -> None:
    ticket = base_ticket("assistance", number=1, org_id="acme", created_at=at(5, 8))
    assert client_report.ticket_clocks(ticket) is None
    (acme,) = build_reports("2026-10", {"acme": ReportTerms("acme")}, [ticket], {}, {})
    assert acme.levels == {}


def test_the_report_reads_the_clocks_stored_on_the_ticket() -> None:
    stored = TicketSla(SlaClocks(MET_IN_OCTOBER, MISSED_IN_OCTOBER), CAL, DEFAULT_CONTRACT.sla)
    ticket = replace(
        base_ticket("assistance", number=1, org_id="acme", priority=Priority.HIGH,
                    created_at=at(5, 8)),
        sla=stored,
    )
    assert client_report.ticket_clocks(ticket) == stored.clocks
    (acme,) = build_reports("2026-10", {"acme": ReportTerms("acme")}, [ticket], {}, {})
    take, answer = acme.counts(Priority.HIGH, "take"), acme.counts(Priority.HIGH, "answer")
    assert (take.met, take.missed, answer.met, answer.missed) == (1, 0, 0, 1)
