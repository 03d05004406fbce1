"""The local SMTP server: mail for helpdesk.localhost goes to the inbound bucket, then on."""

from __future__ import annotations

import smtplib
import socket
import threading
from email.message import EmailMessage
from typing import Any

import pytest

from helpdesk.mail_ingest import IngestResult, MailIngestion, MailSource
from infra.localstack.smtp import start_smtp
from tests.integration.mail.conftest import INBOUND_BUCKET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_smtp_stores_the_message_then_hands_it_to_the_ingestion(
    ingestion: MailIngestion, s3: Any
) -> None:
    results: list[IngestResult] = []
    lock = threading.Lock()

    def on_stored(bucket: str, key: str) -> None:
        raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        with lock:
            results.append(ingestion.ingest(raw, MailSource(bucket, key)))

    port = free_port()
    stop = start_smtp("127.0.0.1", port, INBOUND_BUCKET, on_stored, s3=s3)
    try:
        message = EmailMessage()
        message["From"] = "Fabrice <fabrice@acme.example>"
        message["To"] = "someone@acme.example"
        message["Subject"] = "Imprimante en panne"
        message.set_content("L'imprimante du 2e étage ne répond plus.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            # Bcc: in the envelope only, seen through the Delivered-To the server adds.
            refused = client.send_message(
                message, to_addrs=["incident@helpdesk.localhost", "x@elsewhere.example"]
            )
            assert list(refused) == ["x@elsewhere.example"]
            assert refused["x@elsewhere.example"][0] == 550
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.send_message(message, to_addrs=["x@elsewhere.example"])
    finally:
        stop()
    [result] = results
    assert result.outcome == "ticket_created", result
    ticket = ingestion.unit_of_work().tickets.get(result.ticket_number or 0)
    assert (ticket.type.value, ticket.org_id) == ("incident", "acme")
    assert ticket.description == "L'imprimante du 2e étage ne répond plus."
    [stored] = s3.list_objects_v2(Bucket=INBOUND_BUCKET, Prefix="inbound/")["Contents"]
    raw = s3.get_object(Bucket=INBOUND_BUCKET, Key=stored["Key"])["Body"].read()
    assert raw.startswith(b"Return-Path: <fabrice@acme.example>\r\nDelivered-To: incident@")
