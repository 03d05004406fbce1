"""Hostile input never crashes the ingestion: every message ends with an outcome recorded."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.mail.conftest import Mailbox, corpus

OUTCOMES = {
    "ticket_created",
    "comment_added",
    "duplicate",
    "ignored_auto_reply",
    "bounce_recorded",
    "rate_limited",
    "quarantined",
}
FIXTURES_OK = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_recorded(mailbox: Mailbox, raw: bytes) -> str:
    result = mailbox.deliver(raw)
    assert result.outcome in OUTCOMES, result
    assert mailbox.record(result).outcome == result.outcome
    return result.outcome


@FIXTURES_OK
@given(raw=st.binary(max_size=4000))
def test_random_bytes(mailbox: Mailbox, raw: bytes) -> None:
    assert_recorded(mailbox, raw)


HEADER_TEXT = st.text(st.characters(codec="utf-8"), max_size=120)


@FIXTURES_OK
@given(
    sender=HEADER_TEXT,
    subject=HEADER_TEXT,
    content_type=st.sampled_from(
        [
            "text/plain",
            "text/html",
            "multipart/mixed",
            'multipart/mixed; boundary="b"',
            "message/rfc822",
            'text/plain; charset="klingon"',
            "application/octet-stream",
        ]
    ),
    body=st.binary(max_size=2000),
)
def test_mail_shaped_garbage(
    mailbox: Mailbox, sender: str, subject: str, content_type: str, body: bytes
) -> None:
    headers = (
        f"From: {sender}\r\nTo: support@helpdesk.localhost\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@x>\r\nIn-Reply-To: <{sender}>\r\nContent-Type: {content_type}\r\n"
    )
    assert_recorded(mailbox, headers.encode("utf-8", "surrogateescape") + b"\r\n" + body)


def test_raw_8bit_headers_are_stored_as_text(mailbox: Mailbox) -> None:
    """Found by test_mail_shaped_garbage: 8-bit bytes in From and In-Reply-To came out of the
    parser as surrogate escapes, which DynamoDB refused: the mail ended `failed`."""
    raw = (
        b"From: 0@\xc2\x80\r\nTo: support@helpdesk.localhost\r\nSubject: \xff\xfe\r\n"
        b"Message-ID: <@x>\r\nIn-Reply-To: <0@\xc2\x80>\r\nContent-Type: text/plain\r\n\r\n"
    )
    assert assert_recorded(mailbox, raw) == "quarantined"


def test_a_utf7_body_decoding_to_lone_surrogates_is_stored(mailbox: Mailbox) -> None:
    raw = corpus("plain.eml").replace(b"Message-ID:", b"X-Old-Id:")
    head, _, _ = raw.partition(b"\r\n\r\n" if b"\r\n\r\n" in raw else b"\n\n")
    head = b"\n".join(
        line for line in head.splitlines() if not line.lower().startswith(b"content-")
    )
    hostile = head + b'\nContent-Type: text/plain; charset="utf-7"\n\nBonjour +2AA- fin\n'
    assert assert_recorded(mailbox, hostile) == "ticket_created"


def test_huge_headers(mailbox: Mailbox) -> None:
    raw = corpus("plain.eml")
    junk = b"".join(b"X-Junk-%d: %s\r\n" % (i, b"y" * 900) for i in range(3000))
    long_subject = b"Subject: " + b"tres long " * 20000 + b"\r\n"
    long_id = b"Message-ID: <" + b"z" * 100_000 + b"@acme.example>\r\n"
    hostile = junk + long_subject + long_id + raw.replace(b"Message-ID:", b"X-Old-Id:")
    assert assert_recorded(mailbox, hostile) == "ticket_created"


def test_deeply_nested_multiparts(mailbox: Mailbox) -> None:
    depth = 5000
    head = b"From: fabrice@acme.example\r\nTo: support@helpdesk.localhost\r\nSubject: nest\r\n"
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    raw = head + opening + b"Content-Type: text/plain\r\n\r\ndeep\r\n" + closing
    assert assert_recorded(mailbox, raw) == "quarantined"


def test_a_message_of_only_an_attachment_and_no_subject(mailbox: Mailbox) -> None:
    """No text, no subject, a path in the file name: still a ticket, with a safe name."""
    raw = (
        b"From: fabrice@acme.example\r\nTo: support@helpdesk.localhost\r\n"
        b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="../../x.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
    )
    result = mailbox.deliver(raw)
    assert result.outcome == "ticket_created"
    ticket = mailbox.ingestion.unit_of_work().tickets.get(result.ticket_number or 0)
    assert (ticket.title, ticket.attachments) == ("(sans objet)", ("x.pdf",))
    assert ticket.description == "Pièces jointes : x.pdf"
