"""Settings of the local stack, from the environment (PORT and SMTP_PORT override ports)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_PORT = 3000
DEFAULT_SMTP_PORT = 2525
DEFAULT_QUOTE_REMINDER_SECONDS = 60


class ConfigError(ValueError):
    """An environment variable has a value the local stack cannot use."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be a port number (0-65535), not {raw!r}")
    return int(raw)


def _positive(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class LocalConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # The SMTP server of inbound mail (infra/localstack/smtp.py), for `mail_domain`.
    smtp_port: int = DEFAULT_SMTP_PORT
    region: str = "eu-west-1"
    stage: str = "local"
    account_id: str = "123456789012"
    tickets_table: str = "helpdesk-local-tickets"
    idempotency_table: str = "helpdesk-local-idempotency"
    token_ttl_seconds: int = 24 * 3600
    mail_domain: str = "helpdesk.localhost"
    # The quote-approval state machine's wait before each reminder (template: 7 days) and the
    # reminders before expiry (None: the template's default); short here, shorter in tests.
    quote_reminder_seconds: int = DEFAULT_QUOTE_REMINDER_SECONDS
    quote_max_reminders: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocalConfig:
        env = os.environ if env is None else env
        return cls(
            port=_port(env, "PORT", DEFAULT_PORT),
            smtp_port=_port(env, "SMTP_PORT", DEFAULT_SMTP_PORT),
            quote_reminder_seconds=_positive(
                env, "LOCAL_QUOTE_REMINDER_SECONDS", DEFAULT_QUOTE_REMINDER_SECONDS
            )
            or DEFAULT_QUOTE_REMINDER_SECONDS,
            quote_max_reminders=_positive(env, "LOCAL_QUOTE_MAX_REMINDERS", None),
        )
