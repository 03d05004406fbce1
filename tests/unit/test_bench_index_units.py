"""The index write units of one item write, by DynamoDB's rules for global secondary indexes
(Developer Guide, "Provisioned throughput considerations for global secondary indexes"):

- an item written whose index key attributes it has: one write of its index entry;
- an index key attribute changed (A to B): two writes, the old entry deleted, the new put;
- an update that changes neither the index key nor a projected attribute: no index write;
- a write costs the size of the index entry (1 KB units), not of the table item.
"""

from __future__ import annotations

from bench.calls_per_route import IndexEntry, index_write_units


def entry(key: str, projected: str = "p", size: int = 200) -> IndexEntry:
    return IndexEntry(key=key, projected=projected, size=size)


def test_an_entry_added_or_removed_is_one_write() -> None:
    assert index_write_units({}, {"queue": entry("A")}) == 1
    assert index_write_units({"queue": entry("A")}, {}) == 1


def test_an_entry_moved_to_another_key_is_a_delete_and_a_put() -> None:
    assert index_write_units({"queue": entry("A")}, {"queue": entry("B")}) == 2


def test_an_entry_whose_projected_attributes_changed_is_rewritten_once() -> None:
    assert index_write_units({"queue": entry("A", "v1")}, {"queue": entry("A", "v2")}) == 1


def test_an_update_touching_no_projected_attribute_writes_no_entry() -> None:
    # A KEYS_ONLY (or INCLUDE) entry holds the same after an update of other attributes.
    before = {"words": entry("A", "keys"), "sla_watch": entry("W", "keys")}
    after = {"words": entry("A", "keys"), "sla_watch": entry("W", "keys")}
    assert index_write_units(before, after) == 0


def test_the_entry_size_decides_the_units_not_the_item_size() -> None:
    # An entry of 1,500 bytes is 2 units; a 100-byte one (KEYS_ONLY of a 3 KB item) is 1.
    assert index_write_units({}, {"all": entry("A", size=1500)}) == 2
    assert index_write_units({}, {"keys": entry("A", size=100)}) == 1
    # Moved: the old entry's size deleted, the new one's put.
    assert index_write_units({"all": entry("A", size=2100)}, {"all": entry("B", size=900)}) == 4


def test_each_index_counts_on_its_own() -> None:
    before = {"by_org": entry("O", "v1"), "queue": entry("Q1"), "due": entry("D")}
    after = {"by_org": entry("O", "v2"), "queue": entry("Q2"), "sla_watch": entry("S")}
    # by_org rewritten 1, queue moved 2, due removed 1, sla_watch added 1.
    assert index_write_units(before, after) == 5
