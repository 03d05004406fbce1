"""Action links, the pure part (DESIGN.md §8): the token's hash, and each state of a link."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.domain.links import (
    LinkState,
    link_expiry,
    link_state,
    settled_state,
    token_hash,
    well_formed,
)
from helpdesk.domain.model import ClosureReason, QuoteOutcome, Status, Ticket
from helpdesk.ports import LinkGrant
from tests.unit.builders import NOW, base_ticket, quote

ISSUED = NOW - timedelta(days=1)
EXPIRES = ISSUED + timedelta(days=30)  # DESIGN §8: a link expires after 30 days
ANSWERED = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def quote_grant(action: str = "approve-quote", version: int = 2, number: int = 88) -> LinkGrant:
    return LinkGrant(number, action, version, None, EXPIRES)


def answer_grant(action: str = "confirm", answered: datetime = ANSWERED) -> LinkGrant:
    return LinkGrant(88, action, None, answered, EXPIRES)


def awaiting(version: int = 2, outcome: QuoteOutcome = QuoteOutcome.PENDING) -> Ticket:
    quotes = tuple(
        quote(v, outcome=QuoteOutcome.REFUSED if v < version else outcome)
        for v in range(1, version + 1)
    )
    return base_ticket(
        "evolution", status=Status.AWAITING_QUOTE_APPROVAL, quotes=quotes, assignee="cons-l2"
    )


def answered(at: datetime = ANSWERED, status: Status = Status.ANSWER_SENT) -> Ticket:
    return base_ticket(
        status=status,
        answered_at=at,
        auto_close_at=at + timedelta(days=7),
        assignee="cons-l1",
    )


# ---------------------------------------------------------------- the token


def test_only_the_sha256_of_the_token_is_stored() -> None:
    # SHA-256("abc"), FIPS 180-2 appendix B.1.
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_token_is_43_base64url_characters() -> None:
    assert well_formed("A" * 43)
    assert well_formed("abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE")
    for bad in ("", "A" * 42, "A" * 44, "A" * 42 + "=", "A" * 42 + "/", "A" * 42 + "é", "../" * 15):
        assert not well_formed(bad), bad


def test_a_link_expires_30_days_after_its_issue() -> None:
    assert link_expiry(ISSUED) == datetime(2026, 12, 26, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------- states


@pytest.mark.parametrize("action", ["approve-quote", "refuse-quote"])
def test_quote_link_valid_while_its_version_is_pending(action: str) -> None:
    assert link_state(quote_grant(action), False, awaiting(2), NOW) is LinkState.VALID


@pytest.mark.parametrize("action", ["confirm", "reopen"])
def test_answer_link_valid_while_its_answer_awaits(action: str) -> None:
    assert link_state(answer_grant(action), False, answered(), NOW) is LinkState.VALID


def test_used_link_is_used_whatever_the_ticket() -> None:
    assert link_state(quote_grant(), True, awaiting(2), NOW) is LinkState.USED
    # used wins over expired and superseded: it says what happened to this link
    assert link_state(quote_grant(), True, answered(), EXPIRES + timedelta(days=1)) is (
        LinkState.USED
    )
    assert settled_state(quote_grant(), True, NOW) is LinkState.USED


def test_link_expires_at_its_expiry_instant() -> None:
    grant = quote_grant()
    assert link_state(grant, False, awaiting(2), EXPIRES - timedelta(seconds=1)) is LinkState.VALID
    assert link_state(grant, False, awaiting(2), EXPIRES) is LinkState.EXPIRED
    # expired wins over superseded
    assert link_state(grant, False, answered(), EXPIRES + timedelta(days=3)) is LinkState.EXPIRED
    assert settled_state(grant, False, EXPIRES) is LinkState.EXPIRED
    assert settled_state(grant, False, NOW) is None  # the ticket decides


def test_quote_link_superseded_by_a_new_quote_version() -> None:
    assert link_state(quote_grant(version=1), False, awaiting(2), NOW) is LinkState.SUPERSEDED


@pytest.mark.parametrize(
    "outcome", [QuoteOutcome.APPROVED, QuoteOutcome.REFUSED, QuoteOutcome.WITHDRAWN]
)
def test_quote_link_superseded_once_the_quote_is_decided(outcome: QuoteOutcome) -> None:
    ticket = awaiting(2, outcome)
    status = Status.IN_REALISATION if outcome is QuoteOutcome.APPROVED else Status.IN_PROGRESS
    moved = replace(ticket, status=status)
    assert link_state(quote_grant(), False, moved, NOW) is LinkState.SUPERSEDED


def test_quote_link_superseded_when_the_quote_is_not_pending_even_if_awaiting() -> None:
    # damaged data, or a decision recorded before the status: never valid
    assert link_state(quote_grant(), False, awaiting(2, QuoteOutcome.APPROVED), NOW) is (
        LinkState.SUPERSEDED
    )


def test_answer_link_superseded_by_another_answer() -> None:
    later = answered(ANSWERED + timedelta(days=2))
    assert link_state(answer_grant(), False, later, NOW) is LinkState.SUPERSEDED


def test_answer_link_keeps_the_same_answer_to_the_second() -> None:
    # answered_at is stored to the second: the same answer read back is the same answer
    grant = answer_grant(answered=ANSWERED + timedelta(microseconds=400_000))
    assert link_state(grant, False, answered(), NOW) is LinkState.VALID


@pytest.mark.parametrize(
    ("status", "closure"),
    [(Status.CLOSED, ClosureReason.AUTO_CLOSED), (Status.IN_PROGRESS, None)],
)
def test_answer_link_superseded_when_the_ticket_moved_on(
    status: Status, closure: ClosureReason | None
) -> None:
    ticket = base_ticket(status=status, answered_at=ANSWERED, closure_reason=closure)
    assert link_state(answer_grant("reopen"), False, ticket, NOW) is LinkState.SUPERSEDED


def test_link_of_another_ticket_is_never_valid_on_this_one() -> None:
    grant = quote_grant(number=87)  # the grant names its ticket
    assert link_state(grant, False, awaiting(2), NOW) is LinkState.SUPERSEDED


def test_quote_link_on_an_answer_and_answer_link_on_a_quote() -> None:
    assert link_state(quote_grant(), False, answered(), NOW) is LinkState.SUPERSEDED
    assert link_state(answer_grant(), False, awaiting(2), NOW) is LinkState.SUPERSEDED


def test_an_action_no_link_offers_is_never_valid() -> None:
    grant = LinkGrant(88, "cancel", None, None, EXPIRES)
    assert link_state(grant, False, base_ticket(), NOW) is LinkState.SUPERSEDED
