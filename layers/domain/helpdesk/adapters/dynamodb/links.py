"""Action links in the table (DESIGN.md §8): one item per link, keyed by its token's SHA-256.

| item | pk | sk | attributes |
|---|---|---|---|
| action link | `LINK#<sha256 of the token>` | `LINK` | `entity` `link`, `ticket_number`, `action`, `quote_version`, `answered_at`, `valid_until`, `issued_at`, `used_at` (set once, by the use), TTL `expires_at` |

The token itself is never stored: a request presents it, its SHA-256 is the key, one GetItem
answers (a guess costs one read, never a scan). `valid_until` is when the link stops working
(410 `expired` from then); the item itself goes with the table's TTL (`expires_at`, epoch
seconds) KEPT_AFTER_EXPIRY later, and an unknown token is 404.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import Item, Operation, Table
from helpdesk.domain.calendar import ensure_utc, iso, parse_instant
from helpdesk.domain.links import TOKEN_BYTES
from helpdesk.domain.links import token_hash as hash_of
from helpdesk.ports import LinkGrant, StoredLink

if TYPE_CHECKING:  # built by the link's use only
    from helpdesk.changes import LinkUsed

ENTITY = "link"
# An expired link answers 410 `expired` this long before its item goes (then 404).
KEPT_AFTER_EXPIRY = timedelta(days=30)


def _now() -> datetime:
    return datetime.now(UTC)


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _opt_iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def _opt_instant(value: Any) -> datetime | None:
    return parse_instant(str(value)) if value else None


def link_to_item(digest: str, grant: LinkGrant, issued_at: datetime) -> Item:
    item: Item = {
        **keys.link_key(digest),
        "entity": ENTITY,
        "ticket_number": grant.ticket_number,
        "action": grant.action,
        "valid_until": iso(grant.expires_at),
        "issued_at": iso(issued_at),
        "expires_at": int((ensure_utc(grant.expires_at) + KEPT_AFTER_EXPIRY).timestamp()),
    }
    if grant.quote_version is not None:
        item["quote_version"] = grant.quote_version
    if grant.answered_at is not None:
        item["answered_at"] = iso(grant.answered_at)
    return item


def link_from_item(item: Item) -> StoredLink:
    version = item.get("quote_version")
    grant = LinkGrant(
        ticket_number=int(item["ticket_number"]),
        action=str(item["action"]),
        quote_version=int(version) if version is not None else None,
        answered_at=_opt_instant(item.get("answered_at")),
        expires_at=parse_instant(str(item["valid_until"])),
    )
    digest = str(item["pk"]).removeprefix("LINK#")
    return StoredLink(
        token_hash=digest,
        grant=grant,
        issued_at=_opt_instant(item.get("issued_at")),
        used_at=_opt_instant(item.get("used_at")),
    )


def link_used_operation(table: Table, change: LinkUsed) -> Operation:
    """`used_at`, on condition that the link exists and was not used: of two uses, one wins."""
    return table.update(
        keys.link_key(change.token_hash),
        "SET used_at = :at",
        condition="attribute_exists(pk) AND attribute_not_exists(used_at)",
        values={":at": iso(change.at)},
    )


class DynamoActionLinks:
    """ActionLinks (issue) and LinkRepository (get) over the table."""

    def __init__(
        self,
        table: Table,
        clock: Callable[[], datetime] = _now,
        new_token: Callable[[], str] = _new_token,
    ) -> None:
        self.table = table
        self.clock = clock
        self.new_token = new_token

    def issue(self, grant: LinkGrant) -> str:
        """A new token for this grant: its SHA-256 stored (on condition that no link has it:
        a collision of 256 random bits is an error, not an overwrite), the token returned."""
        token = self.new_token()
        item = link_to_item(hash_of(token), grant, self.clock())
        self.table.write(self.table.put_new(item))
        return token

    def get(self, token_hash: str) -> StoredLink | None:
        item = self.table.get(keys.link_key(token_hash))
        return link_from_item(item) if item is not None else None
