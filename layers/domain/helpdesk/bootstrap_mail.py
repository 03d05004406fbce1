"""The composition root of inbound mail: the ingestion over the DynamoDB and S3 adapters,
configured from the settings (helpdesk.settings), like helpdesk.bootstrap for the others.

The handler (functions/mail_ingest) caches what this builds, once per Lambda environment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from helpdesk.settings import Settings, get_settings

if TYPE_CHECKING:
    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.attachments import MailFile
    from helpdesk.mail_ingest import MailIngestion
    from helpdesk.ports_mail import MailAttachments, RawMailStore
    from helpdesk.quarantine import Quarantine


def s3_client(settings: Settings | None = None) -> Any:
    from helpdesk.adapters import aws_clients

    return aws_clients.client("s3", settings or get_settings())


def mail_ingestion(settings: Settings | None = None, s3: Any | None = None) -> MailIngestion:
    """The ingestion: a unit of work per message over the table, the mail records, the
    attachments of tickets in their bucket (none: the files are only named on the ticket),
    built when a mail first has files, and the one classification of transient AWS errors
    (aws_clients.is_transient)."""
    from helpdesk.adapters import aws_clients
    from helpdesk.adapters.dynamodb.mail import DynamoMailRepository
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.bootstrap import table
    from helpdesk.domain.mail import MailRouting
    from helpdesk.mail_ingest import MailConfig, MailIngestion

    settings = settings or get_settings()
    dynamodb = table(settings)
    config = MailConfig(
        MailRouting.parse(settings.mail_domain, settings.mail_mailboxes),
        max_bytes=settings.mail_max_bytes,
        rate_limit=settings.mail_rate_limit,
    )
    attachments: MailAttachments | None = None
    if settings.attachments_bucket:
        bucket, scanning = settings.attachments_bucket, settings.malware_scanning

        def store() -> MailAttachments:
            from helpdesk.adapters.attachments import S3AttachmentFiles
            from helpdesk.bootstrap_attachments import attachment_service_over

            client = s3 if s3 is not None else s3_client(settings)
            files = S3AttachmentFiles(client, bucket)
            return attachment_service_over(dynamodb, files, scanning=scanning)

        attachments = AttachmentsOnFirstUse(store)
    return MailIngestion(
        lambda: DynamoUnitOfWork(dynamodb),
        DynamoMailRepository(dynamodb),
        config,
        attachments=attachments,
        transient=aws_clients.is_transient,
    )


class AttachmentsOnFirstUse:
    """The attachment store of mail, built by `build` when a mail first has files: most mail
    has none, and a cold start need not import the attachment modules for it."""

    def __init__(self, build: Callable[[], MailAttachments]) -> None:
        self._build = build
        self._store: MailAttachments | None = None

    def from_mail(
        self,
        ticket_number: int,
        mail_sha256: str,
        sender: str,
        received_at: datetime,
        files: Sequence[MailFile],
        comment_id: str | None = None,
    ) -> Sequence[object]:
        if self._store is None:
            self._store = self._build()
        return self._store.from_mail(
            ticket_number, mail_sha256, sender, received_at, files, comment_id=comment_id
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
