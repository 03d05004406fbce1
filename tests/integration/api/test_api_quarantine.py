"""`GET /mail/quarantine` and `POST /mail/quarantine/{id}/release` through the handler:
managers only, bad bodies 422 naming the field, the answers' shapes (DESIGN.md §7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from helpdesk import bootstrap_mail
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.raw_mail import S3RawMailStore
from helpdesk.domain.mail import MailRouting
from helpdesk.mail_ingest import MailConfig, MailSource
from tests.conftest import REGION, Clock
from tests.integration.api.conftest import Api
from tests.integration.mail.conftest import DOMAIN, INBOUND_BUCKET, corpus, mail_ingestion

ZERO_ID = "0" * 64


@pytest.fixture
def held(api: Api, table: Table, clock: Clock) -> Iterator[str]:
    """unknown_sender.eml, quarantined by the ingestion; the API's quarantine over moto."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(
        Bucket=INBOUND_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    raw = corpus("unknown_sender.eml")
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/held", Body=raw)
    ingestion = mail_ingestion(table, MailConfig(MailRouting(DOMAIN)), s3, clock, None)
    result = ingestion.ingest(raw, MailSource(INBOUND_BUCKET, "inbound/held"))
    assert result.outcome == "quarantined"
    bootstrap_mail.use_quarantine(bootstrap_mail.quarantine_over(table, S3RawMailStore(s3), clock))
    yield result.sha256
    bootstrap_mail.use_quarantine(None)


@pytest.mark.parametrize("who", ["l1", "l3", "client", "finance"])
def test_only_managers_reach_the_quarantine(api: Api, held: str, who: str) -> None:
    assert api.get("/mail/quarantine", who).status == 403
    body = {"as": "ticket", "org_id": "acme", "type": "assistance"}
    assert api.post(f"/mail/quarantine/{held}/release", who, body=body).status == 403
    assert api.get("/mail/quarantine").body["items"][0]["id"] == held  # still held


def test_a_manager_lists_and_releases(api: Api, held: str) -> None:
    listed = api.get("/mail/quarantine", query={"limit": "10"})
    assert listed.status == 200
    [item] = listed.body["items"]
    assert {k: v for k, v in item.items() if k != "url"} == {
        "id": held,
        "received_at": "2026-11-27T09:00:00Z",
        "from": "someone@unknown.example",
        "to": ["support@helpdesk.localhost"],
        "subject": "Hello",
        "reason": "unknown_sender",
        "detail": "no organisation owns the domain of someone@unknown.example",
        "size": len(corpus("unknown_sender.eml")),
        "message_id": "unknown-1@unknown.example",
        "defects": None,
    }
    assert INBOUND_BUCKET in item["url"] and "inbound/held" in item["url"]
    assert listed.body["next_cursor"] is None
    body = {"as": "ticket", "org_id": "acme", "type": "assistance"}
    released = api.post(f"/mail/quarantine/{held}/release", body=body)
    assert released.status == 200, released.body
    assert released.body == {
        "id": held,
        "outcome": "released",
        "released_as": "ticket",
        "ticket_number": 1,
        "comment_id": None,
        "released_by": "manager-1",
        "released_at": "2026-11-27T09:00:00Z",
    }
    ticket = api.get("/tickets/1").body
    assert (ticket["title"], ticket["requester"], ticket["org_id"]) == (
        "Hello",
        "mail:someone@unknown.example",
        "acme",
    )
    again = api.post(f"/mail/quarantine/{held}/release", body=body)
    assert again.status == 409
    assert api.get("/mail/quarantine").body["items"] == []


def test_a_broken_mail_held_shows_its_defects(
    api: Api, held: str, table: Table, clock: Clock
) -> None:
    """A mail of broken structure from an unknown sender: held, with what was wrong."""
    s3 = boto3.client("s3", region_name=REGION)
    raw = corpus("salvage_alternative_no_boundary.eml").replace(
        b"fabrice@acme.example", b"someone@unknown.example"
    )
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/broken", Body=raw)
    ingestion = mail_ingestion(table, MailConfig(MailRouting(DOMAIN)), s3, clock, None)
    result = ingestion.ingest(raw, MailSource(INBOUND_BUCKET, "inbound/broken"))
    assert (result.outcome, result.reason) == ("quarantined", "unknown_sender")
    items = api.get("/mail/quarantine").body["items"]
    broken = next(i for i in items if i["id"] == result.sha256)
    assert broken["defects"] == (
        "MultipartInvariantViolationDefect, NoBoundaryInMultipartDefect; "
        "salvaged: the first text part"
    )


def test_unknown_ids_are_404(api: Api, held: str) -> None:
    body = {"as": "comment", "ticket": 1}
    assert api.post(f"/mail/quarantine/{ZERO_ID}/release", body=body).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "as"),
        ({"as": "spam"}, "as"),
        ({"as": "ticket", "type": "assistance"}, "org_id"),
        ({"as": "ticket", "org_id": "acme"}, "type"),
        ({"as": "ticket", "org_id": "acme", "type": "bug"}, "type"),
        ({"as": "ticket", "org_id": "nobody", "type": "assistance"}, "org_id"),
        ({"as": "ticket", "org_id": "acme", "type": "assistance", "ticket": 1}, "ticket"),
        ({"as": "comment"}, "ticket"),
        ({"as": "comment", "ticket": "1"}, "ticket"),
        ({"as": "comment", "ticket": True}, "ticket"),
        ({"as": "comment", "ticket": 0}, "ticket"),
        ({"as": "comment", "ticket": 99}, "ticket"),
        ({"as": "comment", "ticket": 10**30}, "ticket"),
        ({"as": "comment", "ticket": None}, "ticket"),
        ({"as": "comment", "ticket": 1, "org_id": "acme"}, "org_id"),
        ({"as": "comment", "ticket": 1, "note": "x"}, "note"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(
    api: Api, held: str, body: dict[str, Any], field: str
) -> None:
    reply = api.post(f"/mail/quarantine/{held}/release", body=body)
    assert reply.status == 422, reply.body
    assert reply.body["field"] == field, reply.body
    assert api.get("/mail/quarantine").body["items"][0]["id"] == held  # nothing released


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/mail/quarantine", {"limit": "0"}, "limit"),
        ("/mail/quarantine", {"limit": "101"}, "limit"),
        ("/mail/quarantine", {"cursor": "garbage"}, "cursor"),
    ],
)
def test_bad_list_parameters_are_422(
    api: Api, held: str, path: str, query: dict[str, str], field: str
) -> None:
    reply = api.get(path, query=query)
    assert (reply.status, reply.body["field"]) == (422, field)


def test_an_id_that_is_not_a_sha256_is_422(api: Api, held: str) -> None:
    reply = api.post("/mail/quarantine/not-a-hash/release", body={"as": "comment", "ticket": 1})
    assert (reply.status, reply.body["field"]) == (422, "id")
