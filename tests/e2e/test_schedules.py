"""The scheduled jobs, replayed "as of" a time through POST /_local/schedules/{name}."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.domain.calendar import iso, parse_instant
from tests.e2e.support import Api, act, create_ticket

pytestmark = pytest.mark.e2e


def _answered_globex_ticket(api: Api, tokens: dict[str, str]) -> dict[str, object]:
    """Globex closes after 3 days: an assistance ticket taken, started and answered."""
    client, l1 = tokens["CLIENT_GLOBEX"], tokens["L1"]
    number = create_ticket(api, client, title="Accès VPN")["number"]
    for action, body in (("take", None), ("start", None), ("send-answer", {"message": "Fait."})):
        reply = act(api, l1, number, action, body)
        assert reply.status == 200, reply.body
    answered: dict[str, object] = reply.json()
    return answered


def test_auto_close_after_x_days_with_the_reason_in_the_history(
    api: Api, tokens: dict[str, str]
) -> None:
    ticket = _answered_globex_ticket(api, tokens)
    number, due = ticket["number"], parse_instant(str(ticket["auto_close_at"]))
    early = api.post("/_local/schedules/auto-close", body={"at": iso(due - timedelta(minutes=1))})
    assert early.status == 200, early.body
    assert number not in early.json()["closed_tickets"]

    run = api.post("/_local/schedules/auto-close", body={"at": iso(due + timedelta(minutes=1))})
    assert run.status == 200, run.body
    assert number in run.json()["closed_tickets"]
    client = tokens["CLIENT_GLOBEX"]
    closed = api.get(f"/tickets/{number}", client).json()
    assert (closed["status"], closed["closure_reason"]) == ("closed", "auto_closed")
    last = api.get(f"/tickets/{number}/history", client).json()["items"][-1]
    assert (last["action"], last["actor"], last["to_status"]) == ("auto-close", "system", "closed")

    replay = api.post("/_local/schedules/auto-close", body={"at": iso(due + timedelta(minutes=1))})
    assert number not in replay.json()["closed_tickets"]


def test_task_rollover_runs_as_of_the_given_time(api: Api, tokens: dict[str, str]) -> None:
    ticket = _answered_globex_ticket(api, tokens)
    run = api.post("/_local/schedules/task-rollover", body={"at": "2099-01-31T23:05:00Z"})
    assert run.status == 200, run.body
    assert run.json()["job"] == "task-rollover" and run.json()["tasks_created"] >= 1
    tasks = api.get(f"/tickets/{ticket['number']}/tasks", tokens["L1"]).json()["items"]
    assert tasks[-1]["title"] == f"#{ticket['number']} - Accès VPN - Février 2099"


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [
        ("nope", {}, 404),
        ("auto-close", {"at": "yesterday"}, 422),
        ("auto-close", [1], 422),
        # DESIGN.md §7: schedule times outside the years 2000-2999 are 422 (a 500 before).
        ("auto-close", {"at": "9999-12-31T23:59:59Z"}, 422),
        ("task-rollover", {"at": "1969-12-31T23:00:00Z"}, 422),
        ("billing-export", {"at": "3000-01-01T00:00:00Z"}, 422),
    ],
)
def test_schedule_helper_rejects_bad_calls(
    api: Api, name: str, body: object, status: int
) -> None:
    reply = api.post(f"/_local/schedules/{name}", body=body)
    assert reply.status == status
    assert reply.content_type.startswith("application/problem+json")
