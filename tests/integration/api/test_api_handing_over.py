"""DESIGN.md §2 and §7 over HTTP: handing over (`assign`), the roster (`active`, `role`, read by
consultants), `GET /orgs`, staff `cancel` with a reason, abandoning a never-quoted evolution.

Expected values are typed from DESIGN.md; the seeded roster (tests/conftest.py) is cons-l1,
cons-l1b (level 1), cons-l2, cons-l2b (level 2), cons-l3 (level 3).
"""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api
from tests.integration.api.events import Reply

ASSISTANCE = {"title": "Imprimante", "description": "Bloquée", "type": "assistance"}
INCIDENT = {"title": "Erreur 500", "description": "Sur la facturation", "type": "incident"}
EVOLUTION = {"title": "Export comptable", "description": "Mensuel", "type": "evolution"}


def create(api: Api, body: dict[str, Any]) -> int:
    reply = api.post("/tickets", "client", body=body)
    assert reply.status == 201, reply
    number: int = reply.body["number"]
    return number


def ok(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, reply
    body: dict[str, Any] = reply.body
    return body


def assert_invalid(reply: Reply, field: str) -> None:
    assert reply.status == 422, reply
    assert reply.content_type == "application/problem+json"
    assert reply.body["field"] == field, reply


def put_consultant(api: Api, consultant_id: str, **body: Any) -> Reply:
    return api.put(f"/consultants/{consultant_id}", "manager", body=body)


def last_event(api: Api, number: int) -> dict[str, Any]:
    items: list[dict[str, Any]] = ok(api.get(f"/tickets/{number}/history", "manager"))["items"]
    return items[-1]


# ------------------------------------------------------------------ assign


def test_a_consultant_of_the_level_takes_a_queue_ticket_for_themself_only(api: Api) -> None:
    ok(put_consultant(api, "cons-l3b", name="Zoé", email="l3b@consult.example", level=3))
    number = create(api, INCIDENT)
    ok(api.act(number, "take", "l2"))
    queued = ok(api.act(number, "escalate", "l2", {"reason": "accès base"}))
    assert (queued["support_level"], queued["assignee"]) == (3, None)
    assert "assign" in ok(api.get(f"/tickets/{number}", "l3"))["allowed_actions"]

    # Somebody else: a manager's job.
    assert_invalid(api.act(number, "assign", "l3", {"assignee": "cons-l3b"}), "assignee")
    # The level below no longer acts on it.
    assert api.act(number, "assign", "l2", {"assignee": "cons-l2"}).status == 409

    mine = ok(api.act(number, "assign", "l3", {"assignee": "cons-l3"}))
    assert (mine["assignee"], mine["status"], mine["support_level"]) == ("cons-l3", "taken", 3)
    assert mine["version"] == queued["version"] + 1
    event = last_event(api, number)
    assert (event["action"], event["actor"]) == ("assign", "cons-l3")
    assert (event["from_status"], event["to_status"]) == ("taken", "taken")


def test_the_holder_hands_over_to_another_consultant_of_the_level(api: Api) -> None:
    number = create(api, ASSISTANCE)
    ok(api.act(number, "take", "l1"))
    # Another consultant of the level does not take a held ticket.
    assert api.act(number, "assign", "l1b", {"assignee": "cons-l1b"}).status == 409

    handed = ok(api.act(number, "assign", "l1", {"assignee": "cons-l1b"}))
    assert (handed["assignee"], handed["status"]) == ("cons-l1b", "taken")
    assert "assign" not in handed["allowed_actions"]  # the caller's (cons-l1) view
    refused = api.act(number, "assign", "l1", {"assignee": "cons-l1"})
    assert refused.status == 409 and "assign" not in refused.body["allowed_actions"]
    assert "start" in ok(api.get(f"/tickets/{number}", "l1b"))["allowed_actions"]
    details = last_event(api, number)["details"]
    assert (details["from"], details["assignee"]) == ("cons-l1", "cons-l1b")


def test_a_manager_assigns_anyone_of_the_level(api: Api) -> None:
    number = create(api, ASSISTANCE)
    ok(api.act(number, "take", "l1"))
    ok(api.act(number, "start", "l1"))
    after = ok(api.act(number, "assign", "manager", {"assignee": "cons-l1b"}))
    assert (after["assignee"], after["status"]) == ("cons-l1b", "in_progress")
    assert ok(api.act(number, "assign", "manager", {"assignee": "cons-l1"}))["assignee"] == (
        "cons-l1"
    )


def test_assign_needs_an_assignee_of_the_tickets_level(api: Api) -> None:
    number = create(api, ASSISTANCE)
    ok(api.act(number, "take", "l1"))
    before = ok(api.get(f"/tickets/{number}", "manager"))
    assert_invalid(api.act(number, "assign", "manager", {}), "assignee")
    assert_invalid(api.act(number, "assign", "manager", {"assignee": "cons-l2"}), "assignee")
    assert_invalid(api.act(number, "assign", "manager", {"assignee": "nobody"}), "assignee")
    assert_invalid(api.act(number, "assign", "manager", {"assignee": "manager-2"}), "assignee")
    assert_invalid(api.act(number, "assign", "l1", {"assignee": "cons-l2"}), "assignee")
    assert ok(api.get(f"/tickets/{number}", "manager"))["version"] == before["version"]


def test_a_roster_manager_is_never_assignable(api: Api) -> None:
    ok(put_consultant(api, "manager-2", name="Chef", email="chef@consult.example", role="manager"))
    number = create(api, ASSISTANCE)
    ok(api.act(number, "take", "l1"))
    assert_invalid(api.act(number, "assign", "manager", {"assignee": "manager-2"}), "assignee")


def test_an_inactive_consultant_is_never_assignable_and_stays_on_the_roster(api: Api) -> None:
    number = create(api, ASSISTANCE)
    ok(api.act(number, "take", "l1b"))  # cons-l1b holds it, then leaves
    left = ok(
        put_consultant(
            api, "cons-l1b", name="CONS-L1B", email="l1b@consult.example", level=1, active=False
        )
    )
    assert (left["active"], left["role"], left["level"]) == (False, "consultant", 1)
    # assign, take and escalate all refuse them, naming `assignee`; nothing changes.
    other = create(api, ASSISTANCE)
    held = ok(api.act(number, "assign", "manager", {"assignee": "cons-l1"}))
    assert_invalid(api.act(number, "assign", "l1", {"assignee": "cons-l1b"}), "assignee")
    assert_invalid(api.act(other, "take", "manager", {"assignee": "cons-l1b"}), "assignee")
    incident = create(api, INCIDENT)
    ok(api.act(incident, "take", "l2"))
    ok(put_consultant(api, "cons-l3", name="L3", email="l3@consult.example", level=3, active=False))
    assert_invalid(api.act(incident, "escalate", "l2", {"assignee": "cons-l3"}), "assignee")
    assert ok(api.get(f"/tickets/{number}", "manager"))["version"] == held["version"]
    # Their history is kept: the take they made, and they are still listed.
    actors = [e["actor"] for e in ok(api.get(f"/tickets/{number}/history", "manager"))["items"]]
    assert "cons-l1b" in actors
    roster = ok(api.get("/consultants", "l1"))["items"]
    assert {"id": "cons-l1b", "active": False} in [
        {"id": c["id"], "active": c["active"]} for c in roster
    ]
    # Active again: assignable again.
    ok(put_consultant(api, "cons-l1b", name="CONS-L1B", email="l1b@consult.example", level=1))
    assert ok(api.act(number, "assign", "l1", {"assignee": "cons-l1b"}))["assignee"] == "cons-l1b"


# ------------------------------------------------------------------ staff cancel, abandon


def test_staff_cancel_an_open_ticket_with_a_reason(api: Api) -> None:
    number = create(api, ASSISTANCE)
    assert_invalid(api.act(number, "cancel", "l1", {}), "reason")
    assert_invalid(api.act(number, "cancel", "manager", {"reason": "   "}), "reason")
    assert api.act(number, "cancel", "l2", {"reason": "Spam"}).status == 409  # not its level
    closed = ok(api.act(number, "cancel", "l1", {"reason": "Doublon du #1"}))
    assert (closed["status"], closed["closure_reason"]) == ("closed", "cancelled")
    event = last_event(api, number)
    assert (event["action"], event["actor"], event["details"]["reason"]) == (
        "cancel",
        "cons-l1",
        "Doublon du #1",
    )


def test_the_client_cancels_without_a_reason(api: Api) -> None:
    number = create(api, ASSISTANCE)
    closed = ok(api.act(number, "cancel", "client", {}))
    assert (closed["status"], closed["closure_reason"]) == ("closed", "cancelled")


def test_a_manager_cancels_spam_of_any_level(api: Api) -> None:
    number = create(api, INCIDENT)
    closed = ok(api.act(number, "cancel", "manager", {"reason": "Spam"}))
    assert closed["closure_reason"] == "cancelled"


def test_the_assignee_abandons_a_never_quoted_evolution(api: Api) -> None:
    number = create(api, EVOLUTION)
    ok(api.act(number, "take", "l2"))
    started = ok(api.act(number, "start", "l2"))
    assert started["quote"] is None and "close" in started["allowed_actions"]
    assert_invalid(api.act(number, "close", "l2", {}), "note")
    closed = ok(api.act(number, "close", "l2", {"note": "Le client renonce"}))
    assert (closed["status"], closed["closure_reason"]) == ("closed", "abandoned")


def test_withdraw_quote_over_http(api: Api) -> None:
    number = create(api, EVOLUTION)
    ok(api.act(number, "take", "l2"))
    ok(api.act(number, "start", "l2"))
    ok(api.act(number, "submit-quote", "l2", {"amount": "12000.00"}))
    assert api.act(number, "withdraw-quote", "client", {}).status == 403
    back = ok(api.act(number, "withdraw-quote", "l2", {"reason": "Coquille"}))
    assert back["status"] == "in_progress"
    assert (back["quote"]["version"], back["quote"]["outcome"]) == (1, "withdrawn")
    quotes = ok(api.get(f"/tickets/{number}/quotes", "client"))["items"]
    assert [(q["version"], q["outcome"]) for q in quotes] == [(1, "withdrawn")]
    again = ok(api.act(number, "submit-quote", "l2", {"amount": "1200.00"}))
    assert (again["quote"]["version"], again["quote"]["outcome"]) == (2, "pending")


# ------------------------------------------------------------------ roster and organisations


def test_consultants_read_the_roster_with_filters(api: Api) -> None:
    ok(put_consultant(api, "manager-2", name="Chef", email="chef@consult.example", role="manager"))
    ok(put_consultant(api, "cons-l2b", name="B", email="l2b@consult.example", level=2, active=False))
    everyone = ok(api.get("/consultants", "l2"))["items"]
    by_id = {c["id"]: c for c in everyone}
    assert set(by_id) == {"cons-l1", "cons-l1b", "cons-l2", "cons-l2b", "cons-l3", "manager-2"}
    assert by_id["manager-2"] == {
        "id": "manager-2",
        "name": "Chef",
        "email": "chef@consult.example",
        "level": None,
        "role": "manager",
        "active": True,
    }
    assert (by_id["cons-l2"]["role"], by_id["cons-l2"]["active"]) == ("consultant", True)
    level2 = ok(api.get("/consultants", "l1", query={"level": "2"}))["items"]
    assert sorted(c["id"] for c in level2) == ["cons-l2", "cons-l2b"]
    active2 = ok(api.get("/consultants", "l1", query={"level": "2", "active": "true"}))["items"]
    assert [c["id"] for c in active2] == ["cons-l2"]
    inactive = ok(api.get("/consultants", "manager", query={"active": "false"}))["items"]
    assert [c["id"] for c in inactive] == ["cons-l2b"]
    for query, field in (
        ({"level": "4"}, "level"),
        ({"level": "x"}, "level"),
        ({"active": "yes"}, "active"),
        ({"role": "manager"}, "role"),
    ):
        assert_invalid(api.get("/consultants", "l1", query=query), field)
    assert api.get("/consultants", "client").status == 403
    assert api.get("/consultants", "finance").status == 403


def test_roster_entries_role_and_level(api: Api) -> None:
    # A manager has no level; a consultant has one, 1 to 3; the role is one of two.
    assert_invalid(
        put_consultant(api, "boss", name="B", email="b@consult.example", role="manager", level=2),
        "level",
    )
    assert_invalid(put_consultant(api, "c", name="C", email="c@consult.example"), "level")
    assert_invalid(
        put_consultant(api, "c", name="C", email="c@consult.example", level=1, role="admin"),
        "role",
    )
    assert_invalid(
        put_consultant(api, "c", name="C", email="c@consult.example", level=1, active="no"),
        "active",
    )
    assert_invalid(
        put_consultant(api, "c", name="C", email="c@consult.example", level=1, active=0),
        "active",
    )
    created = ok(put_consultant(api, "c", name="C", email="c@consult.example", level=1))
    assert (created["role"], created["active"], created["level"]) == ("consultant", True, 1)
    roster = ok(api.get("/consultants", "manager"))["items"]
    assert "boss" not in [c["id"] for c in roster]


def test_staff_list_the_organisations(api: Api) -> None:
    for who in ("l1", "l2", "l3", "manager"):
        orgs = ok(api.get("/orgs", who))["items"]
        assert [(o["org_id"], o["name"]) for o in orgs] == [("acme", "Acme"), ("globex", "Globex")]
    acme = ok(api.get("/orgs", "l1"))["items"][0]
    assert (acme["auto_close_days"], acme["hourly_rate"], acme["currency"]) == (7, "90.00", "EUR")
    for who, status in (("client", 403), ("other_client", 403), ("finance", 403), ("none", 401)):
        assert api.get("/orgs", who).status == status
    assert_invalid(api.get("/orgs", "l1", query={"name": "Acme"}), "name")
