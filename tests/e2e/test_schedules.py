"""The scheduled jobs, replayed "as of" a time through POST /_local/schedules/{name}."""

from __future__ import annotations

import time
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


def test_sla_watch_marks_a_missed_clock_and_its_mail_goes_out_once(
    api: Api, tokens: dict[str, str]
) -> None:
    """DESIGN.md §10: a ticket nobody took for a month of business days has missed both of
    its clocks; the replayed schedule marks them, and the managers (the seeded `maxime`) and
    the level's consultants are mailed once per clock."""
    ticket = create_ticket(api, tokens["CLIENT_ACME"], title="Serveur de fichiers")
    number = ticket["number"]
    sla = ticket["sla"]
    assert sla["take"]["state"] == "running" and sla["take"]["target_minutes"] == 240
    at = iso(parse_instant(str(ticket["created_at"])) + timedelta(days=40))
    run = api.post("/_local/schedules/sla-watch", body={"at": at})
    assert run.status == 200, run.body
    assert run.json()["job"] == "sla-watch" and number in run.json()["marked_tickets"]
    assert run.json()["sla_missed"] >= 2
    replay = api.post("/_local/schedules/sla-watch", body={"at": at})
    assert replay.status == 200 and number not in replay.json()["marked_tickets"]

    wanted = {
        f"[#{number}] Délai de prise en charge dépassé : Serveur de fichiers",
        f"[#{number}] Délai de réponse dépassé : Serveur de fichiers",
    }
    # In a whole e2e session the watch also marks every earlier ticket still running at `at`:
    # their mails queue ahead of these ones.
    deadline = time.monotonic() + 240
    while True:
        sent = [m for m in api.get("/_local/outbox").json()["items"] if m["subject"] in wanted]
        if len(sent) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sorted(m["subject"] for m in sent) == sorted(wanted)  # once each
    for mail in sent:
        assert "maxime@helpdesk.test" in str(mail["to"])
