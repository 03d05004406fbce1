"""The composition root of attachments (DESIGN.md §11): the use case over the table's records
and the attachments bucket, configured from the settings. Built on first use by the API's
attachment routes, the check function (functions/attachments) and the mail ingestion."""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpdesk.settings import Settings, get_settings

if TYPE_CHECKING:
    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.attachments import AttachmentService, TicketReader
    from helpdesk.ports_attachments import AttachmentFiles


def attachment_service_over(
    table: Table,
    files: AttachmentFiles,
    tickets: TicketReader | None = None,
    *,
    scanning: bool = False,
) -> AttachmentService:
    from helpdesk.adapters.dynamodb.attachments import DynamoAttachmentRecords
    from helpdesk.attachments import AttachmentService

    return AttachmentService(DynamoAttachmentRecords(table), files, tickets, scanning=scanning)


def attachment_service(
    tickets: TicketReader | None = None, settings: Settings | None = None
) -> AttachmentService:
    """Over the settings' table and bucket (ATTACHMENTS_BUCKET, MALWARE_SCANNING)."""
    from helpdesk.adapters.attachments import S3AttachmentFiles
    from helpdesk.bootstrap import table

    settings = settings or get_settings()
    return attachment_service_over(
        table(settings),
        S3AttachmentFiles.from_settings(),
        tickets,
        scanning=settings.malware_scanning,
    )
