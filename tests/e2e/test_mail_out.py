"""Notifications over the local stack: committed with each change, sent through (moto's) SES."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.support import Api, act, create_ticket

pytestmark = pytest.mark.e2e


CLIENT_MAIL = "fabrice@acme.test"


def wait_for_mail(api: Api, number: int, count: int, timeout: float = 20.0) -> list[Any]:
    """The ticket's mails to the client (staff are told too, DESIGN.md §8)."""
    deadline = time.monotonic() + timeout
    while True:
        items = api.get("/_local/outbox").json()["items"]
        mine = [
            m
            for m in items
            if m["subject"].startswith(f"[#{number}] ") and m["to"] == CLIENT_MAIL
        ]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


def test_client_is_told_of_creation_take_answer_and_closure(
    api: Api, tokens: dict[str, str]
) -> None:
    client, l1 = tokens["CLIENT_ACME"], tokens["L1"]
    number = create_ticket(api, client, title="Accès à l'intranet")["number"]
    for token, action, body in (
        (l1, "take", None),
        (l1, "start", None),
        (l1, "send-answer", {"message": "Votre accès est rétabli."}),
        (client, "confirm", None),
    ):
        reply = act(api, token, number, action, body)
        assert reply.status == 200, reply.body
    mails = wait_for_mail(api, number, 4)
    assert [m["subject"].split("] ", 1)[1].split(" : ")[0] for m in mails] == [
        "Demande reçue",
        "Demande prise en charge",
        "Réponse à votre demande",
        "Demande fermée",
    ]
    assert {m["to"] for m in mails} == {CLIENT_MAIL}
    answer = mails[2]
    assert "Votre accès est rétabli." in answer["body"]
    assert answer["headers"]["Auto-Submitted"] == "auto-generated"
    assert answer["headers"]["Message-ID"].endswith("@helpdesk.localhost>")
    time.sleep(0.5)
    assert len(wait_for_mail(api, number, 5, timeout=0)) == 4  # nothing sent twice
