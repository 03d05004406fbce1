"""Make moto's DynamoDB behave like DynamoDB under concurrency, at DynamoDB's cost.

1. moto does no locking: under concurrent requests two conditional writers can both win and
   `ADD` counters lose increments (see the shared notes). DynamoDB is linearisable per item,
   so the local stack and the tests run every DynamoDB call under one lock.
2. moto's TransactWriteItems deep-copies every table it touches to be able to roll back, so a
   transaction costs O(table size): with 10,000 tickets one took ~19 s. We snapshot only the
   items the transaction names, and restore those on cancellation (same outcome), leaving the
   table's stream as it was before the transaction.
"""

from __future__ import annotations

import copy
import functools
import threading
import types
from typing import Any

_LOCK = threading.RLock()
_installed = False


def moto_dynamodb_lock() -> threading.RLock:
    """The lock every DynamoDB call and every transaction's rollback runs under.

    Whoever reads moto's DynamoDB state directly (the table's stream shard, in
    `infra.moto_streams`) must hold it too, or it can see a cancelled transaction's records
    between their writing and their removal.
    """
    return _LOCK


def serialise_moto_dynamodb() -> None:
    """Install both patches (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    original_call = DynamoHandler.call_action

    @functools.wraps(original_call)
    def call_action(self: Any) -> Any:
        with _LOCK:
            return original_call(self)

    original_transact = DynamoDBBackend.transact_write_items

    def no_table_copy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    cheap_copy = types.SimpleNamespace(deepcopy=no_table_copy, copy=copy.copy)

    @functools.wraps(original_transact)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            snapshots = _snapshot_items(self, transact_items)
            stream_lengths = _stream_lengths(self, snapshots)
            dynamodb_models.copy = cheap_copy  # type: ignore[assignment]
            try:
                original_transact(self, transact_items)
            except Exception:
                for table_name, key, attributes in reversed(snapshots):
                    if attributes is None:
                        self.delete_item(table_name, key)
                    else:
                        self.put_item(table_name, attributes)
                # A cancelled transaction never reaches the stream, nor does its undoing.
                for table_name, length in stream_lengths.items():
                    del self.tables[table_name].stream_shard.items[length:]
                raise
            finally:
                dynamodb_models.copy = copy

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True


def _stream_lengths(backend: Any, snapshots: list[tuple[str, Any, Any]]) -> dict[str, int]:
    lengths: dict[str, int] = {}
    for table_name, _key, _attributes in snapshots:
        shard = getattr(backend.tables[table_name], "stream_shard", None)
        if shard is not None:
            lengths[table_name] = len(shard.items)
    return lengths


def _snapshot_items(
    backend: Any, transact_items: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(table, key, stored attributes or None) for every item the transaction names."""
    snapshots: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        if op_type == "Put":
            attrs = op.get("Item", {})
            key = {table.hash_key_attr: attrs.get(table.hash_key_attr)}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs.get(table.range_key_attr)
        else:
            key = op.get("Key") or {}
        if any(value is None for value in key.values()) or not key:
            continue
        try:
            current = backend.get_item(op["TableName"], key)
        except Exception:  # an invalid key: moto rejects the whole transaction anyway
            continue
        stored = copy.deepcopy(current.to_json()["Attributes"]) if current else None
        snapshots.append((op["TableName"], key, stored))
    return snapshots
