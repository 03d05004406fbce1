"""Sending mail through SES (v2)."""

from __future__ import annotations

from typing import Any


class SesMailer:
    def __init__(self, client: Any, sender: str) -> None:
        self.client = client
        self.sender = sender

    def send(self, to: str, raw: bytes) -> None:
        self.client.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [to]},
            Content={"Raw": {"Data": raw}},
        )
