"""Each change of a unit of work as its DynamoDB operations, each tagged with what its failed
condition means (the stored ticket changed, the month is locked, the item exists...).

Imported by the unit of work's commit, not with it: a request that only reads never builds
the changes' planning (bench/results.md, Cold start).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from helpdesk.adapters.dynamodb import items as it
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.links import link_used_operation
from helpdesk.adapters.dynamodb.repositories import DynamoTicketRepository
from helpdesk.adapters.dynamodb.toolkit import (
    Operation,
    Table,
    unmarshal,
    update_expression,
)
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
from helpdesk.domain.calendar import iso
from helpdesk.domain.errors import Conflict, InvalidInput, MonthLocked, NotFound
from helpdesk.domain.model import Status
from helpdesk.domain.search import title_words
from helpdesk.domain.timekeeping import MAX_MINUTES_PER_DAY, check_day_total
from helpdesk.ports import AlreadyExists, BudgetChanged, ConditionNotMet, NumberTaken, TicketChanged

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


class CommitPlan:
    """The operations of each change, over one table."""

    def __init__(self, table: Table, tickets: DynamoTicketRepository) -> None:
        self.table = table
        self.tickets = tickets  # the stored ticket, when a failed condition did not return it

    def operations(self, change: Change) -> Iterator[Planned]:
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
            case TaskRenamed():
                yield from self._task_renamed(change)
            case TimeEntryChanged():
                yield from self._time_entry_changed(change)
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
            case SlaMarked():
                yield self._sla_marked(change)
            case OrgSaved():
                yield from self._org_saved(change)
            case ConsultantSaved():
                item = it.consultant_to_item(change.consultant)
                yield Planned(self.table.put(item), None)
            case MailHandled():
                from helpdesk.adapters.dynamodb.mail import mail_handled_operations

                for operation, failure in mail_handled_operations(self.table, change):
                    yield Planned(operation, failure, priority=1)
            case MailReleased():
                from helpdesk.adapters.dynamodb.mail import mail_released_operation

                operation, failure = mail_released_operation(self.table, change)
                yield Planned(operation, failure, priority=1)
            case LinkUsed():
                # Above the ticket's condition: when a concurrent use moved the ticket too,
                # the loser learns that the link was used.
                operation = link_used_operation(self.table, change)
                yield Planned(operation, self._unmet(change), priority=3)
            case BudgetConsumed():
                yield self._budget_consumed(change)

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

    def _updated(self, change: TicketUpdated, add_minutes: int = 0) -> Planned:
        before, after = change.before, change.after
        expression, names, values = update_expression(it.ticket_to_fields(after))
        if add_minutes:
            expression += " ADD time_spent_minutes :time_delta"
            values[":time_delta"] = add_minutes
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

    def _month_unlocked(self, month: str, priority: int = 1) -> Planned:
        return Planned(
            self.table.check(keys.month_lock_key(month), "attribute_not_exists(pk)"),
            lambda _r: MonthLocked(month),
            priority=priority,
        )

    def _task_renamed(self, change: TaskRenamed) -> Iterator[Planned]:
        yield Planned(
            self.table.update(
                {"pk": keys.ticket_pk(change.ticket_number), "sk": keys.task_sk(change.month)},
                "SET #title = :title",
                condition="attribute_exists(pk)",
                names={"#title": "title"},
                values={":title": change.title},
            ),
            self._unmet(change),
        )
        yield self._month_unlocked(change.month)

    def _time_entry_changed(self, change: TimeEntryChanged) -> Iterator[Planned]:
        """The entry, the ticket (next version, total), the tasks and days involved, the
        locks of the months involved: one transaction names each item once."""
        before, after = change.before, change.after
        number = change.ticket_before.number
        gone: Failure = lambda _r: NotFound(  # noqa: E731
            f"Time entry {before.id} of ticket #{number} does not exist (any more)."
        )
        entry_key = {"pk": keys.ticket_pk(number), "sk": keys.time_sk(before.id)}
        if after is None:
            yield Planned(self.table.delete(entry_key, condition="attribute_exists(pk)"), gone)
        else:
            item = it.time_entry_to_item(after, change.ticket_before.type)
            yield Planned(self.table.put(item, "attribute_exists(pk)"), gone)
        yield self._updated(
            TicketUpdated(change.ticket_before, change.ticket_after), change.minutes_delta
        )
        # Task minutes, per month involved.
        moves: dict[str, int] = {before.month: -before.minutes}
        if after is not None:
            moves[after.month] = moves.get(after.month, 0) + after.minutes
        for month, minutes in moves.items():
            if minutes:
                upsert = self._task_upsert(number, month, change.task_title, minutes)
                yield Planned(upsert, None)
        # The author's days: a day that gains minutes never passes 24 h.
        days: dict[str, int] = {before.day.isoformat(): -before.minutes}
        if after is not None:
            day = after.day.isoformat()
            days[day] = days.get(day, 0) + after.minutes
        for day, minutes in days.items():
            if minutes:
                yield self._day_added(before.consultant, day, minutes)
        months = [before.month] + ([after.month] if after and after.month != before.month else [])
        for month in months:
            yield self._month_unlocked(month, priority=3)

    def _day_added(self, consultant: str, day: str, minutes: int) -> Planned:
        if minutes < 0:
            operation = self.table.update(
                keys.consultant_day_key(consultant, day),
                "SET entity = :entity ADD #minutes :minutes",
                names={"#minutes": "minutes"},
                values={":entity": "consultant_day", ":minutes": minutes},
            )
            return Planned(operation, None)

        def day_full(reason: dict[str, Any]) -> Exception:
            stored = unmarshal(reason["Item"]) if reason.get("Item") else {}
            try:
                check_day_total(int(stored.get("minutes", 0)), minutes)
            except InvalidInput as exc:
                return exc
            return Conflict(f"The day {day} of {consultant} changed; try again.")

        operation = self.table.update(
            keys.consultant_day_key(consultant, day),
            "SET entity = :entity ADD #minutes :minutes",
            condition="attribute_not_exists(#minutes) OR #minutes <= :most_before",
            names={"#minutes": "minutes"},
            values={
                ":entity": "consultant_day",
                ":minutes": minutes,
                ":most_before": MAX_MINUTES_PER_DAY - minutes,
            },
            return_old_on_failure=True,
        )
        return Planned(operation, day_full, priority=1)

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

    def _sla_marked(self, change: SlaMarked) -> Planned:
        """ADD the marks to `sla_alerts` (outside the workflow's fields: an action never
        overwrites them) and move the ticket in the sparse `sla_watch` index."""
        index = it.ticket_index_fields(change.marked)
        watch = {"sla_pk": index.get("sla_pk"), "sla_sk": index.get("sla_sk")}
        expression, names, values = update_expression(watch)
        unmarked = []
        for i, mark in enumerate(change.marks):
            values[f":m{i}"] = mark
            unmarked.append(f"NOT contains(sla_alerts, :m{i})")
        if change.marks:
            expression += " ADD sla_alerts :marks"
            values[":marks"] = set(change.marks)
        condition = "#version = :version"
        if unmarked:
            condition += f" AND (attribute_not_exists(sla_alerts) OR ({' AND '.join(unmarked)}))"
        names["#version"] = "version"
        values[":version"] = change.ticket.version
        operation = self.table.update(
            keys.ticket_key(change.ticket.number),
            expression,
            condition=condition,
            names=names,
            values=values,
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

    def _budget_consumed(self, change: BudgetConsumed) -> Planned:
        """The month counter moves (ADD: concurrent entries never conflict) and records its
        alerts, each on condition that its flag is still unset: an alert is sent once."""
        move = change.move
        counter = move.before
        names = {"#minutes": "minutes", "#month": "month"}
        values: dict[str, Any] = {
            ":entity": "budget",
            ":org": counter.org_id,
            ":month": counter.month,
            ":delta": move.delta,
        }
        sets = ["entity = :entity", "org_id = :org", "#month = :month"]
        unset: list[str] = []
        for threshold in move.alerts:
            attribute = it.BUDGET_ALERT_ATTRIBUTES[threshold]
            sets.append(f"{attribute} = :alerted")
            values[":alerted"] = True
            unset.append(f"attribute_not_exists({attribute})")
        operation = self.table.update(
            keys.budget_key(counter.org_id, counter.month),
            f"SET {', '.join(sets)} ADD #minutes :delta",
            condition=" AND ".join(unset) or None,
            names=names,
            values=values,
        )
        if not unset:
            return Planned(operation, None)
        changed: Failure = lambda _r: BudgetChanged(counter.org_id, counter.month)  # noqa: E731
        # Below every other condition: a refused entry says why, not "try again".
        return Planned(operation, changed, priority=0)
