"""An organisation's support contract (DESIGN.md §10): business hours, public holidays, the
service-level targets per priority, and the monthly hour budget.

Every field is optional in `PUT /orgs/{org_id}`; what is left out takes §10's default:

    {"business_hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"},
     "holidays": "FR",
     "sla": {"critical": {"take_minutes": 60,  "answer_minutes": 240},
             "high":     {"take_minutes": 120, "answer_minutes": 480},
             "normal":   {"take_minutes": 240, "answer_minutes": 1080},
             "low":      {"take_minutes": 480, "answer_minutes": 2700}},
     "included_minutes": null, "monthly_fee": null, "alert_emails": []}

A priority named in `sla` with one of its two targets keeps the default of the other.
`parse_contract` reads that JSON document (a request body's, or the stored one) and
`contract_json` writes it back, every field filled in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from helpdesk.domain.business_time import BusinessCalendar, HolidayCalendar
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.model import Priority
from helpdesk.domain.money import parse_money
from helpdesk.domain.text import check_email

MINUTES_PER_DAY = 24 * 60
# Bounds that keep a contract sensible (and the business-time walks short): a target of more
# than a year of minutes, or a monthly budget of more than a million minutes, is a typo.
MAX_TARGET_MINUTES = 366 * MINUTES_PER_DAY
MAX_INCLUDED_MINUTES = 1_000_000
MAX_ALERT_EMAILS = 10

_START = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")
_END = re.compile(r"^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")

CLOCKS = ("take_minutes", "answer_minutes")
FIELDS = ("business_hours", "holidays", "sla", "included_minutes", "monthly_fee", "alert_emails")


@dataclass(frozen=True)
class BusinessHours:
    """ISO weekdays (1 = Monday) and wall-clock hours in Paris, `HH:MM`; `end` may be
    `24:00` (the end of the day) for round-the-clock service."""

    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    start: str = "09:00"
    end: str = "18:00"


@dataclass(frozen=True)
class SlaTarget:
    """Business minutes allowed to take a ticket in charge and to answer it."""

    take_minutes: int
    answer_minutes: int


@dataclass(frozen=True)
class SlaTargets:
    """Business minutes allowed per priority for one clock (take or answer)."""

    critical: SlaTarget = SlaTarget(60, 240)
    high: SlaTarget = SlaTarget(120, 480)
    normal: SlaTarget = SlaTarget(240, 1080)
    low: SlaTarget = SlaTarget(480, 2700)

    def __getitem__(self, priority: Priority) -> SlaTarget:
        target: SlaTarget = getattr(self, priority.value)
        return target


@dataclass(frozen=True)
class Contract:
    """An organisation's contract: business hours, holidays, service levels, hour budget."""

    business_hours: BusinessHours = field(default_factory=BusinessHours)
    holidays: HolidayCalendar = HolidayCalendar.FR
    sla: SlaTargets = field(default_factory=SlaTargets)
    included_minutes: int | None = None
    monthly_fee: Decimal | None = None
    alert_emails: tuple[str, ...] = ()

    @property
    def calendar(self) -> BusinessCalendar:
        """The business calendar the service-level clocks count on."""
        return BusinessCalendar(
            days=frozenset(self.business_hours.days),
            opens=_minutes(self.business_hours.start),
            closes=_minutes(self.business_hours.end),
            holidays=self.holidays,
        )


DEFAULT_CONTRACT = Contract()


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(value: object, name: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(name, f"'{name}' must be an object.")
    for key in value:
        if key not in known:
            raise InvalidInput(
                f"{name}.{key}", f"'{name}' has no field '{key}' (known: {', '.join(known)})."
            )
    return value


def _business_hours(value: object) -> BusinessHours:
    name = "contract.business_hours"
    data = _object(value, name, ("days", "start", "end"))
    default = BusinessHours()
    days = data.get("days", list(default.days))
    if not isinstance(days, list | tuple) or not days:
        raise InvalidInput(f"{name}.days", "'days' must be a non-empty list of ISO weekdays.")
    if not all(_is_int(day) and 1 <= day <= 7 for day in days):
        raise InvalidInput(f"{name}.days", "'days' are ISO weekdays: 1 (Monday) to 7 (Sunday).")
    if len(set(days)) != len(days):
        raise InvalidInput(f"{name}.days", "'days' names a weekday twice.")
    start, end = data.get("start", default.start), data.get("end", default.end)
    if not isinstance(start, str) or not _START.fullmatch(start):
        raise InvalidInput(f"{name}.start", "'start' is a time of day, HH:MM (00:00-23:59).")
    if not isinstance(end, str) or not _END.fullmatch(end):
        raise InvalidInput(f"{name}.end", "'end' is a time of day, HH:MM (00:01-24:00).")
    if _minutes(start) >= _minutes(end):
        raise InvalidInput(f"{name}.end", f"'end' ({end}) must be after 'start' ({start}).")
    return BusinessHours(tuple(sorted(days)), start, end)


def _holidays(value: object) -> HolidayCalendar:
    for calendar in HolidayCalendar:
        if isinstance(value, str) and value == calendar.value:
            return calendar
    known = " or ".join(f"'{c.value}'" for c in HolidayCalendar)
    raise InvalidInput("contract.holidays", f"'holidays' must be {known}.")


def _sla(value: object) -> SlaTargets:
    name = "contract.sla"
    data = _object(value, name, tuple(p.value for p in Priority))
    defaults = SlaTargets()
    targets: dict[str, SlaTarget] = {}
    for priority in Priority:
        default = defaults[priority]
        given = _object(data.get(priority.value, {}), f"{name}.{priority.value}", CLOCKS)
        minutes: dict[str, int] = {}
        for clock in CLOCKS:
            number = given.get(clock, getattr(default, clock))
            if not _is_int(number) or not 1 <= number <= MAX_TARGET_MINUTES:
                raise InvalidInput(
                    f"{name}.{priority.value}.{clock}",
                    f"'{clock}' of '{priority.value}' must be a whole number of business "
                    f"minutes, 1 to {MAX_TARGET_MINUTES}.",
                )
            minutes[clock] = number
        targets[priority.value] = SlaTarget(**minutes)
    return SlaTargets(**targets)


def _included_minutes(value: object) -> int | None:
    if value is None:
        return None
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 <= value <= MAX_INCLUDED_MINUTES
    ):
        return value
    raise InvalidInput(
        "contract.included_minutes",
        f"'included_minutes' must be null or a whole number, 0 to {MAX_INCLUDED_MINUTES}.",
    )


def _monthly_fee(value: object) -> Decimal | None:
    if value is None:
        return None
    # Money is a string in JSON ("1200.00"); a Decimal when built in Python. Never a float.
    if not isinstance(value, str | Decimal):
        raise InvalidInput(
            "contract.monthly_fee", "'monthly_fee' is a string amount, e.g. \"1200.00\"."
        )
    return parse_money(value, "contract.monthly_fee", zero_allowed=True)


def _alert_emails(value: object) -> tuple[str, ...]:
    name = "contract.alert_emails"
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(name, "'alert_emails' must be a list of email addresses.")
    if len(value) > MAX_ALERT_EMAILS:
        raise InvalidInput(name, f"'alert_emails' holds at most {MAX_ALERT_EMAILS} addresses.")
    addresses = [check_email(v, name) for v in value]
    return tuple(dict.fromkeys(addresses))  # duplicates once, in the order given


def parse_contract(data: Mapping[str, Any] | None) -> Contract:
    """The contract a JSON document describes, defaults filled in; InvalidInput names the
    offending field (`contract.sla.high.take_minutes`). None is the default contract."""
    if data is None:
        return DEFAULT_CONTRACT
    data = _object(data, "contract", FIELDS)
    return Contract(
        business_hours=_business_hours(data.get("business_hours", {})),
        holidays=_holidays(data.get("holidays", HolidayCalendar.FR.value)),
        sla=_sla(data.get("sla", {})),
        included_minutes=_included_minutes(data.get("included_minutes")),
        monthly_fee=_monthly_fee(data.get("monthly_fee")),
        alert_emails=_alert_emails(data.get("alert_emails", [])),
    )


def contract_json(contract: Contract) -> dict[str, Any]:
    """The contract as §10's JSON document, every field present (money as a string)."""
    hours = contract.business_hours
    return {
        "business_hours": {"days": list(hours.days), "start": hours.start, "end": hours.end},
        "holidays": contract.holidays.value,
        "sla": {
            p.value: {
                "take_minutes": contract.sla[p].take_minutes,
                "answer_minutes": contract.sla[p].answer_minutes,
            }
            for p in (Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW)
        },
        "included_minutes": contract.included_minutes,
        "monthly_fee": None if contract.monthly_fee is None else f"{contract.monthly_fee:.2f}",
        "alert_emails": list(contract.alert_emails),
    }
