"""The two service-level clocks of a ticket (DESIGN.md §10): what each action does to them, and
worked examples typed by hand (hold across a weekend, a reopen resuming with its remaining
time, a priority raised after creation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.domain.business_time import BusinessCalendar
from helpdesk.domain.contract import DEFAULT_CONTRACT, SlaTarget
from helpdesk.domain.model import Priority, TicketType
from helpdesk.domain.sla import (
    ClockState,
    SlaClock,
    SlaClocks,
    apply_action,
    retarget_clocks,
    start_clocks,
    view,
    view_clocks,
)
from helpdesk.domain.workflow import Action

PARIS = ZoneInfo("Europe/Paris")
CAL = BusinessCalendar()  # §10's defaults: Monday-Friday 09:00-18:00, FR holidays
NORMAL = SlaTarget(take_minutes=240, answer_minutes=1080)
CRITICAL = SlaTarget(take_minutes=60, answer_minutes=240)
HIGH = SlaTarget(take_minutes=120, answer_minutes=480)
LOW = SlaTarget(take_minutes=480, answer_minutes=2700)
ALL_TYPES = list(TicketType)


def paris(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A Paris wall-clock instant, as UTC (what the domain stores)."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def z(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> str:
    """The JSON form of a Paris wall-clock instant (UTC, `Z`), typed as the API shows it."""
    return paris(month, day, hour, minute, year).isoformat().replace("+00:00", "Z")


def act(
    clocks: SlaClocks,
    action: Action,
    at: datetime,
    ticket_type: TicketType = TicketType.INCIDENT,
    new_targets: SlaTarget | None = None,
) -> SlaClocks:
    return apply_action(
        clocks, action, ticket_type=ticket_type, at=at, calendar=CAL, new_targets=new_targets
    )


def clock_json(
    target: int, due: str | None, remaining: int, state: str, done: str | None = None
) -> dict[str, Any]:
    return {
        "target_minutes": target,
        "due_at": due,
        "remaining_minutes": remaining,
        "state": state,
        "done_at": done,
    }


# Monday 30 November 2026, 09:00 in Paris (CET, 08:00 UTC).
CREATED = paris(11, 30, 9)


def new_clocks(targets: SlaTarget = NORMAL) -> SlaClocks:
    return start_clocks(targets, CREATED, CAL)


# ------------------------------------------------------------ a new ticket


def test_a_new_normal_ticket_reads_both_clocks_running() -> None:
    clocks = new_clocks()
    # take: 240 minutes from Monday 09:00 → 13:00; answer: 1080 → Monday 540 + Tuesday 540:
    # Tuesday 1 December 18:00.
    assert view_clocks(clocks, paris(11, 30, 10), CAL) == {
        "take": clock_json(240, z(11, 30, 13), 180, "running"),
        "answer": clock_json(1080, z(12, 1, 18), 1020, "running"),
    }


def test_default_targets_come_from_the_contract() -> None:
    assert DEFAULT_CONTRACT.sla[Priority.NORMAL] == NORMAL
    assert DEFAULT_CONTRACT.sla[Priority.LOW] == LOW


def test_a_clock_past_due_reads_missed_with_negative_remaining_before_anything_records_it() -> None:
    clocks = new_clocks()
    # Monday 13:30: the take clock was due at 13:00.
    assert view(clocks.take, paris(11, 30, 13, 30), CAL) == clock_json(
        240, z(11, 30, 13), -30, "missed"
    )
    # Exactly at the due time: 0 left, still running; 30 seconds later, -1 and missed.
    assert view(clocks.take, paris(11, 30, 13), CAL)["state"] == "running"
    assert view(clocks.take, paris(11, 30, 13), CAL)["remaining_minutes"] == 0
    late = view(clocks.take, paris(11, 30, 13) + timedelta(seconds=30), CAL)
    assert (late["state"], late["remaining_minutes"]) == ("missed", -1)
    # Evenings and weekends are not late time: Friday 4 December 20:00 is 4 days of 540
    # minutes after Monday 13:00 + 300 on Monday.
    assert view(clocks.take, paris(12, 4, 20), CAL)["remaining_minutes"] == -(300 + 4 * 540)


def test_due_at_closing_time_is_late_only_once_business_time_passes() -> None:
    # Created Thursday 3 December 2026 09:00, normal: answer due Friday 4 December 18:00.
    clocks = act(start_clocks(NORMAL, paris(12, 3, 9), CAL), Action.TAKE, paris(12, 3, 9))
    saturday = paris(12, 5, 11)
    assert view(clocks.answer, saturday, CAL) == clock_json(1080, z(12, 4, 18), 0, "running")
    # Answered on Saturday or at Monday 09:00 sharp: no business minute past the target.
    assert act(clocks, Action.SEND_ANSWER, saturday).answer.state is ClockState.MET
    assert act(clocks, Action.SEND_ANSWER, paris(12, 7, 9)).answer.state is ClockState.MET
    monday = paris(12, 7, 9, 1)
    assert view(clocks.answer, monday, CAL) == clock_json(1080, z(12, 4, 18), -1, "missed")
    assert act(clocks, Action.SEND_ANSWER, monday).answer.state is ClockState.MISSED


# ------------------------------------------------------------ take


def test_take_in_time_stops_the_take_clock_as_met() -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 11, 15))
    assert view_clocks(clocks, paris(11, 30, 12), CAL) == {
        "take": clock_json(240, None, 105, "met", z(11, 30, 11, 15)),
        "answer": clock_json(1080, z(12, 1, 18), 900, "running"),
    }


def test_take_late_leaves_the_take_clock_missed_for_good() -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 14))
    assert view(clocks.take, paris(12, 2, 9), CAL) == clock_json(
        240, None, -60, "missed", z(11, 30, 14)
    )
    assert clocks.take.state is ClockState.MISSED


@pytest.mark.parametrize("ticket_type", ALL_TYPES)
def test_take_stops_only_the_take_clock_whatever_the_type(ticket_type: TicketType) -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10), ticket_type)
    assert clocks.take.state is ClockState.MET
    assert clocks.answer == new_clocks().answer


# ------------------------------------------------------------ answer


@pytest.mark.parametrize(
    ("ticket_type", "action", "stops"),
    [
        (TicketType.ASSISTANCE, Action.SEND_ANSWER, True),
        (TicketType.INCIDENT, Action.SEND_ANSWER, True),
        (TicketType.EVOLUTION, Action.SUBMIT_QUOTE, True),
        # An evolution reopened into realisation is answered by its next send-answer.
        (TicketType.EVOLUTION, Action.SEND_ANSWER, True),
        # submit-quote exists for evolutions only; it answers nothing else.
        (TicketType.ASSISTANCE, Action.SUBMIT_QUOTE, False),
        (TicketType.INCIDENT, Action.SUBMIT_QUOTE, False),
    ],
)
def test_the_act_that_answers(ticket_type: TicketType, action: Action, stops: bool) -> None:
    taken = act(new_clocks(), Action.TAKE, paris(11, 30, 10), ticket_type)
    answered = act(taken, action, paris(12, 1, 11), ticket_type)
    assert answered.take == taken.take
    if stops:
        # Monday 540 + Tuesday 120 used: 420 left.
        assert view(answered.answer, paris(12, 3, 9), CAL) == clock_json(
            1080, None, 420, "met", z(12, 1, 11)
        )
    else:
        assert answered.answer == taken.answer


def test_answered_late_stays_missed_with_done_at() -> None:
    taken = act(new_clocks(), Action.TAKE, paris(11, 30, 10))
    answered = act(taken, Action.SEND_ANSWER, paris(12, 2, 10))  # due Tuesday 18:00
    assert view(answered.answer, paris(12, 7, 9), CAL) == clock_json(
        1080, None, -60, "missed", z(12, 2, 10)
    )


def test_an_evolution_answered_by_its_quote_is_not_stopped_again_by_send_answer() -> None:
    ev = TicketType.EVOLUTION
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10), ev)
    clocks = act(clocks, Action.SUBMIT_QUOTE, paris(12, 1, 11), ev)
    clocks = act(clocks, Action.APPROVE_QUOTE, paris(12, 2, 9), ev)
    later = act(clocks, Action.SEND_ANSWER, paris(12, 10, 9), ev)
    assert later == clocks
    assert view(later.answer, paris(12, 10, 9), CAL)["done_at"] == z(12, 1, 11)


# ------------------------------------------------------------ hold and resume


def test_on_hold_across_a_weekend() -> None:
    # An incident created Thursday 26 November 2026 09:00, normal: answer due Friday 18:00
    # (540 + 540). Taken at once; on hold Friday 14:00 (840 used, 240 left), resumed Monday
    # 30 November 10:00: due Monday 14:00. Answered Monday 13:30: met, 30 minutes to spare.
    clocks = start_clocks(NORMAL, paris(11, 26, 9), CAL)
    clocks = act(clocks, Action.TAKE, paris(11, 26, 9, 20))
    held = act(clocks, Action.HOLD, paris(11, 27, 14))
    saturday = paris(11, 28, 12)
    assert view(held.answer, saturday, CAL) == clock_json(1080, None, 240, "paused")
    # Still paused on Monday morning, the minutes do not move.
    assert view(held.answer, paris(11, 30, 9, 45), CAL) == clock_json(1080, None, 240, "paused")
    resumed = act(held, Action.RESUME, paris(11, 30, 10))
    assert view(resumed.answer, paris(11, 30, 13), CAL) == clock_json(
        1080, z(11, 30, 14), 60, "running"
    )
    answered = act(resumed, Action.SEND_ANSWER, paris(11, 30, 13, 30))
    assert view(answered.answer, paris(11, 30, 15), CAL) == clock_json(
        1080, None, 30, "met", z(11, 30, 13, 30)
    )
    # Without the pause the answer would have been due Friday 18:00 and missed.
    unpaused = act(clocks, Action.SEND_ANSWER, paris(11, 30, 13, 30))
    assert unpaused.answer.state is ClockState.MISSED


def test_hold_then_resume_the_same_day_keeps_the_business_minutes() -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 9, 10))
    held = act(clocks, Action.HOLD, paris(11, 30, 11))  # 120 used
    resumed = act(held, Action.RESUME, paris(11, 30, 16))  # 5 hours on hold
    # 960 left from 16:00: Monday 120, Tuesday 540, Wednesday 300 → Wednesday 14:00.
    assert view(resumed.answer, paris(11, 30, 16), CAL) == clock_json(
        1080, z(12, 2, 14), 960, "running"
    )


def test_a_clock_missed_before_the_hold_stays_missed_and_does_not_count_while_paused() -> None:
    clocks = act(new_clocks(CRITICAL), Action.TAKE, paris(11, 30, 9, 10))
    held = act(clocks, Action.HOLD, paris(11, 30, 14))  # answer due at 13:00: missed
    assert held.answer.state is ClockState.MISSED
    assert view(held.answer, paris(12, 1, 12), CAL) == clock_json(240, None, -60, "missed")
    resumed = act(held, Action.RESUME, paris(12, 1, 9))
    assert view(resumed.answer, paris(12, 1, 10), CAL) == clock_json(
        240, z(11, 30, 13), -120, "missed"
    )


def test_resume_of_a_running_clock_changes_nothing() -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10))
    assert act(clocks, Action.RESUME, paris(11, 30, 11)) == clocks


# ------------------------------------------------------------ restarts


def test_a_reopened_ticket_resumes_with_its_remaining_time() -> None:
    # Assistance, normal, created Monday 30 November 09:00; answered Monday 15:00 (360 used,
    # 720 left); reopened Thursday 3 December 10:00: due Thursday 480 + Friday 240 → Friday
    # 4 December 13:00.
    at = TicketType.ASSISTANCE
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 9, 30), at)
    clocks = act(clocks, Action.SEND_ANSWER, paris(11, 30, 15), at)
    assert view(clocks.answer, paris(12, 3, 9), CAL)["remaining_minutes"] == 720
    reopened = act(clocks, Action.REOPEN, paris(12, 3, 10), at)
    assert view(reopened.answer, paris(12, 3, 11), CAL) == clock_json(
        1080, z(12, 4, 13), 660, "running"
    )
    assert reopened.take == clocks.take  # the take clock keeps its outcome
    again = act(reopened, Action.SEND_ANSWER, paris(12, 4, 12), at)
    assert view(again.answer, paris(12, 4, 12), CAL) == clock_json(
        1080, None, 60, "met", z(12, 4, 12)
    )


@pytest.mark.parametrize(
    "action", [Action.REFUSE_QUOTE, Action.WITHDRAW_QUOTE, Action.EXPIRE_QUOTE]
)
def test_a_quote_sent_back_to_analysis_restarts_the_answer_clock(action: Action) -> None:
    ev = TicketType.EVOLUTION
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10), ev)
    clocks = act(clocks, Action.SUBMIT_QUOTE, paris(11, 30, 17), ev)  # 480 used, 600 left
    back = act(clocks, action, paris(12, 2, 9), ev)
    # 600 from Wednesday 09:00: Wednesday 540, Thursday 60 → Thursday 10:00.
    assert view(back.answer, paris(12, 2, 9), CAL) == clock_json(1080, z(12, 3, 10), 600, "running")
    requoted = act(back, Action.SUBMIT_QUOTE, paris(12, 3, 9, 30), ev)
    assert view(requoted.answer, paris(12, 3, 9, 30), CAL) == clock_json(
        1080, None, 30, "met", z(12, 3, 9, 30)
    )


def test_a_reopen_of_a_missed_answer_stays_missed_and_counts_on() -> None:
    clocks = act(new_clocks(CRITICAL), Action.TAKE, paris(11, 30, 9, 30))
    clocks = act(clocks, Action.SEND_ANSWER, paris(11, 30, 14))  # due 13:00: 60 late
    reopened = act(clocks, Action.REOPEN, paris(12, 2, 9))
    assert view(reopened.answer, paris(12, 2, 10), CAL) == clock_json(
        240, z(11, 30, 13), -120, "missed"
    )
    answered = act(reopened, Action.SEND_ANSWER, paris(12, 2, 11))
    assert view(answered.answer, paris(12, 3, 9), CAL) == clock_json(
        240, None, -180, "missed", z(12, 2, 11)
    )


def test_a_restart_of_a_running_clock_changes_nothing() -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10))
    assert act(clocks, Action.REFUSE_QUOTE, paris(11, 30, 11), TicketType.EVOLUTION) == clocks


# ------------------------------------------------------------ priority


def test_a_priority_raised_after_creation_re_targets_both_clocks_from_creation() -> None:
    # Normal at creation (Monday 09:00); raised to high at 09:30 by an edit: take 120 → due
    # 11:00, answer 480 → due 17:00, the 30 minutes already used counted.
    raised = retarget_clocks(new_clocks(), HIGH, paris(11, 30, 9, 30), CAL)
    assert view_clocks(raised, paris(11, 30, 9, 30), CAL) == {
        "take": clock_json(120, z(11, 30, 11), 90, "running"),
        "answer": clock_json(480, z(11, 30, 17), 450, "running"),
    }


def test_a_priority_raised_at_take_past_the_new_target_is_missed() -> None:
    # Taken at 10:30 as critical: the take target became 60, due 10:00: missed; the answer
    # clock's target 240 falls at 13:00.
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10, 30), new_targets=CRITICAL)
    assert view_clocks(clocks, paris(11, 30, 11), CAL) == {
        "take": clock_json(60, None, -30, "missed", z(11, 30, 10, 30)),
        "answer": clock_json(240, z(11, 30, 13), 120, "running"),
    }


def test_a_priority_lowered_does_not_undo_a_miss() -> None:
    clocks = new_clocks(CRITICAL)  # take due 10:00
    lowered = retarget_clocks(clocks, LOW, paris(11, 30, 10, 30), CAL)
    assert view(lowered.take, paris(11, 30, 10, 30), CAL) == clock_json(
        480,
        z(11, 30, 10),
        390,
        "missed",  # 90 minutes used of 480
    )
    # The answer clock (240 → 2700) was in time: its new due time counts from the creation.
    # 2700 = 5 × 540: Friday 4 December 18:00.
    assert view(lowered.answer, paris(11, 30, 10, 30), CAL) == clock_json(
        2700, z(12, 4, 18), 2610, "running"
    )


def test_a_priority_changed_during_a_hold_keeps_the_pause() -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 9, 10))
    held = act(clocks, Action.HOLD, paris(11, 30, 11))  # 120 used
    raised = retarget_clocks(held, CRITICAL, paris(12, 1, 9), CAL)
    assert view(raised.answer, paris(12, 1, 12), CAL) == clock_json(240, None, 120, "paused")
    resumed = act(raised, Action.RESUME, paris(12, 1, 14))
    assert view(resumed.answer, paris(12, 1, 14), CAL) == clock_json(
        240, z(12, 1, 16), 120, "running"
    )
    # Raised past the minutes used while on hold: missed, for good.
    critical_short = retarget_clocks(held, SlaTarget(60, 100), paris(12, 1, 9), CAL)
    assert critical_short.answer.state is ClockState.MISSED
    assert view(critical_short.answer, paris(12, 1, 12), CAL) == clock_json(
        100, None, -20, "missed"
    )


def test_a_stopped_clock_keeps_its_target_when_the_priority_changes() -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 11))  # take met, 120 used
    raised = retarget_clocks(clocks, CRITICAL, paris(11, 30, 12), CAL)
    assert raised.take == clocks.take
    assert raised.answer.target_minutes == 240


def test_take_with_the_same_priority_changes_no_target() -> None:
    plain = act(new_clocks(), Action.TAKE, paris(11, 30, 10))
    assert act(new_clocks(), Action.TAKE, paris(11, 30, 10), new_targets=NORMAL) == plain


# ------------------------------------------------------------ closures


def test_a_ticket_cancelled_before_take_freezes_its_clocks_without_outcome() -> None:
    cancelled = act(new_clocks(), Action.CANCEL, paris(11, 30, 10))
    assert view_clocks(cancelled, paris(12, 10, 9), CAL) == {
        "take": clock_json(240, None, 180, "paused"),
        "answer": clock_json(1080, None, 1020, "paused"),
    }


def test_a_ticket_closed_past_due_records_the_miss() -> None:
    cancelled = act(new_clocks(), Action.CANCEL, paris(11, 30, 14))
    assert view(cancelled.take, paris(12, 10, 9), CAL) == clock_json(
        240, None, -60, "missed", z(11, 30, 14)
    )
    assert cancelled.answer.state is ClockState.PAUSED


def test_an_abandoned_evolution_freezes_its_answer_clock() -> None:
    ev = TicketType.EVOLUTION
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10), ev)
    closed = act(clocks, Action.CLOSE, paris(11, 30, 12), ev)
    assert view(closed.answer, paris(12, 10, 9), CAL) == clock_json(1080, None, 900, "paused")


@pytest.mark.parametrize("action", [Action.CONFIRM, Action.CLOSE, Action.AUTO_CLOSE])
def test_closing_an_answered_ticket_keeps_the_outcomes(action: Action) -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10))
    clocks = act(clocks, Action.SEND_ANSWER, paris(11, 30, 12))
    assert act(clocks, action, paris(12, 10, 9)) == clocks


# ------------------------------------------------------------ every action


@pytest.mark.parametrize("ticket_type", ALL_TYPES)
@pytest.mark.parametrize(
    "action", [Action.START, Action.ESCALATE, Action.ASSIGN, Action.APPROVE_QUOTE]
)
def test_actions_that_touch_no_clock(action: Action, ticket_type: TicketType) -> None:
    clocks = act(new_clocks(), Action.TAKE, paris(11, 30, 10), ticket_type)
    assert act(clocks, action, paris(11, 30, 11), ticket_type) == clocks


@pytest.mark.parametrize("ticket_type", ALL_TYPES)
def test_every_action_is_handled_for_every_type(ticket_type: TicketType) -> None:
    """What each action does to taken clocks at Monday 11:00 (answer running, not due)."""
    taken = act(new_clocks(), Action.TAKE, paris(11, 30, 10), ticket_type)
    answered_by = (
        {Action.SEND_ANSWER, Action.SUBMIT_QUOTE}
        if ticket_type is TicketType.EVOLUTION
        else {Action.SEND_ANSWER}
    )
    expected_answer = {
        Action.HOLD: "paused",
        Action.CANCEL: "paused",
        Action.CLOSE: "paused",
        Action.CONFIRM: "paused",
        Action.AUTO_CLOSE: "paused",
    }
    for action in Action:
        after = act(taken, action, paris(11, 30, 11), ticket_type)
        assert after.take == taken.take, action
        state = "met" if action in answered_by else expected_answer.get(action, "running")
        assert after.answer.state.value == state, action


# ------------------------------------------------------------ the stored value


def test_a_clock_is_one_small_value_read_without_anything_else() -> None:
    clock = new_clocks().answer
    assert clock == SlaClock(
        target_minutes=1080,
        state=ClockState.RUNNING,
        used=timedelta(0),
        running_since=CREATED,
        due_at=paris(12, 1, 18),
        done_at=None,
    )


# ------------------------------------------------------------ properties

# Whole-minute instants after the creation (Monday 30 November 2026 09:00), a few weeks on.
_steps = st.lists(st.integers(1, 3 * 24 * 60), min_size=1, max_size=8)


def _business_minutes_in(runs: list[tuple[datetime, datetime]]) -> int:
    """Business minutes in the running stretches, counted minute by minute on the default
    calendar (weekdays 09:00-18:00; the only holiday in reach is 25 December)."""
    total = 0
    for begin, end in runs:
        moment = begin
        while moment < end:
            local = moment.astimezone(PARIS)
            if (
                local.isoweekday() <= 5
                and (local.month, local.day) != (12, 25)
                and 9 * 60 <= local.hour * 60 + local.minute < 18 * 60
            ):
                total += 1
            moment += timedelta(minutes=1)
    return total


@settings(max_examples=60, deadline=None)
@given(_steps, st.sampled_from([CRITICAL, HIGH, NORMAL, LOW]))
def test_holds_count_only_the_running_stretches(steps: list[int], targets: SlaTarget) -> None:
    """Alternate hold and resume at the drawn instants, then answer: the minutes used are the
    business minutes of the running stretches, and the outcome follows them."""
    clocks = act(start_clocks(targets, CREATED, CAL), Action.TAKE, CREATED)
    moment, running_from = CREATED, CREATED
    runs: list[tuple[datetime, datetime]] = []
    for index, step in enumerate(steps):
        moment += timedelta(minutes=step)
        if index % 2 == 0:
            clocks = act(clocks, Action.HOLD, moment)
            runs.append((running_from, moment))
        else:
            clocks = act(clocks, Action.RESUME, moment)
            running_from = moment
    if len(steps) % 2 == 0:  # running: answer a day later
        moment += timedelta(days=1)
        runs.append((running_from, moment))
    else:
        clocks = act(clocks, Action.RESUME, moment)
        moment += timedelta(days=1)
        runs.append((moment - timedelta(days=1), moment))
    answered = act(clocks, Action.SEND_ANSWER, moment)
    used = _business_minutes_in(runs)
    shown = view(answered.answer, moment + timedelta(days=30), CAL)
    assert shown["remaining_minutes"] == targets.answer_minutes - used
    # Missed for good: once past the target in any stretch, a later hold cannot save it.
    assert shown["state"] == ("met" if used <= targets.answer_minutes else "missed")
    assert shown["done_at"] == moment.isoformat().replace("+00:00", "Z")
