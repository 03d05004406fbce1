"""Months, days and titles in the customer's time zone (Europe/Paris)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

FRENCH_MONTHS = (
    "Janvier",
    "Février",
    "Mars",
    "Avril",
    "Mai",
    "Juin",
    "Juillet",
    "Août",
    "Septembre",
    "Octobre",
    "Novembre",
    "Décembre",
)

DEFAULT_AUTO_CLOSE_DAYS = 7

_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def ensure_utc(moment: datetime) -> datetime:
    """A timezone-aware instant in UTC; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: an instant needs its offset")
    return moment.astimezone(UTC)


def paris_date(moment: datetime) -> date:
    """The calendar day in Paris at this instant."""
    return ensure_utc(moment).astimezone(PARIS).date()


def month_key(day: date) -> str:
    """`2022-01` for any day of January 2022."""
    return f"{day.year:04d}-{day.month:02d}"


def paris_month(moment: datetime) -> str:
    """The month (`yyyy-mm`) in Paris at this instant."""
    return month_key(paris_date(moment))


def parse_month(month: str) -> tuple[int, int]:
    """`2022-01` → (2022, 1); raises ValueError on anything else."""
    # ASCII digits only: int() alone would accept " 1", "+1" or other scripts' digits.
    if not _MONTH.fullmatch(month):
        raise ValueError(f"not a month (yyyy-mm): {month!r}")
    year, number = int(month[:4]), int(month[5:])
    if not 1 <= number <= 12 or year < 1970:
        raise ValueError(f"not a month (yyyy-mm): {month!r}")
    return year, number


def french_month_label(month: str) -> str:
    """`2022-01` → `Janvier 2022`."""
    year, number = parse_month(month)
    return f"{FRENCH_MONTHS[number - 1]} {year}"


def task_title(number: int, title: str, month: str) -> str:
    """`#88 - Création de l'utilisateur Fabrice - Janvier 2022`."""
    return f"#{number} - {title} - {french_month_label(month)}"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's first instant, in UTC (Paris months)."""
    year, number = parse_month(month)
    start = datetime(year, number, 1, tzinfo=PARIS)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=PARIS)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_month(month: str) -> str:
    year, number = parse_month(month)
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


def auto_close_due(answered_at: datetime, days: int) -> datetime:
    """X calendar days after the answer at the same Paris wall-clock time, in UTC.

    Across a DST change the elapsed time is X days plus or minus one hour, so the client
    reads "closes on the 5th at 10:00" whatever the season.
    """
    if days < 1:
        raise ValueError("auto-close delay must be at least one day")
    local = ensure_utc(answered_at).astimezone(PARIS)
    return (local + timedelta(days=days)).astimezone(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a `Z`, to the second: `2026-11-27T23:30:00Z`."""
    return ensure_utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant; it must carry an offset."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ensure_utc(moment)
