"""Attachments (DESIGN.md §11): announce an upload, list, read one.

- `POST /tickets/{number}/attachments` `{filename, content_type, size, internal}` → 201
  `{id, upload: {url, fields}, expires_at}`: POST the `fields` then `file` (multipart/form-data)
  to `url`. S3 accepts exactly `size` bytes of that `Content-Type` at that key, until
  `expires_at`. `internal` by a client is 422 naming `internal` (as for comments). The same
  `Idempotency-Key` and body give the same attachment and form.
- `GET /tickets/{number}/attachments` and `GET /tickets/{number}/attachments/{id}`: each with
  `url`, a 5-minute download link, once `available`; a client never sees internal ones (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from pydantic import Field

from helpdesk.domain.attachments import ALLOWED_TYPES, MAX_FILENAME, MAX_SIZE
from helpdesk.domain.calendar import iso
from helpdesk.domain.listing import DEFAULT_LIMIT

from .deps import PageCursor, PageLimit, current_caller, get_service, ok
from .idempotency import once
from .schemas import Body, Model, StrictBool, StrictInt, StrictStr, responses
from .tickets import TicketNumber

if TYPE_CHECKING:
    from helpdesk.attachments import AttachmentService, Shown

router = Router()

AttachmentId = Annotated[str, Path(min_length=1, max_length=64, description="the attachment's id")]

_service: AttachmentService | None = None


def set_attachments(service: AttachmentService | None) -> None:
    """Use this service from now on (tests, the local stack); None: built from the settings."""
    global _service
    _service = service


def get_attachments() -> AttachmentService:
    global _service
    if _service is None:
        from helpdesk import bootstrap_attachments

        _service = bootstrap_attachments.attachment_service(get_service().get_ticket)
    return _service


class AttachmentIn(Body):
    filename: StrictStr = Field(
        min_length=1,
        max_length=MAX_FILENAME,
        description="shown and offered on download, sanitised (the last path component, no "
        "control characters); never the storage key",
    )
    content_type: StrictStr = Field(
        min_length=1,
        max_length=255,
        description="one of: " + ", ".join(sorted(ALLOWED_TYPES)),
    )
    size: Annotated[StrictInt, Field(ge=1, le=MAX_SIZE, description="bytes, at most 10 MiB")]
    internal: StrictBool = Field(default=False, description="staff only: clients never see it")


class UploadOut(Model):
    url: str
    fields: dict[str, str]


class AttachmentCreated(Model):
    id: str
    upload: UploadOut
    expires_at: str


class AttachmentOut(Model):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str | None
    status: str = Field(description="pending, available or rejected")
    reason: str | None = Field(
        description="why it was rejected: empty, size_mismatch, too_large, type_not_allowed, "
        "type_mismatch, malware"
    )
    detail: str | None
    internal: bool
    source: str = Field(description="api or email")
    uploaded_by: str
    at: str
    comment_id: str | None = Field(description="the comment the mail that brought it made")
    url: str | None = Field(description="a 5-minute download link, only when available")


class AttachmentList(Model):
    items: list[AttachmentOut]
    next_cursor: str | None = None


def attachment_out(shown: Shown) -> AttachmentOut:
    record = shown.record
    return AttachmentOut(
        id=record.id,
        filename=record.filename,
        content_type=record.content_type,
        size=record.size,
        sha256=record.sha256,
        status=record.status.value,
        reason=record.reason.value if record.reason else None,
        detail=record.detail,
        internal=record.internal,
        source=record.source.value,
        uploaded_by=record.uploaded_by,
        at=iso(record.at),
        comment_id=record.comment_id,
        url=shown.url,
    )


@router.post(
    "/tickets/<number>/attachments",
    operation_id="addAttachment",
    status_code=201,
    summary="Announce a file and get its upload form (internal: staff only)",
    tags=["attachments"],
    description="Answers an S3 presigned POST: send `upload.fields` then the file as `file` "
    "(multipart/form-data) to `upload.url` before `expires_at`; S3 accepts exactly `size` "
    "bytes of `content_type`. The file is then checked (size, type sniffed from its content, "
    "SHA-256) and becomes `available` or `rejected`. `internal: true` by a client is 422. "
    "The same `Idempotency-Key` and body give the same attachment; another body is 422.",
    responses=responses(201, AttachmentCreated, 404, 409),
)
def add_attachment(
    number: TicketNumber,
    body: AttachmentIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[AttachmentCreated]:
    caller = current_caller(router)

    def announce() -> AttachmentCreated:
        announced = get_attachments().announce(
            caller,
            number,
            filename=body.filename,
            content_type=body.content_type,
            size=body.size,
            internal=body.internal,
        )
        form = announced.upload
        return AttachmentCreated(
            id=announced.record.id,
            upload=UploadOut(url=form.url, fields=form.fields),
            expires_at=iso(announced.expires_at),
        )

    created = once(
        router,
        caller,
        idempotency_key,
        body.model_dump(mode="json"),
        work=announce,
        remember=lambda out: out.model_dump(mode="json"),
        recall=AttachmentCreated.model_validate,
    )
    return ok(created, 201, {"Location": f"/tickets/{number}/attachments/{created.id}"})


@router.get(
    "/tickets/<number>/attachments",
    operation_id="listAttachments",
    summary="The ticket's attachments (a client: the public ones)",
    tags=["attachments"],
    responses=responses(200, AttachmentList, 404),
)
def list_attachments(
    number: TicketNumber, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Response[AttachmentList]:
    caller = current_caller(router)
    page = get_attachments().page(caller, number, cursor, limit)
    items = [attachment_out(s) for s in page.items]
    return ok(AttachmentList(items=items, next_cursor=page.next_cursor))


@router.get(
    "/tickets/<number>/attachments/<attachment_id>",
    operation_id="getAttachment",
    summary="One attachment, with its download link when available",
    tags=["attachments"],
    responses=responses(200, AttachmentOut, 404),
)
def get_attachment(number: TicketNumber, attachment_id: AttachmentId) -> Response[AttachmentOut]:
    caller = current_caller(router)
    return ok(attachment_out(get_attachments().get(caller, number, attachment_id)))
