"""The billing routes: generate, read with links, unlock; a locked month refuses time (409)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3

from helpdesk.domain.billing import sha256_hex
from tests.conftest import REGION, TABLE_NAME, Clock
from tests.integration.api.conftest import Api
from tests.integration.billing_support import BUCKET, csv_rows

MONTH = "2026-10"  # the clock is 2026-11-27: October has ended


def _october_time(api: Api) -> int:
    # Opened in October: time is logged from the ticket's creation day on (DESIGN.md §7).
    clock = api.module.get_service().clock
    now, clock.now = clock.now, datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    number = int(api.post("/tickets", "client", body={"title": "VPN", "type": "assistance"})
                 .body["number"])
    clock.now = now
    assert api.act(number, "take", "l1").status == 200
    logged = api.post(f"/tickets/{number}/time-entries", "l1",
                      body={"minutes": 90, "date": "2026-10-30", "kind": "analysis"})
    assert logged.status == 201, logged
    return number


def _download(url: str) -> bytes:
    """What the presigned link points at (moto's S3 here: the signature is not checked)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["300"]  # links last 5 minutes
    bucket, key = parts.path.lstrip("/").split("/", 1) if parts.netloc.startswith("s3.") else (
        parts.netloc.split(".")[0], parts.path.lstrip("/"))
    assert bucket == BUCKET
    s3 = boto3.client("s3", region_name=REGION)
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if "versionId" in query:
        kwargs["VersionId"] = query["versionId"][0]
    body: bytes = s3.get_object(**kwargs)["Body"].read()
    return body


def test_finance_generates_then_reads_the_export_with_links(api: Api) -> None:
    number = _october_time(api)
    assert api.get(f"/billing/exports/{MONTH}", "finance").status == 404
    created = api.post(f"/billing/exports/{MONTH}", "finance")
    assert created.status == 201, created
    manifest = created.body
    assert manifest["month"] == MONTH and manifest["generated_at"] == "2026-11-27T09:00:00Z"
    assert manifest["totals"] == {"minutes": 90, "hours": "1.50", "time_amount": "135.00",
                                  "quote_amount": "0.00", "amount": "135.00"}
    for entry in manifest["files"]:
        data = _download(entry["url"])
        assert (len(data), sha256_hex(data)) == (entry["size"], entry["sha256"])
    csv_file = next(f for f in manifest["files"] if f["name"].endswith(".csv"))
    rows = csv_rows(_download(csv_file["url"]))
    assert [(r["ticket_number"], r["consultant"], r["amount"]) for r in rows] == [
        (str(number), "cons-l1", "135.00")
    ]

    read = api.get(f"/billing/exports/{MONTH}", "manager")
    assert read.status == 200
    again = api.post(f"/billing/exports/{MONTH}", "manager")
    assert again.status == 200
    strip = lambda m: {k: v for k, v in m.items() if k != "files"}  # noqa: E731
    assert strip(again.body) == strip(read.body) == strip(manifest)
    assert [f["sha256"] for f in again.body["files"]] == [f["sha256"] for f in manifest["files"]]


def test_a_time_entry_into_the_exported_month_is_409_naming_the_lock(
    api: Api, dynamodb: Any
) -> None:
    number = _october_time(api)
    assert api.post(f"/billing/exports/{MONTH}", "finance").status == 201
    before = sorted(dynamodb.scan(TableName=TABLE_NAME)["Items"], key=repr)
    late = api.post(f"/tickets/{number}/time-entries", "l1",
                    body={"minutes": 15, "date": "2026-10-31"})
    assert late.status == 409
    assert late.content_type == "application/problem+json"
    assert late.body["type"] == "urn:helpdesk:problem:month-locked"
    assert late.body["month"] == MONTH and MONTH in late.body["detail"]
    assert sorted(dynamodb.scan(TableName=TABLE_NAME)["Items"], key=repr) == before
    assert api.post(f"/tickets/{number}/time-entries", "l1", body={"minutes": 15}).status == 201


def test_manager_unlocks_with_a_reason_then_regenerates(api: Api) -> None:
    number = _october_time(api)
    first = api.post(f"/billing/exports/{MONTH}", "finance").body
    assert api.post(f"/billing/exports/{MONTH}/unlock", "finance",
                    body={"reason": "x"}).status == 403
    assert api.post(f"/billing/exports/{MONTH}/unlock", "manager", body={}).status == 422
    unlocked = api.post(f"/billing/exports/{MONTH}/unlock", "manager",
                        body={"reason": "Temps oublié"})
    assert unlocked.status == 200, unlocked
    assert (unlocked.body["unlocked_by"], unlocked.body["reason"]) == ("manager-1", "Temps oublié")
    assert api.get(f"/billing/exports/{MONTH}", "finance").status == 404
    assert api.post(f"/tickets/{number}/time-entries", "l1",
                    body={"minutes": 30, "date": "2026-10-31"}).status == 201
    second = api.post(f"/billing/exports/{MONTH}", "manager")
    assert second.status == 201
    assert second.body["totals"]["minutes"] == 120
    assert second.body["export_id"] != first["export_id"]
    assert api.post(f"/billing/exports/{MONTH}/unlock", "manager",
                    body={"reason": "encore"}).status == 200
    assert api.post(f"/billing/exports/{MONTH}/unlock", "manager",
                    body={"reason": "encore"}).status == 409  # not locked any more


def test_only_a_month_that_has_ended_and_a_month_at_all(api: Api, clock: Clock) -> None:
    current = api.post("/billing/exports/2026-11", "finance")
    assert current.status == 422 and current.body["field"] == "month"
    assert api.post("/billing/exports/2026-1x", "finance").status == 422
    assert api.get("/billing/exports/2026-13", "manager").status == 422
