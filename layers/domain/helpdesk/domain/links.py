"""Action links (DESIGN.md §8): what a link in a mail lets the requester decide, and whether it
still may.

A link carries a random token (at least 128 bits); only the token's SHA-256 is stored, with the
grant: the ticket, the action, and where the mail left the ticket (the quote version shown, or
the answer shown, by its `answered_at`). A link works once, for 30 days, and only while the
ticket is still where the mail left it. Pure: no AWS, no clock of its own.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from helpdesk.domain.calendar import ensure_utc, iso
from helpdesk.domain.errors import DomainError
from helpdesk.domain.model import QuoteOutcome, Status, Ticket
from helpdesk.domain.workflow import Action

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 256 random bits, 43 base64url characters
TOKEN_LENGTH = 43
LINK_VALIDITY = timedelta(days=30)

# The decisions a mail offers, by what they depend on.
QUOTE_ACTIONS = frozenset({Action.APPROVE_QUOTE.value, Action.REFUSE_QUOTE.value})
ANSWER_ACTIONS = frozenset({Action.CONFIRM.value, Action.REOPEN.value})
LINK_ACTIONS = QUOTE_ACTIONS | ANSWER_ACTIONS

_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


class LinkState(StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class Grant(Protocol):
    """What a link lets do (helpdesk.ports.LinkGrant has these fields)."""

    @property
    def ticket_number(self) -> int: ...

    @property
    def action(self) -> str: ...

    @property
    def quote_version(self) -> int | None: ...

    @property
    def answered_at(self) -> datetime | None: ...

    @property
    def expires_at(self) -> datetime: ...


class LinkGone(DomainError):
    """The link exists but no longer acts (410, with its `state`)."""

    title = "Gone"

    def __init__(self, state: LinkState) -> None:
        super().__init__(GONE_DETAILS[state])
        self.state = state


GONE_DETAILS = {
    LinkState.USED: "This link was already used.",
    LinkState.EXPIRED: "This link has expired.",
    LinkState.SUPERSEDED: "The ticket has moved on since this link was sent.",
    LinkState.VALID: "This link is valid.",
}


def token_hash(token: str) -> str:
    """The SHA-256 (lower-case hex) of the token: the only form ever stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def well_formed(token: str) -> bool:
    """A token as `secrets.token_urlsafe(TOKEN_BYTES)` makes them; anything else is unknown
    without a read."""
    return _TOKEN.fullmatch(token) is not None


def link_expiry(issued_at: datetime) -> datetime:
    """When a link issued at this instant stops working."""
    return ensure_utc(issued_at) + LINK_VALIDITY


def expired(grant: Grant, now: datetime) -> bool:
    return ensure_utc(now) >= ensure_utc(grant.expires_at)


def where_left(grant: Grant, ticket: Ticket) -> bool:
    """The ticket is still where the mail left it: the same pending quote version (approve,
    refuse), or the same answer awaiting the client (confirm, reopen)."""
    if ticket.number != grant.ticket_number:
        return False
    if grant.action in QUOTE_ACTIONS:
        quote = ticket.quote
        return (
            ticket.status is Status.AWAITING_QUOTE_APPROVAL
            and quote is not None
            and quote.outcome is QuoteOutcome.PENDING
            and grant.quote_version is not None
            and quote.version == grant.quote_version
        )
    if grant.action in ANSWER_ACTIONS:
        # Instants are stored to the second (calendar.iso): compared as stored.
        return (
            ticket.status is Status.ANSWER_SENT
            and ticket.answered_at is not None
            and grant.answered_at is not None
            and iso(ticket.answered_at) == iso(grant.answered_at)
        )
    return False  # not a decision a link offers


def settled_state(grant: Grant, used: bool, now: datetime) -> LinkState | None:
    """USED or EXPIRED when the link alone decides (no ticket read); None: the ticket decides."""
    if used:
        return LinkState.USED
    if expired(grant, now):
        return LinkState.EXPIRED
    return None


def link_state(grant: Grant, used: bool, ticket: Ticket, now: datetime) -> LinkState:
    """The link's state: used first, then expired, then superseded (the ticket moved on)."""
    settled = settled_state(grant, used, now)
    if settled is not None:
        return settled
    return LinkState.VALID if where_left(grant, ticket) else LinkState.SUPERSEDED
