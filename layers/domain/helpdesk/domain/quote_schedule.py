"""How long a quote waits for the client's decision, and when the client is reminded (§8).

A quote is valid `validity_days` days from its submission (the organisation's
`quote_validity_days`, 30 unless it sets its own; an explicit `validity_days` on submit-quote
wins). The quote-approval state machine waits in steps: a reminder every 7 days strictly before
the end, then the expiry, so its waits add up to exactly the validity:

    30 days -> 7, 7, 7, 7, 2   (4 reminders: days 7, 14, 21, 28; expired on day 30)
    14 days -> 7, 7            (1 reminder on day 7; expired on day 14)
    10 days -> 7, 3            (1 reminder on day 7)
     7 days -> 7               (no reminder)

The state machine times out after each wait: after every wait but the last it reminds the client
(reminder n after wait n), after the last it expires the quote.
"""

from __future__ import annotations

DEFAULT_QUOTE_VALIDITY_DAYS = 30
MIN_VALIDITY_DAYS = 1
MAX_VALIDITY_DAYS = 365
REMINDER_EVERY_DAYS = 7
DAY_SECONDS = 86_400


def check_validity_days(value: object, field_name: str = "validity_days") -> int:
    """A whole number of days, 1 to 365 (a bool is not a number of days)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"'{field_name}' must be a whole number of days.")
    if not MIN_VALIDITY_DAYS <= value <= MAX_VALIDITY_DAYS:
        raise ValueError(
            f"'{field_name}' must be between {MIN_VALIDITY_DAYS} and {MAX_VALIDITY_DAYS}."
        )
    return value


def wait_days(validity_days: int) -> list[int]:
    """The waits in days: 7 each while more than 7 days remain, then the rest (1 to 7)."""
    check_validity_days(validity_days)
    reminders = (validity_days - 1) // REMINDER_EVERY_DAYS
    return [REMINDER_EVERY_DAYS] * reminders + [validity_days - reminders * REMINDER_EVERY_DAYS]


def waits(validity_days: int, day_seconds: int = DAY_SECONDS) -> list[int]:
    """The state machine's waits in seconds (`day_seconds` per day: 86400 on AWS, less in
    tests); they add up to exactly `validity_days * day_seconds`."""
    if isinstance(day_seconds, bool) or not isinstance(day_seconds, int) or day_seconds < 1:
        raise ValueError("day_seconds must be a whole number of seconds, 1 or more.")
    return [days * day_seconds for days in wait_days(validity_days)]


def reminder_count(validity_days: int) -> int:
    """Reminders the client receives before an undecided quote expires."""
    return len(wait_days(validity_days)) - 1
