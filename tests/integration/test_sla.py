"""Service-level clocks on stored tickets and the sla-watch schedule, against moto (§10).

Every expected instant is worked out by hand from DESIGN.md §10's default contract (Monday to
Friday, 09:00-18:00 Paris, French holidays; `normal`: take 240, answer 1080 business minutes;
`high`: 120 / 480; `critical`: 60 / 240). November 2026 is CET: Paris = UTC + 1. Friday 27
November 2026, 10:00 Paris (09:00 UTC) is the fixtures' clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.editing import TicketChanges
from helpdesk.domain.model import Priority, TicketType
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.jobs import SlaWatchJob
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, MANAGER, Clock
from tests.integration.store_support import outbox_items, table_of, ticket_item


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def sla_of(service: HelpdeskService, number: int) -> dict[str, Any]:
    """The ticket's `sla` as the API shows it now."""
    from helpdesk.entrypoints.http.schemas import ticket_out

    ticket = service.get_ticket(MANAGER, number)
    shown = ticket_out(ticket, [], 0, service.clock()).model_dump(mode="json")["sla"]
    assert shown is not None
    return dict(shown)


def create(service: HelpdeskService, title: str = "Imprimante") -> int:
    return service.create_ticket(
        CLIENT, title=title, description="", type=TicketType.ASSISTANCE
    ).number


def do(service: HelpdeskService, who: Any, number: int, action: Action, **kw: Any) -> None:
    service.perform(who, number, action, ActionInput(**kw))


# ------------------------------------------------------------------ the clocks on tickets


def test_a_new_ticket_carries_both_clocks_from_its_organisation_contract(
    service: HelpdeskService, clock: Clock
) -> None:
    n = create(service)
    assert sla_of(service, n) == {
        # Friday 10:00 + 4 h = 14:00 Paris.
        "take": {
            "target_minutes": 240,
            "due_at": "2026-11-27T13:00:00Z",
            "remaining_minutes": 240,
            "state": "running",
            "done_at": None,
        },
        # Friday 10:00-18:00 (8 h), Monday 09:00-18:00 (9 h), Tuesday 09:00-10:00 (1 h).
        "answer": {
            "target_minutes": 1080,
            "due_at": "2026-12-01T09:00:00Z",
            "remaining_minutes": 1080,
            "state": "running",
            "done_at": None,
        },
    }
    clock.now = utc(27, 10, 30)  # 11:30 Paris: 90 minutes used
    assert sla_of(service, n)["take"]["remaining_minutes"] == 150


def test_a_contract_of_the_organisation_sets_the_targets(
    service: HelpdeskService, clock: Clock
) -> None:
    service.put_org(
        MANAGER,
        "acme",
        name="Acme",
        email_domains=["acme.example"],
        contract={"sla": {"normal": {"take_minutes": 30}}, "business_hours": {"start": "08:00"}},
    )
    n = create(service)
    take = sla_of(service, n)["take"]
    assert (take["target_minutes"], take["due_at"]) == (30, "2026-11-27T09:30:00Z")


def test_hold_across_a_weekend_keeps_the_time_left_and_resume_counts_it_down(
    service: HelpdeskService, clock: Clock
) -> None:
    n = create(service)
    clock.now = utc(27, 10)  # Friday 11:00 Paris: taken after 60 minutes
    do(service, L1, n, Action.TAKE)
    do(service, L1, n, Action.START)
    clock.now = utc(27, 16)  # Friday 17:00 Paris: on hold, 420 minutes used
    do(service, L1, n, Action.HOLD, reason="Attente du client")
    take = sla_of(service, n)["take"]
    assert (take["state"], take["done_at"], take["remaining_minutes"]) == (
        "met",
        "2026-11-27T10:00:00Z",
        180,
    )
    clock.now = utc(30, 11)  # Monday 12:00 Paris: the weekend and a business morning later
    answer = sla_of(service, n)["answer"]
    assert answer == {
        "target_minutes": 1080,
        "due_at": None,
        "remaining_minutes": 660,
        "state": "paused",
        "done_at": None,
    }
    clock.now = utc(30, 13)  # Monday 14:00 Paris: resumed, 660 minutes left
    do(service, L1, n, Action.RESUME)
    answer = sla_of(service, n)["answer"]
    # Monday 14:00-18:00 (4 h), Tuesday 09:00-16:00 (7 h).
    assert (answer["state"], answer["due_at"], answer["remaining_minutes"]) == (
        "running",
        "2026-12-01T15:00:00Z",
        660,
    )


def test_a_reopened_ticket_resumes_with_the_minutes_it_had_left(
    service: HelpdeskService, clock: Clock
) -> None:
    n = create(service)
    clock.now = utc(27, 10)
    do(service, L1, n, Action.TAKE)
    do(service, L1, n, Action.START)
    clock.now = utc(27, 15)  # Friday 16:00 Paris: answered after 360 minutes
    do(service, L1, n, Action.SEND_ANSWER, message="Réglé.")
    answer = sla_of(service, n)["answer"]
    assert (answer["state"], answer["done_at"], answer["due_at"]) == (
        "met",
        "2026-11-27T15:00:00Z",
        None,
    )
    assert answer["remaining_minutes"] == 720
    clock.now = utc(2, 9, month=12)  # Wednesday 10:00 Paris: reopened, 720 minutes left
    do(service, CLIENT, n, Action.REOPEN, reason="Toujours en panne")
    answer = sla_of(service, n)["answer"]
    # Wednesday 10:00-18:00 (8 h), Thursday 09:00-13:00 (4 h).
    assert (answer["state"], answer["due_at"], answer["remaining_minutes"], answer["done_at"]) == (
        "running",
        "2026-12-03T12:00:00Z",
        720,
        None,
    )


def test_a_priority_raised_by_an_edit_retargets_both_clocks_from_creation(
    service: HelpdeskService, clock: Clock
) -> None:
    n = create(service)
    clock.now = utc(27, 9, 30)  # 30 minutes used
    service.edit_ticket(L1, n, TicketChanges(priority=Priority.CRITICAL))
    sla = sla_of(service, n)
    assert (sla["take"]["target_minutes"], sla["take"]["due_at"]) == (60, "2026-11-27T10:00:00Z")
    assert sla["take"]["remaining_minutes"] == 30
    # Friday 10:00 + 4 h = 14:00 Paris.
    assert (sla["answer"]["target_minutes"], sla["answer"]["due_at"]) == (
        240,
        "2026-11-27T13:00:00Z",
    )
    clock.now = utc(27, 10, 30)  # past the new take target: missed
    assert sla_of(service, n)["take"]["state"] == "missed"


def test_take_with_a_priority_stops_take_and_retargets_answer(
    service: HelpdeskService, clock: Clock
) -> None:
    n = create(service)
    clock.now = utc(27, 9, 30)
    do(service, L1, n, Action.TAKE, priority=Priority.HIGH)
    sla = sla_of(service, n)
    assert (sla["take"]["state"], sla["take"]["target_minutes"]) == ("met", 120)
    # high: 480 minutes from Friday 10:00 = Friday 18:00 Paris.
    assert (sla["answer"]["target_minutes"], sla["answer"]["due_at"]) == (
        480,
        "2026-11-27T17:00:00Z",
    )


def test_a_ticket_stored_before_the_clocks_reads_null_and_acts_as_before(
    service: HelpdeskService, dynamodb: Any
) -> None:
    n = create(service)
    table_of(dynamodb).client.update_item(
        TableName=table_of(dynamodb).name,
        Key={"pk": {"S": keys.ticket_pk(n)}, "sk": {"S": keys.TICKET_SK}},
        UpdateExpression="REMOVE sla, sla_pk, sla_sk",
    )
    do(service, L1, n, Action.TAKE, priority=Priority.HIGH)
    ticket = service.get_ticket(MANAGER, n)
    assert ticket.sla is None and ticket.priority is Priority.HIGH
    assert "sla" not in ticket_item(dynamodb, n)


# ------------------------------------------------------------------ sla-watch


def sla_mails(dynamodb: Any, number: int) -> list[str]:
    return [i["kind"] for i in outbox_items(dynamodb, number) if "sla" in i["kind"]]


def test_sla_watch_marks_at_risk_then_missed_once_each_and_mails_once_each(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any, clock: Clock
) -> None:
    n = create(service)
    job = SlaWatchJob(uow)
    # 75 % of the take target (180 of 240 minutes): Friday 13:00 Paris.
    assert job.run(utc(27, 11, 45)).examined == 0
    first = job.run(utc(27, 12))
    assert (first.examined, first.sla_at_risk, first.sla_missed) == (1, 1, 0)
    assert sla_mails(dynamodb, n) == ["staff_sla_at_risk_take"]
    assert job.run(utc(27, 12)).examined == 0  # a replay finds nothing left
    # Due at 14:00 Paris exactly: not missed yet (not more than the target used).
    assert job.run(utc(27, 13)).sla_missed == 0
    missed = job.run(utc(27, 13, 15))
    assert (missed.sla_missed, missed.sla_at_risk) == (1, 0)
    assert sla_mails(dynamodb, n) == ["staff_sla_at_risk_take", "staff_sla_missed_take"]
    replay = job.run(utc(27, 13, 15))
    assert (replay.examined, replay.sla_missed) == (0, 0)
    mail = next(i for i in outbox_items(dynamodb, n) if i["kind"] == "staff_sla_missed_take")
    # Nobody holds it yet: the level's consultants, and the managers.
    assert (mail.get("to_level"), mail.get("to_managers")) == (1, True)
    assert "Délai de prise en charge dépassé" in mail["subject"]
    item = ticket_item(dynamodb, n)
    assert item["sla_alerts"] == {"take:at_risk", "take:missed"}
    # The answer clock is next: 75 % of 1080 minutes, Monday 14:30 Paris.
    assert item["sla_sk"] == f"2026-11-30T13:30:00Z#{keys.pad(n)}"
    # Missed is final: the ticket shows it after the take, the index keeps the answer only.
    clock.now = utc(27, 14)
    do(service, L1, n, Action.TAKE)
    assert sla_of(service, n)["take"]["state"] == "missed"
    assert job.run(utc(27, 14)).examined == 0


def test_a_clock_missed_before_any_run_is_announced_missed_only(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any
) -> None:
    n = create(service)
    report = SlaWatchJob(uow).run(utc(30, 9))  # Monday 10:00 Paris: take long missed
    assert (report.sla_missed, report.sla_at_risk) == (1, 0)
    assert sla_mails(dynamodb, n) == ["staff_sla_missed_take"]


def test_sla_watch_reads_only_the_clocks_due_through_its_index(
    service: HelpdeskService, uow: DynamoUnitOfWork, clock: Clock
) -> None:
    due = [create(service, f"Dû {i}") for i in range(3)]  # Friday 10:00 Paris
    clock.now = utc(27, 11)  # Friday 12:00 Paris: not at risk before 15:00
    later = [create(service, f"Plus tard {i}") for i in range(6)]
    for number in later[:2]:
        do(service, CLIENT, number, Action.CANCEL)
    for number in later[2:4]:  # taken and on hold: both clocks stopped or paused
        do(service, L1, number, Action.TAKE)
        do(service, L1, number, Action.HOLD, reason="Attente")
    clock.now = utc(27, 9)
    before = [create(service, f"Pris {i}") for i in range(3)]
    for number in before:  # taken and answered at once: both clocks met
        do(service, L1, number, Action.TAKE)
        do(service, L1, number, Action.START)
        do(service, L1, number, Action.SEND_ANSWER, message="Fait")
    report = SlaWatchJob(uow).run(utc(27, 12, 15))
    assert report.items_read == len(due) == report.examined
    assert report.sla_at_risk == 3


@pytest.mark.parametrize("name", ["sla-watch"])
def test_the_schedule_is_declared_every_15_minutes_in_paris(name: str) -> None:
    from infra.cfn_template import load_template

    events = load_template()["Resources"]["JobsFunction"]["Properties"]["Events"]
    props = next(e["Properties"] for e in events.values() if name in e["Properties"]["Input"])
    assert props["ScheduleExpression"] == "cron(0/15 * * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Paris"
