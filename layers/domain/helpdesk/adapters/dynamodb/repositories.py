"""Reading the single table: the tickets and the directory (the repositories of the ports)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from helpdesk.adapters.dynamodb import items as it
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.listing import TicketFinder
from helpdesk.adapters.dynamodb.toolkit import Item, Table, marshal, unmarshal
from helpdesk.adapters.dynamodb.toolkit import Page as ToolkitPage
from helpdesk.domain.budget import Consumption
from helpdesk.domain.calendar import iso
from helpdesk.domain.comments import Comment
from helpdesk.domain.directory import Consultant, Organisation
from helpdesk.domain.errors import NotFound
from helpdesk.domain.listing import TicketQuery
from helpdesk.domain.model import HistoryEvent, Ticket
from helpdesk.domain.timekeeping import Task, TimeEntry
from helpdesk.ports import Page, ReadCounter

LEVELS = (1, 2, 3)


class DynamoTicketRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def _missing(self, number: int) -> NotFound:
        return NotFound(f"Ticket #{number} does not exist.")

    def get(self, number: int) -> Ticket:
        item = self.table.get(keys.ticket_key(number))
        if item is None:
            raise self._missing(number)
        return it.ticket_from_item(item)

    def get_with_consultant(
        self, number: int, consultant_id: str
    ) -> tuple[Ticket, Consultant | None]:
        ticket_key = keys.ticket_key(number)
        consultant_key = keys.consultant_key(consultant_id)
        found = self.table.batch_get([ticket_key, consultant_key])
        ticket_item = found.get((ticket_key["pk"], ticket_key["sk"]))
        if ticket_item is None:
            raise self._missing(number)
        consultant_item = found.get((consultant_key["pk"], consultant_key["sk"]))
        consultant = it.consultant_from_item(consultant_item) if consultant_item else None
        return it.ticket_from_item(ticket_item), consultant

    def history(self, number: int) -> list[HistoryEvent]:
        items = self.table.partition(keys.ticket_pk(number), "EVENT#")
        return [it.event_from_item(i) for i in items]

    def history_page(self, number: int, cursor: str | None, limit: int) -> Page[HistoryEvent]:
        page = self._partition_page(number, "EVENT#", cursor, limit)
        return Page([it.event_from_item(i) for i in page.items], page.next_cursor)

    def comments_page(
        self, number: int, public_only: bool, cursor: str | None, limit: int
    ) -> Page[Comment]:
        page = self._partition_page(number, "COMMENT#", cursor, limit, public_only=public_only)
        return Page([it.comment_from_item(i) for i in page.items], page.next_cursor)

    def time_entries_page(self, number: int, cursor: str | None, limit: int) -> Page[TimeEntry]:
        page = self._partition_page(number, keys.time_sk(""), cursor, limit)
        return Page([it.time_entry_from_item(i) for i in page.items], page.next_cursor)

    def _partition_page(
        self, number: int, prefix: str, cursor: str | None, limit: int, public_only: bool = False
    ) -> ToolkitPage:
        """Items of the ticket's partition, oldest first (their keys sort by time or version)."""
        return self.table.page(
            index=None,
            partition=keys.ticket_pk(number),
            sk_prefix=prefix,
            filter_expression="internal = :no" if public_only else None,
            values={":no": False} if public_only else None,
            cursor=cursor,
            limit=limit,
            newest_first=False,
        )

    def comments(self, number: int) -> list[Comment]:
        items = self.table.partition(keys.ticket_pk(number), "COMMENT#")
        return [it.comment_from_item(i) for i in items]

    def _with_neighbours(self, number: int, low: str, high: str) -> tuple[Ticket, list[Item]]:
        """The ticket and the items sorting next to it, in one Query (NotFound as get)."""
        ticket_item: Item | None = None
        neighbours: list[Item] = []
        for item in self.table.query(
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
            raise self._missing(number)
        return it.ticket_from_item(ticket_item), neighbours

    def with_tasks(self, number: int) -> tuple[Ticket, list[Task]]:
        """`TASK#<month>` items sort just before `TICKET`: nothing else lies between."""
        ticket, items = self._with_neighbours(number, "TASK#", keys.TICKET_SK)
        return ticket, [it.task_from_item(i) for i in items]

    def with_time_entries(self, number: int) -> tuple[Ticket, list[TimeEntry]]:
        """`TIME#<id>` items sort just after `TICKET` (and before `TIME$`)."""
        ticket, items = self._with_neighbours(number, keys.TICKET_SK, "TIME$")
        return ticket, [it.time_entry_from_item(i) for i in items]

    def find(self, query: TicketQuery, cursor: str | None, limit: int) -> Page[Ticket]:
        return TicketFinder(self.table).find(query, cursor, limit)

    def due_for_auto_close(
        self,
        *,
        until: datetime,
        counter: ReadCounter,
        after: datetime | None = None,
        unreminded_only: bool = False,
    ) -> Iterator[Ticket]:
        """Tickets whose countdown ends in (after, until], from the sparse `due` index."""
        values: Item = {":due": keys.DUE_PK, ":until": f"{iso(until)}#~"}
        if after is None:
            condition = "due_pk = :due AND due_sk <= :until"
        else:
            condition = "due_pk = :due AND due_sk BETWEEN :after AND :until"
            values[":after"] = f"{iso(after)}#~"
        for item in self._counted(
            counter,
            IndexName="due",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=marshal(values),
        ):
            if unreminded_only and item.get("reminded_for") == item.get("auto_close_at"):
                continue
            yield it.ticket_from_item(item)

    def sla_watch_due(self, *, until: datetime, counter: ReadCounter) -> Iterator[Ticket]:
        """Tickets with a clock to look at by `until`: a Query of the sparse `sla_watch`
        index, which holds only the tickets with a clock still to mark."""
        for item in self._counted(
            counter,
            IndexName="sla_watch",
            KeyConditionExpression="sla_pk = :sla AND sla_sk <= :until",
            ExpressionAttributeValues=marshal(
                {":sla": keys.SLA_WATCH_PK, ":until": f"{iso(until)}#~"}
            ),
        ):
            yield it.ticket_from_item(item)

    def not_closed(self, counter: ReadCounter) -> Iterator[Ticket]:
        """Every ticket not closed, level queue after level queue (sparse `queue` index)."""
        for level in LEVELS:
            for item in self._counted(
                counter,
                IndexName="queue",
                KeyConditionExpression="queue_pk = :queue",
                ExpressionAttributeValues=marshal({":queue": keys.queue_pk(level)}),
            ):
                yield it.ticket_from_item(item)

    def _counted(self, counter: ReadCounter, **kwargs: Any) -> Iterator[Item]:
        for reply in self.table.query_raw(**kwargs):
            counter.items_read += int(reply.get("ScannedCount", 0))
            for raw in reply.get("Items", []):
                yield unmarshal(raw)

    def next_number(self) -> int:
        counter = self.table.get(keys.COUNTER_KEY)
        return (int(counter["value"]) if counter else 0) + 1

    def next_number_and_org(self, org_id: str) -> tuple[int, Organisation | None]:
        found = self.table.batch_get([keys.COUNTER_KEY, keys.org_key(org_id)])
        counter = found.get((keys.COUNTER_KEY["pk"], keys.COUNTER_KEY["sk"]))
        org_key = keys.org_key(org_id)
        org = found.get((org_key["pk"], org_key["sk"]))
        number = (int(counter["value"]) if counter else 0) + 1
        return number, it.org_from_item(org) if org else None

    def quote_task_token(self, number: int, quote_version: int) -> str | None:
        item = self.table.get(keys.ticket_key(number)) or {}
        token = item.get("quote_task_token")
        if not token or int(item.get("quote_task_version", 0)) != quote_version:
            return None
        return str(token)

    def locked_months(self, months: list[str]) -> set[str]:
        locked: set[str] = set()
        unique = sorted(set(months))
        for start in range(0, len(unique), 100):
            chunk = [keys.month_lock_key(m) for m in unique[start : start + 100]]
            found = self.table.batch_get(chunk)
            locked |= {m for m, k in zip(unique[start:], chunk, strict=False)
                       if (k["pk"], k["sk"]) in found}
        return locked


class DynamoDirectoryRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get_org(self, org_id: str) -> Organisation | None:
        item = self.table.get(keys.org_key(org_id))
        return it.org_from_item(item) if item else None

    def org_for_domain(self, domain: str) -> str | None:
        item = self.table.get(keys.domain_key(domain.lower()))
        return item["org_id"] if item else None

    def list_orgs(self) -> list[Organisation]:
        return [it.org_from_item(i) for i in self.table.partition(keys.ORGS_PK, "ORG#")]

    def get_consultant(self, consultant_id: str) -> Consultant | None:
        item = self.table.get(keys.consultant_key(consultant_id))
        return it.consultant_from_item(item) if item else None

    def list_consultants(self) -> list[Consultant]:
        items = self.table.partition(keys.ROSTER_PK, "CONSULTANT#")
        return [it.consultant_from_item(i) for i in items]

    def consultant_day_minutes(self, consultant_id: str, day: str) -> int:
        item = self.table.get(keys.consultant_day_key(consultant_id, day))
        return int(item["minutes"]) if item else 0

    def consumption(self, org_id: str, month: str) -> Consumption:
        item = self.table.get(keys.budget_key(org_id, month))
        return it.consumption_from_item(org_id, month, item)
