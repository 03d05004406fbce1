"""Quote validity (DESIGN.md §8): an organisation's `quote_validity_days` (default 30) is the
default of submit-quote, `valid_until` is exactly that many days after the submission, and the
approval execution's waits add up to exactly the validity, a reminder every 7 days before it.

Expected values are typed from DESIGN §8 and issue #16 (30 days -> 7, 7, 7, 7, 2), never
computed by the code under test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.domain.directory import Organisation, new_organisation
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.model import Quote, Status, Ticket, TicketType
from helpdesk.domain.outbox import CommandKind, Delivery, WorkflowCommand
from helpdesk.domain.quote_schedule import reminder_count, wait_days, waits
from helpdesk.domain.workflow import Action, ActionContext, ActionInput, decide
from helpdesk.service import HelpdeskService
from helpdesk.workflow_commands import WorkflowCommands
from tests.unit.builders import CLIENT, L2, MANAGER, NOW, base_ticket
from tests.unit.fakes import InMemoryUnitOfWork

DAY = 86_400


# ------------------------------------------------------------------ the schedule
@pytest.mark.parametrize(
    ("validity", "expected_days"),
    [
        (30, [7, 7, 7, 7, 2]),  # issue #16: 4 reminders (days 7, 14, 21, 28), expired day 30
        (7, [7]),  # no reminder: the 7th day is the end
        (10, [7, 3]),
        (14, [7, 7]),  # one reminder, on day 7; the end on day 14 is the expiry
        (15, [7, 7, 1]),
        (8, [7, 1]),
        (2, [2]),
        (1, [1]),
        (365, [7] * 52 + [1]),
    ],
)
def test_waits_are_seven_days_while_more_remain_then_the_rest(
    validity: int, expected_days: list[int]
) -> None:
    assert wait_days(validity) == expected_days
    assert waits(validity, DAY) == [d * DAY for d in expected_days]
    assert waits(validity, 1) == expected_days
    assert reminder_count(validity) == len(expected_days) - 1


def test_thirty_days_in_seconds() -> None:
    assert waits(30) == [604_800, 604_800, 604_800, 604_800, 172_800]
    assert sum(waits(30)) == 2_592_000  # 30 days: the mail's "valable 30 jours" is true


@given(
    validity=st.integers(min_value=1, max_value=365),
    day_seconds=st.sampled_from([1, 2, 3, 8, 60, 3600, 86_400]),
)
def test_the_waits_add_up_to_exactly_the_validity(validity: int, day_seconds: int) -> None:
    schedule = waits(validity, day_seconds)
    assert sum(schedule) == validity * day_seconds
    assert all(0 < wait <= 7 * day_seconds for wait in schedule)
    assert all(wait == 7 * day_seconds for wait in schedule[:-1])  # every 7 days
    # Reminders strictly before the end: one per full 7 days that leaves time to answer.
    assert reminder_count(validity) == len(schedule) - 1 == (validity - 1) // 7


@pytest.mark.parametrize("validity", [0, -7, 366, True, "30", 7.0, None])
def test_a_validity_outside_1_to_365_days_has_no_schedule(validity: Any) -> None:
    with pytest.raises(ValueError, match="validity_days"):
        waits(validity, DAY)


@pytest.mark.parametrize("day_seconds", [0, -1, True, 0.5])
def test_a_day_is_a_positive_whole_number_of_seconds(day_seconds: Any) -> None:
    with pytest.raises(ValueError, match="day_seconds"):
        waits(30, day_seconds)


# ------------------------------------------------------------------ valid_until
@pytest.mark.parametrize(
    ("submitted_at", "validity", "valid_until"),
    [
        (datetime(2026, 11, 27, 9, 0, tzinfo=UTC), 30, datetime(2026, 12, 27, 9, 0, tzinfo=UTC)),
        (datetime(2026, 11, 27, 9, 0, tzinfo=UTC), 1, datetime(2026, 11, 28, 9, 0, tzinfo=UTC)),
        # Across the spring change of time in Paris: still 15 x 24 hours, as the waits are.
        (datetime(2027, 3, 20, 9, 0, tzinfo=UTC), 15, datetime(2027, 4, 4, 9, 0, tzinfo=UTC)),
        (datetime(2028, 2, 1, 23, 30, tzinfo=UTC), 29, datetime(2028, 3, 1, 23, 30, tzinfo=UTC)),
    ],
)
def test_valid_until_is_the_submission_plus_the_validity(
    submitted_at: datetime, validity: int, valid_until: datetime
) -> None:
    quote = Quote(
        version=1,
        amount=Decimal("100.00"),
        submitted_by="cons-l2",
        submitted_at=submitted_at,
        validity_days=validity,
    )
    assert quote.valid_until == valid_until
    elapsed = (quote.valid_until - quote.submitted_at).total_seconds()
    assert elapsed == sum(waits(validity, DAY))  # the execution expires it exactly then


# ------------------------------------------------------------------ the organisation
def test_an_organisation_gives_quotes_30_days_unless_it_says_otherwise() -> None:
    assert new_organisation("acme", "Acme", []).quote_validity_days == 30
    assert Organisation("acme", "Acme").quote_validity_days == 30
    assert new_organisation("acme", "Acme", [], quote_validity_days=10).quote_validity_days == 10
    assert new_organisation("acme", "Acme", [], quote_validity_days=365).quote_validity_days == 365
    assert new_organisation("acme", "Acme", [], quote_validity_days=1).quote_validity_days == 1


@pytest.mark.parametrize("days", [0, -1, 366, True, False, "30", 30.0, None])
def test_bad_quote_validity_days(days: Any) -> None:
    with pytest.raises(InvalidInput) as error:
        new_organisation("acme", "Acme", [], quote_validity_days=days)
    assert error.value.field == "quote_validity_days"


# ------------------------------------------------------------------ submit-quote
def _in_progress_evolution() -> Ticket:
    return base_ticket("evolution", status=Status.IN_PROGRESS, assignee=L2.id)


@pytest.mark.parametrize(
    ("org_days", "explicit", "expected"),
    [(10, None, 10), (10, 45, 45), (30, None, 30), (365, 1, 1)],
)
def test_submit_quote_takes_the_context_validity_unless_the_request_names_one(
    org_days: int, explicit: int | None, expected: int
) -> None:
    context = ActionContext(now=NOW, quote_validity_days=org_days)
    params = ActionInput(amount=Decimal("900.00"), validity_days=explicit)
    transition = decide(_in_progress_evolution(), L2, Action.SUBMIT_QUOTE, params, context)
    quote = transition.ticket.quote
    assert quote is not None
    assert quote.validity_days == expected


def test_submit_quote_without_a_context_value_is_30_days() -> None:
    params = ActionInput(amount=Decimal("900.00"))
    transition = decide(
        _in_progress_evolution(), L2, Action.SUBMIT_QUOTE, params, ActionContext(now=NOW)
    )
    assert transition.ticket.quote is not None
    assert transition.ticket.quote.validity_days == 30


@pytest.fixture
def service() -> HelpdeskService:
    svc = HelpdeskService(InMemoryUnitOfWork(), clock=lambda: NOW)
    svc.put_org(
        MANAGER, "acme", name="Acme", email_domains=["acme.example"], quote_validity_days=10
    )
    assert L2.level is not None
    svc.put_consultant(MANAGER, L2.id, name="L2", email=L2.email, level=L2.level)
    return svc


def _quoted(service: HelpdeskService, **params: Any) -> tuple[Quote, list[WorkflowCommand]]:
    ticket = service.create_ticket(
        CLIENT, title="Export", description="CSV", type=TicketType.EVOLUTION
    )
    service.perform(L2, ticket.number, Action.TAKE, ActionInput())
    service.perform(L2, ticket.number, Action.START, ActionInput())
    quoted = service.perform(
        L2, ticket.number, Action.SUBMIT_QUOTE, ActionInput(amount=Decimal("900.00"), **params)
    ).ticket
    assert quoted.quote is not None
    uow = service.uow
    assert isinstance(uow, InMemoryUnitOfWork)
    return quoted.quote, [c for c in uow.commands if c.ticket_number == ticket.number]


def test_the_service_submits_with_the_organisation_validity(service: HelpdeskService) -> None:
    quote, commands = _quoted(service)
    assert quote.validity_days == 10
    assert quote.valid_until == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # NOW + 10 days
    assert commands == [
        WorkflowCommand(
            1, CommandKind.QUOTE_APPROVAL_START, {"quote_version": 1, "validity_days": 10}
        )
    ]


def test_an_explicit_validity_wins_over_the_organisation(service: HelpdeskService) -> None:
    quote, commands = _quoted(service, validity_days=45)
    assert quote.validity_days == 45
    assert quote.valid_until == datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    assert commands[-1].data["validity_days"] == 45


def test_an_organisation_saved_without_the_field_keeps_30_days() -> None:
    svc = HelpdeskService(InMemoryUnitOfWork(), clock=lambda: NOW)
    svc.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example"])
    assert svc.get_org(MANAGER, "acme").quote_validity_days == 30


# ------------------------------------------------------------------ the start command
class _Claims:
    """One pending command, claimed once."""

    def __init__(self, command: dict[str, Any]) -> None:
        self.command: dict[str, Any] | None = command
        self.finished: list[Mapping[str, Any] | None] = []

    def claim(
        self, key: Mapping[str, str], now: datetime, set_once: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        command, self.command = self.command, None
        return command

    def delivery(self, key: Mapping[str, str]) -> dict[str, Any]:
        return {}

    def release(self, key: Mapping[str, str]) -> None:
        raise AssertionError("nothing fails here")

    def finish(
        self,
        key: Mapping[str, str],
        now: datetime,
        delivery: Delivery,
        results: Mapping[str, Any] | None = None,
    ) -> None:
        self.finished.append(results)

    def finish_sent_mail(
        self, key: Mapping[str, str], now: datetime, message_id: str, ticket_number: int, kind: str
    ) -> None:
        raise AssertionError("not a mail")


class _Approvals:
    def __init__(self) -> None:
        self.started: list[tuple[str, int, int, int, list[int]]] = []

    def start(
        self,
        name: str,
        ticket_number: int,
        quote_version: int,
        validity_days: int,
        waits: Sequence[int],
    ) -> bool:
        self.started.append((name, ticket_number, quote_version, validity_days, list(waits)))
        return True

    def resume(self, task_token: str, decision: str, reason: str | None) -> bool:
        raise AssertionError("a start command resumes nothing")


@pytest.mark.parametrize(
    ("validity", "day_seconds", "expected_waits"),
    [
        (30, 86_400, [604_800, 604_800, 604_800, 604_800, 172_800]),
        (10, 86_400, [604_800, 259_200]),
        (9, 1, [7, 2]),
        (2, 8, [16]),
    ],
)
def test_the_start_command_gives_the_execution_its_waits(
    validity: int, day_seconds: int, expected_waits: list[int]
) -> None:
    claims = _Claims(
        {
            "ticket_number": 7,
            "quote_version": 2,
            "kind": "quote_approval_start",
            "validity_days": validity,
        }
    )
    approvals = _Approvals()
    uow = InMemoryUnitOfWork()
    commands = WorkflowCommands(
        claims, uow.tickets, approvals, lambda: NOW, day_seconds=day_seconds
    )
    assert commands.execute("TICKET#7", "OUTBOX#x").outcome == "started"
    assert approvals.started == [("ticket-7-quote-2", 7, 2, validity, expected_waits)]
    assert claims.finished == [{"result": "started"}]


# ------------------------------------------------------------------ the length of a day
def test_the_notifier_day_is_86400_seconds_unless_told() -> None:
    from helpdesk.settings import Settings

    assert Settings.model_validate({"TABLE_NAME": "tickets"}).quote_day_seconds == 86_400
    short = Settings.model_validate({"TABLE_NAME": "tickets", "QUOTE_DAY_SECONDS": "8"})
    assert short.quote_day_seconds == 8
    for bad in ("0", "86401", "1.5", "day"):
        with pytest.raises(ValueError, match="QUOTE_DAY_SECONDS"):
            Settings.model_validate({"TABLE_NAME": "tickets", "QUOTE_DAY_SECONDS": bad})


def test_the_local_stack_has_short_days() -> None:
    from infra.localstack.config import LocalConfig

    assert LocalConfig.from_env({}).quote_day_seconds == 8  # a 30-day quote: 240 s
    assert LocalConfig.from_env({"LOCAL_QUOTE_DAY_SECONDS": "1"}).quote_day_seconds == 1
