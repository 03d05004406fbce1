"""Helpers shared by the store and service integration tests (raw reads of the moto table).

Tests may read raw items (production code may not): through the adapters' `Table` gateway,
so the helpers take the moto client (the `dynamodb` fixture) and read with its one paginator.
"""

from __future__ import annotations

from typing import Any

from helpdesk.adapters.dynamodb import items as it
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import Table, marshal
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.model import Caller, Ticket
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import TABLE_NAME


def table_of(client: Any) -> Table:
    """The test table, through the given client."""
    return Table(client, TABLE_NAME)


def service_table(service: HelpdeskService) -> Table:
    """The table under a service built on the DynamoDB unit of work."""
    uow = service.uow
    assert isinstance(uow, DynamoUnitOfWork), uow
    return uow.table


def own_service(service: HelpdeskService) -> HelpdeskService:
    """The service again over its table, with a unit of work of its own: what another Lambda
    environment runs. A unit of work holds the changes added until its commit, so concurrent
    callers (threads) each take their own, as concurrent invocations do."""
    return HelpdeskService(
        DynamoUnitOfWork(service_table(service)), clock=service.clock, ids=service.ids
    )


def raw_item(client: Any, pk: str, sk: str) -> dict[str, Any] | None:
    """The stored item at (pk, sk), consistently read, or None."""
    return table_of(client).get({"pk": pk, "sk": sk})


def ticket_item(client: Any, number: int) -> dict[str, Any]:
    item = raw_item(client, keys.ticket_pk(number), keys.TICKET_SK)
    assert item is not None, f"ticket #{number} is not stored"
    return item


INDEX_ATTRIBUTES = {
    "by_org": ("org_pk", "org_sk"),
    "all_tickets": ("all_pk", "all_sk"),
    "queue": ("queue_pk", "queue_sk"),
    "due": ("due_pk", "due_sk"),
    "by_month": ("month_pk", "month_sk"),
}


def index_items(client: Any, index: str, partition: str) -> list[dict[str, Any]]:
    """Every item of one partition of a secondary index (`by_org` is keyed `org_pk`...)."""
    attribute = INDEX_ATTRIBUTES[index][0]
    return list(
        table_of(client).query(
            IndexName=index,
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": attribute},
            ExpressionAttributeValues=marshal({":p": partition}),
        )
    )


def index_sort_keys(client: Any, index: str, partition: str) -> list[str]:
    """The sort keys present in one index partition."""
    sort_attribute = INDEX_ATTRIBUTES[index][1]
    return [item[sort_attribute] for item in index_items(client, index, partition)]


def queued_numbers(client: Any, level: int) -> list[int]:
    return [int(sk) for sk in index_sort_keys(client, "queue", keys.queue_pk(level))]


def due_numbers(client: Any) -> list[int]:
    return [int(sk.rsplit("#", 1)[1]) for sk in index_sort_keys(client, "due", keys.DUE_PK)]


def partition_items(client: Any, number: int, prefix: str) -> list[dict[str, Any]]:
    """The items of a ticket's partition whose sort key starts with `prefix`."""
    return list(table_of(client).partition(keys.ticket_pk(number), prefix))


def outbox_items(client: Any, number: int) -> list[dict[str, Any]]:
    """The ticket's outbox items (mails and workflow commands), in sort-key order; a mail's
    parts as `body` and `html` (stored packed, items.OUTBOX_TEXTS)."""
    return [it.with_outbox_texts(item) for item in partition_items(client, number, "OUTBOX#")]


def is_month_locked(client: Any, month: str) -> bool:
    return table_of(client).get(keys.month_lock_key(month)) is not None


def act(
    service: HelpdeskService,
    caller: Caller,
    number: int,
    action: Action,
    **params: Any,
) -> Ticket:
    """Perform an action, check the stored ticket is the transition's result, return it."""
    before = service.uow.tickets.get(number)
    transition = service.perform(caller, number, action, ActionInput(**params))
    stored = service.uow.tickets.get(number)
    assert stored.version == before.version + 1 == transition.ticket.version
    assert stored.status is transition.ticket.status
    item = ticket_item(service_table(service).client, number)
    assert item["version"] == stored.version
    assert item["status"] == stored.status.value
    assert stored.status_label == stored.status.label
    return stored
