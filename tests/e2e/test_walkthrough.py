"""The README walk-through, over real HTTP against `python -m infra.localstack`."""

from __future__ import annotations

import pytest

from tests.e2e.support import Api, StackProcess, act, create_ticket

pytestmark = pytest.mark.e2e


def test_start_prints_shell_ready_exports(stack: StackProcess) -> None:
    exports = stack.exported()
    assert exports["HELPDESK_URL"] == stack.base_url
    for name in (
        "CLIENT_ACME",
        "CLIENT_GLOBEX",
        "L1",
        "L1B",
        "L2",
        "L2B",
        "L3",
        "MANAGER",
        "FINANCE",
    ):
        assert exports[f"TOKEN_{name}"].count(".") == 2


def test_health(api: Api) -> None:
    reply = api.get("/_local/health")
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}


def test_assistance_ticket_from_creation_to_confirmation(api: Api, tokens: dict[str, str]) -> None:
    client, l1 = tokens["CLIENT_ACME"], tokens["L1"]
    created = create_ticket(api, client, title="Création de l'utilisateur Fabrice")
    number = created["number"]
    assert (created["status"], created["org_id"], created["requester"]) == (
        "open",
        "acme",
        "fabrice",
    )

    taken = act(api, l1, number, "take", {"assignee": "lea", "priority": "high"})
    assert taken.status == 200, taken.body
    assert (taken.json()["status"], taken.json()["assignee"]) == ("taken", "lea")
    # "My tickets" (what Léa holds and is not closed) and a search by the start of title words.
    mine = api.get("/tickets?assignee=me&status=active", l1).json()["items"]
    assert number in [t["number"] for t in mine]
    assert all(t["assignee"] == "lea" and t["status"] != "closed" for t in mine)
    found = api.get("/tickets?q=creat%20util", l1).json()["items"]
    assert number in [t["number"] for t in found]
    assert api.get("/tickets?q=util&sort=oldest", l1).status == 422
    started = act(api, l1, number, "start", headers={"If-Match": taken.headers["etag"]})
    assert started.status == 200, started.body
    assert started.json()["status_label"] == "En Cours"

    logged = api.post(f"/tickets/{number}/time-entries", l1, {"minutes": 45, "comment": "done"})
    assert logged.status == 201, logged.body
    answered = act(api, l1, number, "send-answer", {"message": "Le compte est créé."})
    assert answered.status == 200, answered.body
    assert answered.json()["auto_close_at"] is not None

    closed = act(api, client, number, "confirm")
    assert closed.status == 200, closed.body
    ticket = closed.json()
    assert (ticket["status"], ticket["closure_reason"]) == ("closed", "confirmed")
    assert ticket["time_spent_minutes"] == 45

    history = api.get(f"/tickets/{number}/history", client).json()["items"]
    assert [e["action"] for e in history] == [
        "create",
        "take",
        "start",
        "send-answer",
        "confirm",
    ]
    tasks = api.get(f"/tickets/{number}/tasks", l1).json()["items"]
    assert len(tasks) == 1 and tasks[0]["minutes"] == 45
    assert tasks[0]["title"].startswith(f"#{number} - Création de l'utilisateur Fabrice - ")
