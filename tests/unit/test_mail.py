"""Parsing and classifying inbound mail (pure)."""

from __future__ import annotations

import pytest

from helpdesk.domain.mail import (
    MAX_DEPTH,
    MailRouting,
    MalformedMail,
    decode_text,
    html_to_text,
    parse_mail,
    strip_quoted,
)
from helpdesk.domain.model import TicketType


def test_8bit_headers_are_read_as_utf8_and_anything_else_replaced() -> None:
    raw = (
        b"From: =?utf-8?q?x?= <ren\xc3\xa9@acme.example>\r\nTo: support@helpdesk.localhost\r\n"
        b"Subject: Caf\xc3\xa9 \xff fin\r\nIn-Reply-To: <a\xc3\xa9@b>\r\n\r\nBonjour"
    )
    parsed = parse_mail(raw)
    assert parsed.sender == "rené@acme.example"
    assert parsed.subject == "Café \ufffd fin"
    assert parsed.in_reply_to == ("aé@b",)


def test_a_body_whose_charset_decodes_to_lone_surrogates_is_cleaned() -> None:
    raw = mail('Content-Type: text/plain; charset="utf-7"\r\n', "Bonjour +2AA- fin")
    assert parse_mail(raw).text == "Bonjour \ufffd fin"


def mail(headers: str, body: str = "Bonjour") -> bytes:
    base = "From: a@acme.example\r\nTo: support@helpdesk.localhost\r\n"
    return (base + headers + "\r\n" + body).encode("utf-8")


@pytest.mark.parametrize(
    ("subject", "title", "tag"),
    [
        ("Re: [#88] Création", "Création", 88),
        ("RE: Fwd: TR: AW: Export", "Export", None),
        ("Re[2]: TR : [#7] Demande reçue : X", "Demande reçue : X", 7),
        ("=?utf-8?b?w4ljaGVj?= de l'export", "Échec de l'export", None),
        ("", "(sans objet)", None),
        ("Re:", "(sans objet)", None),
    ],
)
def test_title_and_tag_from_the_subject(subject: str, title: str, tag: int | None) -> None:
    parsed = parse_mail(mail(f"Subject: {subject}\r\n"))
    assert (parsed.title, parsed.ticket_tag) == (title, tag)


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied\r\n",
        "Auto-Submitted: auto-generated; owner-email=x@y\r\n",
        "Auto-Submitted: auto-replied\r\nPrecedence: list\r\n",
        "Precedence: auto_reply\r\n",
        "Return-Path: <>\r\n",
        "X-Autoreply: yes\r\n",
        "X-Autorespond: Out of office\r\n",
        "X-Auto-Response-Suppress: OOF\r\n",
        "X-Auto-Response-Suppress: DR, All\r\n",
    ],
)
def test_automatic_messages_are_recognised(headers: str) -> None:
    assert parse_mail(mail(headers)).automatic


@pytest.mark.parametrize(
    "headers",
    [
        "",
        "Auto-Submitted: no\r\n",
        "Precedence: first-class\r\n",
        "Return-Path: <a@acme.example>\r\n",
        "X-Auto-Response-Suppress: DR\r\n",
    ],
)
def test_a_person_s_message_is_not_automatic(headers: str) -> None:
    assert parse_mail(mail(headers)).automatic is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Precedence: bulk\r\n", "Precedence: bulk"),
        ("Precedence: Junk\r\n", "Precedence: junk"),
        ("Precedence: list\r\nList-Id: <it.acme.example>\r\n", "Precedence: list"),
        ("List-Id: Equipe <it.acme.example>\r\n", "List-Id header"),
        ("List-Unsubscribe: <mailto:u@acme.example>\r\n", "List-Unsubscribe header"),
    ],
)
def test_bulk_and_list_mail_is_read_but_never_answered(headers: str, reason: str) -> None:
    parsed = parse_mail(mail(headers))
    assert (parsed.automatic, parsed.no_reply, parsed.text) == (None, reason, "Bonjour")


def test_a_person_s_mail_may_be_answered() -> None:
    assert parse_mail(mail("Precedence: first-class\r\n")).no_reply is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example", "postmaster@acme.example"])
def test_mailer_daemons_are_automatic(sender: str) -> None:
    raw = f"From: {sender}\r\nSubject: x\r\n\r\nbody".encode()
    assert parse_mail(raw).automatic == f"sender {sender.lower()}"


def test_thread_ids_in_reply_to_first_then_references_newest_first() -> None:
    parsed = parse_mail(
        mail("In-Reply-To: <c@x>\r\nReferences: <a@x> <b@x>\r\n <c@x>\r\nMessage-ID: <m@x>\r\n")
    )
    assert parsed.thread_ids == ("c@x", "b@x", "a@x")
    assert parsed.message_id == "m@x"


def test_undeclared_8bit_latin1_and_unknown_charsets_still_read() -> None:
    latin = b"From: a@acme.example\r\nSubject: x\r\n\r\nd\xe9j\xe0"
    assert parse_mail(latin).text == "déjà"
    unknown = b"From: a@acme.example\r\nContent-Type: text/plain; charset=klingon\r\n\r\nok"
    assert parse_mail(unknown).text == "ok"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x01\x02 not mail at all",
        b"Subject: no sender\r\n\r\nbody",
        b"From: a@acme.example\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\n--x--",
        b"From: a@acme.example\r\nContent-Type: multipart/mixed\r\n\r\n \r\n",
    ],
)
def test_malformed_messages(raw: bytes) -> None:
    with pytest.raises(MalformedMail):
        parse_mail(raw)


def test_attachment_names_are_made_safe() -> None:
    raw = (
        b"From: a@acme.example\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="..\\\\..\\\\.passwd\x01.pdf"\r\n\r\nX'
    )
    [attachment] = parse_mail(raw).attachments
    assert (attachment.filename, attachment.size) == ("passwd.pdf", 1)


def test_html_to_text() -> None:
    html = (
        "<div>Un&nbsp;<b>mot</b>  et\n un autre</div><table><tr><td>A</td><td>B</td></tr></table>"
        "<style>x{}</style><a href='mailto:s@x'>écrire</a>"
    )
    assert html_to_text(html) == "Un mot et un autre\n\nA B\n\nécrire (s@x)"


def test_strip_quoted_reply() -> None:
    text = "Merci.\n\nOn Mon, 1 Dec 2026 at 10:00, Support <s@x> wrote:\n> old\n> text"
    assert strip_quoted(text) == "Merci."
    assert strip_quoted("> only a quote") == "> only a quote"


def test_routing_is_configurable() -> None:
    default = MailRouting("helpdesk.localhost")
    assert default.type_for(("x@acme.example", "Incident+urgent@Helpdesk.Localhost")) is (
        TicketType.INCIDENT
    )
    assert default.type_for(("support@other.example",)) is None
    custom = MailRouting.parse("h.example", "aide=assistance, bug=incident")
    assert custom.type_for(("bug@h.example",)) is TicketType.INCIDENT
    assert custom.type_for(("support@h.example",)) is None


# ---------------------------------------------------------------- delivery reports


def dsn(action: str = "failed", about: str = "", extra_headers: str = "") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.acme.example\r\nTo: support@helpdesk.localhost\r\n"
        f"{extra_headers}Subject: Undelivered\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="d"\r\n\r\n'
        "--d\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        "--d\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; ghost@acme.example\r\nAction: {action}\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <ghost@acme.example>:\r\n  user unknown\r\n\r\n"
        f"{about}--d--\r\n"
    ).encode()


HEADERS_PART = (
    "--d\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    "From: support@helpdesk.localhost\r\nMessage-ID: <ours-1@helpdesk.localhost>\r\n\r\n"
)
MESSAGE_PART = (
    "--d\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: support@helpdesk.localhost\r\nMessage-ID: <ours-2@helpdesk.localhost>\r\n"
    "Subject: [#1]\r\n\r\nVotre demande\r\n"
)


def test_a_failed_delivery_report_names_the_recipient_status_diagnostic_and_our_mail() -> None:
    parsed = parse_mail(dsn(about=HEADERS_PART))
    assert parsed.automatic is not None  # still automatic: never answered, never a ticket
    assert parsed.bounce is not None
    assert (parsed.bounce.recipient, parsed.bounce.status) == ("ghost@acme.example", "5.1.1")
    assert parsed.bounce.diagnostic == "550 5.1.1 <ghost@acme.example>: user unknown"
    assert parsed.bounce.message_ids == ("ours-1@helpdesk.localhost",)


def test_the_bounced_mail_is_found_in_a_message_part_or_the_references() -> None:
    bounce = parse_mail(dsn(about=MESSAGE_PART)).bounce
    assert bounce is not None and bounce.message_ids == ("ours-2@helpdesk.localhost",)
    replied = parse_mail(dsn(extra_headers="In-Reply-To: <ours-3@helpdesk.localhost>\r\n")).bounce
    assert replied is not None and replied.message_ids == ("ours-3@helpdesk.localhost",)


@pytest.mark.parametrize(
    "raw",
    [
        dsn(),  # no Message-ID says which mail bounced
        dsn(action="delayed", about=HEADERS_PART).replace(b"Status: 5", b"Status: 4"),
        dsn(action="delivered", about=HEADERS_PART).replace(b"Status: 5", b"Status: 2"),
        dsn(about=HEADERS_PART).replace(b"report-type=delivery-status", b"report-type=x"),
        mail("In-Reply-To: <ours-1@helpdesk.localhost>\r\n"),
    ],
)
def test_other_reports_and_messages_are_no_bounce(raw: bytes) -> None:
    assert parse_mail(raw).bounce is None


# ---------------------------------------------------------------- salvage (issue 22)


def multipart(content_type: str, body: str) -> bytes:
    return mail(f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n", body)


def test_a_well_formed_message_notes_no_defect() -> None:
    assert parse_mail(mail("")).defects is None


def test_a_boundary_never_found_is_guessed_from_the_delimiter_lines() -> None:
    body = "--real\r\nContent-Type: text/plain\r\n\r\nLe texte\r\n--real--\r\n"
    parsed = parse_mail(multipart('multipart/mixed; boundary="declared"', body))
    assert parsed.text == "Le texte"
    assert parsed.defects is not None and parsed.defects.startswith(
        "MultipartInvariantViolationDefect, StartBoundaryNotFoundDefect; salvaged:"
    )


def test_a_nested_part_reusing_the_boundary_keeps_the_parts_after_it() -> None:
    body = (
        '--X\r\nContent-Type: multipart/alternative; boundary="X"\r\n\r\n'
        "--X\r\nContent-Type: text/html\r\n\r\n<p>En <b>HTML</b></p>\r\n"
        "--X\r\nContent-Type: text/plain\r\n\r\nEn texte\r\n--X--\r\n"
        '--X\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename="a.csv"\r\n'
        "\r\nx;y\r\n--X--\r\n"
    )
    parsed = parse_mail(multipart('multipart/mixed; boundary="X"', body))
    assert parsed.text == "En texte"
    assert [(a.filename, a.content) for a in parsed.attachments] == [("a.csv", b"x;y\r\n")]
    assert parsed.defects is not None and parsed.defects.endswith("the first text part")


@pytest.mark.parametrize(
    ("body", "text", "source"),
    [
        ("--b\r\n\r\ncorps sans en-tête\r\n--b--", "corps sans en-tête", "the first text part"),
        ("--b\r\nContent-Type: text/html\r\n\r\n<p>a</p><p>b</p>\r\n--b--", "a\n\nb", "an HTML"),
        ("Le préambule\r\n--b\r\n\r\n--b--", "Le préambule", "the preamble"),
        ("Juste du texte", "Juste du texte", "the raw body"),
    ],
)
def test_a_multipart_without_a_boundary_is_read_as_mail_clients_do(
    body: str, text: str, source: str
) -> None:
    parsed = parse_mail(multipart("multipart/alternative", body))
    assert parsed.text == text
    assert parsed.defects is not None and "NoBoundaryInMultipartDefect" in parsed.defects
    assert source in parsed.defects


def test_the_mime_preamble_boilerplate_is_not_taken_for_the_text() -> None:
    body = "This is a multi-part message in MIME format.\r\n--b\r\n\r\n--b--"
    with pytest.raises(MalformedMail, match="nothing readable"):
        parse_mail(multipart("multipart/mixed", body))


def test_a_forwarded_message_with_a_broken_structure_is_read() -> None:
    body = (
        "--m\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@globex.example\r\nSubject: o\r\n"
        "Content-Type: multipart/alternative\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\n"
        "Transféré\r\n--q--\r\n--m--\r\n"
    )
    parsed = parse_mail(multipart('multipart/mixed; boundary="m"', body))
    assert (parsed.text, parsed.sender) == ("Transféré", "a@acme.example")


def test_salvage_keeps_the_nesting_limit() -> None:
    opening = "".join(
        f"Content-Type: multipart/mixed\r\n\r\n--b{i}\r\n" for i in range(MAX_DEPTH + 5)
    )
    raw = mail("MIME-Version: 1.0\r\n" + opening, "")
    with pytest.raises(MalformedMail, match="nested deeper"):
        parse_mail(raw + b"Content-Type: text/plain\r\n\r\ndeep")


@pytest.mark.parametrize(
    ("charset", "payload", "text"),
    [
        ("utf-8", "1 200 € n’inclut".encode("cp1252"), "1 200 € n’inclut"),
        ("iso-8859-1", "l'écran".encode(), "l'écran"),
        ("x-unknown-8bit", "données".encode(), "données"),
        ("x-unknown-8bit", "données".encode("latin-1"), "données"),
        ("us-ascii", b"\x81\x8d", "\x81\x8d"),  # not UTF-8 nor Windows-1252: Latin-1
        ("iso-8859-15", "30 €".encode("iso-8859-15"), "30 €"),
        ("iso-8859-1", "30 € œuvre".encode("cp1252"), "30 € œuvre"),
        ("latin1", "déjà".encode("latin-1"), "déjà"),
        ("shift_jis", "日本".encode("shift_jis"), "日本"),
    ],
)
def test_charsets_are_decoded_leniently(charset: str, payload: bytes, text: str) -> None:
    assert decode_text(payload, charset) == text


def test_rfc_2231_charset_and_filename_parameters() -> None:
    raw = (
        b"From: a@acme.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=p"
        b"\r\n\r\n--p\r\nContent-Type: text/plain; charset*=''iso-8859-15\r\n\r\n30 \xa4\r\n"
        b"--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
        b"filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n\r\nx\r\n--p--\r\n"
    )
    parsed = parse_mail(raw)
    assert (parsed.text, [a.filename for a in parsed.attachments]) == ("30 €", ["été.txt"])


def test_salvage_reads_a_bounded_number_of_parts() -> None:
    body = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 2000
    with pytest.raises(MalformedMail, match="over 1000 parts"):
        parse_mail(multipart("multipart/mixed", body))


def test_a_lost_boundary_is_guessed_among_the_first_delimiter_lines_only() -> None:
    body = "".join(f"--a{i}\r\nx\r\n" for i in range(50)) + "--b\r\nContent-Type: text/plain\r\n"
    parsed = parse_mail(multipart("multipart/mixed", body + "\r\nlate\r\n--b--"))
    assert parsed.defects is not None and parsed.defects.endswith("the raw body")
