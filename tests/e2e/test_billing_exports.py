"""Billing exports over HTTP: the month's export (made by the scheduled job replayed as of the
1st of the next month, since time can only be logged from a ticket's creation day), finance
downloads the CSV through the link it was given (served by this machine) and checks it against
the manifest; the month is then locked, until a manager unlocks it."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from helpdesk.domain.calendar import month_bounds, paris_date, paris_month
from tests.e2e.support import Api, act, create_ticket

pytestmark = pytest.mark.e2e


def _download(url: str) -> tuple[int, bytes]:
    parts = urlsplit(url)
    assert (parts.hostname, parts.path.split("/")[1]) == ("127.0.0.1", "_local"), url
    reply = Api(f"{parts.scheme}://{parts.netloc}").get(f"{parts.path}?{parts.query}")
    return reply.status, reply.body


def test_the_months_export_downloads_and_locks_the_month_until_unlocked(
    api: Api, tokens: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    month = paris_month(now)
    today = paris_date(now).isoformat()
    client, l1, finance = tokens["CLIENT_ACME"], tokens["L1"], tokens["FINANCE"]
    number = create_ticket(api, client, title="Export du mois")["number"]
    assert act(api, l1, number, "take").status == 200
    logged = api.post(
        f"/tickets/{number}/time-entries", l1, {"minutes": 90, "date": today, "kind": "analysis"}
    )
    assert logged.status == 201, logged.body

    assert api.get(f"/billing/exports/{month}", finance).status == 404
    assert api.post(f"/billing/exports/{month}", client).status == 403
    # The month has not ended: finance cannot export it yet (422 naming the month).
    early = api.post(f"/billing/exports/{month}", finance)
    assert (early.status, early.json()["field"]) == (422, "month")
    # The schedule, replayed as of the 1st of the next month, exports it.
    next_month_start = month_bounds(month)[1]
    at = {"at": (next_month_start + timedelta(hours=1)).isoformat()}
    run = api.post("/_local/schedules/billing-export", body=at)
    try:
        assert (run.status, run.json()["month"], run.json()["outcome"]) == (200, month, "exported")
        _check_export(api, tokens, month, number, today, at)
    finally:
        # A manager unlocks it: the other tests of this stack log time today.
        unlocked = api.post(
            f"/billing/exports/{month}/unlock", tokens["MANAGER"], {"reason": "fin du test"}
        )
    assert unlocked.status == 200, unlocked.body
    again_logged = api.post(f"/tickets/{number}/time-entries", l1, {"minutes": 5, "date": today})
    assert again_logged.status == 201, again_logged.body


def _check_export(
    api: Api, tokens: dict[str, str], month: str, number: int, today: str, at: dict[str, str]
) -> None:
    finance, l1 = tokens["FINANCE"], tokens["L1"]
    created = api.get(f"/billing/exports/{month}", finance)
    assert created.status == 200, created.body
    manifest = created.json()
    assert manifest["month"] == month and manifest["schema_version"] == 1

    by_name = {f["name"]: f for f in manifest["files"]}
    csv_file = by_name[f"billing-{month}.csv"]
    status, data = _download(csv_file["url"])
    assert status == 200
    assert (len(data), hashlib.sha256(data).hexdigest()) == (csv_file["size"], csv_file["sha256"])
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    mine = [r for r in rows if r["ticket_number"] == str(number)]
    assert [(r["consultant"], r["minutes"], r["hours"], r["rate"], r["amount"]) for r in mine] == [
        ("lea", "90", "1.50", "90.00", "135.00")
    ]
    xlsx = by_name[f"billing-{month}.xlsx"]
    status, book = _download(xlsx["url"])
    assert status == 200 and hashlib.sha256(book).hexdigest() == xlsx["sha256"]

    # A tampered link is refused; the schedule replayed finds the same export.
    assert _download(csv_file["url"].replace("X-Amz-Expires=300", "X-Amz-Expires=0"))[0] == 403
    replay = api.post("/_local/schedules/billing-export", body=at)
    assert (replay.json()["outcome"], replay.json()["export_id"]) == (
        "already_exported",
        manifest["export_id"],
    )
    read = api.get(f"/billing/exports/{month}", finance)
    assert read.status == 200
    assert {k: v for k, v in read.json().items() if k != "files"} == {
        k: v for k, v in manifest.items() if k != "files"
    }

    late = api.post(f"/tickets/{number}/time-entries", l1, {"minutes": 5, "date": today})
    assert late.status == 409
    assert late.content_type == "application/problem+json"
    assert late.json()["month"] == month and month in late.json()["detail"]



def test_the_schedule_exports_the_month_before_its_time(api: Api, tokens: dict[str, str]) -> None:
    at = {"at": "2026-01-01T01:00:00Z"}  # 02:00 in Paris on January 1st: December 2025
    run = api.post("/_local/schedules/billing-export", body=at)
    assert run.status == 200, run.body
    assert (run.json()["job"], run.json()["month"], run.json()["outcome"]) == (
        "billing-export", "2025-12", "exported"
    )
    replay = api.post("/_local/schedules/billing-export", body=at)
    assert (replay.json()["outcome"], replay.json()["export_id"]) == (
        "already_exported", run.json()["export_id"]
    )
    read = api.get("/billing/exports/2025-12", tokens["FINANCE"])
    assert read.status == 200 and read.json()["export_id"] == run.json()["export_id"]
    assert api.get("/billing/exports/2025-12", tokens["L2"]).status == 403
