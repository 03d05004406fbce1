"""Attachments of a ticket (DESIGN.md §11): what may be uploaded, how a file is checked, who
sees it. Pure: no AWS here (the S3 side is helpdesk.adapters.attachments, the use case
helpdesk.attachments).

- A file is at most MAX_SIZE bytes (10 MiB) of an allowed type: images (PNG, JPEG, GIF, WebP,
  TIFF; never SVG, which is a page), PDF, plain text, CSV, office documents (OOXML, OpenDocument,
  the old binary formats, RTF), zip and eml.
- Its name is the uploader's, sanitised (`sanitise_filename`): only the last path component, no
  control or bidi characters, NFC, at most MAX_FILENAME characters. It is shown and offered on
  download (`content_disposition`), NEVER used as the S3 key: the key is
  `tickets/<number>/attachments/<id>` (`object_key`).
- After the upload the content is read once, in chunks (`Inspection`): its size, SHA-256 and
  first bytes, whose magic number gives the real type (`sniff`). `verdict` then says
  `available`, `rejected` with a reason, or still `pending` (waiting for a malware scan).
- Clients never see internal attachments; a ticket's `attachments_count` is the number of
  available attachments the caller may see (counters kept on the ticket item).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from helpdesk.domain.errors import Forbidden, InvalidInput
from helpdesk.domain.model import Caller, Role, Source, Ticket

MAX_SIZE = 10 * 1024 * 1024  # 10 MiB
MAX_FILENAME = 255  # characters, after sanitising
HEAD_BYTES = 8192  # what sniffing reads
UPLOAD_EXPIRY_SECONDS = 900  # a presigned POST is valid 15 minutes
LINK_EXPIRY_SECONDS = 300  # a download link, 5 minutes
KEY_PREFIX = "tickets/"


class AttachmentStatus(StrEnum):
    PENDING = "pending"  # announced, not uploaded or not checked yet
    AVAILABLE = "available"
    REJECTED = "rejected"


class Rejection(StrEnum):
    """Why a file was refused after its upload (`reason`)."""

    EMPTY = "empty"  # 0 bytes
    SIZE_MISMATCH = "size_mismatch"  # not the size announced
    TOO_LARGE = "too_large"  # over MAX_SIZE
    TYPE_NOT_ALLOWED = "type_not_allowed"  # the declared type is not one we accept
    TYPE_MISMATCH = "type_mismatch"  # the content is not what the type says
    MALWARE = "malware"  # the malware scan found a threat


# ------------------------------------------------------------------------ types

# What the content's first bytes say it is (`sniff`): a few containers stand for several
# declared types (a .docx is a zip; .doc, .xls and .ppt are OLE compound files).
ZIP = "application/zip"
OLE = "application/x-ole-storage"
TEXT = "text/plain"
HTML = "text/html"
EXECUTABLE = "application/x-executable"

# Each allowed declared type → the sniffed type its content must have.
ALLOWED_TYPES: dict[str, str] = {
    "image/png": "image/png",
    "image/jpeg": "image/jpeg",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "image/tiff": "image/tiff",
    "application/pdf": "application/pdf",
    "text/plain": TEXT,
    "text/csv": TEXT,
    "message/rfc822": TEXT,
    "application/rtf": "application/rtf",
    "application/zip": ZIP,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ZIP,
    "application/vnd.oasis.opendocument.text": ZIP,
    "application/vnd.oasis.opendocument.spreadsheet": ZIP,
    "application/vnd.oasis.opendocument.presentation": ZIP,
    "application/msword": OLE,
    "application/vnd.ms-excel": OLE,
    "application/vnd.ms-powerpoint": OLE,
}

# The type a file name's extension stands for (mail attachments often come as
# application/octet-stream: their name tells what they claim to be).
EXTENSION_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "eml": "message/rfc822",
    "rtf": "application/rtf",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"%PDF-", "application/pdf"),
    (b"{\\rtf", "application/rtf"),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # an empty archive
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
    (b"MZ", EXECUTABLE),  # Windows PE
    (b"\x7fELF", EXECUTABLE),
    (b"\xfe\xed\xfa\xce", EXECUTABLE),  # Mach-O
    (b"\xfe\xed\xfa\xcf", EXECUTABLE),
    (b"\xce\xfa\xed\xfe", EXECUTABLE),
    (b"\xcf\xfa\xed\xfe", EXECUTABLE),
    (b"\xca\xfe\xba\xbe", EXECUTABLE),  # Mach-O universal, Java class
    (b"#!", EXECUTABLE),  # a script with its interpreter
)
_MARKUP = re.compile(rb"^\s*<(\?xml|!doctype|html|head|body|script|svg|iframe)\b", re.IGNORECASE)
# C0 controls other than tab, line feed, form feed and carriage return, and DEL: not text.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def normalise_type(content_type: str) -> str:
    """`Image/PNG ` → `image/png`; parameters (`; charset=...`) are dropped."""
    return content_type.split(";", 1)[0].strip().lower()


def check_content_type(content_type: str) -> str:
    """The declared type, normalised; InvalidInput naming `content_type` if not allowed."""
    normalised = normalise_type(content_type)
    if normalised not in ALLOWED_TYPES:
        allowed = ", ".join(sorted(ALLOWED_TYPES))
        raise InvalidInput(
            "content_type", f"'content_type' {content_type!r} is not accepted; allowed: {allowed}."
        )
    return normalised


def check_size(size: int) -> int:
    if not 1 <= size <= MAX_SIZE:
        raise InvalidInput("size", f"'size' must be between 1 and {MAX_SIZE} bytes (10 MiB).")
    return size


def type_of_mail_part(declared: str, filename: str) -> str:
    """The type a mail attachment claims: its declared type when we accept it, else the one its
    file name's extension stands for, else its declared type (which the check will refuse)."""
    normalised = normalise_type(declared)
    if normalised in ALLOWED_TYPES:
        return normalised
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    return EXTENSION_TYPES.get(extension, normalised or "application/octet-stream")


def sniff(head: bytes) -> str | None:
    """The type the first bytes show: a magic number, markup, text; None when unknown."""
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if _MARKUP.match(head[:1024]):
        return HTML
    return TEXT if is_text(head) else None


def is_text(data: bytes) -> bool:
    """Text: no NUL or other binary control byte, and UTF-8 (a character cut at the end of the
    sample is fine) or a single-byte charset."""
    if _BINARY_BYTES.search(data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 3:  # not just a character cut at the end
            return bool(data)  # a legacy single-byte charset (Windows-1252) is text too
    return True


def human_size(size: int) -> str:
    """`512 octets`, `12,3 Ko`, `4,0 Mo` (French units, decimal comma)."""
    if size < 1024:
        return f"{size} octets"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} Ko".replace(".", ",")
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def describe(sniffed: str | None) -> str:
    names = {EXECUTABLE: "an executable", HTML: "an HTML or XML page", None: "of unknown type"}
    return names.get(sniffed, sniffed or "")


# ------------------------------------------------------------------------ names


class _Names:
    separators = re.compile(r"[/\\]")
    spaces = re.compile(r"\s+")


def _kept(char: str) -> bool:
    # Cc: control characters (C0, DEL, C1); Cf: format characters (bidi overrides such as
    # U+202E, which make `gnp.exe` read `exe.png`, zero-width characters).
    return unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")


def sanitise_filename(raw: str, *, truncate: bool = False, field_name: str = "filename") -> str:
    """The name to show and offer on download.

    Only the last path component is kept (`../../etc/passwd` → `passwd`, `C:\\x\\shot.png` →
    `shot.png`), whitespace runs become one space, control and format characters go, leading
    and trailing spaces and dots go. Empty afterwards: InvalidInput. Longer than MAX_FILENAME:
    InvalidInput, or (`truncate`, for mail, which cannot be refused) shortened keeping its
    extension.
    """
    name = unicodedata.normalize("NFC", raw)
    name = _Names.separators.split(name)[-1]
    name = _Names.spaces.sub(" ", name)  # tabs and line breaks become spaces
    name = "".join(c for c in name if _kept(c)).strip(" .")
    if not name:
        raise InvalidInput(field_name, f"'{field_name}' must name a file (got {raw[:80]!r}).")
    if len(name) > MAX_FILENAME:
        if not truncate:
            raise InvalidInput(
                field_name, f"'{field_name}' must be at most {MAX_FILENAME} characters."
            )
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_FILENAME - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_FILENAME].rstrip(" .")
    return name


def ascii_filename(filename: str) -> str:
    """An ASCII stand-in for the name (`filename=` of Content-Disposition): accents dropped,
    anything not a safe character replaced by `_`."""
    decomposed = unicodedata.normalize("NFKD", filename)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    safe = re.sub(r"[^A-Za-z0-9 ._()+,=@-]", "_", plain).strip(" .")
    return safe or "piece-jointe"


def content_disposition(filename: str) -> str:
    """`attachment` (never `inline`: no upload ever opens as a page of ours), with a quoted ASCII
    name and the exact one in RFC 5987 form."""
    exact = quote(filename, safe="")
    return f"attachment; filename=\"{ascii_filename(filename)}\"; filename*=UTF-8''{exact}"


# ------------------------------------------------------------------------ keys

_KEY = re.compile(r"^tickets/([1-9][0-9]{0,9})/attachments/([0-9a-z-]{1,64})$")


def object_key(ticket_number: int, attachment_id: str) -> str:
    return f"{KEY_PREFIX}{ticket_number}/attachments/{attachment_id}"


def parse_object_key(key: str) -> tuple[int, str] | None:
    """(ticket number, attachment id) of one of our keys; None for any other key."""
    match = _KEY.match(key)
    return (int(match.group(1)), match.group(2)) if match else None


# ------------------------------------------------------------------------ the record


@dataclass(frozen=True)
class AttachmentRecord:
    """A file attached to a ticket, and where its check stands."""

    id: str
    ticket_number: int
    filename: str
    content_type: str  # declared; once available, the type checked against the content
    size: int  # declared
    internal: bool
    source: Source
    uploaded_by: str
    at: datetime
    status: AttachmentStatus = AttachmentStatus.PENDING
    sha256: str | None = None
    reason: Rejection | None = None
    detail: str | None = None
    comment_id: str | None = None
    checked_at: datetime | None = None
    by_staff: bool = False  # a consultant's or a manager's upload (who is told: notifications)
    # The S3 object version that was checked: downloads name it, so bytes sent again later to
    # the same key (the upload form stays valid a while) are never served unchecked.
    version_id: str | None = None

    @property
    def key(self) -> str:
        return object_key(self.ticket_number, self.id)

    @property
    def available(self) -> bool:
        return self.status is AttachmentStatus.AVAILABLE


def new_attachment(
    ticket: Ticket,
    caller: Caller,
    *,
    attachment_id: str,
    filename: str,
    content_type: str,
    size: int,
    internal: bool,
    now: datetime,
) -> AttachmentRecord:
    """A file announced through the API (pending until its upload is checked)."""
    if caller.role not in (Role.CLIENT, Role.CONSULTANT, Role.MANAGER):
        raise Forbidden("Only the ticket's people attach files.")
    if internal and not caller.is_staff:
        raise InvalidInput("internal", "Only consultants and managers attach internal files.")
    return AttachmentRecord(
        id=attachment_id,
        ticket_number=ticket.number,
        filename=sanitise_filename(filename),
        content_type=check_content_type(content_type),
        size=check_size(size),
        internal=internal,
        source=Source.API,
        uploaded_by=caller.id,
        at=now,
        by_staff=caller.is_staff,
    )


def visible_to(record: AttachmentRecord, caller: Caller) -> bool:
    """Clients never see internal attachments; staff see every one."""
    return caller.is_staff or caller.role is Role.SYSTEM or not record.internal


# ------------------------------------------------------------------------ the check


@dataclass
class Inspection:
    """What reading the content once, chunk by chunk, tells: never the whole file in memory."""

    size: int = 0
    head: bytes = b""
    binary_seen: bool = False  # a NUL or control byte anywhere (text must have none)
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256, repr=False)

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._hash.update(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if not self.binary_seen and _BINARY_BYTES.search(chunk):
            self.binary_seen = True

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    @property
    def sniffed(self) -> str | None:
        return sniff(self.head)

    @classmethod
    def of(cls, chunks: Iterable[bytes], limit: int = MAX_SIZE) -> Inspection:
        """Read every chunk; stops counting the hash past `limit` + 1 bytes (too large anyway)."""
        inspection = cls()
        for chunk in chunks:
            inspection.feed(chunk)
            if inspection.size > limit:
                break
        return inspection


class ScanStatus(StrEnum):
    """GuardDuty Malware Protection for S3's result (the object tag GuardDutyMalwareScanStatus)."""

    NO_THREATS_FOUND = "NO_THREATS_FOUND"
    THREATS_FOUND = "THREATS_FOUND"
    UNSUPPORTED = "UNSUPPORTED"
    ACCESS_DENIED = "ACCESS_DENIED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Verdict:
    """What the check of an uploaded file decided, and why."""

    status: AttachmentStatus
    content_type: str
    sha256: str | None
    reason: Rejection | None = None
    detail: str | None = None


def verdict(
    record: AttachmentRecord,
    inspection: Inspection,
    *,
    scanning: bool = False,
    scan: ScanStatus | None = None,
) -> Verdict:
    """Available, rejected (with its reason) or, while a malware scan is awaited, pending.

    The content decides first (size, then type from the bytes, not the name); with `scanning`,
    only a file the scan found clean becomes available.
    """
    sha = inspection.sha256 if inspection.size <= MAX_SIZE else None

    def rejected(reason: Rejection, detail: str) -> Verdict:
        return Verdict(AttachmentStatus.REJECTED, record.content_type, sha, reason, detail)

    if inspection.size == 0:
        return rejected(Rejection.EMPTY, "The file is empty (0 bytes).")
    if inspection.size > MAX_SIZE:
        return rejected(Rejection.TOO_LARGE, f"The file is over {MAX_SIZE} bytes (10 MiB).")
    if inspection.size != record.size:
        return rejected(
            Rejection.SIZE_MISMATCH,
            f"The file has {inspection.size} bytes, not the {record.size} announced.",
        )
    expected = ALLOWED_TYPES.get(record.content_type)
    if expected is None:
        return rejected(Rejection.TYPE_NOT_ALLOWED, f"{record.content_type} is not accepted.")
    sniffed = inspection.sniffed
    if sniffed != expected or (expected == TEXT and inspection.binary_seen):
        what = "binary data" if sniffed == TEXT else describe(sniffed)
        return rejected(
            Rejection.TYPE_MISMATCH, f"The content is {what}, not {record.content_type}."
        )
    if scanning and scan is not ScanStatus.NO_THREATS_FOUND:
        if scan is None:  # the scan's result is still to come
            return Verdict(AttachmentStatus.PENDING, record.content_type, sha)
        if scan is ScanStatus.THREATS_FOUND:
            return rejected(Rejection.MALWARE, "The malware scan found a threat.")
        return rejected(Rejection.MALWARE, f"The malware scan could not clear it ({scan.value}).")
    return Verdict(AttachmentStatus.AVAILABLE, record.content_type, sha)


def decided(
    record: AttachmentRecord, outcome: Verdict, now: datetime, version_id: str | None = None
) -> AttachmentRecord:
    """The record once checked (`version_id`: the object version read)."""
    return replace(
        record,
        version_id=version_id,
        status=outcome.status,
        content_type=outcome.content_type,
        sha256=outcome.sha256,
        reason=outcome.reason,
        detail=outcome.detail,
        checked_at=now,
    )
