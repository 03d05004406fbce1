"""`GET /tickets` on the single table: the index that holds the fewest candidates, read in
the order asked when the index keeps it, sorted in memory otherwise (docs/data-model.md,
"Finding tickets").

| the query has | source | order kept by the index |
|---|---|---|
| `q` words | `words` / `org_words`: the items of the words searched | none (sorted in memory) |
| `q` = a number | that ticket | - |
| `assignee`, active statuses | `by_assignee` `ASSIGNEE#<id>` | `updated` |
| `assignee`, closed ones too | `by_assignee` `ASSIGNEE#<id>` and `ASSIGNEE#<id>#closed` | none |
| `assignee=none`, active statuses | `by_assignee` `ASSIGNEE#-#<level>` (each level, or the one asked) | `updated` for one level |
| active statuses only | `queue` (per level) | none |
| an organisation | `org_updated` / `by_org` | `updated` / `number`, `created` |
| nothing selective | `all_updated` / `all_tickets` | `updated` / `number`, `created` |

Whatever the source, `TicketQuery.matches` filters and `Sort` orders, so a ticket is listed
the same way from any of them. Reads grow with the candidates of the source, never with the
table.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from helpdesk.adapters.dynamodb import items as it
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import INDEX_KEYS, Item, Table, marshal, unmarshal
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.listing import SortKey, TicketQuery
from helpdesk.domain.model import Ticket
from helpdesk.domain.search import SearchQuery
from helpdesk.ports import Page

LEVELS = (1, 2, 3)
MAX_SORTED = 5000  # candidates sorted in memory at most; past that, narrow the query
CHUNK = 100  # items read per request in ordered listing (filters may drop some)


def _bad_cursor() -> InvalidInput:
    return InvalidInput("cursor", "'cursor' is not a cursor this API gave for this list.")


def _encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(data, dict):
        raise _bad_cursor()
    return data


@dataclass(frozen=True)
class Source:
    """Where a listing reads: an index, its partitions, the order it gives."""

    index: str
    partitions: tuple[str, ...]
    ordered_by: SortKey | None = None  # the order the index keeps (newest last), if any


class TicketFinder:
    def __init__(self, table: Table) -> None:
        self.table = table

    def find(self, query: TicketQuery, cursor: str | None, limit: int) -> Page[Ticket]:
        if query.search is not None and query.search.number is not None:
            return self._one(query, query.search.number)
        if query.search is not None:
            return self._sorted(self._searched(query, query.search), query, cursor, limit)
        source = self._source(query)
        native = source.ordered_by is not None and len(source.partitions) == 1
        if native and source.ordered_by is _native(query.sort.key):
            return self._ordered(source, query, cursor, limit)
        candidates = (
            it.ticket_from_item(item)
            for partition in source.partitions
            for item in self._partition(source.index, partition)
        )
        return self._sorted(candidates, query, cursor, limit)

    # ---------- choosing the source ----------

    @staticmethod
    def _source(query: TicketQuery) -> Source:
        if query.assignee is not None:
            active = keys.assignee_pk(query.assignee)
            if query.active_only:
                return Source("by_assignee", (active,), SortKey.UPDATED)
            closed = keys.assignee_pk(query.assignee, closed=True)
            return Source("by_assignee", (active, closed))
        if query.unassigned and query.active_only:
            if query.level is not None:
                return Source("by_assignee", (keys.unassigned_pk(query.level),), SortKey.UPDATED)
            return Source("by_assignee", tuple(keys.unassigned_pk(lv) for lv in LEVELS))
        if query.active_only:
            levels = (query.level,) if query.level is not None else LEVELS
            return Source("queue", tuple(keys.queue_pk(level) for level in levels))
        if query.org_id is not None:
            partition = (keys.org_index_pk(query.org_id),)
            if _native(query.sort.key) is SortKey.UPDATED:
                return Source("org_updated", partition, SortKey.UPDATED)
            return Source("by_org", partition, SortKey.NUMBER)
        if _native(query.sort.key) is SortKey.UPDATED:
            return Source("all_updated", (keys.ALL_TICKETS_PK,), SortKey.UPDATED)
        return Source("all_tickets", (keys.ALL_TICKETS_PK,), SortKey.NUMBER)

    # ---------- reading ----------

    def _partition(self, index: str, partition: str) -> Iterator[Item]:
        hash_key = INDEX_KEYS[index][0]
        return self.table.query(
            IndexName=index,
            KeyConditionExpression=f"{hash_key} = :p",
            ExpressionAttributeValues=marshal({":p": partition}),
        )

    def _one(self, query: TicketQuery, number: int) -> Page[Ticket]:
        item = self.table.get(keys.ticket_key(number))
        ticket = it.ticket_from_item(item) if item else None
        return Page([ticket] if ticket is not None and query.matches(ticket) else [], None)

    def _searched(self, query: TicketQuery, search: SearchQuery) -> Iterator[Ticket]:
        """The tickets having a title word that starts with each word searched."""
        index = "words" if query.org_id is None else "org_words"
        hash_key, range_key = INDEX_KEYS[index]
        numbers: set[int] | None = None
        for word in search.index_words:
            found: set[int] = set()
            for read, item in enumerate(
                self.table.query(
                    IndexName=index,
                    KeyConditionExpression=f"{hash_key} = :p AND begins_with({range_key}, :w)",
                    ExpressionAttributeValues=marshal(
                        {":p": keys.word_index_pk(word, query.org_id), ":w": word}
                    ),
                )
            ):
                if read == MAX_SORTED:
                    raise InvalidInput(
                        "q",
                        f"More than {MAX_SORTED} tickets have a word starting with '{word}': "
                        "add letters or words.",
                    )
                found.add(int(str(item["pk"]).split("#", 1)[1]))
            numbers = found if numbers is None else numbers & found
            if not numbers:
                return
        ordered = sorted(numbers or ())
        for start in range(0, len(ordered), 100):
            batch = [keys.ticket_key(n) for n in ordered[start : start + 100]]
            for item in self.table.batch_get(batch).values():
                yield it.ticket_from_item(item)

    # ---------- paging ----------

    def _sorted(
        self, candidates: Iterator[Ticket], query: TicketQuery, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        """Every candidate read, filtered and sorted here; the cursor is the last one's place."""
        after: list[Any] | None = None
        if cursor:
            data = _decode(cursor)
            if data.get("m") != "sorted" or not isinstance(data.get("after"), list):
                raise _bad_cursor()
            after = data["after"]
        matching: list[Ticket] = []
        for ticket in candidates:
            if query.matches(ticket):
                matching.append(ticket)
                if len(matching) > MAX_SORTED:
                    raise InvalidInput(
                        "sort",
                        f"More than {MAX_SORTED} tickets match: narrow the list (status=active, "
                        "created_from, assignee...) or sort by 'updated'.",
                    )
        ordered = query.sort.order(matching)
        if after is not None:
            place = tuple(after)
            ordered = [t for t in ordered if list(query.sort.value(t)) > list(place)]
        page = ordered[:limit]
        more = len(ordered) > limit
        next_cursor = (
            _encode({"m": "sorted", "after": list(query.sort.value(page[-1]))})
            if more and page
            else None
        )
        return Page(page, next_cursor)

    def _ordered(
        self, source: Source, query: TicketQuery, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        """Read in the index's order, filtering, until the page fills."""
        (partition,) = source.partitions
        hash_key, range_key = INDEX_KEYS[source.index]
        start: dict[str, Any] | None = None
        if cursor:
            data = _decode(cursor)
            key = data.get("key")
            if (
                data.get("m") != "index"
                or data.get("index") != source.index
                or not isinstance(key, dict)
                or set(key) != {"pk", "sk", hash_key, range_key}
                or key.get(hash_key) != partition
                or not all(isinstance(v, str) for v in key.values())
            ):
                raise _bad_cursor()
            start = marshal(key)
        newest_first = not query.sort.reverse
        page: list[Ticket] = []
        kwargs: dict[str, Any] = {
            "IndexName": source.index,
            "KeyConditionExpression": f"{hash_key} = :p",
            "ExpressionAttributeValues": marshal({":p": partition}),
            "ScanIndexForward": not newest_first,
            # A page without filters reads what it lists; the filters may ask for more rounds.
            "Limit": min(limit, CHUNK),
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        for reply in self.table.query_raw(**kwargs):
            for raw in reply.get("Items", []):
                item = unmarshal(raw)
                ticket = it.ticket_from_item(item)
                if not query.matches(ticket):
                    continue
                page.append(ticket)
                if len(page) == limit:
                    key = {name: item[name] for name in ("pk", "sk", hash_key, range_key)}
                    more = _encode({"m": "index", "index": source.index, "key": key})
                    return Page(page, more)
        return Page(page, None)


def _native(key: SortKey) -> SortKey | None:
    """The index order that serves a sort: `created` follows the ticket numbers."""
    if key is SortKey.UPDATED:
        return SortKey.UPDATED
    if key in (SortKey.NUMBER, SortKey.CREATED):
        return SortKey.NUMBER
    return None
