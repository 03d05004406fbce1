"""The moto patches keep DynamoDB's transaction semantics (all or nothing, indexes too)."""

from __future__ import annotations

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
