"""Replays: each asynchronous entry point (mail ingestion, each schedule, each Step Functions
task, the notifier's stream batches) gets the same event three times; the table, the buckets,
SES's sent mail and Step Functions are the same after the third delivery as after the first.

The scenarios and the snapshot live in tests/reliability/replays.py (`make reliability` reports
the same figures).
"""

from __future__ import annotations

import json
from email import message_from_string, policy

import pytest

from helpdesk.domain.notifications import NotificationKind
from tests.reliability.replays import DELIVERIES, ENTRY_POINTS, measure, replay, snapshot, world


@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
def test_three_deliveries_leave_the_state_of_one(entry_point: str) -> None:
    result = replay(entry_point)
    assert result.deliveries == DELIVERIES
    assert result.first_changes > 0  # the first delivery did its work...
    assert result.differences == []  # ...and the replays added nothing


def test_the_report_has_a_line_per_entry_point() -> None:
    figures = measure(None, names=("stream workflow start",))
    per_entry_point = [f for f in figures if f.what.startswith("differences after")]
    assert [f.what.rsplit(": ", 1)[1] for f in per_entry_point] == ["stream workflow start"]
    assert all(f.ok for f in figures)
    assert [f.value for f in per_entry_point] == [0]


def test_the_mail_replay_sends_one_mail_of_every_kind_with_links_and_to_a_level() -> None:
    """The entry point "stream mail send (every kind)" replays what it claims: a mail of every
    NotificationKind, one with two action links, one to every active consultant of a level."""
    with world() as w:
        deliver = ENTRY_POINTS["stream mail send (every kind)"](w)
        deliver()
        sent = snapshot(w)["ses"]
        items = [json.loads(line) for line in snapshot(w)["table"]]
    assert len(sent) == len(NotificationKind) + 2
    kinds = {
        i["kind"]["S"]
        for i in items
        if i.get("entity", {}).get("S") == "outbox" and i["delivery"]["S"] == "sent"
    }
    assert {k.value for k in NotificationKind} | {"created_staff"} <= kinds
    links = [i for i in items if i.get("entity", {}).get("S") == "link"]
    assert sorted(i["action"]["S"] for i in links) == ["approve-quote", "refuse-quote"]
    mails = [message_from_string(raw, policy=policy.default) for raw in sent]
    [linked] = [m for m in mails if str(m["Subject"]).endswith("Chiffrage à valider : Écran figé")]
    text = linked.get_body(preferencelist=("plain",))
    assert text is not None
    assert text.get_content().count("http://127.0.0.1:3000/app/l/") == 2
    assert "{{" not in text.get_content()
    [to_level] = [m for m in mails if "Nouvelle demande" in str(m["Subject"])]
    assert to_level["To"] == "l2@consult.example"
