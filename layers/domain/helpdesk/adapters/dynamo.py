"""The DynamoDB store: one table, every workflow change one conditional write or transaction."""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from helpdesk.adapters import items as it
from helpdesk.adapters import keys
from helpdesk.domain import notifications
from helpdesk.domain.comments import Comment
from helpdesk.domain.directory import Consultant, Organisation
from helpdesk.domain.errors import Conflict, InvalidInput, MonthLocked, NotFound
from helpdesk.domain.model import HistoryEvent, Status, Ticket
from helpdesk.domain.tickets import TicketDraft
from helpdesk.domain.timekeeping import MAX_MINUTES_PER_DAY, TimeEntry, check_day_total
from helpdesk.domain.workflow import Transition

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]
MAX_NUMBER_ATTEMPTS = 200


def marshal(item: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def unmarshal(item: dict[str, Any]) -> Item:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


class TicketChanged(Exception):
    """The ticket's stored state is not the one the change was decided on."""

    def __init__(self, current: Ticket, status_changed: bool) -> None:
        super().__init__(f"ticket #{current.number} changed (version {current.version})")
        self.current = current
        self.status_changed = status_changed


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_cursor: str | None


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(unmarshal(key), sort_keys=True, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, allowed_keys: set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.") from exc
    if (
        not isinstance(key, dict)
        or set(key) != allowed_keys
        or not all(isinstance(v, str) for v in key.values())
    ):
        raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.")
    return marshal(key)


def _update_expression(fields: Item, prefix: str = "") -> tuple[str, dict[str, str], Item]:
    """SET the non-None fields, REMOVE the None ones; returns expression, names, values."""
    names: dict[str, str] = {}
    values: Item = {}
    sets: list[str] = []
    removes: list[str] = []
    for i, (name, value) in enumerate(fields.items()):
        alias = f"#{prefix}f{i}"
        names[alias] = name
        if value is None:
            removes.append(alias)
        else:
            values[f":{prefix}v{i}"] = value
            sets.append(f"{alias} = :{prefix}v{i}")
    expression = ""
    if sets:
        expression += "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression.strip(), names, values


class DynamoStore:
    """Repository and unit of work over the single table."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table = table_name

    # ---------- reading ----------

    def _get(self, key: dict[str, str]) -> Item | None:
        reply = self.client.get_item(TableName=self.table, Key=marshal(key), ConsistentRead=True)
        return unmarshal(reply["Item"]) if "Item" in reply else None

    def batch_get(self, keys_: Sequence[dict[str, str]]) -> dict[tuple[str, str], Item]:
        """Several items in one request (retrying unprocessed keys), by (pk, sk)."""
        found: dict[tuple[str, str], Item] = {}
        request: dict[str, Any] = {
            self.table: {"Keys": [marshal(k) for k in keys_], "ConsistentRead": True}
        }
        for attempt in range(8):
            reply = self.client.batch_get_item(RequestItems=request)
            for raw in reply.get("Responses", {}).get(self.table, []):
                item = unmarshal(raw)
                found[(item["pk"], item["sk"])] = item
            request = reply.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise Conflict("The table is too busy to read these items now; try again.")

    def get_ticket(self, number: int) -> Ticket:
        item = self._get(keys.ticket_key(number))
        if item is None:
            raise NotFound(f"Ticket #{number} does not exist.")
        return it.ticket_from_item(item)

    def get_ticket_item(self, number: int) -> Item | None:
        """The raw stored ticket, with attributes other adapters keep on it."""
        return self._get(keys.ticket_key(number))

    def get_ticket_and_consultant(
        self, number: int, consultant_id: str
    ) -> tuple[Ticket, Consultant | None]:
        ticket_key = keys.ticket_key(number)
        consultant_key = keys.consultant_key(consultant_id)
        found = self.batch_get([ticket_key, consultant_key])
        ticket_item = found.get((ticket_key["pk"], ticket_key["sk"]))
        if ticket_item is None:
            raise NotFound(f"Ticket #{number} does not exist.")
        consultant_item = found.get((consultant_key["pk"], consultant_key["sk"]))
        consultant = it.consultant_from_item(consultant_item) if consultant_item else None
        return it.ticket_from_item(ticket_item), consultant

    def _query(self, **kwargs: Any) -> Iterator[Item]:
        """Every item of a query, page after page."""
        kwargs["TableName"] = self.table
        while True:
            reply = self.client.query(**kwargs)
            for raw in reply.get("Items", []):
                yield unmarshal(raw)
            last = reply.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _query_partition(self, pk: str, sk_prefix: str) -> Iterator[Item]:
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=marshal({":pk": pk, ":prefix": sk_prefix}),
            ConsistentRead=True,
        )

    def query_page(
        self,
        *,
        index: str | None,
        key_condition: str,
        values: Item,
        names: dict[str, str] | None = None,
        filter_expression: str | None = None,
        cursor: str | None,
        limit: int,
        newest_first: bool = True,
        max_reads: int = 2000,
    ) -> Page:
        """One page of at most `limit` matching items; filters keep reading until it fills."""
        hash_key, range_key = _INDEX_KEYS[index]
        start = decode_cursor(cursor, {"pk", "sk", hash_key, range_key})
        if start is not None:
            placeholder = _bound_value(key_condition, hash_key, names or {})
            bound = marshal(values).get(placeholder) if placeholder else None
            if start[hash_key] != bound:
                # Another partition's key: DynamoDB refuses it, moto silently starts over.
                raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.")
        collected: list[Item] = []
        read = 0
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": key_condition,
                "ExpressionAttributeValues": marshal(values),
                "ScanIndexForward": not newest_first,
                "Limit": limit - len(collected),
            }
            if index is not None:
                kwargs["IndexName"] = index
            if names:
                kwargs["ExpressionAttributeNames"] = names
            if filter_expression:
                kwargs["FilterExpression"] = filter_expression
            if start:
                kwargs["ExclusiveStartKey"] = start
            try:
                reply = self.client.query(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if cursor and code == "ValidationException":
                    raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.") from exc
                raise
            collected.extend(unmarshal(raw) for raw in reply.get("Items", []))
            read += reply.get("ScannedCount", 0)
            start = reply.get("LastEvaluatedKey")
            if not start or len(collected) >= limit or read >= max_reads:
                return Page(collected, encode_cursor(start))

    def history(self, number: int) -> list[HistoryEvent]:
        return [it.event_from_item(i) for i in self._query_partition(keys.ticket_pk(number), "EVENT#")]

    def tasks(self, number: int) -> list[Item]:
        return list(self._query_partition(keys.ticket_pk(number), "TASK#"))

    def time_entries(self, number: int) -> list[TimeEntry]:
        return [
            it.time_entry_from_item(i)
            for i in self._query_partition(keys.ticket_pk(number), "TIME#")
        ]

    def _ticket_and_neighbours(self, number: int, low: str, high: str) -> tuple[Ticket, list[Item]]:
        """The ticket and the items sorting next to it, in one Query (NotFound as get_ticket)."""
        ticket_item: Item | None = None
        neighbours: list[Item] = []
        for item in self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues=marshal(
                {":pk": keys.ticket_pk(number), ":low": low, ":high": high}
            ),
            ConsistentRead=True,
        ):
            if item["sk"] == keys.TICKET_SK:
                ticket_item = item
            else:
                neighbours.append(item)
        if ticket_item is None:
            raise NotFound(f"Ticket #{number} does not exist.")
        return it.ticket_from_item(ticket_item), neighbours

    def ticket_and_tasks(self, number: int) -> tuple[Ticket, list[Item]]:
        """`TASK#<month>` items sort just before `TICKET`: nothing else lies between."""
        return self._ticket_and_neighbours(number, "TASK#", keys.TICKET_SK)

    def ticket_and_time_entries(self, number: int) -> tuple[Ticket, list[TimeEntry]]:
        """`TIME#<id>` items sort just after `TICKET` (and before `TIME$`)."""
        ticket, items = self._ticket_and_neighbours(number, keys.TICKET_SK, "TIME$")
        return ticket, [it.time_entry_from_item(i) for i in items]

    def outbox(self, number: int) -> list[Item]:
        """The ticket's messages to the client, oldest first, with their delivery state."""
        return list(self._query_partition(keys.ticket_pk(number), "OUTBOX#"))

    def comments(self, number: int) -> list[Comment]:
        return [
            it.comment_from_item(i) for i in self._query_partition(keys.ticket_pk(number), "COMMENT#")
        ]

    def get_org(self, org_id: str) -> Organisation | None:
        item = self._get(keys.org_key(org_id))
        return it.org_from_item(item) if item else None

    def org_for_domain(self, domain: str) -> str | None:
        item = self._get(keys.domain_key(domain.lower()))
        return item["org_id"] if item else None

    def list_orgs(self) -> list[Organisation]:
        return [it.org_from_item(i) for i in self._query_partition(keys.ORGS_PK, "ORG#")]

    def get_consultant(self, consultant_id: str) -> Consultant | None:
        item = self._get(keys.consultant_key(consultant_id))
        return it.consultant_from_item(item) if item else None

    def list_consultants(self) -> list[Consultant]:
        return [
            it.consultant_from_item(i)
            for i in self._query_partition(keys.ROSTER_PK, "CONSULTANT#")
        ]

    def consultant_day_minutes(self, consultant_id: str, day: str) -> int:
        item = self._get(keys.consultant_day_key(consultant_id, day))
        return int(item["minutes"]) if item else 0

    def is_month_locked(self, month: str) -> bool:
        return self._get(keys.month_lock_key(month)) is not None

    # ---------- writing ----------

    def _transact(self, operations: list[dict[str, Any]]) -> None:
        """TransactWriteItems, retried on TransactionConflict; conditions surface as ClientError."""
        for attempt in range(6):
            try:
                self.client.transact_write_items(TransactItems=operations)
                return
            except ClientError as exc:
                codes = _cancellation_codes(exc)
                if codes and "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes:
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))
                    continue
                raise
        raise Conflict("The ticket is being changed by others right now; try again.")

    def create_ticket(self, draft: TicketDraft) -> Ticket:
        """Number the draft with the next sequential number, atomically with the counter."""
        for attempt in range(MAX_NUMBER_ATTEMPTS):
            counter = self._get(keys.COUNTER_KEY)
            last = int(counter["value"]) if counter else 0
            ticket = Ticket(
                number=last + 1,
                title=draft.title,
                description=draft.description,
                type=draft.type,
                org_id=draft.org_id,
                requester=draft.requester,
                requester_email=draft.requester_email,
                source=draft.source,
                created_at=draft.created_at,
                updated_at=draft.created_at,
                support_level=draft.type.base_level,
                linked_ticket=draft.linked_ticket,
                attachments=draft.attachments,
            )
            event = HistoryEvent(
                version=1,
                at=draft.created_at,
                actor=draft.requester,
                action="create",
                from_status=Status.OPEN,
                to_status=Status.OPEN,
                details={"source": draft.source},
            )
            counter_condition = (
                "attribute_not_exists(#value)" if counter is None else "#value = :last"
            )
            values: Item = {":next": ticket.number}
            if counter is not None:
                values[":last"] = last
            operations = [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": marshal(keys.COUNTER_KEY),
                        "UpdateExpression": "SET #value = :next",
                        "ConditionExpression": counter_condition,
                        "ExpressionAttributeNames": {"#value": "value"},
                        "ExpressionAttributeValues": marshal(values),
                    }
                },
                self._put_new(it.ticket_to_item(ticket)),
                self._put_new(it.event_to_item(ticket.number, event)),
            ]
            acknowledgement = notifications.acknowledgement(ticket)
            if acknowledgement is not None:
                outbox = it.outbox_to_item(acknowledgement, ticket.version, ticket.created_at)
                operations.append(self._put_new(outbox))
            try:
                self._transact(operations)
                return ticket
            except ClientError as exc:
                if not _cancellation_codes(exc):
                    raise
                time.sleep(random.uniform(0, min(0.002 * 2 ** min(attempt, 6), 0.1)))
        raise Conflict("Too many tickets are being created at once; try again.")

    def _put_new(self, item: Item) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": marshal(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def ticket_update_operation(self, before: Ticket, after: Ticket) -> dict[str, Any]:
        """Write `after` over `before`, on condition that `before` is what is stored."""
        expression, names, values = _update_expression(it.ticket_to_fields(after))
        names.update({"#cv": "version", "#cs": "status"})
        values.update({":cv": before.version, ":cs": before.status.value})
        return {
            "Update": {
                "TableName": self.table,
                "Key": marshal(keys.ticket_key(before.number)),
                "UpdateExpression": expression,
                "ConditionExpression": "#cv = :cv AND #cs = :cs",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": marshal(values),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def task_upsert_operation(self, ticket: Ticket, month: str, title: str) -> dict[str, Any]:
        """Create the month's task if missing; never a second one, never a condition failure."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": marshal({"pk": keys.ticket_pk(ticket.number), "sk": keys.task_sk(month)}),
                "UpdateExpression": (
                    "SET #title = if_not_exists(#title, :title), #month = :month, "
                    "entity = :entity, ticket_number = :number, "
                    "#minutes = if_not_exists(#minutes, :zero)"
                ),
                "ExpressionAttributeNames": {
                    "#title": "title",
                    "#month": "month",
                    "#minutes": "minutes",
                },
                "ExpressionAttributeValues": marshal(
                    {
                        ":title": title,
                        ":month": month,
                        ":entity": "task",
                        ":number": ticket.number,
                        ":zero": 0,
                    }
                ),
            }
        }

    def commit(
        self,
        transition: Transition,
        *,
        task: tuple[str, str] | None = None,
        extra: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Store a transition: the ticket (conditional), its history event, and extras.

        `task` is (month, title) of a task to create with it. Raises TicketChanged when the
        ticket is no longer the one the transition was decided on. Side effects (mail, the
        quote-approval state machine) go into the outbox in the same transaction; the table's
        stream drives their delivery (functions/notifier).
        """
        ticket = transition.ticket
        operations = [
            self.ticket_update_operation(transition.before, ticket),
            self._put_new(it.event_to_item(ticket.number, transition.event)),
        ]
        if task is not None:
            operations.append(self.task_upsert_operation(ticket, *task))
        for notification in notifications.for_transition(transition):
            outbox = it.outbox_to_item(notification, ticket.version, ticket.updated_at)
            operations.append(self._put_new(outbox))
        for command in _workflow_commands(transition):
            operations.append(self._put_new(command))
        operations.extend(extra)
        self._commit_ticket_change(transition.before, operations)

    def commit_ticket_change(
        self, before: Ticket, after: Ticket, extra: Sequence[dict[str, Any]] = ()
    ) -> None:
        """A ticket change that is not an action (countdown suspended by a comment...)."""
        operations = [self.ticket_update_operation(before, after), *extra]
        self._commit_ticket_change(before, operations)

    def _commit_ticket_change(self, before: Ticket, operations: list[dict[str, Any]]) -> None:
        try:
            self._transact(operations)
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                stored = reasons[0].get("Item")
                current = it.ticket_from_item(unmarshal(stored)) if stored else None
                if current is None:
                    current = self.get_ticket(before.number)
                raise TicketChanged(current, current.status is not before.status) from exc
            raise

    def put_comment(
        self, comment: Comment, ticket_change: tuple[Ticket, Ticket] | None = None
    ) -> None:
        """Store a comment, with the ticket change it causes in the same transaction."""
        put = self._put_new(it.comment_to_item(comment))
        if ticket_change is None:
            try:
                self._transact([put])
            except ClientError as exc:
                if _cancellation_codes(exc):
                    raise Conflict("This comment was already recorded.") from exc
                raise
            return
        self.commit_ticket_change(*ticket_change, extra=[put])

    def ensure_task(self, ticket: Ticket, month: str, title: str) -> bool:
        """Create the month's task if it does not exist; True when this call created it."""
        item = {
            "pk": keys.ticket_pk(ticket.number),
            "sk": keys.task_sk(month),
            "entity": "task",
            "ticket_number": ticket.number,
            "month": month,
            "title": title,
            "minutes": 0,
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=marshal(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def add_time_entry(self, entry: TimeEntry, ticket: Ticket, task_title: str) -> None:
        """One transaction: the entry, its task's total, the ticket's total, the consultant's
        day (never over 24 h) and the check that the month is not locked."""
        day_key = keys.consultant_day_key(entry.consultant, entry.day.isoformat())
        task = self.task_upsert_operation(ticket, entry.month, task_title)
        task["Update"]["UpdateExpression"] = (
            "SET #title = if_not_exists(#title, :title), #month = :month, "
            "entity = :entity, ticket_number = :number ADD #minutes :minutes"
        )
        task_values = unmarshal(task["Update"]["ExpressionAttributeValues"])
        task_values.pop(":zero")
        task_values[":minutes"] = entry.minutes
        task["Update"]["ExpressionAttributeValues"] = marshal(task_values)
        operations = [
            self._put_new(it.time_entry_to_item(entry, ticket.type)),
            task,
            {
                "Update": {
                    "TableName": self.table,
                    "Key": marshal(keys.ticket_key(ticket.number)),
                    "UpdateExpression": "ADD time_spent_minutes :minutes",
                    "ConditionExpression": "attribute_exists(taken_at)",
                    "ExpressionAttributeValues": marshal({":minutes": entry.minutes}),
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": marshal(day_key),
                    "UpdateExpression": "SET entity = :entity ADD #minutes :minutes",
                    "ConditionExpression": (
                        "attribute_not_exists(#minutes) OR #minutes <= :most_before"
                    ),
                    "ExpressionAttributeNames": {"#minutes": "minutes"},
                    "ExpressionAttributeValues": marshal(
                        {
                            ":entity": "consultant_day",
                            ":minutes": entry.minutes,
                            ":most_before": MAX_MINUTES_PER_DAY - entry.minutes,
                        }
                    ),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "ConditionCheck": {
                    "TableName": self.table,
                    "Key": marshal(keys.month_lock_key(entry.month)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            self._transact(operations)
        except ClientError as exc:
            codes = _cancellation_codes(exc)
            if not codes:
                raise
            if codes[4] == "ConditionalCheckFailed":
                raise MonthLocked(entry.month) from exc
            if codes[3] == "ConditionalCheckFailed":
                logged = self.consultant_day_minutes(entry.consultant, entry.day.isoformat())
                check_day_total(logged, entry.minutes)
            if codes[0] == "ConditionalCheckFailed":
                raise Conflict(f"Time entry {entry.id} was already recorded.") from exc
            raise Conflict("The ticket cannot take time entries now.") from exc

    def put_org(self, org: Organisation, previous: Organisation | None) -> None:
        """The organisation and the mail domains it owns, in one transaction."""
        operations: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table, "Item": marshal(it.org_to_item(org))}}
        ]
        old_domains = set(previous.email_domains) if previous else set()
        for domain in sorted(set(org.email_domains) - old_domains):
            operations.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": marshal(
                            {**keys.domain_key(domain), "entity": "domain", "org_id": org.org_id}
                        ),
                        "ConditionExpression": "attribute_not_exists(pk) OR org_id = :org",
                        "ExpressionAttributeValues": marshal({":org": org.org_id}),
                    }
                }
            )
        for domain in sorted(old_domains - set(org.email_domains)):
            operations.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": marshal(keys.domain_key(domain)),
                        "ConditionExpression": "attribute_not_exists(pk) OR org_id = :org",
                        "ExpressionAttributeValues": marshal({":org": org.org_id}),
                    }
                }
            )
        try:
            self._transact(operations)
        except ClientError as exc:
            if _cancellation_codes(exc):
                raise InvalidInput(
                    "email_domains", "A mail domain already belongs to another organisation."
                ) from exc
            raise

    def put_consultant(self, consultant: Consultant) -> None:
        self.client.put_item(
            TableName=self.table, Item=marshal(it.consultant_to_item(consultant))
        )


# Hash and range key of the table (None) and of each secondary index (docs/data-model.md).
_INDEX_KEYS: dict[str | None, tuple[str, str]] = {
    None: ("pk", "sk"),
    "by_org": ("org_pk", "org_sk"),
    "all_tickets": ("all_pk", "all_sk"),
    "queue": ("queue_pk", "queue_sk"),
    "due": ("due_pk", "due_sk"),
    "by_month": ("month_pk", "month_sk"),
}
_EQUALITY = re.compile(r"(#?\w+)\s*=\s*(:\w+)")


def _bound_value(key_condition: str, attribute: str, names: dict[str, str]) -> str | None:
    """The placeholder (`:ipk`) the key condition binds `attribute` to with `=`, if any."""
    for name, placeholder in _EQUALITY.findall(key_condition):
        if names.get(name, name) == attribute:
            return str(placeholder)
    return None


def _workflow_commands(transition: Transition) -> list[Item]:
    """The outbox commands to the quote-approval state machine this transition causes.

    An expiry is decided by the state machine itself: nothing to resume, no command.
    """
    ticket = transition.ticket
    commands: list[Item] = []
    start = transition.effect("start_quote_approval")
    if start is not None and ticket.quote is not None:
        data: Item = {
            "quote_version": int(start.data["quote_version"]),
            "validity_days": ticket.quote.validity_days,
        }
        commands.append(
            it.workflow_command_to_item(
                ticket.number, ticket.version, "quote_approval_start", data, ticket.updated_at
            )
        )
    decided = transition.effect("quote_decided")
    if decided is not None and decided.data["outcome"] in ("approved", "refused"):
        version = int(decided.data["quote_version"])
        quote = next((q for q in ticket.quotes if q.version == version), None)
        data = {
            "quote_version": version,
            "outcome": decided.data["outcome"],
            "reason": quote.reason if quote is not None else None,
        }
        commands.append(
            it.workflow_command_to_item(
                ticket.number, ticket.version, "quote_approval_decision", data, ticket.updated_at
            )
        )
    return commands


def _cancellation_codes(exc: ClientError) -> list[str]:
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
