"""Inbound mail against moto: buckets, the ingestion, and a way to deliver a corpus message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from helpdesk.adapters.dynamo import DynamoStore
from helpdesk.adapters.mail_store import MailRecord, MailStore, thread_key
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
    return MailConfig(MailRouting(DOMAIN), attachments_bucket=ATTACHMENTS_BUCKET)


@pytest.fixture
def ingestion(
    service: HelpdeskService, s3: Any, clock: Clock, mail_config: MailConfig
) -> MailIngestion:
    """Over the seeded table of `service` (acme.example, globex.example), on its clock."""
    store = service.store
    return MailIngestion(store, mail_config, s3=s3, clock=clock)


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
        return self.ingestion.mail.get(result.sha256)


@pytest.fixture
def mailbox(ingestion: MailIngestion, s3: Any) -> Mailbox:
    return Mailbox(ingestion, s3)


@pytest.fixture
def sent_message(store: DynamoStore) -> Callable[[str, int], None]:
    """What the outbound notifier writes for each mail it sends: our Message-ID → ticket."""

    def write(message_id: str, ticket_number: int) -> None:
        MailStore(store).client.put_item(
            TableName=store.table,
            Item={
                "pk": {"S": thread_key(message_id)["pk"]},
                "sk": {"S": "MSGID"},
                "ticket_number": {"N": str(ticket_number)},
            },
        )

    return write
