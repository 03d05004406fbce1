"""Strict input (DESIGN.md §7), through the API function: each case found by hand against
`make run` is a 4xx problem naming the field, and writes nothing (the table is compared item
by item before and after)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TABLE_NAME
from tests.integration.api.conftest import Api

PROBLEM = "application/problem+json"
INVALID = "urn:helpdesk:problem:invalid-input"
ASSISTANCE = {"title": "Création de l'utilisateur Fabrice", "type": "assistance"}
EVOLUTION = {"title": "Export button", "description": "CSV export", "type": "evolution"}


def _items(dynamodb: Any) -> list[dict[str, Any]]:
    """Every item of the table, in a stable order."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": TABLE_NAME}
    while True:
        page = dynamodb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # default=repr: binary values (an outbox mail's compressed texts) in a comparable form
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=repr))


def _create(api: Api, body: dict[str, Any] = ASSISTANCE, who: str = "client") -> int:
    reply = api.post("/tickets", who, body=body)
    assert reply.status == 201, reply
    return int(reply.body["number"])


def _refused(reply: Any, status: int, field: str, problem_type: str = INVALID) -> None:
    assert reply.status == status, reply
    assert reply.content_type == PROBLEM
    assert reply.body["type"] == problem_type
    assert reply.body["field"] == field, reply.body


def _quoted_evolution(api: Api) -> int:
    """An evolution at level 2 in progress, ready for submit-quote."""
    number = _create(api, EVOLUTION)
    for action in ("take", "start"):
        assert api.act(number, action, "l2").status == 200
    return number


# ----------------------------------------------------------- 1. nesting depth


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/tickets"),
        ("POST", "/tickets/1/actions/take"),
        ("POST", "/tickets/1/comments"),
        ("POST", "/tickets/1/time-entries"),
        ("PUT", "/orgs/acme"),
        ("PUT", "/consultants/cons-l1"),
    ],
)
def test_a_body_nested_10000_deep_is_422_on_every_json_route(
    api: Api, dynamodb: Any, method: str, path: str
) -> None:
    _create(api)
    before = _items(dynamodb)
    body = '{"title": ' + _nested(10_000) + "}"  # 20 KB, as found by hand
    assert 20_000 <= len(body) < 21_000
    reply = api.call(method, path, "manager", raw_body=body)
    _refused(reply, 422, "body")
    assert "32" in reply.body["detail"]
    assert _items(dynamodb) == before


def test_the_depth_limit_is_32_levels(api: Api, dynamodb: Any) -> None:
    before = _items(dynamodb)
    deepest = api.post("/tickets", "client", raw_body='{"title": ' + _nested(31) + "}")
    assert deepest.status == 422  # 32 levels reach validation: a list is not a title
    assert deepest.body["field"] == "title"
    too_deep = api.post("/tickets", "client", raw_body='{"title": ' + _nested(32) + "}")
    _refused(too_deep, 422, "body")
    brackets_in_a_string = api.post(
        "/tickets", "client", body={**ASSISTANCE, "description": "[" * 1000}
    )
    assert brackets_in_a_string.status == 201
    assert len(_items(dynamodb)) > len(before)


# ------------------------------------------------------------ 2. no coercion


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minutes": True}, "minutes"),
        ({"minutes": "30"}, "minutes"),
        ({"minutes": 30.0}, "minutes"),
        ({"minutes": 30, "date": 20261127}, "date"),
        ({"minutes": 30, "date": "2026-11-27T00:00:00"}, "date"),
        ({"minutes": 30, "comment": 5}, "comment"),
    ],
)
def test_time_entry_values_are_never_coerced(
    api: Api, dynamodb: Any, body: dict[str, Any], field: str
) -> None:
    number = _create(api)
    assert api.act(number, "take", "l1").status == 200
    before = _items(dynamodb)
    _refused(api.post(f"/tickets/{number}/time-entries", "l1", body=body), 422, field)
    assert _items(dynamodb) == before


@pytest.mark.parametrize("internal", ["yes", 1, "true", None])
def test_internal_is_a_boolean_not_a_truthy_value(api: Api, dynamodb: Any, internal: Any) -> None:
    number = _create(api)
    before = _items(dynamodb)
    reply = api.post(f"/tickets/{number}/comments", "l1", body={"body": "vu", "internal": internal})
    _refused(reply, 422, "internal")
    assert _items(dynamodb) == before


@pytest.mark.parametrize("amount", ["1e6", 1200, 1200.5, "1200.505", "-5", "1 200", True, "NaN"])
def test_money_is_a_string_of_digits_with_at_most_two_decimals(
    api: Api, dynamodb: Any, amount: Any
) -> None:
    number = _quoted_evolution(api)
    before = _items(dynamodb)
    reply = api.act(number, "submit-quote", "l2", {"amount": amount, "days": "3"})
    _refused(reply, 422, "amount")
    assert _items(dynamodb) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/orgs/initech", {"name": "Initech", "hourly_rate": 75.5}, "hourly_rate"),
        ("/orgs/initech", {"name": "Initech", "hourly_rate": "1e3"}, "hourly_rate"),
        ("/orgs/initech", {"name": "Initech", "auto_close_days": True}, "auto_close_days"),
        ("/orgs/initech", {"name": "Initech", "auto_close_days": "7"}, "auto_close_days"),
        ("/orgs/initech", {"name": 7}, "name"),
        ("/consultants/cons-x", {"name": "X", "email": "x@c.example", "level": "2"}, "level"),
        ("/consultants/cons-x", {"name": "X", "email": "x@c.example", "level": True}, "level"),
    ],
)
def test_directory_values_are_never_coerced(
    api: Api, dynamodb: Any, path: str, body: dict[str, Any], field: str
) -> None:
    before = _items(dynamodb)
    _refused(api.put(path, "manager", body=body), 422, field)
    assert _items(dynamodb) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "900.00", "days": True}, "days"),
        ({"amount": "900.00", "days": "1e2"}, "days"),
        ({"amount": "900.00", "validity_days": "30"}, "validity_days"),
        ({"amount": "900.00", "description": 12}, "description"),
    ],
)
def test_action_values_are_never_coerced(
    api: Api, dynamodb: Any, body: dict[str, Any], field: str
) -> None:
    number = _quoted_evolution(api)
    before = _items(dynamodb)
    _refused(api.act(number, "submit-quote", "l2", body), 422, field)
    assert _items(dynamodb) == before


def test_strict_values_of_the_right_type_are_accepted(api: Api) -> None:
    number = _quoted_evolution(api)
    quoted = api.act(number, "submit-quote", "l2", {"amount": "1200.5", "days": 3})
    assert quoted.status == 200, quoted
    assert quoted.body["quote"]["amount"] == "1200.50"
    org = api.put(
        "/orgs/initech",
        "manager",
        body={"name": "Initech", "hourly_rate": "75.5", "auto_close_days": 3},
    )
    assert org.status == 200, org
    assert org.body["hourly_rate"] == "75.50"


# ----------------------------------------------------------- 3. control text


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\u202e", "\u2066"])
def test_a_title_with_a_control_character_or_bidi_override_is_422(
    api: Api, dynamodb: Any, char: str
) -> None:
    before = _items(dynamodb)
    reply = api.post("/tickets", "client", body={**ASSISTANCE, "title": f"Facture{char}impayée"})
    _refused(reply, 422, "title")
    assert _items(dynamodb) == before


def test_descriptions_and_comments_keep_tabs_and_newlines_and_refuse_other_controls(
    api: Api, dynamodb: Any
) -> None:
    before = _items(dynamodb)
    reply = api.post("/tickets", "client", body={**ASSISTANCE, "description": "voir\x07ci"})
    _refused(reply, 422, "description")
    assert _items(dynamodb) == before
    number = _create(api, {**ASSISTANCE, "description": "Étapes :\n\t1. ouvrir\r\n\t2. fermer"})
    before = _items(dynamodb)
    reply = api.post(f"/tickets/{number}/comments", "client", body={"body": "ok\x1b[31m"})
    _refused(reply, 422, "body")
    assert _items(dynamodb) == before
    kept = api.post(f"/tickets/{number}/comments", "client", body={"body": "merci\n\tFabrice"})
    assert kept.status == 201, kept
    assert kept.body["body"] == "merci\n\tFabrice"


# ----------------------------------------------------------------- 4. If-Match


@pytest.mark.parametrize("value", ["garbage", "3", "", "W/3", '"2" "3"', '"2'])
def test_an_if_match_that_is_not_an_entity_tag_list_is_400(
    api: Api, dynamodb: Any, value: str
) -> None:
    number = _create(api)
    before = _items(dynamodb)
    reply = api.act(number, "take", "l1", headers={"If-Match": value})
    _refused(reply, 400, "If-Match", "urn:helpdesk:problem:invalid-header")
    assert _items(dynamodb) == before


@pytest.mark.parametrize("value", ['"1", "2"', '"2","1"', 'W/"1"', '"x", W/"1"', "*"])
def test_an_if_match_list_matches_when_any_tag_names_the_version(api: Api, value: str) -> None:
    number = _create(api)  # version 1
    reply = api.act(number, "take", "l1", headers={"If-Match": value})
    assert reply.status == 200, reply
    assert reply.body["version"] == 2


@pytest.mark.parametrize("value", ['"2", "3"', '"abc"', 'W/"0"'])
def test_an_if_match_list_naming_other_versions_is_412(api: Api, dynamodb: Any, value: str) -> None:
    number = _create(api)  # version 1
    before = _items(dynamodb)
    reply = api.act(number, "take", "l1", headers={"If-Match": value})
    assert reply.status == 412, reply
    assert reply.body["type"] == "urn:helpdesk:problem:stale-version"
    assert reply.body["current_version"] == 1
    assert _items(dynamodb) == before


# ------------------------------------------------------------ 5. real limits


@pytest.mark.parametrize(
    ("field", "length", "limit"),
    [("title", 1_000_000, "200"), ("description", 20_001, "20000")],
)
def test_limit_messages_state_the_real_limit(
    api: Api, dynamodb: Any, field: str, length: int, limit: str
) -> None:
    before = _items(dynamodb)
    reply = api.post("/tickets", "client", body={**ASSISTANCE, field: "x" * length})
    _refused(reply, 422, field)
    assert f"at most {limit} characters" in reply.body["detail"]
    assert "1000 characters" not in reply.body["detail"]
    assert _items(dynamodb) == before


def test_a_comment_over_the_limit_states_20000(api: Api, dynamodb: Any) -> None:
    number = _create(api)
    before = _items(dynamodb)
    reply = api.post(f"/tickets/{number}/comments", "client", body={"body": "x" * 20_001})
    _refused(reply, 422, "body")
    assert "at most 20000 characters" in reply.body["detail"]
    assert _items(dynamodb) == before


# ------------------------------------------------------- 7. unknown parameters


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/tickets", {"bogus": "1"}, "bogus"),
        ("/tickets", {"Status": "open"}, "Status"),
        ("/tickets/1", {"expand": "all"}, "expand"),
        ("/tickets/1/history", {"verbose": "1"}, "verbose"),
        ("/consultants", {"org": "acme"}, "org"),
    ],
)
def test_an_unknown_query_parameter_is_422_naming_it(
    api: Api, path: str, query: dict[str, str], field: str
) -> None:
    _create(api)
    _refused(api.get(path, "manager", query=query), 422, field)


def test_an_unknown_query_parameter_on_a_write_is_422_and_writes_nothing(
    api: Api, dynamodb: Any
) -> None:
    number = _create(api)
    before = _items(dynamodb)
    reply = api.act(number, "take", "l1", query={"force": "1"})
    _refused(reply, 422, "force")
    assert _items(dynamodb) == before
    created = api.post("/tickets", "client", body=ASSISTANCE, query={"dry_run": "true"})
    _refused(created, 422, "dry_run")
    assert _items(dynamodb) == before


def test_declared_query_parameters_pass_and_their_bad_values_are_422(api: Api) -> None:
    _create(api)
    assert api.get("/tickets", "manager", query={"limit": "5"}).status == 200
    _refused(api.get("/tickets", "manager", query={"limit": "abc"}), 422, "limit")
    _refused(api.get("/tickets", "manager", query={"limit": "0"}), 422, "limit")


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/tickets", {"limit": "1.0"}, "limit"),
        ("/tickets", {"limit": "+5"}, "limit"),
        ("/tickets", {"limit": " 5"}, "limit"),
        ("/tickets", {"limit": "1_0"}, "limit"),
        ("/tickets", {"level": "true"}, "level"),
        ("/tickets", {"created_from": "2026-11-27T00:00:00"}, "created_from"),
        ("/tickets", {"created_to": "1795770000"}, "created_to"),
        ("/tickets/1/history", {"limit": "2.0"}, "limit"),
    ],
)
def test_query_values_are_never_coerced(
    api: Api, path: str, query: dict[str, str], field: str
) -> None:
    _create(api)
    _refused(api.get(path, "manager", query=query), 422, field)


def test_action_texts_and_names_refuse_control_characters(api: Api, dynamodb: Any) -> None:
    number = _create(api)
    assert api.act(number, "take", "l1").status == 200
    assert api.act(number, "start", "l1").status == 200
    before = _items(dynamodb)
    reply = api.act(number, "send-answer", "l1", {"message": "Réinitialisé.\x1b[2J"})
    _refused(reply, 422, "message")
    assert "U+001B" in reply.body["detail"]
    _refused(api.put("/orgs/initech", "manager", body={"name": "Init\x00ech"}), 422, "name")
    _refused(api.put("/orgs/initech", "manager", body={"name": "Init\u202eech"}), 422, "name")
    assert _items(dynamodb) == before
    answered = api.act(number, "send-answer", "l1", {"message": "Réinitialisé :\n\t- compte"})
    assert answered.status == 200, answered
