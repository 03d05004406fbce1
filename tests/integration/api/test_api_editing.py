"""DESIGN.md §7 over HTTP: `PATCH /tickets/{number}` ("Editing"), `PATCH`/`DELETE` of a time
entry and the bounds of an entry's date ("Time entries"), `Idempotency-Key` on comments and
time entries ("Retries"). The clock is 2026-11-27 09:00 UTC (tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import TABLE_NAME, Clock
from tests.integration.api.conftest import Api

PROBLEM = "urn:helpdesk:problem:"
OPENED = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)  # a Thursday of September, in Paris too


def open_ticket(api: Api, title: str = "Imprimante en panne") -> int:
    created = api.post("/tickets", "client", body={"title": title, "type": "assistance"})
    assert created.status == 201, created
    return int(created.body["number"])


def opened_in_september(api: Api, clock: Clock) -> int:
    """#n opened on 10 September by client-acme, taken by cons-l1 now (27 November)."""
    now, clock.now = clock.now, OPENED
    number = open_ticket(api)
    clock.now = now
    assert api.act(number, "take", "l1").status == 200
    return number


def log(api: Api, number: int, who: str = "l1", **body: Any) -> Any:
    return api.post(f"/tickets/{number}/time-entries", who, body={"minutes": 30, **body})


def lock(dynamodb: Any, month: str) -> None:
    dynamodb.put_item(
        TableName=TABLE_NAME, Item={"pk": {"S": "LOCK"}, "sk": {"S": f"MONTH#{month}"}}
    )


def tasks(api: Api, number: int) -> dict[str, tuple[str, int]]:
    reply = api.get(f"/tickets/{number}/tasks", "manager")
    return {t["month"]: (t["title"], t["minutes"]) for t in reply.body["items"]}


def history(api: Api, number: int) -> list[dict[str, Any]]:
    return list(api.get(f"/tickets/{number}/history", "manager").body["items"])


def close(api: Api, number: int) -> None:
    assert api.act(number, "start", "l1").status == 200
    assert api.act(number, "send-answer", "l1", {"message": "fait"}).status == 200
    assert api.act(number, "confirm", "client").status == 200


# ------------------------------------------------------------------ PATCH /tickets/{number}


def test_staff_edit_gives_a_new_etag_and_records_old_and_new(api: Api) -> None:
    number = open_ticket(api)
    assert api.act(number, "take", "l1").status == 200  # version 2
    reply = api.call(
        "PATCH",
        f"/tickets/{number}",
        "l2",
        body={"title": " Imprimante  HS ", "priority": "high"},
        headers={"If-Match": '"2"'},
    )
    assert reply.status == 200, reply
    assert reply.headers["ETag"] == '"3"'
    assert (reply.body["title"], reply.body["priority"], reply.body["version"]) == (
        "Imprimante HS",
        "high",
        3,
    )
    event = history(api, number)[-1]
    assert (event["action"], event["actor"], event["version"]) == ("edit", "cons-l2", 3)
    assert event["details"] == {
        "title.old": "Imprimante en panne",
        "title.new": "Imprimante HS",
        "priority.old": "normal",
        "priority.new": "high",
    }
    assert tasks(api, number)["2026-11"][0] == f"#{number} - Imprimante HS - Novembre 2026"


def test_stale_if_match_is_412_and_changes_nothing(api: Api) -> None:
    number = open_ticket(api)
    assert api.act(number, "take", "l1").status == 200
    reply = api.call(
        "PATCH", f"/tickets/{number}", "l1", body={"title": "x"}, headers={"If-Match": '"1"'}
    )
    assert reply.status == 412, reply
    assert reply.body["type"] == PROBLEM + "stale-version"
    assert reply.body["current_version"] == 2
    assert api.get(f"/tickets/{number}", "l1").body["title"] == "Imprimante en panne"


def test_the_requester_edits_text_while_open_only(api: Api) -> None:
    number = open_ticket(api)
    edited = api.call("PATCH", f"/tickets/{number}", "client", body={"description": "Bac 2"})
    assert edited.status == 200, edited
    assert edited.body["description"] == "Bac 2"
    priority = api.call("PATCH", f"/tickets/{number}", "client", body={"priority": "critical"})
    assert priority.status == 403, priority
    assert api.act(number, "take", "l1").status == 200
    late = api.call("PATCH", f"/tickets/{number}", "client", body={"title": "Autre"})
    assert late.status == 409, late
    assert late.body["type"] == PROBLEM + "action-not-allowed"


def test_another_organisation_is_404_and_finance_403(api: Api) -> None:
    number = open_ticket(api)
    other = api.call("PATCH", f"/tickets/{number}", "other_client", body={"title": "x"})
    assert other.status == 404, other
    assert api.call("PATCH", f"/tickets/{number}", "finance", body={"title": "x"}).status == 403
    assert api.call("PATCH", "/tickets/999", "manager", body={"title": "x"}).status == 404


def test_a_closed_ticket_is_409_ticket_closed_even_for_a_manager(api: Api) -> None:
    number = open_ticket(api)
    assert api.act(number, "take", "l1").status == 200
    close(api, number)
    reply = api.call("PATCH", f"/tickets/{number}", "manager", body={"title": "x"})
    assert reply.status == 409, reply
    assert reply.body["type"] == PROBLEM + "ticket-closed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"title": "   "}, "title"),
        ({"title": "a" * 201}, "title"),
        ({"title": "Bip\u0007"}, "title"),
        ({"priority": "urgent"}, "priority"),
        ({"status": "closed"}, "status"),
        ({"title": 5}, "title"),
    ],
    ids=["empty", "blank", "too-long", "control", "bad-priority", "unknown-field", "not-a-string"],
)
def test_bad_bodies_are_422_naming_the_field(api: Api, body: Any, field: str) -> None:
    number = open_ticket(api)
    reply = api.call("PATCH", f"/tickets/{number}", "manager", body=body)
    assert reply.status == 422, reply
    assert reply.body["field"] == field
    assert api.get(f"/tickets/{number}", "manager").body["version"] == 1


def test_a_patch_changing_nothing_is_200_unchanged(api: Api) -> None:
    number = open_ticket(api)
    reply = api.call("PATCH", f"/tickets/{number}", "manager", body={"title": "Imprimante en panne"})
    assert reply.status == 200, reply
    assert reply.headers["ETag"] == '"1"'
    assert [e["action"] for e in history(api, number)] == ["create"]


def test_exported_months_keep_their_title(api: Api, clock: Clock, dynamodb: Any) -> None:
    number = opened_in_september(api, clock)
    assert log(api, number, date="2026-10-05").status == 201
    lock(dynamodb, "2026-10")
    assert api.call("PATCH", f"/tickets/{number}", "l1", body={"title": "VPN"}).status == 200
    assert tasks(api, number) == {
        "2026-10": (f"#{number} - Imprimante en panne - Octobre 2026", 30),
        "2026-11": (f"#{number} - VPN - Novembre 2026", 0),
    }


# ------------------------------------------------------------------ time entries


def test_author_and_manager_change_an_entry_others_are_403(api: Api, clock: Clock) -> None:
    number = opened_in_september(api, clock)
    entry = log(api, number, date="2026-11-02").body
    path = f"/tickets/{number}/time-entries/{entry['id']}"
    assert api.call("PATCH", path, "l1b", body={"minutes": 5}).status == 403
    assert api.call("PATCH", path, "client", body={"minutes": 5}).status == 403
    assert api.call("PATCH", path, "other_client", body={"minutes": 5}).status == 404
    moved = api.call("PATCH", path, "l1", body={"date": "2026-10-31", "minutes": 50})
    assert moved.status == 200, moved
    assert (moved.body["date"], moved.body["month"], moved.body["minutes"]) == (
        "2026-10-31",
        "2026-10",
        50,
    )
    assert {m: n for m, (_t, n) in tasks(api, number).items()} == {"2026-10": 50, "2026-11": 0}
    ticket = api.get(f"/tickets/{number}", "l1")
    assert (ticket.body["time_spent_minutes"], ticket.headers["ETag"]) == (50, '"3"')
    event = history(api, number)[-1]
    assert event["action"] == "time-entry-edited"
    assert {k: event["details"][k] for k in ("entry", "minutes.old", "minutes.new")} == {
        "entry": entry["id"],
        "minutes.old": "30",
        "minutes.new": "50",
    }
    managed = api.call("PATCH", path, "manager", body={"comment": "corrigé"})
    assert managed.status == 200 and managed.body["consultant"] == "cons-l1"
    gone = api.call("DELETE", path, "l1b")
    assert gone.status == 403
    assert api.call("DELETE", path, "manager").status == 204
    assert api.get(f"/tickets/{number}/time-entries", "l1").body["items"] == []
    assert api.get(f"/tickets/{number}", "l1").body["time_spent_minutes"] == 0
    assert history(api, number)[-1]["action"] == "time-entry-deleted"
    assert api.call("DELETE", path, "manager").status == 404


def test_locked_months_are_409_month_locked(api: Api, clock: Clock, dynamodb: Any) -> None:
    number = opened_in_september(api, clock)
    october = log(api, number, date="2026-10-05").body
    november = log(api, number, date="2026-11-02").body
    lock(dynamodb, "2026-10")
    for method, entry, body in (
        ("PATCH", october, {"minutes": 10}),
        ("DELETE", october, None),
        ("PATCH", november, {"date": "2026-10-06"}),  # into the locked month
    ):
        reply = api.call(method, f"/tickets/{number}/time-entries/{entry['id']}", "l1", body=body)
        assert reply.status == 409, reply
        assert (reply.body["type"], reply.body["month"]) == (PROBLEM + "month-locked", "2026-10")
    assert api.get(f"/tickets/{number}", "l1").body["time_spent_minutes"] == 60


def test_on_a_closed_ticket_only_a_manager_touches_time(api: Api, clock: Clock) -> None:
    number = opened_in_september(api, clock)
    entry = log(api, number).body
    close(api, number)
    path = f"/tickets/{number}/time-entries/{entry['id']}"
    for method, body in (("PATCH", {"minutes": 10}), ("DELETE", None)):
        refused = api.call(method, path, "l1", body=body)
        assert refused.status == 409, refused
        assert refused.body["type"] == PROBLEM + "ticket-closed"
    added = log(api, number)
    assert (added.status, added.body["type"]) == (409, PROBLEM + "ticket-closed")
    assert log(api, number, who="manager").status == 201
    assert api.call("PATCH", path, "manager", body={"minutes": 10}).status == 200
    assert api.call("DELETE", path, "manager").status == 204


@pytest.mark.parametrize(
    "day", ["1900-01-01", "0001-01-01", "1999-12-31", "2026-09-09", "2026-11-28"]
)
def test_a_date_before_the_creation_day_or_in_the_future_is_422(
    api: Api, clock: Clock, day: str
) -> None:
    """Created 10 September; today is 27 November (Paris): 9 September and 28 November are out."""
    number = opened_in_september(api, clock)
    refused = log(api, number, date=day)
    assert refused.status == 422, refused
    assert refused.body["field"] == "date"
    entry = log(api, number, date="2026-09-10").body  # the creation day itself is fine
    moved = api.call(
        "PATCH", f"/tickets/{number}/time-entries/{entry['id']}", "l1", body={"date": day}
    )
    assert moved.status == 422, moved
    assert moved.body["field"] == "date"
    assert set(tasks(api, number)) == {"2026-09", "2026-11"}  # no "Décembre 1999" task


def test_an_empty_time_entry_patch_is_422(api: Api, clock: Clock) -> None:
    number = opened_in_september(api, clock)
    entry = log(api, number).body
    path = f"/tickets/{number}/time-entries/{entry['id']}"
    for body in ({}, {"minutes": None}, {"minutes": 0}, {"minutes": "30"}, {"bogus": 1}):
        assert api.call("PATCH", path, "l1", body=body).status == 422, body


# ------------------------------------------------------------------ Idempotency-Key


@pytest.mark.parametrize(
    ("path", "body", "other"),
    [
        ("comments", {"body": "Des nouvelles ?"}, {"body": "Autre chose"}),
        ("time-entries", {"minutes": 30, "kind": "analysis"}, {"minutes": 45}),
    ],
)
def test_the_same_key_and_body_give_the_same_item_once(
    api: Api, clock: Clock, path: str, body: dict[str, Any], other: dict[str, Any]
) -> None:
    number = opened_in_september(api, clock)
    url = f"/tickets/{number}/{path}"
    key = {"Idempotency-Key": "retry-1"}
    first = api.post(url, "l1", body=body, headers=key)
    assert first.status == 201, first
    again = api.post(url, "l1", body=body, headers=key)
    assert (again.status, again.body) == (201, first.body)
    mismatch = api.post(url, "l1", body=other, headers=key)
    assert mismatch.status == 422, mismatch
    assert mismatch.body["field"] == "Idempotency-Key"
    stored = api.get(url, "l1").body["items"]
    assert [item["id"] for item in stored] == [first.body["id"]]
    # Another key, or another caller with the same key, is another request.
    assert api.post(url, "l1", body=body, headers={"Idempotency-Key": "retry-2"}).status == 201
    assert api.post(url, "manager", body=body, headers=key).status == 201
    assert len(api.get(url, "l1").body["items"]) == 3


def test_the_same_key_on_another_ticket_is_another_request(api: Api) -> None:
    first, second = open_ticket(api), open_ticket(api)
    key = {"Idempotency-Key": "k"}
    body = {"body": "Bonjour"}
    assert api.post(f"/tickets/{first}/comments", "client", body=body, headers=key).status == 201
    assert api.post(f"/tickets/{second}/comments", "client", body=body, headers=key).status == 201
    assert len(api.get(f"/tickets/{second}/comments", "client").body["items"]) == 1


def test_a_ticket_replay_still_gives_the_same_ticket(api: Api) -> None:
    body = {"title": "VPN", "type": "assistance"}
    key = {"Idempotency-Key": "create-1"}
    first = api.post("/tickets", "client", body=body, headers=key)
    again = api.post("/tickets", "client", body=body, headers=key)
    assert (first.status, again.status) == (201, 201)
    assert again.body["number"] == first.body["number"]
    assert api.post("/tickets", "client", body={**body, "title": "x"}, headers=key).status == 422
