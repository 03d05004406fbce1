"""Composing the raw mail we send, with the headers that thread replies and stop loops."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate


def render(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str | None = None,
) -> bytes:
    """The raw RFC 5322 message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    # RFC 3834: an automatic message; well-behaved auto-responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body)
    return bytes(message)
