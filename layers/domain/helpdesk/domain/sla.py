"""The two service-level clocks of a ticket (DESIGN.md §10), as pure values.

*take* runs from the ticket's creation to `take`. *answer* runs from the creation until the
ticket is answered: `send-answer`, or `submit-quote` for an evolution; it then stops as `met`
(or stays `missed`) with `done_at`. While a clock runs it pauses on `hold` (waiting on the
client) and runs again on `resume`. `reopen`, `refuse-quote` and `withdraw-quote` set a
stopped answer clock running again with the business minutes it had left; `expire-quote` too
(like a refusal, the evolution goes back to analysis and a new quote is owed). A priority
change re-targets the clocks that have not stopped: same business minutes used since the
creation, pauses kept, new target. A clock that passed its due time is `missed` for good.

A clock is stored whole on the ticket (`SlaClock`): its target, the business time it used
before its current run, when that run began, its due time while it runs. Reading it needs
nothing else: `view(clock, now, calendar)` gives the JSON of §10, with `missed` shown as
soon as the due time has passed, even before the `sla-watch` schedule records it.

Decisions the design leaves open, made here:
- A clock that has stopped (met or missed) keeps its target when the priority changes later:
  its outcome was decided under the promise then in force.
- A missed answer clock set running again by a reopen stays `missed` and keeps counting (its
  remaining minutes go further below zero) until the next answer, which records `done_at`.
- A ticket closed while a clock still runs (a `cancel` before `take`, an abandoned evolution)
  freezes that clock: `missed` if it was past due (with `done_at`), otherwise `paused` for
  good, counted neither met nor missed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from helpdesk.domain.business_time import (
    MINUTE,
    BusinessCalendar,
    add_business_time,
    business_time_between,
)
from helpdesk.domain.calendar import ensure_utc, iso
from helpdesk.domain.contract import SlaTarget
from helpdesk.domain.model import TicketType
from helpdesk.domain.workflow import Action

_ZERO = timedelta(0)


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True)
class SlaClock:
    """One clock. `used` is the business time used before the current run (all of it once
    the clock is paused or stopped); `running_since` is the current run's start, None while
    paused or stopped; `due_at` is when the target is reached while it runs (for a missed
    clock, when it was); `done_at` is when it stopped."""

    target_minutes: int
    state: ClockState = ClockState.RUNNING
    used: timedelta = _ZERO
    running_since: datetime | None = None
    due_at: datetime | None = None
    done_at: datetime | None = None

    @property
    def running(self) -> bool:
        """Counting business time now (a missed clock may still count)."""
        return self.running_since is not None

    @property
    def stopped(self) -> bool:
        return self.done_at is not None

    def used_at(self, now: datetime, calendar: BusinessCalendar) -> timedelta:
        """All the business time used up to `now`."""
        if self.running_since is None:
            return self.used
        return self.used + max(_ZERO, business_time_between(self.running_since, now, calendar))


@dataclass(frozen=True)
class SlaClocks:
    """The take and answer clocks of a ticket."""

    take: SlaClock
    answer: SlaClock


# ------------------------------------------------------------- one clock


def start_clock(target_minutes: int, at: datetime, calendar: BusinessCalendar) -> SlaClock:
    """A clock running from `at` (the ticket's creation)."""
    at = ensure_utc(at)
    due = add_business_time(at, target_minutes * MINUTE, calendar)
    return SlaClock(target_minutes, ClockState.RUNNING, _ZERO, at, due)


def _settled(clock: SlaClock, at: datetime, calendar: BusinessCalendar) -> SlaClock:
    """The clock with `missed` recorded if it used more than its target before `at`.

    Past the due time is not enough: a clock due Friday at 18:00 (closing time) is still in
    time on Saturday, no business minute having passed; it is missed from Monday 09:00 on."""
    if (
        clock.state is ClockState.RUNNING
        and clock.running_since is not None
        and clock.due_at is not None
        and ensure_utc(at) > clock.due_at
        and clock.used_at(at, calendar) > clock.target_minutes * MINUTE
    ):
        return replace(clock, state=ClockState.MISSED)
    return clock


def pause(clock: SlaClock, at: datetime, calendar: BusinessCalendar) -> SlaClock:
    """Stop counting until `resume` (on hold). A paused or stopped clock is unchanged."""
    clock = _settled(clock, at, calendar)
    if not clock.running:
        return clock
    state = ClockState.PAUSED if clock.state is ClockState.RUNNING else clock.state
    due = None if state is ClockState.PAUSED else clock.due_at
    return replace(
        clock, state=state, used=clock.used_at(at, calendar), running_since=None, due_at=due
    )


def resume(clock: SlaClock, at: datetime, calendar: BusinessCalendar) -> SlaClock:
    """Count again from `at` with the business time left. Only a paused clock changes."""
    if clock.running or clock.stopped:
        return clock
    at = ensure_utc(at)
    if clock.state is ClockState.MISSED:
        return replace(clock, running_since=at)
    return replace(
        clock,
        state=ClockState.RUNNING,
        running_since=at,
        due_at=add_business_time(at, _left(clock.target_minutes, clock.used), calendar),
    )


def stop(clock: SlaClock, at: datetime, calendar: BusinessCalendar) -> SlaClock:
    """The promised act happened at `at`: `met` if still in time, else it stays `missed`."""
    clock = _settled(clock, at, calendar)
    if clock.stopped:
        return clock
    state = ClockState.MISSED if clock.state is ClockState.MISSED else ClockState.MET
    due = clock.due_at if state is ClockState.MISSED else None
    return replace(
        clock,
        state=state,
        used=clock.used_at(at, calendar),
        running_since=None,
        due_at=due,
        done_at=ensure_utc(at),
    )


def restart(clock: SlaClock, at: datetime, calendar: BusinessCalendar) -> SlaClock:
    """A stopped clock runs again from `at` with the business time it had left (reopen,
    quote refused, withdrawn or expired). A missed one stays missed and counts on."""
    if not clock.stopped:
        return clock
    at = ensure_utc(at)
    if clock.state is ClockState.MISSED:
        return replace(clock, running_since=at, done_at=None)
    return replace(
        clock,
        state=ClockState.RUNNING,
        running_since=at,
        due_at=add_business_time(at, _left(clock.target_minutes, clock.used), calendar),
        done_at=None,
    )


def freeze(clock: SlaClock, at: datetime, calendar: BusinessCalendar) -> SlaClock:
    """The ticket closed before the promised act: a missed clock records `done_at`; any other
    clock not yet stopped stays paused for good, with no outcome."""
    clock = _settled(clock, at, calendar)
    if clock.stopped:
        return clock
    if clock.state is ClockState.MISSED:
        return stop(clock, at, calendar)
    return pause(clock, at, calendar)


def retarget(
    clock: SlaClock, target_minutes: int, at: datetime, calendar: BusinessCalendar
) -> SlaClock:
    """The priority changed at `at`: the same business time used since the creation, a new
    target. Past the new target already, the clock is missed (for good)."""
    clock = _settled(clock, at, calendar)
    if clock.stopped or clock.target_minutes == target_minutes:
        return clock
    if clock.state is ClockState.MISSED:
        return replace(clock, target_minutes=target_minutes)
    if not clock.running:  # paused: its due time is worked out on resume
        state = ClockState.MISSED if clock.used > target_minutes * MINUTE else clock.state
        return replace(clock, target_minutes=target_minutes, state=state)
    assert clock.running_since is not None
    # Where the new target falls: in the current run (due then, which may be in the past), or
    # before it (the target was used up before a pause: missed since that run began).
    if clock.used <= target_minutes * MINUTE:
        due = add_business_time(clock.running_since, _left(target_minutes, clock.used), calendar)
    else:
        due = clock.running_since
    return _settled(replace(clock, target_minutes=target_minutes, due_at=due), at, calendar)


def _left(target_minutes: int, used: timedelta) -> timedelta:
    return max(_ZERO, target_minutes * MINUTE - used)


# ------------------------------------------------------------ the pair


def start_clocks(targets: SlaTarget, created_at: datetime, calendar: BusinessCalendar) -> SlaClocks:
    """Both clocks of a new ticket, running from its creation."""
    return SlaClocks(
        take=start_clock(targets.take_minutes, created_at, calendar),
        answer=start_clock(targets.answer_minutes, created_at, calendar),
    )


def retarget_clocks(
    clocks: SlaClocks, targets: SlaTarget, at: datetime, calendar: BusinessCalendar
) -> SlaClocks:
    """A priority change (at `take`, or an edit): both clocks get the new priority's targets."""
    return SlaClocks(
        take=retarget(clocks.take, targets.take_minutes, at, calendar),
        answer=retarget(clocks.answer, targets.answer_minutes, at, calendar),
    )


# What each action does to the answer clock (the take clock only stops on `take`).
_RESTARTS = frozenset(
    {Action.REOPEN, Action.REFUSE_QUOTE, Action.WITHDRAW_QUOTE, Action.EXPIRE_QUOTE}
)
_CLOSES = frozenset({Action.CLOSE, Action.CANCEL, Action.CONFIRM, Action.AUTO_CLOSE})


def _answers(action: Action, ticket_type: TicketType) -> bool:
    """The act that stops the answer clock: `send-answer`, or `submit-quote` for an evolution
    (an evolution reopened into realisation is answered by its next `send-answer`)."""
    return action is Action.SEND_ANSWER or (
        action is Action.SUBMIT_QUOTE and ticket_type is TicketType.EVOLUTION
    )


def apply_action(
    clocks: SlaClocks,
    action: Action,
    *,
    ticket_type: TicketType,
    at: datetime,
    calendar: BusinessCalendar,
    new_targets: SlaTarget | None = None,
) -> SlaClocks:
    """The clocks after `action` applied at `at` to a ticket of `ticket_type` (its type once
    the action applied: `take` may correct it). `new_targets`: the priority's targets when
    the action changed the priority (`take` with a `priority`)."""
    if new_targets is not None:
        clocks = retarget_clocks(clocks, new_targets, at, calendar)
    take, answer = clocks.take, clocks.answer
    if action is Action.TAKE:
        take = stop(take, at, calendar)
    elif action is Action.HOLD:
        take, answer = pause(take, at, calendar), pause(answer, at, calendar)
    elif action is Action.RESUME:
        take, answer = resume(take, at, calendar), resume(answer, at, calendar)
    elif _answers(action, ticket_type):
        answer = stop(answer, at, calendar)
    elif action in _RESTARTS:
        answer = restart(answer, at, calendar)
    elif action in _CLOSES:
        take, answer = freeze(take, at, calendar), freeze(answer, at, calendar)
    else:  # start, escalate, assign, approve-quote: no clock changes
        take, answer = _settled(take, at, calendar), _settled(answer, at, calendar)
    return SlaClocks(take, answer)


# ------------------------------------------------------------ reading


def view_state(clock: SlaClock, now: datetime, calendar: BusinessCalendar) -> ClockState:
    """The state as of `now`: a running clock past its target reads `missed`."""
    return _settled(clock, now, calendar).state


def view(clock: SlaClock, now: datetime, calendar: BusinessCalendar) -> dict[str, Any]:
    """§10's JSON for one clock: `target_minutes`, `due_at` (null while paused or stopped),
    `remaining_minutes` (whole business minutes left, rounded down: 30 seconds left read 0,
    30 seconds late read -1), `state`, `done_at`."""
    used = clock.used_at(now, calendar)
    shown_due = clock.due_at if clock.running and not clock.stopped else None
    return {
        "target_minutes": clock.target_minutes,
        "due_at": None if shown_due is None else iso(shown_due),
        "remaining_minutes": (clock.target_minutes * MINUTE - used) // MINUTE,
        "state": view_state(clock, now, calendar).value,
        "done_at": None if clock.done_at is None else iso(clock.done_at),
    }


def view_clocks(clocks: SlaClocks, now: datetime, calendar: BusinessCalendar) -> dict[str, Any]:
    """A ticket's `sla`: `{"take": {...}, "answer": {...}}`."""
    return {"take": view(clocks.take, now, calendar), "answer": view(clocks.answer, now, calendar)}
