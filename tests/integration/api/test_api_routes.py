"""Each route's happy path and answer shape, and the error answers of DESIGN.md §4."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.unit.test_contract import DEFAULT_JSON

EVOLUTION = {"title": "Export button", "description": "CSV export", "type": "evolution"}
ASSISTANCE = {"title": "Création de l'utilisateur Fabrice", "type": "assistance"}


def _create(api: Api, body: dict[str, Any] = ASSISTANCE, who: str = "client") -> int:
    reply = api.post("/tickets", who, body=body)
    assert reply.status == 201, reply
    return int(reply.body["number"])


def test_create_answers_201_with_the_ticket_and_its_etag(api: Api) -> None:
    reply = api.post("/tickets", "client", body={**ASSISTANCE, "description": "please"})
    assert reply.status == 201
    assert reply.content_type == "application/json"
    assert reply.headers["ETag"] == '"1"'
    assert reply.headers["Location"] == "/tickets/1"
    ticket = reply.body
    assert ticket["number"] == 1
    assert ticket["status"] == "open"
    assert ticket["status_label"] == "Ouvert"
    assert ticket["support_level"] == 1
    assert ticket["priority"] == "normal"
    assert ticket["org_id"] == "acme"
    assert ticket["requester"] == "client-acme"
    assert ticket["created_at"] == "2026-11-27T09:00:00Z"
    assert ticket["quote"] is None
    assert ticket["allowed_actions"] == ["cancel"]
    for key in ("assignee", "auto_close_at", "closure_reason"):
        assert ticket[key] is None
    staff = api.get("/tickets/1", "l1")
    assert staff.body["allowed_actions"] == ["take", "cancel"]  # §7: staff cancel, with a reason
    assert staff.headers["ETag"] == '"1"'


def test_evolution_flow_with_money_strings(api: Api) -> None:
    number = _create(api, EVOLUTION)
    taken = api.act(number, "take", "l2", {"priority": "high"})
    assert taken.status == 200
    assert taken.body["assignee"] == "cons-l2"
    assert taken.headers["ETag"] == '"2"'
    assert api.act(number, "start", "l2", headers={"If-Match": '"2"'}).status == 200
    quoted = api.act(number, "submit-quote", "l2", {"amount": "1200", "days": 3})
    assert quoted.status == 200, quoted
    assert quoted.body["status_label"] == "En Attente Validation Chiffrage"
    assert quoted.body["quote"]["amount"] == "1200.00"
    assert quoted.body["quote"]["outcome"] == "pending"
    assert api.get(f"/tickets/{number}", "client").body["allowed_actions"] == [
        "approve-quote",
        "refuse-quote",
    ]
    quotes = api.get(f"/tickets/{number}/quotes", "client")
    assert quotes.body["next_cursor"] is None
    assert [(q["version"], q["amount"], q["days"]) for q in quotes.body["items"]] == [
        (1, "1200.00", "3")
    ]
    assert api.act(number, "approve-quote", "client").status == 200
    answered = api.act(number, "send-answer", "l2", {"message": "Done"})
    assert answered.body["status"] == "answer_sent"
    assert answered.body["auto_close_at"] == "2026-12-04T09:00:00Z"
    closed = api.act(number, "confirm", "client")
    assert closed.body["status"] == "closed"
    assert closed.body["closure_reason"] == "confirmed"
    assert closed.body["quote"]["outcome"] == "approved"
    history = api.get(f"/tickets/{number}/history", "client").body["items"]
    assert [e["action"] for e in history][-3:] == ["approve-quote", "send-answer", "confirm"]
    assert set(history[-1]) >= {"at", "actor", "action", "from_status", "to_status", "details"}


def test_refused_action_is_409_with_allowed_actions(api: Api) -> None:
    number = _create(api)
    reply = api.act(number, "confirm", "client")
    assert reply.status == 409
    assert reply.content_type == "application/problem+json"
    assert reply.body["allowed_actions"] == ["cancel"]


def test_stale_if_match_is_412(api: Api) -> None:
    number = _create(api)
    assert api.act(number, "take", "l1").status == 200
    stale = api.act(number, "start", "l1", headers={"If-Match": '"1"'})
    assert stale.status == 412
    assert stale.body["current_version"] == 2
    # Not an entity tag at all: 400 (DESIGN.md §7), tested in test_api_strict_input.py.
    assert api.act(number, "start", "l1", headers={"If-Match": "garbage"}).status == 400
    assert api.get(f"/tickets/{number}", "l1").body["status"] == "taken"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/tickets", {"type": "assistance"}, "title"),
        ("/tickets", {"title": "x", "type": "question"}, "type"),
        ("/tickets", {"title": "x", "type": "assistance", "colour": "red"}, "colour"),
        ("/tickets", {"title": "   ", "type": "assistance", "org_id": "acme"}, "title"),
        ("/tickets/1/time-entries", {"minutes": -5}, "minutes"),
        ("/tickets/1/time-entries", {"minutes": 10, "kind": "coffee"}, "kind"),
        ("/tickets/1/actions/submit-quote", {"amount": "abc"}, "amount"),
        ("/tickets/1/comments", {"internal": True}, "body"),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    _create(api, EVOLUTION)
    reply = api.post(path, "l2", body=body)
    assert reply.status == 422, reply
    assert reply.content_type == "application/problem+json"
    assert reply.body["field"] == field
    assert field in reply.body["detail"] or reply.body["errors"][0]["field"] == field


def test_bad_json_bad_number_and_bad_query_are_422(api: Api) -> None:
    assert api.post("/tickets", "client", raw_body="{not json").body["field"] == "body"
    for path in ("/tickets/abc", "/tickets/0", "/tickets/-3"):
        reply = api.get(path, "client")
        assert reply.status == 422, reply
        assert reply.body["field"] == "number"
    assert api.get("/tickets", "l1", query={"limit": "101"}).body["field"] == "limit"
    assert api.get("/tickets", "l1", query={"status": "lost"}).body["field"] == "status"
    assert api.get("/tickets", "l1", query={"cursor": "!!"}).body["field"] == "cursor"


def test_another_organisations_ticket_is_404_everywhere(api: Api) -> None:
    number = _create(api)
    for reply in (
        api.get(f"/tickets/{number}", "other_client"),
        api.get(f"/tickets/{number}/history", "other_client"),
        api.get(f"/tickets/{number}/comments", "other_client"),
        api.post(f"/tickets/{number}/comments", "other_client", body={"body": "hi"}),
        api.act(number, "cancel", "other_client"),
    ):
        assert reply.status == 404, reply
        assert reply.content_type == "application/problem+json"
    assert api.get("/tickets/999", "client").status == 404


def test_list_is_scoped_filtered_and_paginated(api: Api) -> None:
    for _ in range(3):
        _create(api)
    _create(api, {**EVOLUTION, "org_id": "globex"}, who="manager")
    mine = api.get("/tickets", "client").body
    assert [t["number"] for t in mine["items"]] == [3, 2, 1]  # newest first
    assert api.get("/tickets", "other_client").body["items"][0]["number"] == 4
    assert api.get("/tickets", "client", query={"org_id": "globex"}).body["items"] == []
    evolutions = api.get("/tickets", "l2", query={"type": "evolution"}).body["items"]
    assert [t["number"] for t in evolutions] == [4]
    seen: list[int] = []
    query = {"limit": "2"}
    while True:
        page = api.get("/tickets", "manager", query=query).body
        seen += [t["number"] for t in page["items"]]
        if not page["next_cursor"]:
            break
        query = {"limit": "2", "cursor": page["next_cursor"]}
    assert sorted(seen) == [1, 2, 3, 4]


def test_idempotent_create(api: Api) -> None:
    key = {"Idempotency-Key": "3f1c2a"}
    first = api.post("/tickets", "client", body=ASSISTANCE, headers=key)
    again = api.post("/tickets", "client", body=ASSISTANCE, headers=key)
    assert (first.status, again.status) == (201, 201)
    assert first.body["number"] == again.body["number"] == 1
    other = api.post("/tickets", "client", body={**ASSISTANCE, "title": "Other"}, headers=key)
    assert other.status == 422
    assert other.body["field"] == "Idempotency-Key"
    # Another caller's key is its own; no key, no deduplication.
    assert (
        api.post("/tickets", "l1", body={**ASSISTANCE, "org_id": "acme"}, headers=key).body[
            "number"
        ]
        == 2
    )
    assert api.post("/tickets", "client", body=ASSISTANCE).body["number"] == 3
    assert len(api.get("/tickets", "manager").body["items"]) == 3


def test_comments_internal_and_visibility(api: Api) -> None:
    number = _create(api)
    created = api.post(f"/tickets/{number}/comments", "client", body={"body": "Hello"})
    assert created.status == 201
    assert created.body["author"] == "client-acme"
    assert created.body["source"] == "api"
    assert created.body["internal"] is False
    internal = {"body": "looks like a config issue", "internal": True}
    assert api.post(f"/tickets/{number}/comments", "l1", body=internal).status == 201
    assert len(api.get(f"/tickets/{number}/comments", "l1").body["items"]) == 2
    assert [c["body"] for c in api.get(f"/tickets/{number}/comments", "client").body["items"]] == [
        "Hello"
    ]
    refused = api.post(f"/tickets/{number}/comments", "client", body=internal)
    assert refused.status == 422
    assert refused.body["field"] == "internal"


def test_time_entries_and_tasks(api: Api) -> None:
    # Opened on 20 November: time is logged from the ticket's creation day on (DESIGN.md §7).
    clock = api.module.get_service().clock
    now, clock.now = clock.now, datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    number = _create(api)
    clock.now = now
    assert api.post(f"/tickets/{number}/time-entries", "l1", body={"minutes": 5}).status == 409
    api.act(number, "take", "l1")
    entry = api.post(
        f"/tickets/{number}/time-entries",
        "l1",
        body={"minutes": 90, "kind": "analysis", "comment": "logs", "date": "2026-11-20"},
    )
    assert entry.status == 201, entry
    assert entry.body["date"] == "2026-11-20"
    assert entry.body["month"] == "2026-11"
    assert entry.body["billable"] is True
    assert api.post(f"/tickets/{number}/time-entries", "l2", body={"minutes": 30}).status == 201
    entries = api.get(f"/tickets/{number}/time-entries", "manager").body["items"]
    assert sorted(e["minutes"] for e in entries) == [30, 90]
    tasks = api.get(f"/tickets/{number}/tasks", "l1").body["items"]
    assert tasks == [
        {
            "month": "2026-11",
            "title": "#1 - Création de l'utilisateur Fabrice - Novembre 2026",
            "minutes": 120,
        }
    ]
    assert api.get(f"/tickets/{number}", "l1").body["time_spent_minutes"] == 120
    future = api.post(
        f"/tickets/{number}/time-entries", "l1", body={"minutes": 5, "date": "2027-01-01"}
    )
    assert (future.status, future.body["field"]) == (422, "date")


def test_an_organisation_billed_in_another_currency_is_422(api: Api) -> None:
    """Quotes are in EUR and billing totals add them to time: organisations bill in EUR."""
    body = {"name": "Initech", "email_domains": ["initech.example"], "hourly_rate": "75.5"}
    assert api.put("/orgs/initech", "manager", body=body).status == 200
    dollars = api.put("/orgs/initech", "manager", body={**body, "currency": "USD"})
    assert dollars.status == 422, dollars
    assert dollars.body["field"] == "currency"
    assert "must be EUR" in dollars.body["detail"]
    assert api.get("/orgs/initech", "manager").body["currency"] == "EUR"
    assert api.put("/orgs/other", "manager", body={**body, "currency": "USD"}).status == 422
    assert api.get("/orgs/other", "manager").status == 404


def test_orgs_and_consultants(api: Api) -> None:
    body = {"name": "Initech", "email_domains": ["Initech.example"], "hourly_rate": "75.5"}
    put = api.put("/orgs/initech", "manager", body=body)
    assert put.status == 200, put
    assert put.body == {
        "org_id": "initech",
        "name": "Initech",
        "email_domains": ["initech.example"],
        "auto_close_days": 7,
        "hourly_rate": "75.50",
        "currency": "EUR",
        "quote_validity_days": 30,
        "contract": DEFAULT_JSON,
    }
    assert api.get("/orgs/initech", "manager").body == put.body
    assert api.get("/orgs/nowhere", "manager").status == 404
    bad = api.put("/orgs/initech", "manager", body={**body, "hourly_rate": "abc"})
    assert (bad.status, bad.body["field"]) == (422, "hourly_rate")
    consultant = {"name": "Zoé", "email": "Zoe@consult.example", "level": 3}
    put_c = api.put("/consultants/cons-zoe", "manager", body=consultant)
    assert put_c.body == {
        "id": "cons-zoe",
        "name": "Zoé",
        "email": "zoe@consult.example",
        "level": 3,
        "role": "consultant",  # §7: the defaults
        "active": True,
    }
    assert api.put("/consultants/x", "manager", body={**consultant, "level": 4}).body["field"] == (
        "level"
    )
    roster = api.get("/consultants", "manager").body
    assert "cons-zoe" in [c["id"] for c in roster["items"]]
    assert roster["next_cursor"] is None


def test_unknown_and_system_actions(api: Api) -> None:
    number = _create(api)
    assert api.act(number, "teleport", "l1").status == 404
    assert api.act(number, "expire-quote", "manager").status == 403
    assert api.act(number, "auto-close", "manager").status == 403


def test_unknown_route_and_billing_are_404_problems(api: Api) -> None:
    for reply in (api.get("/nothing", "client"), api.get("/billing/exports/2026-10", "finance")):
        assert reply.status == 404
        assert reply.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        (None, 401),
        ({"email": "a@b.c", "cognito:groups": "[clients]", "custom:org_id": "acme"}, 401),
        ({"sub": "u1", "cognito:groups": "[strangers]"}, 403),
        ({"sub": "u1"}, 403),
        ({"sub": "u1", "cognito:groups": "[clients]"}, 403),
        ({"sub": "u1", "cognito:groups": "[consultants-l1]", "custom:org_id": "acme"}, 403),
        ({"sub": "u1", "cognito:groups": ["clients"], "custom:org_id": "acme"}, 200),
        ({"sub": "u1", "cognito:groups": "[consultants-l1 managers]"}, 200),
    ],
)
def test_identity_from_claims(api: Api, claims: dict[str, Any] | None, status: int) -> None:
    from tests.integration.api.events import FakeLambdaContext, http_event

    event = http_event("GET", "/tickets", claims=claims)
    result = api.module.lambda_handler(event, FakeLambdaContext())
    assert result["statusCode"] == status
    if status == 401:
        assert result["headers"]["Content-Type"] == "application/problem+json"
        assert result["headers"]["WWW-Authenticate"] == "Bearer"


def test_an_unexpected_error_is_a_500_problem(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api.module.get_service(), "list_tickets", boom)
    reply = api.get("/tickets", "l1")
    assert reply.status == 500
    assert reply.content_type == "application/problem+json"
    assert "disk" not in reply.body["detail"]
