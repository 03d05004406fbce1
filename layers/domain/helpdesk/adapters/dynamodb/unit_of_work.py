"""The unit of work over the single table: the changes a use case adds, as ONE transaction.

Each change becomes one or more operations, each tagged with what its failed condition
means (the stored ticket changed, the month is locked, the item exists...). A cancelled
transaction is read by those tags, never by position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.adapters.dynamodb import items as it
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.mail import mail_handled_operations
from helpdesk.adapters.dynamodb.repositories import (
    DynamoDirectoryRepository,
    DynamoTicketRepository,
)
from helpdesk.adapters.dynamodb.toolkit import (
    CONDITION_FAILED,
    Operation,
    Table,
    cancellation_codes,
    unmarshal,
    update_expression,
)
from helpdesk.domain.calendar import iso
from helpdesk.domain.errors import Conflict, InvalidInput, MonthLocked
from helpdesk.domain.model import Status
from helpdesk.domain.search import title_words
from helpdesk.domain.timekeeping import MAX_MINUTES_PER_DAY, check_day_total
from helpdesk.ports import (
    AlreadyExists,
    AutoCloseReminded,
    AwaitingQuote,
    Change,
    CommandQueued,
    CommentAdded,
    ConditionNotMet,
    ConsultantSaved,
    EventRecorded,
    MailHandled,
    MailQueued,
    NumberTaken,
    OrgSaved,
    TaskEnsured,
    TicketChanged,
    TicketCreated,
    TicketUpdated,
    TimeLogged,
)

# What a failed condition means, from the operation's cancellation reason (with its ALL_OLD
# item when the operation asked for it).
Failure = Callable[[dict[str, Any]], Exception]


@dataclass(frozen=True)
class Planned:
    operation: Operation
    on_failure: Failure | None  # None: the operation has no condition
    priority: int = 0  # when several conditions fail, the highest priority tells why


def _never(_reason: dict[str, Any]) -> Exception:  # pragma: no cover - no condition
    raise AssertionError("an unconditional operation cannot fail its condition")


class DynamoUnitOfWork:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.tickets = DynamoTicketRepository(table)
        self.directory = DynamoDirectoryRepository(table)
        self._changes: list[Change] = []

    def add(self, *changes: Change) -> None:
        self._changes.extend(changes)

    def rollback(self) -> None:
        self._changes.clear()

    def commit(self) -> None:
        changes, self._changes = self._changes, []
        planned = [p for change in changes for p in self._plan(change)]
        if not planned:
            return
        try:
            self.table.transact([p.operation for p in planned])
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            codes = cancellation_codes(exc)
            failed = [
                (p, reason)
                for p, code, reason in zip(planned, codes, reasons, strict=False)
                if code == CONDITION_FAILED and p.on_failure is not None
            ]
            if not failed:
                raise
            plan, reason = max(failed, key=lambda pair: pair[0].priority)
            assert plan.on_failure is not None
            raise plan.on_failure(reason) from exc

    # ---------- each change, as operations ----------

    def _plan(self, change: Change) -> Iterator[Planned]:
        match change:
            case TicketCreated():
                yield from self._created(change)
            case TicketUpdated():
                yield self._updated(change)
                if change.before.title != change.after.title:
                    yield from self._retitled(change)
            case EventRecorded():
                item = it.event_to_item(change.ticket_number, change.event)
                yield Planned(self.table.put_new(item), self._exists(change))
            case TaskEnsured(only_if_missing=True):
                item = {
                    "pk": keys.ticket_pk(change.ticket_number),
                    "sk": keys.task_sk(change.month),
                    "entity": "task",
                    "ticket_number": change.ticket_number,
                    "month": change.month,
                    "title": change.title,
                    "minutes": 0,
                }
                yield Planned(self.table.put_new(item), self._exists(change))
            case TaskEnsured():
                upsert = self._task_upsert(change.ticket_number, change.month, change.title)
                yield Planned(upsert, None)
            case CommentAdded():
                item = it.comment_to_item(change.comment)
                yield Planned(self.table.put_new(item), self._exists(change))
            case TimeLogged():
                yield from self._time_logged(change)
            case MailQueued():
                item = it.outbox_to_item(change.notification, change.version, change.at)
                yield Planned(self.table.put_new(item), self._exists(change))
            case CommandQueued():
                item = it.command_to_item(change.command, change.version, change.at)
                yield Planned(self.table.put_new(item), self._exists(change))
            case AwaitingQuote():
                yield self._awaiting_quote(change)
            case AutoCloseReminded():
                yield self._reminded(change)
            case OrgSaved():
                yield from self._org_saved(change)
            case ConsultantSaved():
                item = it.consultant_to_item(change.consultant)
                yield Planned(self.table.put(item), None)
            case MailHandled():
                for operation, failure in mail_handled_operations(self.table, change):
                    yield Planned(operation, failure, priority=1)

    @staticmethod
    def _exists(change: Change) -> Failure:
        return lambda _reason: AlreadyExists(change)

    @staticmethod
    def _unmet(change: Change) -> Failure:
        return lambda _reason: ConditionNotMet(change)

    def _created(self, change: TicketCreated) -> Iterator[Planned]:
        ticket = change.ticket
        last = ticket.number - 1
        condition = "attribute_not_exists(#value)" if last == 0 else "#value = :last"
        values: dict[str, Any] = {":next": ticket.number}
        if last:
            values[":last"] = last
        taken: Failure = lambda _reason: NumberTaken(f"#{ticket.number} was taken")  # noqa: E731
        counter = self.table.update(
            keys.COUNTER_KEY,
            "SET #value = :next",
            condition=condition,
            names={"#value": "value"},
            values=values,
        )
        yield Planned(counter, taken)
        yield Planned(self.table.put_new(it.ticket_to_item(ticket)), taken)
        yield Planned(self.table.put_new(it.event_to_item(ticket.number, change.event)), taken)
        for item in it.word_items(ticket, title_words(ticket.title)):
            yield Planned(self.table.put(item), None)

    def _retitled(self, change: TicketUpdated) -> Iterator[Planned]:
        """A new title: the search items of the words it lost go, those of its new words come."""
        before = title_words(change.before.title)
        after = title_words(change.after.title)
        for word in before:
            if word not in after:
                key = {"pk": keys.ticket_pk(change.after.number), "sk": keys.word_sk(word)}
                yield Planned(self.table.delete(key), None)
        new = tuple(w for w in after if w not in before)
        for item in it.word_items(change.after, new):
            yield Planned(self.table.put(item), None)

    def _updated(self, change: TicketUpdated) -> Planned:
        before, after = change.before, change.after
        expression, names, values = update_expression(it.ticket_to_fields(after))
        names.update({"#cv": "version", "#cs": "status"})
        values.update({":cv": before.version, ":cs": before.status.value})
        operation = self.table.update(
            keys.ticket_key(before.number),
            expression,
            condition="#cv = :cv AND #cs = :cs",
            names=names,
            values=values,
            return_old_on_failure=True,
        )

        def changed(reason: dict[str, Any]) -> Exception:
            stored = reason.get("Item")
            current = (
                it.ticket_from_item(unmarshal(stored))
                if stored
                else self.tickets.get(before.number)
            )
            return TicketChanged(current, current.status is not before.status)

        return Planned(operation, changed, priority=2)

    def _task_upsert(self, number: int, month: str, title: str, add_minutes: int = 0) -> Operation:
        """Create the month's task if missing (never a second one), adding minutes to it."""
        minutes = "ADD #minutes :minutes" if add_minutes else ""
        initial = "" if add_minutes else ", #minutes = if_not_exists(#minutes, :minutes)"
        return self.table.update(
            {"pk": keys.ticket_pk(number), "sk": keys.task_sk(month)},
            "SET #title = if_not_exists(#title, :title), #month = :month, "
            f"entity = :entity, ticket_number = :number{initial} {minutes}".strip(),
            names={"#title": "title", "#month": "month", "#minutes": "minutes"},
            values={
                ":title": title,
                ":month": month,
                ":entity": "task",
                ":number": number,
                ":minutes": add_minutes,
            },
        )

    def _time_logged(self, change: TimeLogged) -> Iterator[Planned]:
        entry, ticket = change.entry, change.ticket
        day = entry.day.isoformat()

        def day_full(reason: dict[str, Any]) -> Exception:
            stored = unmarshal(reason["Item"]) if reason.get("Item") else {}
            logged = int(stored.get("minutes", 0))
            try:
                check_day_total(logged, entry.minutes)
            except InvalidInput as exc:
                return exc
            return Conflict(f"The day {day} of {entry.consultant} changed; try again.")

        yield Planned(
            self.table.put_new(it.time_entry_to_item(entry, ticket.type)),
            lambda _r: Conflict(f"Time entry {entry.id} was already recorded."),
        )
        yield Planned(
            self._task_upsert(ticket.number, entry.month, change.task_title, entry.minutes), None
        )
        yield Planned(
            self.table.update(
                keys.ticket_key(ticket.number),
                "ADD time_spent_minutes :minutes",
                condition="attribute_exists(taken_at)",
                values={":minutes": entry.minutes},
            ),
            lambda _r: Conflict("The ticket cannot take time entries now."),
        )
        yield Planned(
            self.table.update(
                keys.consultant_day_key(entry.consultant, day),
                "SET entity = :entity ADD #minutes :minutes",
                condition="attribute_not_exists(#minutes) OR #minutes <= :most_before",
                names={"#minutes": "minutes"},
                values={
                    ":entity": "consultant_day",
                    ":minutes": entry.minutes,
                    ":most_before": MAX_MINUTES_PER_DAY - entry.minutes,
                },
                return_old_on_failure=True,
            ),
            day_full,
            priority=1,
        )
        yield Planned(
            self.table.check(keys.month_lock_key(entry.month), "attribute_not_exists(pk)"),
            lambda _r: MonthLocked(entry.month),
            priority=2,
        )

    def _awaiting_quote(self, change: AwaitingQuote) -> Planned:
        operation = self.table.check(
            keys.ticket_key(change.ticket_number),
            "#status = :awaiting AND awaiting_quote_version = :v",
            names={"#status": "status"},
            values={":awaiting": Status.AWAITING_QUOTE_APPROVAL.value, ":v": change.quote_version},
        )
        return Planned(operation, self._unmet(change), priority=1)

    def _reminded(self, change: AutoCloseReminded) -> Planned:
        ticket = change.ticket
        assert ticket.auto_close_at is not None
        due = iso(ticket.auto_close_at)
        operation = self.table.update(
            keys.ticket_key(ticket.number),
            "SET reminded_for = :due, reminded_at = :now",
            condition=(
                "#status = :answer_sent AND auto_close_at = :due AND #version = :version "
                "AND (attribute_not_exists(reminded_for) OR reminded_for <> :due)"
            ),
            names={"#status": "status", "#version": "version"},
            values={
                ":due": due,
                ":now": iso(change.at),
                ":answer_sent": Status.ANSWER_SENT.value,
                ":version": ticket.version,
            },
        )
        return Planned(operation, self._unmet(change), priority=1)

    def _org_saved(self, change: OrgSaved) -> Iterator[Planned]:
        """The organisation and the mail domains it owns."""
        org, previous = change.org, change.previous
        yield Planned(self.table.put(it.org_to_item(org)), None)
        taken: Failure = lambda _r: InvalidInput(  # noqa: E731
            "email_domains", "A mail domain already belongs to another organisation."
        )
        ours = "attribute_not_exists(pk) OR org_id = :org"
        old_domains = set(previous.email_domains) if previous else set()
        for domain in sorted(set(org.email_domains) - old_domains):
            item = {**keys.domain_key(domain), "entity": "domain", "org_id": org.org_id}
            yield Planned(self.table.put(item, ours, {":org": org.org_id}), taken)
        for domain in sorted(old_domains - set(org.email_domains)):
            operation = self.table.delete(
                keys.domain_key(domain), condition=ours, values={":org": org.org_id}
            )
            yield Planned(operation, taken)
