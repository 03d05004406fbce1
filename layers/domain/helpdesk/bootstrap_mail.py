"""The composition root of inbound mail: the ingestion over the DynamoDB and S3 adapters,
configured from the settings (helpdesk.settings), like helpdesk.bootstrap for the others.

The handler (functions/mail_ingest) caches what this builds, once per Lambda environment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpdesk.settings import Settings, get_settings

if TYPE_CHECKING:
    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.mail_ingest import MailIngestion
    from helpdesk.ports_mail import MailAttachments, RawMailStore
    from helpdesk.quarantine import Quarantine


def s3_client(settings: Settings | None = None) -> Any:
    from helpdesk.adapters import aws_clients

    return aws_clients.client("s3", settings or get_settings())


def mail_ingestion(settings: Settings | None = None, s3: Any | None = None) -> MailIngestion:
    """The ingestion: a unit of work per message over the table, the mail records, the
    attachments of tickets in their bucket (none: the files are only named on the ticket), and
    the one classification of transient AWS errors (aws_clients.is_transient)."""
    from helpdesk.adapters import aws_clients
    from helpdesk.adapters.attachments import S3AttachmentFiles
    from helpdesk.adapters.dynamodb.mail import DynamoMailRepository
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.bootstrap import table
    from helpdesk.bootstrap_attachments import attachment_service_over
    from helpdesk.domain.mail import MailRouting
    from helpdesk.mail_ingest import MailConfig, MailIngestion

    settings = settings or get_settings()
    dynamodb = table(settings)
    config = MailConfig(
        MailRouting.parse(settings.mail_domain, settings.mail_mailboxes),
        max_bytes=settings.mail_max_bytes,
        rate_limit=settings.mail_rate_limit,
    )
    attachments = None
    if settings.attachments_bucket:
        client = s3 if s3 is not None else s3_client(settings)
        attachments = attachment_service_over(
            dynamodb,
            S3AttachmentFiles(client, settings.attachments_bucket),
            scanning=settings.malware_scanning,
        )
    return MailIngestion(
        lambda: DynamoUnitOfWork(dynamodb),
        DynamoMailRepository(dynamodb),
        config,
        attachments=attachments,
        transient=aws_clients.is_transient,
    )


def quarantine_over(
    table: Table,
    raw: RawMailStore,
    clock: Callable[[], datetime] | None = None,
    attachments: MailAttachments | None = None,
) -> Quarantine:
    """The quarantine over this table and this inbound bucket (tests, the local stack); a
    released mail's files go to `attachments` (None: only named on the ticket)."""
    from helpdesk.adapters.dynamodb.mail import DynamoMailRepository
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.quarantine import Quarantine, utc_now

    return Quarantine(
        lambda: DynamoUnitOfWork(table),
        DynamoMailRepository(table),
        raw,
        clock=clock or utc_now,
        attachments=attachments,
    )


_quarantine: Quarantine | None = None


def quarantine() -> Quarantine:
    """The environment's quarantine (the API's `/mail/quarantine` routes), built on first
    use: the table of the settings, the inbound bucket through S3 (links signed for
    `EXPORTS_PUBLIC_ENDPOINT` when set), and, with ATTACHMENTS_BUCKET, a released mail's
    files made attachments of its ticket."""
    global _quarantine
    if _quarantine is None:
        from helpdesk.adapters.raw_mail import S3RawMailStore
        from helpdesk.bootstrap import table

        settings = get_settings()
        attachments = None
        if settings.attachments_bucket:
            from helpdesk.adapters.attachments import S3AttachmentFiles
            from helpdesk.bootstrap_attachments import attachment_service_over

            files = S3AttachmentFiles(s3_client(settings), settings.attachments_bucket)
            attachments = attachment_service_over(
                table(settings), files, scanning=settings.malware_scanning
            )
        _quarantine = quarantine_over(
            table(), S3RawMailStore.from_settings(), attachments=attachments
        )
    return _quarantine


def use_quarantine(built: Quarantine | None) -> None:
    """Use this quarantine from now on (tests, the local stack); None: rebuild from settings."""
    global _quarantine
    _quarantine = built
