"""Settings of the local stack, from the environment (PORT and SMTP_PORT override ports)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_PORT = 3000
DEFAULT_SMTP_PORT = 2525
# A day of the quote-approval waits, locally: 8 s, so the default 30-day quote is reminded
# every 56 s (7 days) and expires after 240 s (the template: 86400 s, QuoteDaySeconds).
DEFAULT_QUOTE_DAY_SECONDS = 8


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
    # Seconds in a day of the quote-approval waits (the notifier's QUOTE_DAY_SECONDS; template:
    # 86400): a quote valid N days expires after N of these, reminded every 7 of them.
    quote_day_seconds: int = DEFAULT_QUOTE_DAY_SECONDS

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocalConfig:
        env = os.environ if env is None else env
        return cls(
            port=_port(env, "PORT", DEFAULT_PORT),
            smtp_port=_port(env, "SMTP_PORT", DEFAULT_SMTP_PORT),
            quote_day_seconds=_positive(env, "LOCAL_QUOTE_DAY_SECONDS", DEFAULT_QUOTE_DAY_SECONDS)
            or DEFAULT_QUOTE_DAY_SECONDS,
        )
