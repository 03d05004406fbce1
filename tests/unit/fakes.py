"""An in-memory unit of work: the port of helpdesk.ports, for the service tests (no AWS).

It models the contract the DynamoDB adapter (helpdesk.adapters.dynamodb.unit_of_work) keeps:
`commit` checks every change added against the state as it was before the commit, then applies
them all, or none, raising the failure the adapter raises. When several changes fail, the one
of highest priority tells why, the first one in order among equals (as the adapter reads a
cancelled transaction). A transaction never names one item twice (DynamoDB refuses that).

What lives outside the port is a plain attribute a test sets: `locked_months` (written by the
billing export) and `task_tokens` (stored by the quote-approval state machine). The mail record
a MailHandled completes is written by the mail repository, outside the port: here every mail
not yet handled counts as pending.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from helpdesk.changes import (
    AutoCloseReminded,
    AwaitingQuote,
    BudgetConsumed,
    Change,
    CommandQueued,
    CommentAdded,
    ConsultantSaved,
    EventRecorded,
    LinkUsed,
    MailHandled,
    MailQueued,
    MailReleased,
    OrgSaved,
    SlaMarked,
    TaskEnsured,
    TaskRenamed,
    TicketCreated,
    TicketUpdated,
    TimeEntryChanged,
    TimeLogged,
)
from helpdesk.domain.budget import Consumption
from helpdesk.domain.comments import Comment
from helpdesk.domain.directory import Consultant, Organisation
from helpdesk.domain.errors import Conflict, InvalidInput, MonthLocked, NotFound
from helpdesk.domain.links import TOKEN_BYTES, token_hash
from helpdesk.domain.mail import MailOutcome
from helpdesk.domain.model import HistoryEvent, Status, Ticket
from helpdesk.domain.notifications import Notification
from helpdesk.domain.outbox import WorkflowCommand
from helpdesk.domain.ticket_sla import watch_at
from helpdesk.domain.timekeeping import MAX_MINUTES_PER_DAY, Task, TimeEntry, check_day_total
from helpdesk.ports import (
    AlreadyExists,
    AlreadyRecorded,
    BudgetChanged,
    ConditionNotMet,
    LinkGrant,
    NumberTaken,
    Page,
    ReadCounter,
    StoredLink,
    TicketChanged,
    TicketQuery,
)

LEVELS = (1, 2, 3)
OutboxKey = tuple[int, int, str]  # ticket number, ticket version, kind (the item's sort key)
Failure = tuple[int, Callable[[], Exception]]  # priority, and the error (built once chosen)


class InMemoryDirectory:
    """DirectoryRepository: organisations, their mail domains, the roster, consultants' days."""

    def __init__(self) -> None:
        self.orgs: dict[str, Organisation] = {}
        self.domains: dict[str, str] = {}  # mail domain -> org_id
        self.consultants: dict[str, Consultant] = {}
        self.day_minutes: dict[tuple[str, str], int] = {}  # (consultant, yyyy-mm-dd) -> minutes
        self.budgets: dict[tuple[str, str], Consumption] = {}  # (org_id, month) -> counter

    def get_org(self, org_id: str) -> Organisation | None:
        return self.orgs.get(org_id)

    def org_for_domain(self, domain: str) -> str | None:
        return self.domains.get(domain.lower())

    def list_orgs(self) -> list[Organisation]:
        return [o for _id, o in sorted(self.orgs.items())]

    def get_consultant(self, consultant_id: str) -> Consultant | None:
        return self.consultants.get(consultant_id)

    def list_consultants(self) -> list[Consultant]:
        return [c for _id, c in sorted(self.consultants.items())]

    def consultant_day_minutes(self, consultant_id: str, day: str) -> int:
        return self.day_minutes.get((consultant_id, day), 0)

    def consumption(self, org_id: str, month: str) -> Consumption:
        return self.budgets.get((org_id, month), Consumption(org_id, month))


T = TypeVar("T")


def _page(items: list[T], cursor: str | None, limit: int) -> Page[T]:
    """Oldest first; the cursor is how many were listed before."""
    if cursor is not None and not cursor.isdigit():
        raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.")
    start = int(cursor or 0)
    more = len(items) > start + limit
    return Page(items[start : start + limit], str(start + limit) if more else None)


class InMemoryTickets:
    """TicketRepository: the tickets and what their partition holds."""

    def __init__(self, directory: InMemoryDirectory) -> None:
        self.directory = directory
        self.counter = 0
        self.tickets: dict[int, Ticket] = {}
        self.events: dict[tuple[int, int], HistoryEvent] = {}
        self.tasks: dict[tuple[int, str], Task] = {}
        self.entries: dict[tuple[int, str], TimeEntry] = {}
        self.comment_items: dict[tuple[int, datetime, str], Comment] = {}
        self.outbox: dict[OutboxKey, Notification | WorkflowCommand] = {}
        self.reminded_for: dict[int, datetime] = {}  # the due time a reminder was sent for
        self.task_tokens: dict[int, tuple[int, str]] = {}  # number -> (quote version, token)
        self.locks: set[str] = set()  # the unit of work's locked_months (shared)

    def get(self, number: int) -> Ticket:
        if number not in self.tickets:
            raise NotFound(f"Ticket #{number} does not exist.")
        return self.tickets[number]

    def get_with_consultant(
        self, number: int, consultant_id: str
    ) -> tuple[Ticket, Consultant | None]:
        return self.get(number), self.directory.get_consultant(consultant_id)

    def history(self, number: int) -> list[HistoryEvent]:
        return [e for (n, _v), e in sorted(self.events.items()) if n == number]

    def comments(self, number: int) -> list[Comment]:
        return [c for (n, *_), c in sorted(self.comment_items.items()) if n == number]

    def history_page(self, number: int, cursor: str | None, limit: int) -> Page[HistoryEvent]:
        return _page(self.history(number), cursor, limit)

    def comments_page(
        self, number: int, public_only: bool, cursor: str | None, limit: int
    ) -> Page[Comment]:
        shown = [c for c in self.comments(number) if not (public_only and c.internal)]
        return _page(shown, cursor, limit)

    def time_entries_page(self, number: int, cursor: str | None, limit: int) -> Page[TimeEntry]:
        entries = [e for (n, _id), e in sorted(self.entries.items()) if n == number]
        return _page(entries, cursor, limit)

    def with_tasks(self, number: int) -> tuple[Ticket, list[Task]]:
        return self.get(number), [t for (n, _m), t in sorted(self.tasks.items()) if n == number]

    def with_time_entries(self, number: int) -> tuple[Ticket, list[TimeEntry]]:
        entries = [e for (n, _id), e in sorted(self.entries.items()) if n == number]
        return self.get(number), entries

    def locked_months(self, months: list[str]) -> set[str]:
        return {m for m in months if m in self.locks}

    def find(self, query: TicketQuery, cursor: str | None, limit: int) -> Page[Ticket]:
        """The query's own filter and order (the adapter picks indexes; the result is the
        same); the cursor is how many were listed before."""
        if cursor is not None and not cursor.isdigit():
            raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.")
        start = int(cursor or 0)
        matching = query.sort.order(t for t in self.tickets.values() if query.matches(t))
        page = matching[start : start + limit]
        more = len(matching) > start + limit
        return Page(page, str(start + limit) if more else None)

    def due_for_auto_close(
        self,
        *,
        until: datetime,
        counter: ReadCounter,
        after: datetime | None = None,
        unreminded_only: bool = False,
    ) -> Iterator[Ticket]:
        """Countdowns running that end in (after, until], soonest first (the `due` index)."""
        due = sorted(
            (t.auto_close_at, t.number, t)
            for t in self.tickets.values()
            if t.countdown_running
            and t.auto_close_at is not None
            and (after is None or t.auto_close_at > after)
            and t.auto_close_at <= until
        )
        counter.items_read += len(due)
        for at, number, ticket in due:
            if not (unreminded_only and self.reminded_for.get(number) == at):
                yield ticket

    def sla_watch_due(self, *, until: datetime, counter: ReadCounter) -> Iterator[Ticket]:
        """Tickets with a clock to look at by `until`, soonest first (the `sla_watch` index)."""
        due = sorted(
            (look, t.number, t)
            for t in self.tickets.values()
            if (look := watch_at(t)) is not None and look <= until
        )
        counter.items_read += len(due)
        for _look, _number, ticket in due:
            yield ticket

    def not_closed(self, counter: ReadCounter) -> Iterator[Ticket]:
        for level in LEVELS:
            queue = [
                t
                for _n, t in sorted(self.tickets.items())
                if t.status is not Status.CLOSED and t.support_level == level
            ]
            counter.items_read += len(queue)
            yield from queue

    def next_number(self) -> int:
        return self.counter + 1

    def next_number_and_org(self, org_id: str) -> tuple[int, Organisation | None]:
        return self.next_number(), self.directory.get_org(org_id)

    def quote_task_token(self, number: int, quote_version: int) -> str | None:
        version, token = self.task_tokens.get(number, (0, ""))
        return token if token and version == quote_version else None


class InMemoryLinks:
    """ActionLinks and LinkRepository: links by their token's SHA-256 (the token is not kept)."""

    def __init__(self) -> None:
        self.links: dict[str, StoredLink] = {}

    def issue(self, grant: LinkGrant) -> str:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        digest = token_hash(token)
        self.links[digest] = StoredLink(digest, grant, datetime.now(UTC), None)
        return token

    def get(self, token_hash: str) -> StoredLink | None:
        return self.links.get(token_hash)


class InMemoryUnitOfWork:
    def __init__(self) -> None:
        self.directory = InMemoryDirectory()
        self.tickets = InMemoryTickets(self.directory)
        self.links = InMemoryLinks()
        self.locked_months: set[str] = self.tickets.locks  # the same set: tests add to it
        self.mails_handled: dict[str, MailOutcome] = {}  # sha256 -> outcome
        self.messages_handled: dict[str, str] = {}  # Message-ID -> sha256
        self.mails_released: dict[str, MailReleased] = {}  # sha256 -> the release
        self.committed = 0  # transactions written
        self._changes: list[Change] = []
        self._interleaved: Callable[[], object] | None = None

    # ---------- what a test looks at ----------

    @property
    def mails(self) -> list[Notification]:
        """The outbox's mails, in the order they were queued."""
        return [m for m in self.tickets.outbox.values() if isinstance(m, Notification)]

    @property
    def commands(self) -> list[WorkflowCommand]:
        return [c for c in self.tickets.outbox.values() if isinstance(c, WorkflowCommand)]

    def interleave(self, writer: Callable[[], object]) -> None:
        """Run `writer` once, at the next commit, before it is checked: a concurrent request
        that commits between this one's reads and its commit."""
        self._interleaved = writer

    # ---------- the port ----------

    def add(self, *changes: Change) -> None:
        self._changes.extend(changes)

    def rollback(self) -> None:
        self._changes.clear()

    def commit(self) -> None:
        changes, self._changes = self._changes, []
        writer, self._interleaved = self._interleaved, None
        if writer is not None:
            writer()
        if not changes:
            return
        items = [item for change in changes for item in _items(change)]
        twice = {item for item in items if items.count(item) > 1}
        if twice:
            raise ValueError(f"one transaction names these items twice: {sorted(map(str, twice))}")
        failures = [f for change in changes for f in self._check(change)]
        if failures:
            _priority, error = max(failures, key=lambda f: f[0])  # the first among equals
            raise error()
        for change in changes:
            self._apply(change)
        self.committed += 1

    # ---------- the conditions, on the state before the commit ----------

    def _check(self, change: Change) -> list[Failure]:
        t, d = self.tickets, self.directory
        match change:
            case TicketCreated(ticket=ticket):
                number = ticket.number
                if t.counter != number - 1 or number in t.tickets:
                    return [(0, lambda: NumberTaken(f"#{number} was taken"))]
            case TicketUpdated(before=before):
                stored = t.tickets.get(before.number)
                if stored is None or (stored.version, stored.status) != (
                    before.version,
                    before.status,
                ):
                    return [(2, lambda: _changed(t.get(before.number), before))]
            case EventRecorded(ticket_number=number, event=event):
                if (number, event.version) in t.events:
                    return [(0, lambda: AlreadyExists(change))]
            case TaskEnsured(only_if_missing=True):
                if (change.ticket_number, change.month) in t.tasks:
                    return [(0, lambda: AlreadyExists(change))]
            case CommentAdded(comment=c):
                if (c.ticket_number, c.at, c.id) in t.comment_items:
                    return [(0, lambda: AlreadyExists(change))]
            case TimeLogged(entry=entry, ticket=ticket):
                return self._time_failures(entry, ticket)
            case MailQueued() | CommandQueued():
                if _outbox_key(change) in t.outbox:
                    return [(0, lambda: AlreadyExists(change))]
            case AwaitingQuote(ticket_number=number, quote_version=version):
                stored = t.tickets.get(number)
                awaiting = (
                    stored is not None
                    and stored.status is Status.AWAITING_QUOTE_APPROVAL
                    and stored.quote is not None
                    and stored.quote.version == version
                )
                if not awaiting:
                    return [(1, lambda: ConditionNotMet(change))]
            case AutoCloseReminded(ticket=ticket):
                assert ticket.auto_close_at is not None
                stored = t.tickets.get(ticket.number)
                unreminded = (
                    stored is not None
                    and stored.status is Status.ANSWER_SENT
                    and stored.auto_close_at == ticket.auto_close_at
                    and stored.version == ticket.version
                    and t.reminded_for.get(ticket.number) != ticket.auto_close_at
                )
                if not unreminded:
                    return [(1, lambda: ConditionNotMet(change))]
            case SlaMarked(ticket=ticket, marks=marks):
                stored = t.tickets.get(ticket.number)
                if (
                    stored is None
                    or stored.version != ticket.version
                    or stored.sla is None
                    or set(marks) & stored.sla.alerts
                ):
                    return [(1, lambda: ConditionNotMet(change))]
            case MailHandled(sha256=sha256, message_id=message_id):
                failures: list[Failure] = []
                if sha256 in self.mails_handled:
                    failures.append((1, lambda: AlreadyRecorded(message_taken=False)))
                if message_id is not None and message_id in self.messages_handled:
                    failures.append((1, lambda: AlreadyRecorded(message_taken=True)))
                return failures
            case LinkUsed(token_hash=digest):
                link = self.links.links.get(digest)
                if link is None or link.used_at is not None:
                    return [(3, lambda: ConditionNotMet(change))]
            case MailReleased(sha256=sha256):
                handled = self.mails_handled.get(sha256)
                quarantined = handled is not None and handled.outcome == "quarantined"
                if not quarantined or sha256 in self.mails_released:
                    return [(1, lambda: ConditionNotMet(change))]
            case TaskRenamed(ticket_number=number, month=month):
                failures = []
                if (number, month) not in t.tasks:
                    failures.append((0, lambda: ConditionNotMet(change)))
                if month in self.locked_months:
                    failures.append((1, lambda: MonthLocked(month)))
                return failures
            case TimeEntryChanged():
                return self._entry_change_failures(change)
            case BudgetConsumed(move=move):
                counter = move.before
                if d.consumption(counter.org_id, counter.month).alerted & set(move.alerts):
                    return [(0, lambda: BudgetChanged(counter.org_id, counter.month))]
            case OrgSaved(org=org, previous=previous):
                old = set(previous.email_domains) if previous else set()
                touched = old ^ set(org.email_domains)
                if any(d.domains.get(x, org.org_id) != org.org_id for x in sorted(touched)):
                    taken = "A mail domain already belongs to another organisation."
                    return [(0, lambda: InvalidInput("email_domains", taken))]
        return []

    def _time_failures(self, entry: TimeEntry, ticket: Ticket) -> list[Failure]:
        failures: list[Failure] = []
        if (ticket.number, entry.id) in self.tickets.entries:
            failures.append((0, lambda: Conflict(f"Time entry {entry.id} was already recorded.")))
        stored = self.tickets.tickets.get(ticket.number)
        if stored is None or stored.taken_at is None:
            failures.append((0, lambda: Conflict("The ticket cannot take time entries now.")))
        logged = self.directory.consultant_day_minutes(entry.consultant, entry.day.isoformat())
        if logged > MAX_MINUTES_PER_DAY - entry.minutes:
            failures.append((1, lambda: _day_full(logged, entry.minutes)))
        if entry.month in self.locked_months:
            failures.append((2, lambda: MonthLocked(entry.month)))
        return failures

    def _entry_change_failures(self, change: TimeEntryChanged) -> list[Failure]:
        t, before = self.tickets, change.before
        number = change.ticket_before.number
        failures: list[Failure] = []
        if (number, before.id) not in t.entries:
            gone = f"Time entry {before.id} of ticket #{number} does not exist (any more)."
            failures.append((0, lambda: NotFound(gone)))
        stored = t.tickets.get(number)
        ticket = change.ticket_before
        if stored is None or (stored.version, stored.status) != (ticket.version, ticket.status):
            failures.append((2, lambda: _changed(t.get(number), ticket)))
        for day, minutes in _day_moves(change).items():
            logged = self.directory.consultant_day_minutes(before.consultant, day)
            if minutes > 0 and logged > MAX_MINUTES_PER_DAY - minutes:
                failures.append((1, partial(_day_full, logged, minutes)))
        for month in _entry_months(change):
            if month in self.locked_months:
                failures.append((3, partial(MonthLocked, month)))
        return failures

    # ---------- the writes ----------

    def _apply(self, change: Change) -> None:
        t, d = self.tickets, self.directory
        match change:
            case TicketCreated(ticket=ticket, event=event):
                t.counter = ticket.number
                t.tickets[ticket.number] = ticket
                t.events[(ticket.number, event.version)] = event
            case TicketUpdated(before=before, after=after):
                # The workflow's fields; the time spent is the time entries' (never overwritten).
                stored = t.tickets[before.number]
                t.tickets[before.number] = replace(
                    after, time_spent_minutes=stored.time_spent_minutes
                )
            case EventRecorded(ticket_number=number, event=event):
                t.events[(number, event.version)] = event
            case TaskEnsured(ticket_number=number, month=month, title=title):
                t.tasks.setdefault((number, month), Task(number, month, title))
            case CommentAdded(comment=c):
                t.comment_items[(c.ticket_number, c.at, c.id)] = c
            case TimeLogged(entry=entry, ticket=ticket, task_title=title):
                number, month, minutes = ticket.number, entry.month, entry.minutes
                t.entries[(number, entry.id)] = entry
                task = t.tasks.get((number, month), Task(number, month, title))
                t.tasks[(number, month)] = replace(task, minutes=task.minutes + minutes)
                stored = t.tickets[number]
                t.tickets[number] = replace(
                    stored, time_spent_minutes=stored.time_spent_minutes + minutes
                )
                day = (entry.consultant, entry.day.isoformat())
                d.day_minutes[day] = d.day_minutes.get(day, 0) + minutes
            case MailQueued(notification=item) | CommandQueued(command=item):
                t.outbox[_outbox_key(change)] = item
            case AwaitingQuote():
                pass  # a check, no write
            case AutoCloseReminded(ticket=ticket):
                assert ticket.auto_close_at is not None
                t.reminded_for[ticket.number] = ticket.auto_close_at
            case SlaMarked(ticket=ticket, marks=marks):
                stored = t.tickets[ticket.number]
                assert stored.sla is not None
                alerts = stored.sla.alerts | frozenset(marks)
                t.tickets[ticket.number] = replace(stored, sla=replace(stored.sla, alerts=alerts))
            case MailHandled(sha256=sha256, message_id=message_id, outcome=outcome):
                self.mails_handled[sha256] = outcome
                if message_id is not None:
                    self.messages_handled[message_id] = sha256
            case MailReleased(sha256=sha256):
                self.mails_released[sha256] = change
            case LinkUsed(token_hash=digest, at=at):
                self.links.links[digest] = replace(self.links.links[digest], used_at=at)
            case OrgSaved(org=org, previous=previous):
                d.orgs[org.org_id] = org
                old = set(previous.email_domains) if previous else set()
                new = set(org.email_domains)
                for domain in old - new:
                    d.domains.pop(domain, None)
                d.domains.update(dict.fromkeys(new - old, org.org_id))
            case ConsultantSaved(consultant=consultant):
                d.consultants[consultant.id] = consultant
            case BudgetConsumed(move=move):
                now = d.consumption(move.before.org_id, move.before.month)
                d.budgets[(now.org_id, now.month)] = replace(
                    now,
                    minutes=now.minutes + move.delta,  # ADD: whatever was read
                    alerted=now.alerted | set(move.alerts),
                )
            case TaskRenamed(ticket_number=number, month=month, title=title):
                t.tasks[(number, month)] = replace(t.tasks[(number, month)], title=title)
            case TimeEntryChanged(before=before, after=after):
                number = change.ticket_before.number
                del t.entries[(number, before.id)]
                if after is not None:
                    t.entries[(number, after.id)] = after
                stored = t.tickets[number]
                t.tickets[number] = replace(
                    change.ticket_after,
                    time_spent_minutes=stored.time_spent_minutes + change.minutes_delta,
                )
                for month, minutes in _month_moves(change).items():
                    task = t.tasks.get((number, month), Task(number, month, change.task_title))
                    t.tasks[(number, month)] = replace(task, minutes=task.minutes + minutes)
                for day_text, minutes in _day_moves(change).items():
                    day_key = (before.consultant, day_text)
                    d.day_minutes[day_key] = d.day_minutes.get(day_key, 0) + minutes


def _changed(current: Ticket, before: Ticket) -> TicketChanged:
    return TicketChanged(current, current.status is not before.status)


def _day_full(logged: int, minutes: int) -> Exception:
    try:
        check_day_total(logged, minutes)
    except InvalidInput as exc:
        return exc
    raise AssertionError("the day was full")  # pragma: no cover


def _month_moves(change: TimeEntryChanged) -> dict[str, int]:
    """Minutes each month's task gains (or loses), months with no change left out."""
    moves = {change.before.month: -change.before.minutes}
    if change.after is not None:
        moves[change.after.month] = moves.get(change.after.month, 0) + change.after.minutes
    return {m: n for m, n in moves.items() if n}


def _day_moves(change: TimeEntryChanged) -> dict[str, int]:
    """Minutes each of the author's days gains (or loses), days with no change left out."""
    moves = {change.before.day.isoformat(): -change.before.minutes}
    if change.after is not None:
        day = change.after.day.isoformat()
        moves[day] = moves.get(day, 0) + change.after.minutes
    return {d: n for d, n in moves.items() if n}


def _entry_months(change: TimeEntryChanged) -> list[str]:
    months = [change.before.month]
    if change.after is not None and change.after.month != change.before.month:
        months.append(change.after.month)
    return months


def _outbox_key(change: MailQueued | CommandQueued) -> OutboxKey:
    if isinstance(change, MailQueued):
        return (change.notification.ticket_number, change.version, change.notification.key)
    return (change.command.ticket_number, change.version, change.command.kind.value)


def _items(change: Change) -> list[tuple[object, ...]]:
    """The items a change writes or checks (DynamoDB refuses a transaction naming one twice)."""
    match change:
        case TicketCreated(ticket=ticket, event=event):
            number = ticket.number
            return [("counter",), ("ticket", number), ("event", number, event.version)]
        case (
            TicketUpdated(before=ticket)
            | AutoCloseReminded(ticket=ticket)
            | SlaMarked(ticket=ticket)
        ):
            return [("ticket", ticket.number)]
        case AwaitingQuote(ticket_number=number):
            return [("ticket", number)]
        case EventRecorded(ticket_number=number, event=event):
            return [("event", number, event.version)]
        case TaskEnsured(ticket_number=number, month=month):
            return [("task", number, month)]
        case CommentAdded(comment=c):
            return [("comment", c.ticket_number, c.at, c.id)]
        case TimeLogged(entry=entry, ticket=ticket):
            return [
                ("time", ticket.number, entry.id),
                ("task", ticket.number, entry.month),
                ("ticket", ticket.number),
                ("day", entry.consultant, entry.day),
                ("lock", entry.month),
            ]
        case TaskRenamed(ticket_number=number, month=month):
            return [("task", number, month), ("lock", month)]
        case TimeEntryChanged(before=before, ticket_before=ticket):
            number = ticket.number
            return [
                ("time", number, before.id),
                ("ticket", number),
                *(("task", number, m) for m in _month_moves(change)),
                *(("day", before.consultant, d) for d in _day_moves(change)),
                *(("lock", m) for m in _entry_months(change)),
            ]
        case MailQueued() | CommandQueued():
            return [("outbox", *_outbox_key(change))]
        case MailHandled(sha256=sha256, message_id=message_id):
            return [("mail", sha256), *([("message", message_id)] if message_id else [])]
        case MailReleased(sha256=sha256):
            return [("mail", sha256)]
        case LinkUsed(token_hash=digest):
            return [("link", digest)]
        case OrgSaved(org=org, previous=previous):
            old = set(previous.email_domains) if previous else set()
            domains = old ^ set(org.email_domains)
            return [("org", org.org_id), *(("domain", x) for x in sorted(domains))]
        case ConsultantSaved(consultant=consultant):
            return [("consultant", consultant.id)]
        case BudgetConsumed(move=move):
            return [("budget", move.before.org_id, move.before.month)]
    raise AssertionError(f"unknown change {change!r}")  # pragma: no cover
