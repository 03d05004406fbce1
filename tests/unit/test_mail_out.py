"""The raw mail we send (helpdesk.domain.mail_out), read back as a mail client reads it."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from helpdesk.domain.mail_out import render

SENDER = "support@helpdesk.localhost"
ROOT = "<ticket-7-1764234000@helpdesk.localhost>"
SUBJECT = "[#7] Chiffrage à valider : Écran figé après la mise à jour"
TEXT = "Bonjour,\n\nLe chiffrage s'élève à 1 200,00 €.\nValable jusqu'au lundi 7 décembre.\n"
HTML = "<p>Bonjour,</p><p>Le chiffrage s'élève à <strong>1 200,00 €</strong>.</p>"


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_mail_with_html_is_multipart_alternative_text_then_html_in_utf8() -> None:
    raw = render(
        sender=SENDER,
        to="paul@acme.test",
        subject=SUBJECT,
        body=TEXT,
        html=HTML,
        message_id="<abc@helpdesk.localhost>",
        in_reply_to=ROOT,
    )
    raw.decode("ascii")  # every byte 7-bit: any relay carries it
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    assert parts[0].get_content() == TEXT
    assert parts[1].get_content().rstrip("\n") == HTML
    assert message["Subject"] == SUBJECT  # accents survive the encoded-word round trip
    assert "=?utf-8?" in raw.decode("ascii").split("Subject:", 1)[1].split("\n", 1)[0]
    assert message["From"] == SENDER
    assert message["To"] == "paul@acme.test"
    assert message["Message-ID"] == "<abc@helpdesk.localhost>"
    assert message["In-Reply-To"] == ROOT
    assert message["References"] == ROOT
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Date"]


def test_a_mail_without_html_is_plain_text_and_the_first_of_its_thread_refers_to_none() -> None:
    message = parse(
        render(sender=SENDER, to="paul@acme.test", subject=SUBJECT, body=TEXT, message_id=ROOT)
    )
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == TEXT
    assert message["Message-ID"] == ROOT
    assert message["In-Reply-To"] is None
    assert message["References"] is None
    assert message["Auto-Submitted"] == "auto-generated"


def test_several_recipients_share_one_mail() -> None:
    message = parse(
        render(
            sender=SENDER,
            to=["l1@consult.example", "l1b@consult.example"],
            subject="[#7] Nouvelle demande",
            body="Bonjour\n",
            html="<p>Bonjour</p>",
            message_id="<x@helpdesk.localhost>",
            in_reply_to=ROOT,
        )
    )
    assert [a.addr_spec for a in message["To"].addresses] == [
        "l1@consult.example",
        "l1b@consult.example",
    ]
