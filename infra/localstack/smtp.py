"""The local stand-in for SES receiving: an SMTP server on 127.0.0.1:SMTP_PORT.

It accepts mail for one domain (`helpdesk.localhost`; other recipients get 550), stores each
message's raw bytes in the inbound bucket (`inbound/<uuid>`), as the SES receipt rule's S3
action does, then calls `on_stored(bucket, key)`: the local stack invokes the ingestion
function there with an S3-style event (`s3_put_event`). The final-delivery headers an MTA adds
(`Return-Path` with the envelope sender, `Delivered-To` per recipient) are prepended, so that
bounces (null sender) and Bcc'd recipients are seen as they are in AWS.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import boto3
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("localstack.smtp")

DEFAULT_DOMAIN = "helpdesk.localhost"
DEFAULT_PREFIX = "inbound/"
DATA_SIZE_LIMIT = 40 * 1024 * 1024  # SES accepts messages up to 40 MB

OnStored = Callable[[str, str], Any]
Stopper = Callable[[], None]


def s3_put_event(bucket: str, key: str) -> dict[str, Any]:
    """The S3 notification a put in `bucket` of `key` sends (keys are URL-encoded)."""
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}},
            }
        ]
    }


class InboundHandler:
    """aiosmtpd handler: recipients of our domain only; each message stored, then announced."""

    def __init__(self, bucket: str, on_stored: OnStored, domain: str, prefix: str, s3: Any) -> None:
        self.bucket = bucket
        self.on_stored = on_stored
        self.domain = domain.lower()
        self.prefix = prefix
        self.s3 = s3

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return f"550 5.1.1 <{address}>: this server accepts mail for @{self.domain} only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8")
        raw = self._delivery_headers(envelope) + raw
        loop = asyncio.get_running_loop()
        key = await loop.run_in_executor(None, self._store, raw)
        # An error here reaches the client as aiosmtpd's 500; the message stays in the bucket.
        await loop.run_in_executor(None, self.on_stored, self.bucket, key)
        return f"250 2.0.0 Message accepted as {key}"

    @staticmethod
    def _delivery_headers(envelope: Envelope) -> bytes:
        lines = [f"Return-Path: <{envelope.mail_from or ''}>"]
        lines += [f"Delivered-To: {rcpt}" for rcpt in envelope.rcpt_tos]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")

    def _store(self, raw: bytes) -> str:
        key = f"{self.prefix}{uuid.uuid4()}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=raw)
        log.info("stored %d bytes as s3://%s/%s", len(raw), self.bucket, key)
        return key


def start_smtp(
    host: str,
    port: int,
    bucket: str,
    on_stored: OnStored,
    *,
    domain: str = DEFAULT_DOMAIN,
    prefix: str = DEFAULT_PREFIX,
    s3: Any | None = None,
) -> Stopper:
    """Serve SMTP on host:port in a background thread; the returned callable stops it."""
    handler = InboundHandler(bucket, on_stored, domain, prefix, s3 or boto3.client("s3"))
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=DATA_SIZE_LIMIT,
        server_hostname=domain,
        ready_timeout=10.0,
    )
    controller.start()
    log.info("SMTP for @%s on %s:%d", domain, host, port)
    return controller.stop
