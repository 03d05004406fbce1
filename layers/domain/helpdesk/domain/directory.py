"""Customer organisations and the consultant roster."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from helpdesk.domain.calendar import DEFAULT_AUTO_CLOSE_DAYS
from helpdesk.domain.contract import DEFAULT_CONTRACT, Contract, parse_contract
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.money import parse_money
from helpdesk.domain.quote_schedule import (
    DEFAULT_QUOTE_VALIDITY_DAYS,
    MAX_VALIDITY_DAYS,
    MIN_VALIDITY_DAYS,
)
from helpdesk.domain.text import check_email

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")

# The product bills in euros: quotes are in EUR and billing totals add quote and time amounts,
# so an organisation's time is billed in EUR too (docs/billing-exports.md).
BILLING_CURRENCY = "EUR"


@dataclass(frozen=True)
class Organisation:
    """A client organisation: its mail domains, rates and contract."""

    org_id: str
    name: str
    email_domains: tuple[str, ...] = ()
    auto_close_days: int = DEFAULT_AUTO_CLOSE_DAYS
    hourly_rate: Decimal | None = None
    currency: str = "EUR"
    # Days a quote stays valid (submit-quote's default; the approval execution's waits, §8).
    quote_validity_days: int = DEFAULT_QUOTE_VALIDITY_DAYS
    # Business hours, holidays, service-level targets and hour budget (DESIGN.md §10).
    contract: Contract = DEFAULT_CONTRACT


class RosterRole(StrEnum):
    """A roster entry's role (DESIGN.md §7): consultants have a level, managers none."""

    CONSULTANT = "consultant"
    MANAGER = "manager"


@dataclass(frozen=True)
class Consultant:
    """A roster entry: a consultant (level 1-3) or a manager (no level). An inactive entry is
    never assignable and keeps its history (DESIGN.md §7)."""

    id: str
    name: str
    email: str
    level: int | None
    active: bool = True
    role: RosterRole = RosterRole.CONSULTANT

    @property
    def assignable_level(self) -> int | None:
        """The level this entry may be assigned at: None for a manager or an inactive entry."""
        if self.role is not RosterRole.CONSULTANT or not self.active:
            return None
        return self.level


def active_managers(roster: list[Consultant]) -> list[Consultant]:
    """"The managers" that mail goes to (§8, §10): the active roster entries of that role."""
    return [c for c in roster if c.role is RosterRole.MANAGER and c.active]


def check_identifier(value: str, field_name: str) -> str:
    if not _IDENT.match(value):
        raise InvalidInput(field_name, f"'{field_name}' must be 1-128 letters, digits or ._@+-")
    return value


def new_organisation(
    org_id: str,
    name: str,
    email_domains: list[str],
    auto_close_days: int = DEFAULT_AUTO_CLOSE_DAYS,
    hourly_rate: Decimal | str | None = None,
    currency: str = "EUR",
    quote_validity_days: int = DEFAULT_QUOTE_VALIDITY_DAYS,
    contract: Contract | Mapping[str, Any] | None = None,
) -> Organisation:
    """A checked organisation; `contract` is §10's JSON document (None: every default)."""
    check_identifier(org_id, "org_id")
    if not name.strip():
        raise InvalidInput("name", "'name' is required.")
    domains = tuple(sorted({d.strip().lower() for d in email_domains}))
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise InvalidInput("email_domains", f"'{domain}' is not a mail domain.")
    if not 1 <= auto_close_days <= 365:
        raise InvalidInput("auto_close_days", "'auto_close_days' must be between 1 and 365.")
    rate = None if hourly_rate is None else parse_money(hourly_rate, "hourly_rate")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput("currency", "'currency' must be an ISO 4217 code such as EUR.")
    if currency != BILLING_CURRENCY:
        raise InvalidInput(
            "currency",
            f"'currency' must be {BILLING_CURRENCY}, not {currency}: the helpdesk bills in "
            f"euros (quotes are in {BILLING_CURRENCY} and billing totals add quotes and time).",
        )
    if isinstance(quote_validity_days, bool) or not isinstance(quote_validity_days, int):
        raise InvalidInput("quote_validity_days", "'quote_validity_days' must be a whole number.")
    if not MIN_VALIDITY_DAYS <= quote_validity_days <= MAX_VALIDITY_DAYS:
        raise InvalidInput(
            "quote_validity_days",
            f"'quote_validity_days' must be between {MIN_VALIDITY_DAYS} and {MAX_VALIDITY_DAYS}.",
        )
    terms = contract if isinstance(contract, Contract) else parse_contract(contract)
    return Organisation(
        org_id, name.strip(), domains, auto_close_days, rate, currency, quote_validity_days, terms
    )


def new_consultant(
    consultant_id: str,
    name: str,
    email: str,
    level: int | None,
    *,
    role: RosterRole | str = RosterRole.CONSULTANT,
    active: bool = True,
) -> Consultant:
    check_identifier(consultant_id, "id")
    if not name.strip():
        raise InvalidInput("name", "'name' is required.")
    email = check_email(email, "email")
    try:
        roster_role = RosterRole(role)
    except ValueError:
        raise InvalidInput("role", "'role' must be 'consultant' or 'manager'.") from None
    if roster_role is RosterRole.MANAGER:
        if level is not None:
            raise InvalidInput("level", "A manager has no level: leave 'level' out.")
    elif isinstance(level, bool) or level not in (1, 2, 3):
        raise InvalidInput("level", "'level' must be 1, 2 or 3.")
    if not isinstance(active, bool):
        raise InvalidInput("active", "'active' must be true or false.")
    return Consultant(consultant_id, name.strip(), email, level, active, roster_role)
