"""Configuration from the environment variables declared in template.yaml, read once.

A plain dataclass, not a pydantic model: every function reads its settings at cold start, and
most of them (jobs, notifier, quote, mail) would import pydantic for this alone (~0.1 s).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

RetryMode = Literal["standard", "adaptive"]
RETRY_MODES: tuple[RetryMode, ...] = ("standard", "adaptive")


@dataclass(frozen=True)
class Settings:
    """The function's configuration, read once from its environment (template.yaml)."""

    table_name: str  # TABLE_NAME
    idempotency_table_name: str = ""  # IDEMPOTENCY_TABLE_NAME
    stage: str = "local"  # STAGE
    aws_region: str = "eu-west-1"  # AWS_REGION
    endpoint_url: str | None = None  # AWS_ENDPOINT_URL
    mail_domain: str = "helpdesk.localhost"  # MAIL_DOMAIN
    mail_from: str = ""  # MAIL_FROM
    exports_bucket: str = ""  # EXPORTS_BUCKET
    # Local only: the base URL presigned export links point at (the local stack's /_local/s3).
    exports_public_endpoint: str | None = None  # EXPORTS_PUBLIC_ENDPOINT
    # The notifier's only: the quote-approval state machine it starts and resumes.
    quote_state_machine_arn: str = ""  # QUOTE_STATE_MACHINE_ARN
    # The notifier's only: seconds in a day of the quote-approval waits (86400; less locally).
    quote_day_seconds: int = 86_400  # QUOTE_DAY_SECONDS, 1 to 86400
    # Where the web app is (the notifier's action links and staff links): no trailing slash.
    app_url: str = ""  # APP_URL
    # The SES configuration set every send names (its reputation metrics: bounce and complaint
    # rates, alarmed in template.yaml); none when empty.
    ses_configuration_set: str = ""  # SES_CONFIGURATION_SET
    # Inbound mail (the mail_ingest function's only): where SES stores the raw messages, where
    # attachments go (none stored when empty), the mailboxes (`support=assistance,...`), the
    # largest message accepted and the messages a sender may send per hour.
    inbound_bucket: str = ""  # INBOUND_BUCKET
    inbound_prefix: str = "inbound/"  # INBOUND_PREFIX
    attachments_bucket: str = ""  # ATTACHMENTS_BUCKET
    # Attachments (§11): with GuardDuty Malware Protection for S3 on the bucket (template
    # parameter MalwareScanning), only a file its scan tags clean becomes available.
    malware_scanning: bool = False  # MALWARE_SCANNING: enabled or disabled
    mail_mailboxes: str = ""  # MAIL_MAILBOXES
    mail_max_bytes: int = 10 * 1024 * 1024  # MAIL_MAX_BYTES
    mail_rate_limit: int = 20  # MAIL_RATE_LIMIT
    # Every AWS client's retries (helpdesk.adapters.aws_clients), under botocore's own names:
    # attempts in all, the first included.
    aws_retry_mode: RetryMode = "standard"  # AWS_RETRY_MODE
    aws_max_attempts: int = 5  # AWS_MAX_ATTEMPTS, 1 to 20
    aws_connect_timeout: float = 2.0  # AWS_CONNECT_TIMEOUT, > 0
    aws_read_timeout: float = 5.0  # AWS_READ_TIMEOUT, > 0

    @classmethod
    def model_validate(cls, values: Mapping[str, object]) -> Settings:
        """The settings from environment variables (named as pydantic's, which it replaces).

        Raises ValueError naming the variable that is missing or out of range.
        """
        table_name = str(values.get("TABLE_NAME") or "")
        if len(table_name) < 3:
            raise ValueError("TABLE_NAME must name a table (3 characters or more)")
        retry_mode = str(values.get("AWS_RETRY_MODE", "standard"))
        if retry_mode not in RETRY_MODES:
            raise ValueError(f"AWS_RETRY_MODE must be one of {RETRY_MODES}, not {retry_mode!r}")
        scanning = str(values.get("MALWARE_SCANNING", "disabled"))
        if scanning not in ("enabled", "disabled"):
            raise ValueError(f"MALWARE_SCANNING must be enabled or disabled, not {scanning!r}")
        return cls(
            table_name=table_name,
            idempotency_table_name=str(values.get("IDEMPOTENCY_TABLE_NAME", "")),
            stage=str(values.get("STAGE", "local")),
            aws_region=str(values.get("AWS_REGION", "eu-west-1")),
            endpoint_url=_optional(values, "AWS_ENDPOINT_URL"),
            mail_domain=str(values.get("MAIL_DOMAIN", "helpdesk.localhost")),
            mail_from=str(values.get("MAIL_FROM", "")),
            exports_bucket=str(values.get("EXPORTS_BUCKET", "")),
            exports_public_endpoint=_optional(values, "EXPORTS_PUBLIC_ENDPOINT"),
            quote_state_machine_arn=str(values.get("QUOTE_STATE_MACHINE_ARN", "")),
            quote_day_seconds=_int_between(values, "QUOTE_DAY_SECONDS", 86_400, 1, 86_400),
            app_url=str(values.get("APP_URL", "")).rstrip("/"),
            ses_configuration_set=str(values.get("SES_CONFIGURATION_SET", "")),
            inbound_bucket=str(values.get("INBOUND_BUCKET", "")),
            inbound_prefix=str(values.get("INBOUND_PREFIX", "inbound/")),
            attachments_bucket=str(values.get("ATTACHMENTS_BUCKET", "")),
            malware_scanning=scanning == "enabled",
            mail_mailboxes=str(values.get("MAIL_MAILBOXES", "")),
            mail_max_bytes=_int_between(values, "MAIL_MAX_BYTES", 10 * 1024 * 1024, 1, 2**40),
            mail_rate_limit=_int_between(values, "MAIL_RATE_LIMIT", 20, 1, 10**9),
            aws_retry_mode=retry_mode,
            aws_max_attempts=_int_between(values, "AWS_MAX_ATTEMPTS", 5, 1, 20),
            aws_connect_timeout=_positive(values, "AWS_CONNECT_TIMEOUT", 2.0),
            aws_read_timeout=_positive(values, "AWS_READ_TIMEOUT", 5.0),
        )

    @property
    def sender(self) -> str:
        """The address notifications come from (replies to it come back to us)."""
        return self.mail_from or f"support@{self.mail_domain}"


def _optional(values: Mapping[str, object], name: str) -> str | None:
    value = values.get(name)
    return None if value is None else str(value)


def _int_between(values: Mapping[str, object], name: str, default: int, low: int, high: int) -> int:
    raw = values.get(name, default)
    try:
        number = int(str(raw))
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {number}")
    return number


def _positive(values: Mapping[str, object], name: str, default: float) -> float:
    raw = values.get(name, default)
    try:
        number = float(str(raw))
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if not number > 0:  # also refuses nan
        raise ValueError(f"{name} must be above 0, not {number}")
    return number


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
