"""Builders of the billing tests: tickets, time entries and closed evolutions, in the shapes the
adapters write them, the exports bucket in moto, and the exporter over both."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config

from helpdesk import bootstrap_billing
from helpdesk.adapters.dynamodb import items as it
from helpdesk.adapters.dynamodb.repositories import DynamoTicketRepository
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.adapters.exports_store import ExportsStore
from helpdesk.billing_export import BillingExporter
from helpdesk.changes import TimeLogged
from helpdesk.domain.calendar import task_title
from helpdesk.domain.model import ClosureReason, Quote, QuoteOutcome, Status, Ticket, TicketType
from helpdesk.domain.timekeeping import TimeEntry, TimeKind

BUCKET = "helpdesk-exports-test"
REGION = "eu-west-1"
TAKEN = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)


def create_bucket(s3: Any, bucket: str = BUCKET) -> str:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def exports_store(s3: Any, bucket: str = BUCKET) -> ExportsStore:
    presign = boto3.client("s3", region_name=REGION, config=Config(signature_version="s3v4"))
    return ExportsStore(s3, bucket, presign)


def exporter_over(table: Table, s3: Any, bucket: str = BUCKET) -> BillingExporter:
    """The exporter as the composition root builds it, over moto's table and bucket."""
    return bootstrap_billing.exporter_over(table, exports_store(s3, bucket))


def quote(amount: str, outcome: QuoteOutcome, version: int = 1) -> Quote:
    return Quote(
        version=version,
        amount=Decimal(amount),
        submitted_by="cons-l2",
        submitted_at=TAKEN,
        outcome=outcome,
        reason="trop cher" if outcome is QuoteOutcome.REFUSED else None,
        decided_by="client-acme" if outcome is not QuoteOutcome.PENDING else None,
        decided_at=TAKEN if outcome is not QuoteOutcome.PENDING else None,
    )


@dataclass
class World:
    """Writes tickets and entries; `entry` goes through the unit of work (the lock check)."""

    table: Table
    next_number: int = 1
    tickets: dict[int, Ticket] = field(default_factory=dict)
    entry_seq: int = 0

    def ticket(self, ticket_type: str = "assistance", org_id: str = "acme", **changes: Any) -> Ticket:
        number = self.next_number
        self.next_number += 1
        ticket = Ticket(
            number=number,
            title=f"Ticket {number}",
            description="",
            type=TicketType(ticket_type),
            org_id=org_id,
            requester="client",
            created_at=TAKEN,
            updated_at=TAKEN,
            status=Status.IN_PROGRESS,
            taken_at=TAKEN,
            support_level=1 if ticket_type == "assistance" else 2,
        )
        ticket = replace(ticket, **changes)
        self._put(ticket)
        return ticket

    def _put(self, ticket: Ticket) -> None:
        self.tickets[ticket.number] = ticket
        self.table.write(self.table.put(it.ticket_to_item(ticket)))

    def close_evolution(
        self, ticket: Ticket, closed_at: datetime, quotes: tuple[Quote, ...],
        reason: ClosureReason = ClosureReason.CONFIRMED,
    ) -> Ticket:
        spent = DynamoTicketRepository(self.table).get(ticket.number).time_spent_minutes
        closed = replace(
            ticket, status=Status.CLOSED, closed_at=closed_at, closure_reason=reason,
            quotes=quotes, time_spent_minutes=spent,
        )
        self._put(closed)
        return closed

    def entry(self, ticket: Ticket, consultant: str, day: date, minutes: int) -> TimeEntry:
        self.entry_seq += 1
        entry = TimeEntry(
            id=f"e{self.entry_seq:08d}",
            ticket_number=ticket.number,
            org_id=ticket.org_id,
            consultant=consultant,
            day=day,
            minutes=minutes,
            kind=TimeKind.REALISATION,
            comment="",
            billable=ticket.type.billed_on_time,
            created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        )
        uow = DynamoUnitOfWork(self.table)
        uow.add(TimeLogged(entry, ticket, task_title(ticket.number, ticket.title, entry.month)))
        uow.commit()
        return entry


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.endswith(b"\r\n")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def crash_at_manifest(monkeypatch: Any, exporter: BillingExporter) -> None:
    """The exporter's run dies (a Lambda timeout) when it comes to write the manifest: the
    other files are written, the lock stays `exporting`."""
    real_put = exporter.exports.put

    def put(key: str, body: bytes, **kwargs: Any) -> Any:
        if key.endswith("manifest.json"):
            raise RuntimeError("Lambda timed out")
        return real_put(key, body, **kwargs)

    monkeypatch.setattr(exporter.exports, "put", put)
