"""Sending mail through SES (v2)."""

from __future__ import annotations

from typing import Any


class SesMailer:
    """`configuration_set`: named on every send, so SES counts its bounces and complaints in
    the set's reputation metrics (alarmed in template.yaml); none when empty."""

    def __init__(self, client: Any, sender: str, configuration_set: str = "") -> None:
        self.client = client
        self.sender = sender
        self.configuration_set = configuration_set

    def send(self, to: str, raw: bytes) -> None:
        """`to`: one address, or several separated by commas (one mail to all of them)."""
        options = {"ConfigurationSetName": self.configuration_set} if self.configuration_set else {}
        self.client.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [a.strip() for a in to.split(",") if a.strip()]},
            Content={"Raw": {"Data": raw}},
            **options,
        )
