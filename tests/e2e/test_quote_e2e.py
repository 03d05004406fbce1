"""An evolution over HTTP on the local stack, from open to closed, through the quote-approval
state machine that moto runs from the committed definition: one quote refused, one approved."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.support import Api, act, create_ticket

pytestmark = pytest.mark.e2e


def execution(api: Api, name: str) -> dict[str, Any] | None:
    items = api.get("/_local/executions").json()["items"]
    return next((e for e in items if e["name"] == name), None)


def wait_execution(
    api: Api, name: str, done: Any, timeout: float = 20.0
) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while True:
        found = execution(api, name)
        if (found is not None and done(found)) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def wait_mail(
    api: Api, number: int, subject: str, count: int = 1, timeout: float = 20.0
) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        items = api.get("/_local/outbox").json()["items"]
        mine = [m for m in items if m["subject"].startswith(f"[#{number}] {subject} : ")]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.1)


def waiting(found: dict[str, Any]) -> bool:
    return bool(found["waiting_for_callback"])


def ended(found: dict[str, Any]) -> bool:
    return bool(found["status"] != "RUNNING")


def test_evolution_with_a_refused_then_an_approved_quote(
    api: Api, tokens: dict[str, str]
) -> None:
    client, l2 = tokens["CLIENT_ACME"], tokens["L2"]
    number = create_ticket(api, client, "evolution", title="Export comptable mensuel")["number"]
    for action in ("take", "start"):
        reply = act(api, l2, number, action)
        assert reply.status == 200, reply.body

    # Version 1: submitted, the execution stores its token, the client refuses.
    reply = act(api, l2, number, "submit-quote", {"amount": "4800.00", "days": "6"})
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "awaiting_quote_approval"
    first = f"ticket-{number}-quote-1"
    assert (wait_execution(api, first, waiting) or {}).get("waiting_for_callback"), first
    reply = act(api, client, number, "refuse-quote", {"reason": "Au-delà du budget"})
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "in_progress"
    assert wait_execution(api, first, ended) == {
        "name": first,
        "status": "SUCCEEDED",
        "state": "Refused",
        "waiting_for_callback": False,
    }
    # The client and the assignee are both told, with the reason (DESIGN.md §8).
    refusal = wait_mail(api, number, "Chiffrage refusé", count=2)
    assert sorted(m["to"] for m in refusal) == ["fabrice@acme.test", "marie@helpdesk.test"]
    assert all("Au-delà du budget" in m["body"] for m in refusal)

    # Version 2: approved; the execution resumes and ends Approved.
    reply = act(api, l2, number, "submit-quote", {"amount": "3900.00", "days": "5"})
    assert reply.status == 200, reply.body
    second = f"ticket-{number}-quote-2"
    assert (wait_execution(api, second, waiting) or {}).get("waiting_for_callback"), second
    reply = act(api, client, number, "approve-quote")
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "in_realisation"
    duplicate = act(api, client, number, "approve-quote")
    assert duplicate.status == 409, duplicate.body  # a second decision changes nothing
    assert wait_execution(api, second, ended) == {
        "name": second,
        "status": "SUCCEEDED",
        "state": "Approved",
        "waiting_for_callback": False,
    }
    assert sorted(m["to"] for m in wait_mail(api, number, "Chiffrage accepté", count=2)) == [
        "fabrice@acme.test",
        "marie@helpdesk.test",
    ]

    # Realisation, answer, confirmation: closed, billed on the approved quote.
    reply = act(api, l2, number, "send-answer", {"message": "L'export est en production."})
    assert reply.status == 200, reply.body
    reply = act(api, client, number, "confirm")
    assert reply.status == 200, reply.body
    closed = reply.json()
    assert (closed["status"], closed["closure_reason"]) == ("closed", "confirmed")
    assert closed["quote"]["version"] == 2
    assert (closed["quote"]["amount"], closed["quote"]["outcome"]) == ("3900.00", "approved")

    quotes = api.get(f"/tickets/{number}/quotes", client).json()["items"]
    assert [(q["version"], q["amount"], q["outcome"], q["reason"]) for q in quotes] == [
        (1, "4800.00", "refused", "Au-delà du budget"),
        (2, "3900.00", "approved", None),
    ]
    history = api.get(f"/tickets/{number}/history", client).json()["items"]
    assert [h["action"] for h in history] == [
        "create",
        "take",
        "start",
        "submit-quote",
        "refuse-quote",
        "submit-quote",
        "approve-quote",
        "send-answer",
        "confirm",
    ]
    mine = [e for e in api.get("/_local/executions").json()["items"] if f"ticket-{number}-" in e["name"]]
    assert [e["name"] for e in mine] == [first, second]  # one execution per quote version
