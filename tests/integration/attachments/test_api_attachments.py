"""Attachments end to end over moto (DESIGN.md §11): announce through the API handler, POST the
file as a browser does (the local S3 emulation checks the policy as S3 does), the check
function's handler on the bucket's event, then list and read.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from helpdesk.adapters.dynamodb.toolkit import Table
from tests.integration.attachments.conftest import BUCKET, Attachments
from tests.integration.store_support import outbox_items
from tests.unit.test_attachments import ALLOWED_SAMPLES, PNG, WINDOWS_EXE

TICKET = {"title": "L'export plante", "description": "Capture jointe", "type": "assistance"}
MIB = 1024 * 1024


def open_ticket(attachments: Attachments, who: str = "client") -> int:
    body = TICKET if who in ("client", "other_client") else {**TICKET, "org_id": "acme"}
    reply = attachments.api.post("/tickets", who, body=body)
    assert reply.status == 201, reply.body
    return int(reply.body["number"])


def record_count(attachments: Attachments, number: int) -> int:
    return len(attachments.listed(number, "manager"))


def ticket(attachments: Attachments, number: int, who: str = "client") -> dict[str, Any]:
    reply = attachments.api.get(f"/tickets/{number}", who)
    assert reply.status == 200
    return dict(reply.body)


@pytest.mark.parametrize(("content_type", "data"), ALLOWED_SAMPLES)
def test_each_allowed_type_becomes_available(
    attachments: Attachments, content_type: str, data: bytes
) -> None:
    number = open_ticket(attachments)
    attachment_id = attachments.upload(number, data, filename="fichier", content_type=content_type)
    shown = attachments.get(number, attachment_id).body
    assert shown["status"] == "available"
    assert shown["content_type"] == content_type
    assert shown["sha256"] == hashlib.sha256(data).hexdigest()
    assert (shown["size"], shown["source"], shown["uploaded_by"]) == (
        len(data),
        "api",
        "client-acme",
    )
    assert shown["url"] is not None
    assert ticket(attachments, number)["attachments_count"] == 1


def test_the_announcement_is_a_presigned_post_bound_to_key_size_and_type(
    attachments: Attachments,
) -> None:
    number = open_ticket(attachments)
    reply = attachments.announce(number, filename="../../etc/écran.png", size=1234)
    assert reply.status == 201
    assert set(reply.body) == {"id", "upload", "expires_at"}
    fields = reply.body["upload"]["fields"]
    assert fields["key"] == f"tickets/{number}/attachments/{reply.body['id']}"
    assert "écran" not in fields["key"] and ".." not in fields["key"]
    assert fields["Content-Type"] == "image/png"
    assert reply.body["expires_at"] == "2026-11-27T09:15:00Z"  # 15 minutes, the test's clock
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1234, 1234] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"]
    shown = attachments.get(number, reply.body["id"]).body
    assert (shown["filename"], shown["status"], shown["url"]) == ("écran.png", "pending", None)


def test_the_upload_refuses_another_size_than_announced(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    announced = attachments.announce(number, size=len(PNG)).body
    too_large = attachments.post_form(announced["upload"], PNG + b"x")
    assert too_large.status == 400 and b"EntityTooLarge" in too_large.body
    too_small = attachments.post_form(announced["upload"], PNG[:-1])
    assert too_small.status == 400 and b"EntityTooSmall" in too_small.body
    assert too_large.events == too_small.events == []  # nothing stored, nothing checked
    assert attachments.get(number, announced["id"]).body["status"] == "pending"
    listed = attachments.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"tickets/{number}/")
    assert listed["KeyCount"] == 0


@pytest.mark.parametrize(
    "override",
    [
        {"key": "tickets/1/attachments/other"},
        {"Content-Type": "text/html"},
        {"x-amz-signature": "0" * 64},
        {"success_action_redirect": "https://evil.example/"},
    ],
)
def test_a_tampered_form_is_refused(attachments: Attachments, override: dict[str, str]) -> None:
    number = open_ticket(attachments)
    announced = attachments.announce(number, size=len(PNG)).body
    refused = attachments.post_form(announced["upload"], PNG, override=override)
    assert refused.status == 403, refused.body
    assert refused.events == []


def test_a_size_other_than_announced_is_rejected_by_the_check(attachments: Attachments) -> None:
    # S3 enforces the policy; were it bypassed (moto does not enforce it), the check refuses.
    number = open_ticket(attachments)
    announced = attachments.announce(number, size=len(PNG) + 5).body
    key = announced["upload"]["fields"]["key"]
    attachments.s3.put_object(Bucket=BUCKET, Key=key, Body=PNG, ContentType="image/png")
    attachments.deliver(object_created(key))
    shown = attachments.get(number, announced["id"]).body
    assert (shown["status"], shown["reason"], shown["url"]) == ("rejected", "size_mismatch", None)


def test_a_png_that_is_an_executable_is_rejected_and_deleted(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    attachment_id = attachments.upload(number, WINDOWS_EXE, filename="capture.png")
    shown = attachments.get(number, attachment_id).body
    assert (shown["status"], shown["reason"], shown["url"]) == ("rejected", "type_mismatch", None)
    assert shown["detail"] == "The content is an executable, not image/png."
    key = f"tickets/{number}/attachments/{attachment_id}"
    listed = attachments.s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
    assert listed["KeyCount"] == 0  # deleted (its bytes a noncurrent version, for 30 days)
    assert ticket(attachments, number)["attachments_count"] == 0


def test_an_empty_file(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    refused = attachments.announce(number, size=0)
    assert (refused.status, refused.body["field"]) == (422, "size")
    announced = attachments.announce(number, size=1).body
    key = announced["upload"]["fields"]["key"]
    attachments.s3.put_object(Bucket=BUCKET, Key=key, Body=b"")
    attachments.deliver(object_created(key))
    shown = attachments.get(number, announced["id"]).body
    assert (shown["status"], shown["reason"]) == ("rejected", "empty")


def test_ten_mebibytes_and_one_byte_is_422(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    refused = attachments.announce(number, size=10 * MIB + 1)
    assert (refused.status, refused.body["field"]) == (422, "size")
    assert attachments.announce(number, size=10 * MIB).status == 201


def test_ten_mebibytes_upload_and_check(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    data = PNG + b"\x00" * (10 * MIB - len(PNG))
    attachment_id = attachments.upload(number, data)
    shown = attachments.get(number, attachment_id).body
    assert (shown["status"], shown["size"]) == ("available", 10 * MIB)
    assert shown["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\fabrice\\capture.png", "capture.png"),
        ("cap\x00ture\x1b.png", "capture.png"),
        ("facture\u202egnp.exe", "facturegnp.exe"),
    ],
)
def test_file_names_are_sanitised_never_keys(
    attachments: Attachments, filename: str, shown: str
) -> None:
    number = open_ticket(attachments)
    reply = attachments.announce(number, filename=filename)
    assert reply.status == 201, reply.body
    assert reply.body["upload"]["fields"]["key"] == (
        f"tickets/{number}/attachments/{reply.body['id']}"
    )
    assert attachments.get(number, reply.body["id"]).body["filename"] == shown


@pytest.mark.parametrize("filename", ["x" * 296 + ".png", "", "../", "\x00\x01"])
def test_a_name_too_long_or_naming_nothing_is_422(attachments: Attachments, filename: str) -> None:
    number = open_ticket(attachments)
    reply = attachments.announce(number, filename=filename)
    assert (reply.status, reply.body["field"]) == (422, "filename")


@pytest.mark.parametrize("content_type", ["image/svg+xml", "text/html", "application/x-msdownload"])
def test_types_we_do_not_accept_are_422(attachments: Attachments, content_type: str) -> None:
    number = open_ticket(attachments)
    reply = attachments.announce(number, content_type=content_type)
    assert (reply.status, reply.body["field"]) == (422, "content_type")


def test_another_organisations_ticket_is_404(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    attachment_id = attachments.upload(number, PNG)
    assert attachments.announce(number, "other_client").status == 404
    assert attachments.api.get(f"/tickets/{number}/attachments", "other_client").status == 404
    assert attachments.get(number, attachment_id, "other_client").status == 404
    assert attachments.announce(999, "client").status == 404


def test_internal_attachments_are_invisible_to_clients(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    public = attachments.upload(number, PNG, "l1", filename="public.png")
    internal = attachments.upload(number, PNG, "l1", filename="notes.png", internal=True)
    assert attachments.get(number, internal, "client").status == 404
    assert attachments.get(number, internal, "l1").body["internal"] is True
    assert [a["id"] for a in attachments.listed(number, "client")] == [public]
    assert [a["id"] for a in attachments.listed(number, "manager")] == [public, internal]
    assert ticket(attachments, number, "client")["attachments_count"] == 1
    assert ticket(attachments, number, "l1")["attachments_count"] == 2
    listed = attachments.api.get("/tickets", "client").body["items"]
    assert [t["attachments_count"] for t in listed if t["number"] == number] == [1]


def test_a_client_may_not_attach_an_internal_file(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    reply = attachments.announce(number, internal=True)
    assert (reply.status, reply.body["field"]) == (422, "internal")
    assert attachments.announce(number, "finance").status == 403


def test_a_replayed_announcement_is_one_attachment(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    key = {"Idempotency-Key": "upload-1"}
    body = {"filename": "a.png", "content_type": "image/png", "size": len(PNG)}
    first = attachments.api.post(f"/tickets/{number}/attachments", body=body, headers=key)
    again = attachments.api.post(f"/tickets/{number}/attachments", body=body, headers=key)
    assert first.status == again.status == 201
    assert first.body == again.body
    other = attachments.api.post(
        f"/tickets/{number}/attachments", body={**body, "filename": "b.png"}, headers=key
    )
    assert other.status == 422
    assert record_count(attachments, number) == 1
    # The same form used twice: one attachment, decided once.
    attachments.post_form(first.body["upload"], PNG)
    attachments.post_form(first.body["upload"], PNG)
    assert record_count(attachments, number) == 1
    assert ticket(attachments, number, "manager")["attachments_count"] == 1


def test_the_event_delivered_three_times_is_one_record_one_transition(
    attachments: Attachments,
) -> None:
    number = open_ticket(attachments)
    attachment_id = attachments.upload(number, PNG)
    (event,) = attachments.events
    first = attachments.get(number, attachment_id).body
    replies = [attachments.deliver(copy.deepcopy(event)) for _ in range(2)]
    assert [r["results"][0]["changed"] for r in replies] == [False, False]
    after = attachments.get(number, attachment_id).body
    assert {**after, "url": None} == {**first, "url": None}  # links are signed anew each time
    assert record_count(attachments, number) == 1
    assert ticket(attachments, number)["attachments_count"] == 1


def test_bytes_sent_again_after_the_check_are_never_served(attachments: Attachments) -> None:
    number = open_ticket(attachments)
    announced = attachments.announce(number, size=len(PNG)).body
    attachments.post_form(announced["upload"], PNG)
    checked = attachments.get(number, announced["id"]).body
    evil = WINDOWS_EXE[: len(PNG)].ljust(len(PNG), b"\x00")
    attachments.post_form(announced["upload"], evil)  # the form is still valid
    shown = attachments.get(number, announced["id"]).body
    assert shown["sha256"] == checked["sha256"] == hashlib.sha256(PNG).hexdigest()
    version = parse_qs(urlsplit(shown["url"]).query)["versionId"][0]
    stored = attachments.s3.get_object(
        Bucket=BUCKET, Key=announced["upload"]["fields"]["key"], VersionId=version
    )
    assert stored["Body"].read() == PNG  # the link names the version that was checked


def test_the_download_link_is_a_five_minute_attachment_of_the_sniffed_type(
    attachments: Attachments,
) -> None:
    number = open_ticket(attachments)
    attachment_id = attachments.upload(number, PNG, filename='écran "1".png')
    url = attachments.get(number, attachment_id).body["url"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-type"] == ["image/png"]
    assert query["response-content-disposition"] == [
        "attachment; filename=\"ecran _1_.png\"; filename*=UTF-8''%C3%A9cran%20%221%22.png"
    ]


def test_with_malware_scanning_only_a_clean_file_becomes_available(
    attachments: Attachments,
) -> None:
    attachments.service.scanning = True
    number = open_ticket(attachments)
    clean = attachments.upload(number, PNG, filename="clean.png")
    infected = attachments.upload(number, PNG, filename="infected.png")
    assert attachments.get(number, clean).body["status"] == "pending"  # the scan is to come
    attachments.deliver(scan_result(f"tickets/{number}/attachments/{clean}", "NO_THREATS_FOUND"))
    attachments.deliver(scan_result(f"tickets/{number}/attachments/{infected}", "THREATS_FOUND"))
    assert attachments.get(number, clean).body["status"] == "available"
    shown = attachments.get(number, infected).body
    assert (shown["status"], shown["reason"]) == ("rejected", "malware")
    assert ticket(attachments, number)["attachments_count"] == 1


def test_with_malware_scanning_a_tag_already_there_is_read(attachments: Attachments) -> None:
    attachments.service.scanning = True
    number = open_ticket(attachments)
    announced = attachments.announce(number, size=len(PNG)).body
    key = announced["upload"]["fields"]["key"]
    attachments.s3.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=PNG,
        Tagging="GuardDutyMalwareScanStatus=NO_THREATS_FOUND",
    )
    attachments.deliver(object_created(key))
    assert attachments.get(number, announced["id"]).body["status"] == "available"


def test_events_of_other_keys_change_nothing(attachments: Attachments) -> None:
    attachments.s3.put_object(Bucket=BUCKET, Key="tickets/1/attachments/unknown", Body=PNG)
    reply = attachments.deliver(object_created("tickets/1/attachments/unknown"))
    assert reply["results"][0]["changed"] is False
    reply = attachments.deliver(object_created("attachments/1/abc/x.png"))
    assert reply["results"][0]["changed"] is False
    with pytest.raises(ValueError, match="not an S3 or GuardDuty event"):
        attachments.deliver({"detail": {}})


def object_created(key: str) -> dict[str, Any]:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}},
    }


def scan_result(key: str, status: str) -> dict[str, Any]:
    return {
        "source": "aws.guardduty",
        "detail-type": "GuardDuty Malware Protection Object Scan Result",
        "detail": {
            "s3ObjectDetails": {"bucketName": BUCKET, "objectKey": key},
            "scanResultDetails": {"scanResultStatus": status},
        },
    }


def test_a_client_file_is_mailed_to_staff_once_by_name(
    attachments: Attachments, table: Table
) -> None:
    number = open_ticket(attachments)
    attachment_id = attachments.upload(number, PNG, filename="écran.png")
    for event in attachments.events * 2:  # delivered again: no second mail
        attachments.deliver(copy.deepcopy(event))
    mails = [
        item
        for item in outbox_items(table.client, number)
        if item.get("kind") == f"staff_client_attachment_{attachment_id}"
    ]
    assert len(mails) == 1
    assert "« écran.png »" in mails[0]["body"]
    assert mails[0]["to_level"] == 1  # nobody holds the ticket yet: its level
