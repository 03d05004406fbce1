"""The HTTP contract's refusals, through the local API Gateway front."""

from __future__ import annotations

import pytest

from tests.e2e.support import Api, act, create_ticket

pytestmark = pytest.mark.e2e


def test_refused_action_is_409_with_the_allowed_actions(api: Api, tokens: dict[str, str]) -> None:
    number = create_ticket(api, tokens["CLIENT_ACME"])["number"]
    reply = act(api, tokens["L1"], number, "send-answer", {"message": "too early"})
    assert reply.status == 409
    assert reply.content_type.startswith("application/problem+json")
    assert reply.json()["allowed_actions"] == ["take", "cancel"]  # §7: staff cancel spam


def test_stale_if_match_is_412(api: Api, tokens: dict[str, str]) -> None:
    number = create_ticket(api, tokens["CLIENT_ACME"])["number"]
    taken = act(api, tokens["L1"], number, "take", {"assignee": "lea"})
    assert taken.headers["etag"] == '"2"'
    reply = act(api, tokens["L1"], number, "start", headers={"If-Match": '"1"'})
    assert reply.status == 412
    assert reply.json()["status"] == 412
    assert api.get(f"/tickets/{number}", tokens["L1"]).json()["status"] == "taken"


def test_another_organisations_ticket_is_404_on_every_route(
    api: Api, tokens: dict[str, str]
) -> None:
    number = create_ticket(api, tokens["CLIENT_ACME"])["number"]
    other = tokens["CLIENT_GLOBEX"]
    for path in (f"/tickets/{number}", f"/tickets/{number}/history"):
        assert api.get(path, other).status == 404
    assert act(api, other, number, "cancel").status == 404
    listed = api.get("/tickets", other).json()["items"]
    assert number not in [t["number"] for t in listed]


def test_idempotent_create(api: Api, tokens: dict[str, str]) -> None:
    client = tokens["CLIENT_ACME"]
    body = {"title": "VPN", "description": "Le VPN refuse ma connexion.", "type": "incident"}
    key = {"Idempotency-Key": "e2e-vpn-1"}
    first = api.post("/tickets", client, body, headers=key)
    again = api.post("/tickets", client, body, headers=key)
    assert (first.status, again.status) == (201, 201)
    assert first.json()["number"] == again.json()["number"]
    other_body = api.post("/tickets", client, {**body, "title": "VPN bis"}, headers=key)
    assert other_body.status == 422
    assert other_body.content_type.startswith("application/problem+json")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic Zm9vOmJhcg==",
        "Bearer not-a-jwt",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ],
)
def test_missing_or_bad_token_is_401(api: Api, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    reply = api.get("/tickets", headers=headers)
    assert reply.status == 401
    assert reply.content_type.startswith("application/problem+json")
    assert reply.json()["status"] == 401


def test_tampered_token_is_401(api: Api, tokens: dict[str, str]) -> None:
    header, claims, signature = tokens["CLIENT_ACME"].split(".")
    manager_claims = tokens["MANAGER"].split(".")[1]
    assert api.get("/tickets", f"{header}.{manager_claims}.{signature}").status == 401
    assert api.get("/tickets", f"{header}.{claims}.{signature[:-2]}AA").status == 401


def test_tokens_helper_mints_a_token_the_api_accepts(api: Api) -> None:
    body = {"sub": "nadia", "email": "nadia@globex.test", "groups": ["clients"], "org_id": "globex"}
    reply = api.post("/_local/tokens", body=body)
    assert reply.status == 200
    token = reply.json()["token"]
    created = create_ticket(api, token, title="Mot de passe oublié")
    assert (created["org_id"], created["requester"]) == ("globex", "nadia")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        ([], "body"),
        ({"email": "a@b.test", "groups": ["managers"]}, "sub"),
        ({"sub": "x", "email": "nope", "groups": ["managers"]}, "email"),
        ({"sub": "x", "email": "x@b.test", "groups": []}, "groups"),
        ({"sub": "x", "email": "x@b.test", "groups": ["admins"]}, "groups"),
        ({"sub": "x", "email": "x@b.test", "groups": "managers"}, "groups"),
        ({"sub": "x", "email": "x@b.test", "groups": ["clients"]}, "org_id"),
        ({"sub": "x", "email": "x@b.test", "groups": ["clients"], "org_id": 7}, "org_id"),
        ({"sub": "x", "email": "x@b.test", "groups": ["managers"], "admin": True}, "admin"),
    ],
)
def test_tokens_helper_rejects_bad_input_with_422(api: Api, body: object, field: str) -> None:
    reply = api.post("/_local/tokens", body=body)
    assert reply.status == 422
    assert reply.content_type.startswith("application/problem+json")
    assert reply.json()["field"] == field


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/_local/nope"), ("GET", "/_local/x")],
)
def test_helpers_not_built_yet_are_404_problems(api: Api, method: str, path: str) -> None:
    reply = api.request(method, path, body={} if method == "POST" else None)
    assert reply.status == 404
    assert reply.content_type.startswith("application/problem+json")
