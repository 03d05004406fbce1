"""Inbound mail against moto: buckets, the ingestion, and a way to deliver a corpus message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from helpdesk.adapters import aws_clients
from helpdesk.adapters.attachments import S3AttachmentFiles
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.mail import DynamoMailRepository, MailRecord
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.bootstrap_attachments import attachment_service_over
from helpdesk.domain.mail import MailRouting
from helpdesk.mail_ingest import IngestResult, MailConfig, MailIngestion, MailSource
from helpdesk.service import HelpdeskService
from tests.conftest import REGION, Clock

CORPUS = Path(__file__).parent / "corpus"
INBOUND_BUCKET = "helpdesk-test-inbound"
ATTACHMENTS_BUCKET = "helpdesk-test-attachments"
DOMAIN = "helpdesk.localhost"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture
def s3(dynamodb: Any) -> Any:
    """A moto S3 (inside the same mock as the table) with the inbound and attachment buckets."""
    client = boto3.client("s3", region_name=REGION)
    for bucket in (INBOUND_BUCKET, ATTACHMENTS_BUCKET):
        client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    return client


@pytest.fixture
def mail_config() -> MailConfig:
    return MailConfig(MailRouting(DOMAIN))


def mail_ingestion(
    table: Table,
    config: MailConfig,
    s3: Any | None,
    clock: Callable[[], Any],
    attachments_bucket: str | None = ATTACHMENTS_BUCKET,
) -> MailIngestion:
    """The ingestion over the table as the function builds it (helpdesk.bootstrap_mail): a
    unit of work per message, the one transient-error classification; attachments to
    `attachments_bucket`, or not stored when it is None."""
    store = (
        attachment_service_over(table, S3AttachmentFiles(s3, attachments_bucket))
        if attachments_bucket
        else None
    )
    return MailIngestion(
        lambda: DynamoUnitOfWork(table),
        DynamoMailRepository(table),
        config,
        attachments=store,
        clock=clock,
        transient=aws_clients.is_transient,
    )


@pytest.fixture
def ingestion(
    service: HelpdeskService, table: Table, s3: Any, clock: Clock, mail_config: MailConfig
) -> MailIngestion:
    """Over the seeded table of `service` (acme.example, globex.example), on its clock."""
    return mail_ingestion(table, mail_config, s3, clock)


@dataclass
class Mailbox:
    """Delivers messages as SES does: raw bytes into the inbound bucket, then the ingestion."""

    ingestion: MailIngestion
    s3: Any
    count: int = 0

    def deliver(self, raw: bytes, key: str | None = None) -> IngestResult:
        self.count += 1
        key = key or f"inbound/msg-{self.count}"
        self.s3.put_object(Bucket=INBOUND_BUCKET, Key=key, Body=raw)
        return self.ingestion.ingest(raw, MailSource(INBOUND_BUCKET, key))

    def record(self, result: IngestResult) -> MailRecord:
        record = self.ingestion.mail.get(result.sha256)
        assert isinstance(record, MailRecord)
        return record


@pytest.fixture
def mailbox(ingestion: MailIngestion, s3: Any) -> Mailbox:
    return Mailbox(ingestion, s3)


@pytest.fixture
def sent_message(table: Table) -> Callable[[str, int], None]:
    """What the outbound notifier writes for each mail it sends: our Message-ID → ticket."""

    def write(message_id: str, ticket_number: int) -> None:
        table.write(table.put({**keys.message_id_key(message_id), "ticket_number": ticket_number}))

    return write
