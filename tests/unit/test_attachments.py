"""Attachments in the pure domain (DESIGN.md §11): types, sniffing, names, the verdict, who sees.

Expected values are written out here (magic numbers, names, reasons), not computed by the
module under test.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from helpdesk.domain.attachments import (
    MAX_SIZE,
    AttachmentRecord,
    AttachmentStatus,
    Inspection,
    Rejection,
    ScanStatus,
    ascii_filename,
    check_content_type,
    check_size,
    content_disposition,
    decided,
    new_attachment,
    object_key,
    parse_object_key,
    sanitise_filename,
    sniff,
    type_of_mail_part,
    verdict,
    visible_to,
)
from helpdesk.domain.errors import Forbidden, InvalidInput
from helpdesk.domain.model import Source, attachments_count
from helpdesk.domain.notifications import NotificationKind, for_attachment
from tests.unit.builders import CLIENT, FINANCE, MANAGER, NOW, base_ticket, consultant

L1 = consultant(1)

# One tiny but genuine-looking file of each allowed type, by declared type.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 20
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 10
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 10
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20
RTF = b"{\\rtf1\\ansi Bonjour}"
TEXT = "Bonjour,\r\nl'export échoue depuis ce matin.\n".encode()
CSV = b"ticket;minutes\n88;30\n"
EML = b"From: a@acme.example\r\nSubject: test\r\n\r\nbody\r\n"
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 20

ALLOWED_SAMPLES = [
    ("image/png", PNG),
    ("image/jpeg", JPEG),
    ("image/gif", GIF),
    ("image/webp", WEBP),
    ("image/tiff", TIFF),
    ("application/pdf", PDF),
    ("text/plain", TEXT),
    ("text/csv", CSV),
    ("message/rfc822", EML),
    ("application/rtf", RTF),
    ("application/zip", ZIP),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    ("application/vnd.oasis.opendocument.text", ZIP),
    ("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    ("application/vnd.oasis.opendocument.presentation", ZIP),
    ("application/msword", OLE),
    ("application/vnd.ms-excel", OLE),
    ("application/vnd.ms-powerpoint", OLE),
]


def record(
    content_type: str = "image/png", size: int = len(PNG), **changes: object
) -> AttachmentRecord:
    base = AttachmentRecord(
        id="1764230400000-abcdef123456",
        ticket_number=88,
        filename="capture.png",
        content_type=content_type,
        size=size,
        internal=False,
        source=Source.API,
        uploaded_by="client-acme",
        at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def inspect(data: bytes, chunk: int = 7) -> Inspection:
    return Inspection.of(data[i : i + chunk] for i in range(0, len(data), chunk))


# ---------------------------------------------------------------- declared types and sizes


@pytest.mark.parametrize(("content_type", "_data"), ALLOWED_SAMPLES)
def test_every_allowed_type_is_accepted_as_declared(content_type: str, _data: bytes) -> None:
    assert check_content_type(content_type) == content_type


def test_a_declared_type_is_normalised() -> None:
    assert check_content_type(" Image/PNG ") == "image/png"
    assert check_content_type("text/plain; charset=utf-8") == "text/plain"


@pytest.mark.parametrize(
    "content_type",
    [
        "image/svg+xml",  # a page, not a picture
        "text/html",
        "application/x-msdownload",
        "application/octet-stream",
        "application/javascript",
        "",
        "image",
    ],
)
def test_other_types_are_refused_naming_the_field(content_type: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_content_type(content_type)
    assert refused.value.field == "content_type"


def test_sizes_from_one_byte_to_ten_mebibytes() -> None:
    assert check_size(1) == 1
    assert check_size(10 * 1024 * 1024) == 10 * 1024 * 1024
    for size in (0, -1, 10 * 1024 * 1024 + 1):
        with pytest.raises(InvalidInput) as refused:
            check_size(size)
        assert refused.value.field == "size"


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a....", "image/gif"),
        (WEBP, "image/webp"),
        (TIFF, "image/tiff"),
        (b"MM\x00*\x00\x00", "image/tiff"),
        (PDF, "application/pdf"),
        (ZIP, "application/zip"),
        (OLE, "application/x-ole-storage"),
        (RTF, "application/rtf"),
        (TEXT, "text/plain"),
        (CSV, "text/plain"),
        ("Café crème, 1 200 €".encode("cp1252"), "text/plain"),
        (WINDOWS_EXE, "application/x-executable"),
        (ELF, "application/x-executable"),
        (b"\xcf\xfa\xed\xfe\x07\x00", "application/x-executable"),
        (b"#!/bin/sh\nrm -rf /\n", "application/x-executable"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "text/html"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "text/html"),
        (b"<?xml version='1.0'?><svg/>", "text/html"),
        (b"\x00\x01\x02\x03binary", None),
    ],
)
def test_the_content_says_what_it_is(data: bytes, expected: str | None) -> None:
    assert sniff(data) == expected


def test_the_inspection_reads_chunks_and_hashes_them_all() -> None:
    data = bytes(range(256)) * 1000
    seen = inspect(data, chunk=1000)
    assert seen.size == 256_000
    assert seen.sha256 == hashlib.sha256(data).hexdigest()
    assert seen.head == data[:8192]  # the first 8 KiB only are kept
    assert seen.binary_seen


def test_the_inspection_stops_past_the_limit() -> None:
    chunks = iter([b"a" * 10, b"b" * 10, b"c" * 10, b"never read"])
    seen = Inspection.of(chunks, limit=15)
    assert seen.size == 20
    assert next(chunks) == b"c" * 10  # nothing read after the chunk that crossed the limit


# ---------------------------------------------------------------- the verdict


@pytest.mark.parametrize(("content_type", "data"), ALLOWED_SAMPLES)
def test_each_allowed_type_becomes_available(content_type: str, data: bytes) -> None:
    outcome = verdict(record(content_type, len(data)), inspect(data))
    assert (outcome.status, outcome.reason) == (AttachmentStatus.AVAILABLE, None)
    assert outcome.sha256 == hashlib.sha256(data).hexdigest()
    assert outcome.content_type == content_type


def test_a_png_that_is_an_executable_is_rejected() -> None:
    outcome = verdict(record("image/png", len(WINDOWS_EXE)), inspect(WINDOWS_EXE))
    assert (outcome.status, outcome.reason) == (AttachmentStatus.REJECTED, Rejection.TYPE_MISMATCH)
    assert outcome.detail == "The content is an executable, not image/png."


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", JPEG),
        ("application/pdf", PNG),
        ("text/plain", PNG),
        ("text/plain", b"<html><body onload=x()>"),  # a page declared as text
        ("image/jpeg", b"<svg onload='alert(1)'/>"),
        ("text/csv", b"a;b\n1;2\n\x00\x00\x00"),  # text with NUL bytes
        ("application/zip", PDF),
        ("application/msword", ZIP),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", OLE),
    ],
)
def test_a_content_unlike_its_type_is_rejected(content_type: str, data: bytes) -> None:
    outcome = verdict(record(content_type, len(data)), inspect(data))
    assert (outcome.status, outcome.reason) == (AttachmentStatus.REJECTED, Rejection.TYPE_MISMATCH)


def test_text_with_a_nul_after_the_first_bytes_is_rejected() -> None:
    data = b"line\n" * 4000 + b"\x00"  # past the 8 KiB sniffed
    outcome = verdict(record("text/plain", len(data)), inspect(data, chunk=4096))
    assert outcome.reason is Rejection.TYPE_MISMATCH
    assert outcome.detail == "The content is binary data, not text/plain."


def test_an_empty_file_is_rejected() -> None:
    outcome = verdict(record("image/png", 1), inspect(b""))
    assert (outcome.status, outcome.reason) == (AttachmentStatus.REJECTED, Rejection.EMPTY)


def test_a_file_of_another_size_than_announced_is_rejected() -> None:
    outcome = verdict(record("image/png", len(PNG) + 1), inspect(PNG))
    assert (outcome.status, outcome.reason) == (AttachmentStatus.REJECTED, Rejection.SIZE_MISMATCH)
    assert outcome.detail == f"The file has {len(PNG)} bytes, not the {len(PNG) + 1} announced."


def test_a_file_over_ten_mebibytes_is_rejected() -> None:
    seen = Inspection(size=MAX_SIZE + 1, head=PNG)
    outcome = verdict(record("image/png", MAX_SIZE), seen)
    assert (outcome.status, outcome.reason) == (AttachmentStatus.REJECTED, Rejection.TOO_LARGE)
    assert outcome.sha256 is None


def test_a_type_we_do_not_accept_is_rejected() -> None:
    outcome = verdict(record("application/x-msdownload", len(WINDOWS_EXE)), inspect(WINDOWS_EXE))
    assert outcome.reason is Rejection.TYPE_NOT_ALLOWED


def test_with_scanning_only_a_clean_file_becomes_available() -> None:
    clean = verdict(record(), inspect(PNG), scanning=True, scan=ScanStatus.NO_THREATS_FOUND)
    assert clean.status is AttachmentStatus.AVAILABLE
    waiting = verdict(record(), inspect(PNG), scanning=True, scan=None)
    assert (waiting.status, waiting.reason) == (AttachmentStatus.PENDING, None)
    for status in (ScanStatus.THREATS_FOUND, ScanStatus.FAILED, ScanStatus.UNSUPPORTED):
        refused = verdict(record(), inspect(PNG), scanning=True, scan=status)
        assert (refused.status, refused.reason) == (AttachmentStatus.REJECTED, Rejection.MALWARE)


def test_a_scan_never_saves_a_bad_content() -> None:
    outcome = verdict(
        record("image/png", len(ELF)), inspect(ELF), scanning=True, scan=ScanStatus.NO_THREATS_FOUND
    )
    assert outcome.reason is Rejection.TYPE_MISMATCH


def test_the_decided_record_keeps_the_checked_version() -> None:
    outcome = verdict(record(), inspect(PNG))
    after = decided(record(), outcome, NOW, "v1")
    assert (after.status, after.version_id, after.checked_at) == (
        AttachmentStatus.AVAILABLE,
        "v1",
        NOW,
    )
    assert after.sha256 == hashlib.sha256(PNG).hexdigest()


# ---------------------------------------------------------------- names and keys


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("capture.png", "capture.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\fabrice\\Bureau\\écran.png", "écran.png"),
        ("/tmp/x/../rapport final.pdf", "rapport final.pdf"),
        ("re\x00port\x07.pdf", "report.pdf"),
        ("facture\u202egnp.exe", "facturegnp.exe"),  # the right-to-left override goes
        ("a\u200bb.txt", "ab.txt"),
        ("  tabs\tand\nnewlines  .txt", "tabs and newlines .txt"),
        ("...hidden..", "hidden"),
        ("e\u0301te\u0301.txt", "été.txt"),  # NFC
    ],
)
def test_file_names_are_sanitised(raw: str, expected: str) -> None:
    assert sanitise_filename(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "../", "a/b/", "\x00\x01", "..", "C:\\"])
def test_a_name_that_names_nothing_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sanitise_filename(raw)
    assert refused.value.field == "filename"


def test_a_300_character_name_is_refused_or_shortened_for_mail() -> None:
    raw = "x" * 296 + ".pdf"
    with pytest.raises(InvalidInput) as refused:
        sanitise_filename(raw)
    assert refused.value.field == "filename"
    short = sanitise_filename(raw, truncate=True)
    assert short == "x" * 251 + ".pdf"
    assert len(short) == 255


def test_the_key_never_holds_the_name() -> None:
    assert object_key(88, "1764230400000-abcdef123456") == (
        "tickets/88/attachments/1764230400000-abcdef123456"
    )
    assert parse_object_key("tickets/88/attachments/1764230400000-abcdef123456") == (
        88,
        "1764230400000-abcdef123456",
    )
    for other in (
        "attachments/88/x",
        "tickets/88/attachments/../../x",
        "tickets/0/attachments/a",
        "tickets/88/attachments/",
        "tickets/88/attachments/a/b",
        "inbound/x",
    ):
        assert parse_object_key(other) is None


def test_the_download_name_is_safe_in_a_header() -> None:
    assert ascii_filename('écran "1"; x.png') == "ecran _1__ x.png"
    assert ascii_filename("報告.pdf") == "__.pdf"
    assert content_disposition('écran "1".png') == (
        "attachment; filename=\"ecran _1_.png\"; filename*=UTF-8''%C3%A9cran%20%221%22.png"
    )
    assert content_disposition("rapport.pdf").startswith("attachment; ")


def test_mail_parts_take_their_type_from_the_name_when_vague() -> None:
    assert type_of_mail_part("application/octet-stream", "rapport.PDF") == "application/pdf"
    assert type_of_mail_part("image/png", "whatever.bin") == "image/png"
    assert type_of_mail_part("application/octet-stream", "setup.exe") == (
        "application/octet-stream"
    )
    assert type_of_mail_part("application/x-msdownload", "noextension") == (
        "application/x-msdownload"
    )


# ---------------------------------------------------------------- who announces, who sees


def test_a_new_attachment_is_pending_with_a_clean_name() -> None:
    ticket = base_ticket(number=88)
    made = new_attachment(
        ticket,
        CLIENT,
        attachment_id="id-1",
        filename="../écran.png",
        content_type="IMAGE/PNG",
        size=10,
        internal=False,
        now=NOW,
    )
    assert (made.filename, made.content_type, made.status, made.source, made.uploaded_by) == (
        "écran.png",
        "image/png",
        AttachmentStatus.PENDING,
        Source.API,
        "client-acme",
    )
    assert made.key == "tickets/88/attachments/id-1"


def test_internal_attachments_are_for_staff_only() -> None:
    ticket = base_ticket(number=88)
    args = {"attachment_id": "i", "filename": "a.png", "content_type": "image/png", "size": 1}
    with pytest.raises(InvalidInput) as refused:
        new_attachment(ticket, CLIENT, internal=True, now=NOW, **args)  # type: ignore[arg-type]
    assert refused.value.field == "internal"
    made = new_attachment(ticket, L1, internal=True, now=NOW, **args)  # type: ignore[arg-type]
    assert made.internal
    with pytest.raises(Forbidden):
        new_attachment(ticket, FINANCE, internal=False, now=NOW, **args)  # type: ignore[arg-type]


def test_clients_never_see_internal_attachments() -> None:
    internal = record(internal=True)
    public = record()
    assert not visible_to(internal, CLIENT)
    assert visible_to(public, CLIENT)
    assert visible_to(internal, L1) and visible_to(internal, MANAGER)


def test_the_count_is_what_the_caller_may_see() -> None:
    ticket = replace(base_ticket(), attachments_available=3, attachments_public=1)
    assert attachments_count(ticket, CLIENT) == 1
    assert attachments_count(ticket, L1) == 3
    assert attachments_count(ticket, MANAGER) == 3


# ---------------------------------------------------------------- notifications by name


def test_a_client_file_is_announced_to_the_assignee_by_name() -> None:
    ticket = base_ticket(number=88, assignee="cons-l1a")
    available = replace(
        record(size=12_600), status=AttachmentStatus.AVAILABLE, filename="écran 1.png"
    )
    (message,) = for_attachment(ticket, available)
    assert message.kind is NotificationKind.STAFF_CLIENT_ATTACHMENT
    assert (message.to_consultant, message.ref) == ("cons-l1a", available.id)
    assert message.subject == "[#88] Pièce jointe du client : Création de l'utilisateur Fabrice"
    assert "Le client a joint un fichier à la demande #88 : « écran 1.png » (12,3 Ko)." in (
        message.body
    )


def test_a_staff_file_is_announced_to_the_client_by_name() -> None:
    ticket = base_ticket(number=88)
    available = replace(
        record(size=500), status=AttachmentStatus.AVAILABLE, by_staff=True, filename="doc.pdf"
    )
    (message,) = for_attachment(ticket, available)
    assert (message.kind, message.to) == (NotificationKind.ATTACHMENT, "fabrice@acme.example")
    assert "« doc.pdf » (500 octets)" in message.body


def test_nobody_is_told_of_internal_mail_pending_or_rejected_files() -> None:
    ticket = base_ticket(number=88)
    available = replace(record(), status=AttachmentStatus.AVAILABLE)
    assert for_attachment(ticket, replace(available, internal=True, by_staff=True)) == []
    assert for_attachment(ticket, replace(available, source=Source.EMAIL)) == []
    assert for_attachment(ticket, record()) == []
    assert for_attachment(ticket, replace(available, status=AttachmentStatus.REJECTED)) == []
