"""Composing the raw mail we send, with the headers that thread replies and stop loops.

A mail is multipart/alternative: the plain text first, the HTML second (mail clients show the
last part they can render), both UTF-8 and quoted-printable, so any relay carries them.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate


def render(
    *,
    sender: str,
    to: str | Sequence[str],
    subject: str,
    body: str,
    message_id: str,
    html: str = "",
    in_reply_to: str | None = None,
    references: str | None = None,
) -> bytes:
    """The raw RFC 5322 message: text/plain alone, or text/plain + text/html when `html`.

    `to` is one address or several (one mail, all of them in To). `references` defaults to
    `in_reply_to` (the thread's root, the only mail it refers to).
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references or in_reply_to:
        message["References"] = references or in_reply_to
    # RFC 3834: an automatic message; well-behaved auto-responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return bytes(message)
