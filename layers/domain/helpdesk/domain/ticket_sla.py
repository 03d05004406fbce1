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
from datetime import datetime, timedelta
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


def _instant(value: datetime | None) -> str | None:
    return None if value is None else ensure_utc(value).isoformat()


def _parse(value: Any) -> datetime | None:
    return None if not value else ensure_utc(datetime.fromisoformat(str(value)))


def _clock_json(clock: SlaClock) -> dict[str, Any]:
    return {
        "target_minutes": clock.target_minutes,
        "state": clock.state.value,
        "used_us": clock.used // timedelta(microseconds=1),
        "running_since": _instant(clock.running_since),
        "due_at": _instant(clock.due_at),
        "done_at": _instant(clock.done_at),
    }


def _clock(data: Mapping[str, Any]) -> SlaClock:
    return SlaClock(
        target_minutes=int(data["target_minutes"]),
        state=ClockState(data["state"]),
        used=timedelta(microseconds=int(data["used_us"])),
        running_since=_parse(data.get("running_since")),
        due_at=_parse(data.get("due_at")),
        done_at=_parse(data.get("done_at")),
    )


def sla_json(sla: TicketSla) -> dict[str, Any]:
    """The stored document (the alerts are stored apart: the schedule alone writes them)."""
    calendar = sla.calendar
    return {
        "calendar": {
            "days": sorted(calendar.days),
            "opens": calendar.opens,
            "closes": calendar.closes,
            "holidays": calendar.holidays.value,
        },
        "targets": {
            p.value: [sla.targets[p].take_minutes, sla.targets[p].answer_minutes]
            for p in Priority
        },
        "take": _clock_json(sla.clocks.take),
        "answer": _clock_json(sla.clocks.answer),
    }


def parse_sla(data: Mapping[str, Any], alerts: frozenset[str] = frozenset()) -> TicketSla:
    cal = data["calendar"]
    calendar = BusinessCalendar(
        days=frozenset(int(d) for d in cal["days"]),
        opens=int(cal["opens"]),
        closes=int(cal["closes"]),
        holidays=HolidayCalendar(cal["holidays"]),
    )
    targets = SlaTargets(
        **{p: SlaTarget(int(t[0]), int(t[1])) for p, t in dict(data["targets"]).items()}
    )
    clocks = SlaClocks(take=_clock(data["take"]), answer=_clock(data["answer"]))
    return TicketSla(clocks, calendar, targets, alerts)
