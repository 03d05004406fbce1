"""Sending mail through SES (v2)."""

from __future__ import annotations

from typing import Any


class SesMailer:
    def __init__(self, client: Any, sender: str) -> None:
        self.client = client
        self.sender = sender

    def send(self, to: str, raw: bytes) -> None:
        """`to`: one address, or several separated by commas (one mail to all of them)."""
        self.client.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [a.strip() for a in to.split(",") if a.strip()]},
            Content={"Raw": {"Data": raw}},
        )
