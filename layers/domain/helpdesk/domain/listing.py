"""What `GET /tickets` asks for (DESIGN.md §7), checked and as one predicate and one order.

The store picks the index that holds the fewest candidates for a query; whatever the index,
`TicketQuery.matches` is the whole filter and `TicketQuery.sort` the whole order, so a ticket
is listed the same way from any source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from helpdesk.domain.calendar import PARIS, ensure_utc, iso
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.model import Priority, Status, Ticket, TicketType
from helpdesk.domain.search import SearchQuery

ACTIVE = "active"
ME = "me"  # `assignee=me`: the caller
NONE = "none"  # `assignee=none`: nobody holds it (the level's queue)
ACTIVE_STATUSES = frozenset(s for s in Status if s is not Status.CLOSED)
PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class SortKey(StrEnum):
    UPDATED = "updated"
    CREATED = "created"
    NUMBER = "number"
    PRIORITY = "priority"


@dataclass(frozen=True)
class Sort:
    """`updated` (default), `created`, `number`: newest first; `priority`: critical first,
    then oldest. A leading `-` reverses. Ticket numbers follow creation, so `created` and
    `number` give one order."""

    key: SortKey = SortKey.UPDATED
    reverse: bool = False

    @classmethod
    def parse(cls, text: str | None) -> Sort:
        if text is None or text == "":
            return cls()
        reverse = text.startswith("-")
        try:
            key = SortKey(text[1:] if reverse else text)
        except ValueError:
            names = ", ".join(k.value for k in SortKey)
            raise InvalidInput(
                "sort", f"'sort' must be one of {names}, optionally after '-' to reverse."
            ) from None
        return cls(key, reverse)

    def value(self, ticket: Ticket) -> tuple[str | int, ...]:
        """The ticket's place in this order (ascending: the first listed comes first)."""
        if self.key is SortKey.PRIORITY:
            rank = PRIORITY_RANK[ticket.priority]
            ascending: tuple[str | int, ...] = (rank, ticket.number)
            return _negate(ascending) if self.reverse else ascending
        newest: tuple[str | int, ...]
        if self.key is SortKey.UPDATED:
            newest = (iso(ticket.updated_at), ticket.number)
        else:
            newest = (ticket.number,)
        return newest if self.reverse else _negate(newest)

    def order(self, tickets: Iterable[Ticket]) -> list[Ticket]:
        return sorted(tickets, key=self.value)


def _negate(values: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Descending order of a tuple of ints and ISO strings, as an ascending key."""
    flipped: list[str | int] = []
    for value in values:
        if isinstance(value, int):
            flipped.append(-value)
        else:
            flipped.append("".join(chr(0x10FFFF - ord(c)) for c in value))
    return tuple(flipped)


@dataclass(frozen=True)
class TicketQuery:
    """Every filter of `GET /tickets`, combined with AND, already scoped to the caller."""

    statuses: frozenset[Status] | None = None
    type: TicketType | None = None
    level: int | None = None
    priority: Priority | None = None
    requester: str | None = None
    org_id: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    search: SearchQuery | None = None
    created_from: datetime | None = None  # inclusive, UTC
    created_before: datetime | None = None  # exclusive, UTC
    sort: Sort = Sort()

    @property
    def active_only(self) -> bool:
        return self.statuses is not None and self.statuses <= ACTIVE_STATUSES

    def matches(self, ticket: Ticket) -> bool:
        checks = (
            self.statuses is None or ticket.status in self.statuses,
            self.type is None or ticket.type is self.type,
            self.level is None or ticket.support_level == self.level,
            self.priority is None or ticket.priority is self.priority,
            self.requester is None or ticket.requester == self.requester,
            self.org_id is None or ticket.org_id == self.org_id,
            self.assignee is None or ticket.assignee == self.assignee,
            not self.unassigned or ticket.assignee is None,
            self.created_from is None or ticket.created_at >= self.created_from,
            self.created_before is None or ticket.created_at < self.created_before,
            self.search is None or self._found(ticket, self.search),
        )
        return all(checks)

    @staticmethod
    def _found(ticket: Ticket, search: SearchQuery) -> bool:
        if search.number is not None:
            return ticket.number == search.number
        return search.matches(ticket.title)


def parse_statuses(text: str) -> frozenset[Status]:
    """`open`, `open,taken` or `active` (every status but closed)."""
    statuses: set[Status] = set()
    for part in text.split(","):
        name = part.strip()
        if name == ACTIVE:
            statuses |= ACTIVE_STATUSES
            continue
        try:
            statuses.add(Status(name))
        except ValueError:
            names = ", ".join(s.value for s in Status)
            raise InvalidInput(
                "status", f"'status' takes {names} or 'active', comma-separated; not '{name}'."
            ) from None
    return frozenset(statuses)


def paris_day_start(day: date) -> datetime:
    """The instant a Paris day begins, in UTC."""
    return ensure_utc(datetime.combine(day, time(0), tzinfo=PARIS))


def created_range(
    created_from: date | None, created_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """Paris dates, both inclusive, as [from, before) instants."""
    if created_from and created_to and created_to < created_from:
        raise InvalidInput("created_to", "'created_to' is before 'created_from'.")
    start = paris_day_start(created_from) if created_from else None
    end = paris_day_start(created_to + timedelta(days=1)) if created_to else None
    return start, end
