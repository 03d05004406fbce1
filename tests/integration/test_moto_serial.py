"""The moto patches keep DynamoDB's transaction semantics (all or nothing, indexes too)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import TABLE_NAME


def _put(key: str, **attrs: str) -> dict[str, Any]:
    item = {"pk": {"S": key}, "sk": {"S": "X"}, **{k: {"S": v} for k, v in attrs.items()}}
    return {"Put": {"TableName": TABLE_NAME, "Item": item}}


def test_cancelled_transaction_restores_every_item_and_index(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[_put("A", v="1", all_pk="TICKETS", all_sk="1")])
    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(
            TransactItems=[
                _put("A", v="2", all_pk="TICKETS", all_sk="1"),  # overwrite, then rolled back
                _put("B", v="new", all_pk="TICKETS", all_sk="2"),  # insert, then rolled back
                {
                    "ConditionCheck": {
                        "TableName": TABLE_NAME,
                        "Key": {"pk": {"S": "missing"}, "sk": {"S": "X"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    a = dynamodb.get_item(TableName=TABLE_NAME, Key={"pk": {"S": "A"}, "sk": {"S": "X"}})
    assert a["Item"]["v"] == {"S": "1"}
    b = dynamodb.get_item(TableName=TABLE_NAME, Key={"pk": {"S": "B"}, "sk": {"S": "X"}})
    assert "Item" not in b
    listed = dynamodb.query(
        TableName=TABLE_NAME,
        IndexName="all_tickets",
        KeyConditionExpression="all_pk = :p",
        ExpressionAttributeValues={":p": {"S": "TICKETS"}},
    )
    assert [i["pk"]["S"] for i in listed["Items"]] == ["A"]


def test_successful_transaction_applies_every_item(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[_put("A", v="1"), _put("B", v="2")])
    for key, value in (("A", "1"), ("B", "2")):
        got = dynamodb.get_item(TableName=TABLE_NAME, Key={"pk": {"S": key}, "sk": {"S": "X"}})
        assert got["Item"]["v"] == {"S": value}


def test_cancelled_transaction_leaves_no_stream_record(dynamodb: Any) -> None:
    from infra.moto_streams import stream_records
    from tests.conftest import REGION

    dynamodb.transact_write_items(TransactItems=[_put("A", v="1")])
    before = stream_records(TABLE_NAME, REGION)
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=[
                _put("B", entity="outbox"),
                {
                    "ConditionCheck": {
                        "TableName": TABLE_NAME,
                        "Key": {"pk": {"S": "missing"}, "sk": {"S": "X"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert stream_records(TABLE_NAME, REGION) == before
    assert [r["eventName"] for r in before] == ["INSERT"]


def test_stream_read_waits_for_a_cancelled_transaction_to_be_rolled_back(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poller reading while a cancelled transaction is undone never sees its records.

    The rollback pauses after undoing its first item until the reader has read (or for a
    second): a read that does not take moto_serial's lock reads the shard then, with the
    cancelled INSERT still in it, and a poller would advance past it.
    """
    from moto.dynamodb.models import DynamoDBBackend

    from infra.moto_streams import stream_records
    from tests.conftest import REGION

    dynamodb.transact_write_items(TransactItems=[_put("A", v="1")])
    before = stream_records(TABLE_NAME, REGION)
    rolling_back, reader_done = threading.Event(), threading.Event()
    original_delete = DynamoDBBackend.delete_item

    def delete_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original_delete(self, *args, **kwargs)
        rolling_back.set()
        reader_done.wait(timeout=1)
        return result

    monkeypatch.setattr(DynamoDBBackend, "delete_item", delete_item)
    seen: list[list[dict[str, Any]]] = []

    def reader() -> None:
        rolling_back.wait(timeout=10)
        seen.append(stream_records(TABLE_NAME, REGION))
        reader_done.set()

    thread = threading.Thread(target=reader)
    thread.start()
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=[
                _put("B", entity="outbox"),
                {
                    "ConditionCheck": {
                        "TableName": TABLE_NAME,
                        "Key": {"pk": {"S": "missing"}, "sk": {"S": "X"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    thread.join(timeout=10)
    assert rolling_back.is_set()  # the read did overlap the rollback
    assert seen == [before]


def test_stream_read_holds_the_moto_lock(dynamodb: Any) -> None:
    from infra.moto_serial import moto_dynamodb_lock
    from infra.moto_streams import stream_records
    from tests.conftest import REGION

    dynamodb.transact_write_items(TransactItems=[_put("A", v="1")])
    done = threading.Event()

    def read() -> None:
        stream_records(TABLE_NAME, REGION)
        done.set()

    thread = threading.Thread(target=read, daemon=True)
    with moto_dynamodb_lock():
        thread.start()
        assert not done.wait(timeout=0.3)  # blocked while another thread holds the lock
    assert done.wait(timeout=10)
