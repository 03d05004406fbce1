"""Action links in the table (moto): what `issue` stores, and the conditional mark of a use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk.adapters.dynamodb.links import DynamoActionLinks
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.changes import LinkUsed
from helpdesk.domain.links import token_hash
from helpdesk.ports import ConditionNotMet, LinkGrant
from tests.conftest import TABLE_NAME, Clock

EXPIRES = datetime(2026, 12, 27, 9, 0, tzinfo=UTC)
ANSWERED = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


def items(dynamodb: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    return found


def test_issue_stores_the_grant_under_the_hash_only(
    table: Table, dynamodb: Any, clock: Clock
) -> None:
    links = DynamoActionLinks(table, clock=clock)
    token = links.issue(LinkGrant(7, "confirm", None, ANSWERED, EXPIRES))
    assert len(token) == 43  # secrets.token_urlsafe(32): 256 bits
    [item] = items(dynamodb)
    assert item["pk"] == {"S": f"LINK#{token_hash(token)}"} and item["sk"] == {"S": "LINK"}
    assert token not in repr(item)  # the token itself is nowhere in the table
    assert item["entity"] == {"S": "link"}
    assert item["ticket_number"] == {"N": "7"}
    assert item["action"] == {"S": "confirm"}
    assert item["answered_at"] == {"S": "2026-11-26T08:30:00Z"}
    assert "quote_version" not in item and "used_at" not in item
    assert item["valid_until"] == {"S": "2026-12-27T09:00:00Z"}
    assert item["issued_at"] == {"S": "2026-11-27T09:00:00Z"}
    # the table's TTL attribute, epoch seconds: 30 days after the link stops working
    assert item["expires_at"] == {
        "N": str(int(datetime(2027, 1, 26, 9, 0, tzinfo=UTC).timestamp()))
    }
    stored = links.get(token_hash(token))
    assert stored is not None
    assert stored.grant == LinkGrant(7, "confirm", None, ANSWERED, EXPIRES)
    assert (stored.issued_at, stored.used_at) == (clock.now, None)


def test_each_issue_is_a_new_random_token(table: Table, clock: Clock) -> None:
    links = DynamoActionLinks(table, clock=clock)
    grant = LinkGrant(7, "approve-quote", 2, None, EXPIRES)
    tokens = {links.issue(grant) for _ in range(50)}
    assert len(tokens) == 50
    stored = links.get(token_hash(next(iter(tokens))))
    assert stored is not None and stored.grant.quote_version == 2


def test_a_link_is_marked_used_once(table: Table, clock: Clock) -> None:
    links = DynamoActionLinks(table, clock=clock)
    digest = token_hash(links.issue(LinkGrant(7, "approve-quote", 1, None, EXPIRES)))
    uow = DynamoUnitOfWork(table)
    uow.add(LinkUsed(digest, clock.now))
    uow.commit()
    stored = links.get(digest)
    assert stored is not None and stored.used_at == clock.now
    clock.advance(minutes=1)
    uow.add(LinkUsed(digest, clock.now))
    with pytest.raises(ConditionNotMet) as unmet:
        uow.commit()
    assert isinstance(unmet.value.change, LinkUsed)
    stored = links.get(digest)
    assert stored is not None and stored.used_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_an_unknown_link_is_never_created_by_a_use(table: Table, dynamodb: Any) -> None:
    uow = DynamoUnitOfWork(table)
    uow.add(LinkUsed(token_hash("nothing"), datetime(2026, 11, 27, tzinfo=UTC)))
    with pytest.raises(ConditionNotMet):
        uow.commit()
    assert items(dynamodb) == []
