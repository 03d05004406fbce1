"""Read a moto table's DynamoDB stream in-process, as Lambda's event source mapping would.

moto's DynamoDB Streams HTTP API does not answer with this botocore ("Not yet implemented"),
and its own event source mappings need Docker, so the local stack and the tests read the
stream records moto keeps on the table.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from infra.moto_serial import moto_dynamodb_lock


def stream_records(
    table_name: str, region: str, after: int = 0, account_id: str = DEFAULT_ACCOUNT_ID
) -> list[dict[str, Any]]:
    """The records after the first `after` ones, shaped like a Lambda DynamoDB event's.

    Read under `moto_serial`'s lock: a cancelled transaction's records are in the shard until
    its rollback removes them, and a poller that saw them would advance past real records.
    """
    with moto_dynamodb_lock():
        table = dynamodb_backends[account_id][region].get_table(table_name)
        shard = table.stream_shard
        if shard is None:
            raise ValueError(f"table {table_name} has no stream")
        arn = f"{table.table_arn}/stream/{table.latest_stream_label}"
        raw = [copy.deepcopy(record.to_json()) for record in shard.items[after:]]
    records = []
    for event in raw:
        event["awsRegion"] = region
        event["eventSourceARN"] = arn
        event["dynamodb"]["ApproximateCreationDateTime"] = str(
            event["dynamodb"]["ApproximateCreationDateTime"]
        )
        records.append(event)
    return records


def matches_outbox_filter(record: dict[str, Any]) -> bool:
    """The template's filter: INSERTs of `entity = outbox` items."""
    image = record.get("dynamodb", {}).get("NewImage", {})
    return bool(record.get("eventName") == "INSERT" and image.get("entity") == {"S": "outbox"})
