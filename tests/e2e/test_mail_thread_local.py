"""The local outbox (DESIGN.md §5) shows what §8 sends: threading headers, both parts, links
to this machine (APP_URL = http://127.0.0.1:<PORT>), the level's consultants told at once."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.support import Api, act, create_ticket

pytestmark = pytest.mark.e2e


def mails_of(api: Api, number: int, count: int, timeout: float = 20.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        items = api.get("/_local/outbox").json()["items"]
        mine = [m for m in items if m["subject"].startswith(f"[#{number}] ")]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


def test_the_outbox_lists_one_thread_with_both_parts_and_local_links(
    api: Api, tokens: dict[str, str]
) -> None:
    client, l1 = tokens["CLIENT_ACME"], tokens["L1"]
    number = create_ticket(api, client, title="Écran figé")["number"]
    for action, body in (("take", None), ("start", None), ("send-answer", {"message": "Fait."})):
        reply = act(api, l1, number, action, body)
        assert reply.status == 200, reply.body
    to_client = [m for m in mails_of(api, number, 4) if m["to"] == "fabrice@acme.test"]
    assert len(to_client) == 3
    ack, _taken, answer = to_client
    root = ack["message_id"]
    assert root.startswith(f"<ticket-{number}-") and root.endswith("@helpdesk.localhost>")
    assert (ack["in_reply_to"], ack["references"]) == ("", "")
    for mail in mails_of(api, number, 4):
        assert mail["html"], mail["subject"]  # every mail has its HTML part
        if mail is not ack and mail["message_id"] != root:
            assert (mail["in_reply_to"], mail["references"]) == (root, root), mail["subject"]
    assert answer["body"].count(f"{api.base_url}/app/l/") == 2
    assert answer["html"].count(f"{api.base_url}/app/l/") >= 2
    assert "{{" not in answer["body"] + answer["html"]
    # The ticket's level (1) heard of it in one mail to its active consultants.
    staff = [m for m in mails_of(api, number, 4) if m["to"] != "fabrice@acme.test"]
    assert staff and all(m["in_reply_to"] == root for m in staff)
