"""A ticket's clocks as the service keeps them (helpdesk.domain.ticket_sla) and sla-watch over
the in-memory unit of work (DESIGN.md §10).

Instants worked out by hand on §10's default contract: Monday to Friday 09:00-18:00 Paris,
French holidays; `normal` take 240 / answer 1080 business minutes. November 2026 is CET
(Paris = UTC + 1); Friday 27 November 2026 10:00 Paris is 09:00 UTC.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from helpdesk.domain.contract import DEFAULT_CONTRACT, parse_contract
from helpdesk.domain.model import Caller, Priority, Role, TicketType
from helpdesk.domain.ticket_sla import (
    Alert,
    due_alerts,
    open_sla,
    parse_sla,
    recorded,
    sla_json,
    watch_at,
)
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.jobs import SlaWatchJob
from helpdesk.service import HelpdeskService
from tests.unit.builders import base_ticket
from tests.unit.fakes import InMemoryUnitOfWork

CREATED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday 10:00 Paris
CLIENT = Caller(id="client-acme", role=Role.CLIENT, org_id="acme", email="fabrice@acme.example")
L1 = Caller(id="cons-l1", role=Role.CONSULTANT, level=1, email="l1@consult.example")


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def test_the_stored_document_reads_back_the_same_clocks() -> None:
    sla = open_sla(DEFAULT_CONTRACT, Priority.NORMAL, CREATED.replace(microsecond=123456))
    stored = json.loads(json.dumps(sla_json(sla)))
    assert set(stored) == {"take", "answer"}  # the defaults are not stored
    assert parse_sla(stored) == sla
    contract = parse_contract(
        {"holidays": "FR-ALSACE-MOSELLE", "business_hours": {"days": [1, 2, 3, 4, 5, 6]}}
    )
    other = open_sla(contract, Priority.LOW, CREATED)
    assert parse_sla(json.loads(json.dumps(sla_json(other))), frozenset({"take:at_risk"})) == (
        replace(other, alerts=frozenset({"take:at_risk"}))
    )


def test_the_next_look_is_the_at_risk_instant_then_past_the_due_instant() -> None:
    sla = open_sla(DEFAULT_CONTRACT, Priority.NORMAL, CREATED)
    ticket = replace(base_ticket(), created_at=CREATED, updated_at=CREATED, sla=sla)
    # 75 % of 240 minutes: 180 minutes after Friday 10:00 Paris = 13:00 Paris.
    assert watch_at(ticket) == utc(27, 12)
    assert due_alerts(sla, utc(27, 11, 59)) == []
    assert due_alerts(sla, utc(27, 12)) == [Alert("take", "at_risk")]
    marked = recorded(sla, [Alert("take", "at_risk")])
    # Due at 14:00 Paris; missed once more than the target has run.
    assert watch_at(replace(ticket, sla=marked)) == utc(27, 13, 0, 1)
    assert due_alerts(marked, utc(27, 13)) == []
    assert due_alerts(marked, utc(27, 13, 0, 1)) == [Alert("take", "missed")]
    done = recorded(marked, [Alert("take", "missed")])
    # Then the answer clock: 810 of 1080 minutes, Friday 8 h and Monday 5 h 30: 14:30 Paris.
    assert watch_at(replace(ticket, sla=done)) == utc(30, 13, 30)


def test_a_missed_clock_not_yet_announced_is_announced_missed_only() -> None:
    sla = open_sla(DEFAULT_CONTRACT, Priority.NORMAL, CREATED)
    alerts = due_alerts(sla, utc(30, 9))
    assert alerts == [Alert("take", "missed")]
    assert recorded(sla, alerts).alerts == {"take:missed", "take:at_risk"}


def test_sla_watch_over_the_fake_marks_and_mails_once() -> None:
    uow = InMemoryUnitOfWork()
    now = [CREATED]
    service = HelpdeskService(uow, clock=lambda: now[0])
    number = service.create_ticket(
        CLIENT, title="Imprimante", description="", type=TicketType.ASSISTANCE
    ).number
    held = service.create_ticket(
        CLIENT, title="En attente", description="", type=TicketType.ASSISTANCE
    ).number
    service.perform(L1, held, Action.TAKE, ActionInput())
    service.perform(L1, held, Action.HOLD, ActionInput(reason="Attente"))
    job = SlaWatchJob(uow)
    report = job.run(utc(27, 12))
    assert (report.items_read, report.sla_at_risk, report.marked_tickets) == (1, 1, [number])
    assert job.run(utc(27, 12)).examined == 0
    kinds = [m.key for m in uow.mails if m.ticket_number == number]
    assert kinds.count("staff_sla_at_risk_take") == 1
    stored = uow.tickets.get(number).sla
    assert stored is not None and stored.alerts == {"take:at_risk"}
