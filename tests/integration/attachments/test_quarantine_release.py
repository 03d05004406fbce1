"""A quarantined mail released by a manager: its files become attachments of the ticket (or of
the comment) it makes, checked like any upload (DESIGN.md §11, §7)."""

from __future__ import annotations

import base64

import pytest

from helpdesk import bootstrap_mail
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.raw_mail import S3RawMailStore
from helpdesk.attachments import AttachmentService
from helpdesk.domain.mail import MailRouting
from helpdesk.mail_ingest import MailConfig, MailSource
from tests.conftest import Clock
from tests.integration.attachments.conftest import Attachments
from tests.integration.mail.conftest import DOMAIN, INBOUND_BUCKET, mail_ingestion

PDF = b"%PDF-1.7\n" + bytes(40)


def held_mail() -> bytes:
    pdf = base64.b64encode(PDF).decode()
    return (
        "From: someone@unknown.example\r\nTo: support@helpdesk.localhost\r\n"
        "Subject: Facture\r\nMessage-ID: <held-files@unknown.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nCi-joint la facture.\r\n"
        "--b\r\nContent-Type: application/pdf\r\n"
        'Content-Disposition: attachment; filename="facture.pdf"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n--b--\r\n"
    ).encode()


@pytest.mark.parametrize("released_as", ["ticket", "comment"])
def test_a_released_mails_files_become_attachments(
    attachments: Attachments,
    attachment_service: AttachmentService,
    table: Table,
    clock: Clock,
    released_as: str,
) -> None:
    s3 = attachments.s3
    s3.create_bucket(
        Bucket=INBOUND_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    raw = held_mail()
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/held", Body=raw)
    ingestion = mail_ingestion(table, MailConfig(MailRouting(DOMAIN)), s3, clock, None)
    held = ingestion.ingest(raw, MailSource(INBOUND_BUCKET, "inbound/held"))
    assert held.outcome == "quarantined"
    bootstrap_mail.use_quarantine(
        bootstrap_mail.quarantine_over(
            table, S3RawMailStore(s3), clock, attachments=attachment_service
        )
    )
    try:
        if released_as == "ticket":
            body = {"as": "ticket", "org_id": "acme", "type": "assistance"}
        else:
            number = attachments.api.post(
                "/tickets", "client", body={"title": "Facture", "type": "assistance"}
            ).body["number"]
            body = {"as": "comment", "ticket": number}
        release = attachments.api.post(f"/mail/quarantine/{held.sha256}/release", body=body)
        assert release.status == 200, release.body
    finally:
        bootstrap_mail.use_quarantine(None)
    number = release.body["ticket_number"]
    (shown,) = attachments.listed(number, "client")
    assert (shown["filename"], shown["status"], shown["source"], shown["comment_id"]) == (
        "facture.pdf",
        "available",
        "email",
        release.body.get("comment_id"),
    )
