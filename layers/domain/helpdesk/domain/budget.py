"""Hour budgets (DESIGN.md §10): the minutes an organisation consumes in a month, the alerts
at 80 % and 100 % of its `included_minutes`, and the forfait's overage.

Pure. The assistance and incident minutes of a month consume the budget; evolution time never
does (it is billed on its quote). An entry consumes in the month of its day (a Paris calendar
day, as its time task): `TimeEntry.month`. The minutes are kept per (organisation, month) in
one counter, changed in the entry's own transaction (an unconditional ADD: concurrent entries
never wait on each other); the counter also records which alerts the month has had, so that
each goes out once per month even when the consumption goes back under a threshold (an entry
deleted or shortened) and over it again. The entry that finds a threshold reached and its
alert not sent yet sets the alert's flag on condition that it is still unset, in the same
transaction as its mails: of two entries racing past a threshold, one alerts, the other is
decided again. Entries racing past a threshold may each read the counter from before the
others: after its commit, an entry that added minutes reads the counter again and, finding a
threshold reached and not alerted, queues the alert in a transaction of its own (same flag,
same condition), so concurrent entries never leave a crossing unalerted.

Decisions where §10 is silent, made here:
- The counter counts whether or not the organisation has a budget: a budget set in the middle
  of a month finds the month's consumption already right.
- A threshold is reached when consumed × 100 ≥ threshold × included (exact integers: 480 of
  600 minutes is 80 %). With `included_minutes` 0, the first minute reaches both.
- An entry that adds minutes alerts every threshold the month has reached and not alerted
  yet: the one that crosses it, or, when the budget was lowered (or set) below what the month
  had already consumed, the next entry. Entries that give minutes back never alert.
- Without a budget (`included_minutes` null) there is no alert, and `remaining_minutes` and
  `overage_minutes` are null.
- An edit that moves an entry to another month takes its minutes from one month's counter
  and gives them to the other's; only a month that gains minutes may cross a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from helpdesk.domain.calendar import paris_month, parse_month
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.timekeeping import TimeEntry

THRESHOLDS = (80, 100)  # percent of the included minutes that trigger an alert


@dataclass(frozen=True)
class Consumption:
    """An organisation's counter for one month: minutes consumed, alerts already sent."""

    org_id: str
    month: str
    minutes: int = 0
    alerted: frozenset[int] = frozenset()


@dataclass(frozen=True)
class BudgetUse:
    """The answer of `GET /orgs/{org_id}/consumption`."""

    month: str
    included_minutes: int | None
    consumed_minutes: int

    @property
    def remaining_minutes(self) -> int | None:
        """Negative when over the budget; None without a budget."""
        if self.included_minutes is None:
            return None
        return self.included_minutes - self.consumed_minutes

    @property
    def overage_minutes(self) -> int | None:
        return overage(self.included_minutes, self.consumed_minutes)


@dataclass(frozen=True)
class BudgetMove:
    """What one change does to one month's counter: `delta` minutes (negative: given back)
    and the alerts it triggers (thresholds reached, not yet sent this month). `before` is the
    counter as read: the alerts are conditional on their flags still being unset."""

    before: Consumption
    delta: int
    alerts: tuple[int, ...] = ()

    @property
    def minutes_after(self) -> int:
        return self.before.minutes + self.delta


def consumes(entry: TimeEntry) -> bool:
    """Assistance and incident time consumes the budget; evolution time never does (its
    entries are not billable: `TimeEntry.billable` follows the ticket's type)."""
    return entry.billable


def reached(included: int, minutes: int, threshold: int) -> bool:
    """`minutes` is at or past `threshold` percent of `included` (exact integers)."""
    return minutes > 0 and minutes * 100 >= threshold * included


def overage(included: int | None, consumed: int) -> int | None:
    """Minutes over the budget (0 within it); None without a budget."""
    if included is None:
        return None
    return max(0, consumed - included)


def crossed(included: int | None, before: Consumption, delta: int) -> tuple[int, ...]:
    """The thresholds reached once `delta` minutes are added and not alerted this month yet
    (none without a budget, none when minutes are given back)."""
    if delta <= 0:
        return ()
    return due_alerts(included, replace(before, minutes=before.minutes + delta))


def due_alerts(included: int | None, counter: Consumption) -> tuple[int, ...]:
    """The thresholds the counter has reached and not alerted yet."""
    if included is None:
        return ()
    return tuple(
        t for t in THRESHOLDS if t not in counter.alerted and reached(included, counter.minutes, t)
    )


def entry_moves(before: TimeEntry | None, after: TimeEntry | None) -> dict[str, int]:
    """Minutes each month's counter gains (or loses) when `before` becomes `after` (None: no
    entry), months left unchanged left out. Only entries that consume count."""
    moves: dict[str, int] = {}
    if before is not None and consumes(before):
        moves[before.month] = moves.get(before.month, 0) - before.minutes
    if after is not None and consumes(after):
        moves[after.month] = moves.get(after.month, 0) + after.minutes
    return {month: minutes for month, minutes in moves.items() if minutes}


def budget_move(included: int | None, before: Consumption, delta: int) -> BudgetMove:
    return BudgetMove(before, delta, crossed(included, before, delta))


def consumption_month(month: str | None, now: datetime) -> str:
    """The month asked (`yyyy-mm`), or the current month in Paris."""
    if month is None:
        return paris_month(now)
    try:
        parse_month(month)
    except ValueError as exc:
        raise InvalidInput("month", f"'{month}' is not a month (yyyy-mm).") from exc
    return month
