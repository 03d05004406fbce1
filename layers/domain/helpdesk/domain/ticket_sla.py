"""A ticket's service levels (DESIGN.md §10): its two clocks and what reading them needs.

The clocks (helpdesk.domain.sla) are kept on the ticket with the business calendar they count
on and the targets of every priority, copied from the organisation's contract at creation, so
that reading a ticket, an action and a priority edit need no other item. A contract changed
later applies to the tickets created after it: a ticket keeps the promise made when it was
opened.

The `sla-watch` schedule marks a clock at risk (75 % of its target used) and missed, once each
(`alerts`, e.g. `take:at_risk`, `answer:missed`, recorded by the schedule only); `watch_at` is
the next instant the schedule must look at the ticket (the key of the sparse index it
queries), None when no clock can reach a new mark by time passing alone (paused, stopped or
marked already).

Decisions the design leaves open, made here:
- A ticket stored before the clocks existed has none: its `sla` reads null (no promise was
  recorded for it, and none is made up afterwards).
- Each mark is mailed once per clock for the ticket's life: an answer clock set running again
  by a reopen is not announced at risk a second time.
- A clock found missed that was never announced at risk is announced missed only.
- A clock that became missed while it was not running (late answer, a priority raised past
  the time already used) is still announced missed by the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk.domain.business_time import (
    MINUTE,
    BusinessCalendar,
    HolidayCalendar,
    add_business_time,
)
from helpdesk.domain.calendar import ensure_utc
from helpdesk.domain.contract import Contract, SlaTarget, SlaTargets
from helpdesk.domain.model import Priority, Ticket
from helpdesk.domain.sla import (
    ClockState,
    SlaClock,
    SlaClocks,
    apply_action,
    retarget_clocks,
    start_clocks,
    view_clocks,
    view_state,
)
from helpdesk.domain.workflow import Action, Transition

CLOCK_NAMES = ("take", "answer")
AT_RISK = "at_risk"
MISSED = "missed"
AT_RISK_SHARE = (3, 4)  # 75 % of the target used


@dataclass(frozen=True)
class TicketSla:
    """A ticket's service clocks with the calendar and targets they run on."""

    clocks: SlaClocks
    calendar: BusinessCalendar
    targets: SlaTargets
    alerts: frozenset[str] = frozenset()  # "<clock>:<mark>", recorded by sla-watch only

    def clock(self, name: str) -> SlaClock:
        clock: SlaClock = getattr(self.clocks, name)
        return clock


@dataclass(frozen=True)
class Alert:
    """A mark the watch records (and mails) on one clock."""

    clock: str  # take | answer
    mark: str  # at_risk | missed

    @property
    def key(self) -> str:
        return f"{self.clock}:{self.mark}"


# ------------------------------------------------------------------ changes


def open_sla(contract: Contract, priority: Priority, created_at: datetime) -> TicketSla:
    """The clocks of a ticket created at `created_at` under `contract`."""
    calendar = contract.calendar
    clocks = start_clocks(contract.sla[priority], created_at, calendar)
    return TicketSla(clocks, calendar, contract.sla)


def with_clocks(transition: Transition, action: Action) -> Transition:
    """The transition with the ticket's clocks moved by `action` (a priority set by `take`
    re-targets them first). A ticket without clocks stays without."""
    before, after = transition.before, transition.ticket
    sla = before.sla
    if sla is None:
        return transition
    changed = after.priority is not before.priority
    clocks = apply_action(
        sla.clocks,
        action,
        ticket_type=after.type,
        at=transition.event.at,
        calendar=sla.calendar,
        new_targets=sla.targets[after.priority] if changed else None,
    )
    return replace(transition, ticket=replace(after, sla=replace(sla, clocks=clocks)))


def with_priority(before: Ticket, after: Ticket, at: datetime) -> Ticket:
    """`after` (an edit of `before`) with its clocks re-targeted when the priority changed."""
    sla = before.sla
    if sla is None or after.priority is before.priority:
        return after
    clocks = retarget_clocks(sla.clocks, sla.targets[after.priority], at, sla.calendar)
    return replace(after, sla=replace(sla, clocks=clocks))


# ------------------------------------------------------------------ reading


def view_sla(sla: TicketSla | None, now: datetime) -> dict[str, Any] | None:
    """§10's `sla` of a ticket (None: a ticket stored before the clocks existed)."""
    return None if sla is None else view_clocks(sla.clocks, now, sla.calendar)


# ------------------------------------------------------------------ watching


def _risk_used(clock: SlaClock) -> timedelta:
    share, whole = AT_RISK_SHARE
    return clock.target_minutes * MINUTE * share / whole


def _look(name: str, clock: SlaClock, sla: TicketSla, fallback: datetime) -> datetime | None:
    """When this clock may reach its next unrecorded mark (None: never by time alone)."""
    if f"{name}:{MISSED}" in sla.alerts:
        return None
    if clock.state is ClockState.MISSED:  # missed already: the next run announces it
        return clock.due_at or clock.done_at or fallback
    if clock.running_since is None or clock.stopped:
        return None
    if f"{name}:{AT_RISK}" not in sla.alerts:
        left = max(timedelta(0), _risk_used(clock) - clock.used)
        return add_business_time(clock.running_since, left, sla.calendar)
    # Missed once more business time than the target has run: a clock due at closing time
    # is still in time overnight, missed a second into the next business day.
    left = max(timedelta(0), clock.target_minutes * MINUTE - clock.used)
    return add_business_time(clock.running_since, left + timedelta(seconds=1), sla.calendar)


def watch_at(ticket: Ticket) -> datetime | None:
    """The next instant `sla-watch` must look at the ticket (the sparse index's key)."""
    sla = ticket.sla
    if sla is None:
        return None
    looks = [_look(n, sla.clock(n), sla, ticket.updated_at) for n in CLOCK_NAMES]
    found = [ensure_utc(look) for look in looks if look is not None]
    return min(found) if found else None


def due_alerts(sla: TicketSla, at: datetime) -> list[Alert]:
    """The marks reached at `at` and not yet recorded: missed (final; a clock missed before
    it was announced at risk is announced missed only), else at risk."""
    alerts: list[Alert] = []
    for name in CLOCK_NAMES:
        clock = sla.clock(name)
        if f"{name}:{MISSED}" in sla.alerts:
            continue
        if view_state(clock, at, sla.calendar) is ClockState.MISSED:
            alerts.append(Alert(name, MISSED))
        elif (
            f"{name}:{AT_RISK}" not in sla.alerts
            and clock.running
            and not clock.stopped
            and clock.used_at(at, sla.calendar) >= _risk_used(clock)
        ):
            alerts.append(Alert(name, AT_RISK))
    return alerts


def recorded(sla: TicketSla, alerts: list[Alert]) -> TicketSla:
    """The clocks with these marks recorded (a missed clock counts as at risk too)."""
    keys = {a.key for a in alerts} | {f"{a.clock}:{AT_RISK}" for a in alerts}
    return replace(sla, alerts=sla.alerts | keys)


# ------------------------------------------------------------------ storing
#
# The stored document is compact (it rides on every write of the ticket item, whose size sets
# the write units of the item and of each index entry): each clock as
# `[target_minutes, state, used µs, running_since, due_at, done_at]` with instants in epoch
# microseconds; the calendar `[opens, closes, days, holidays]` and the targets
# `[[take, answer] critical, high, normal, low]` only when they are not §10's defaults.

_DEFAULT_CALENDAR = BusinessCalendar()
_DEFAULT_TARGETS = SlaTargets()
_PRIORITIES = (Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _instant(value: datetime | None) -> int | None:
    return None if value is None else (ensure_utc(value) - _EPOCH) // _US


def _parse(value: Any) -> datetime | None:
    return None if value is None else _EPOCH + int(value) * _US


def _clock_json(clock: SlaClock) -> list[Any]:
    return [
        clock.target_minutes,
        clock.state.value,
        clock.used // _US,
        _instant(clock.running_since),
        _instant(clock.due_at),
        _instant(clock.done_at),
    ]


def _clock(data: list[Any]) -> SlaClock:
    target, state, used, running_since, due_at, done_at = data
    return SlaClock(
        target_minutes=int(target),
        state=ClockState(state),
        used=int(used) * _US,
        running_since=_parse(running_since),
        due_at=_parse(due_at),
        done_at=_parse(done_at),
    )


def sla_json(sla: TicketSla) -> dict[str, Any]:
    """The stored document (the alerts are stored apart: the schedule alone writes them)."""
    document: dict[str, Any] = {
        "take": _clock_json(sla.clocks.take),
        "answer": _clock_json(sla.clocks.answer),
    }
    calendar = sla.calendar
    if calendar != _DEFAULT_CALENDAR:
        document["calendar"] = [
            calendar.opens,
            calendar.closes,
            sorted(calendar.days),
            calendar.holidays.value,
        ]
    if sla.targets != _DEFAULT_TARGETS:
        document["targets"] = [
            [sla.targets[p].take_minutes, sla.targets[p].answer_minutes] for p in _PRIORITIES
        ]
    return document


def parse_sla(data: Mapping[str, Any], alerts: frozenset[str] = frozenset()) -> TicketSla:
    calendar = _DEFAULT_CALENDAR
    if "calendar" in data:
        opens, closes, days, holidays = data["calendar"]
        calendar = BusinessCalendar(
            days=frozenset(int(d) for d in days),
            opens=int(opens),
            closes=int(closes),
            holidays=HolidayCalendar(holidays),
        )
    targets = _DEFAULT_TARGETS
    if "targets" in data:
        targets = SlaTargets(
            **{
                p.value: SlaTarget(int(pair[0]), int(pair[1]))
                for p, pair in zip(_PRIORITIES, data["targets"], strict=True)
            }
        )
    clocks = SlaClocks(take=_clock(data["take"]), answer=_clock(data["answer"]))
    return TicketSla(clocks, calendar, targets, alerts)
