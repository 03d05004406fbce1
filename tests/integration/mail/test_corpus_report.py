"""The hostile mail corpus of `make reliability`, asserted: no crash, nothing lost."""

from __future__ import annotations

from tests.reliability.mail_corpus import (
    ACCEPTED,
    BOUNCE_RECORDED,
    QUARANTINED,
    hostile_corpus,
    ingest_all,
)


def test_no_hostile_message_crashes_the_function_or_is_lost() -> None:
    messages = hostile_corpus(random_messages=10)
    run = ingest_all(messages)
    assert run.crashes == []
    assert run.lost == []
    assert run.sent == sum(run.outcomes.values()) == len(messages)
    # Both ends are reached: readable mail becomes tickets, the unusable is quarantined.
    assert sum(run.outcomes[o] for o in ACCEPTED) > 0
    assert run.outcomes[QUARANTINED] > 0
    # Broken but readable mail of known senders (the salvage_*.eml files) is accepted.
    assert run.salvaged >= 15
    # The delivery reports about our own mail (bounce_ours*.eml) are recorded on its ticket.
    assert run.outcomes[BOUNCE_RECORDED] == 2
