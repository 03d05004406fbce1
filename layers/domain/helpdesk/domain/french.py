"""Values as a French reader expects them in a mail (DESIGN.md §8, "French values").

Priorities `basse`, `normale`, `haute`, `critique`; types and statuses by their labels (§2);
instants in Paris time, in words (`lundi 7 décembre 2026 à 09:00`); money as `1 200,00 €`.
No locale module: the names are spelled here, so the text never depends on the machine.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from helpdesk.domain.calendar import PARIS, ensure_utc
from helpdesk.domain.model import Priority, Status, TicketType

PRIORITIES = {
    Priority.LOW: "basse",
    Priority.NORMAL: "normale",
    Priority.HIGH: "haute",
    Priority.CRITICAL: "critique",
}

# Monday first, as datetime.weekday() counts.
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

CENT = Decimal("0.01")


def priority(value: Priority) -> str:
    """`high` -> `haute`."""
    return PRIORITIES[value]


def ticket_type(value: TicketType) -> str:
    """The type's French name: `Support - Assistance Utilisateur`."""
    return value.label


def status(value: Status) -> str:
    """The status's label: `Pris en charge`."""
    return value.label


def day(moment: datetime) -> str:
    """The day in Paris at this instant, in words: `lundi 7 décembre 2026`."""
    local = ensure_utc(moment).astimezone(PARIS)
    return f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}"


def date_time(moment: datetime) -> str:
    """The instant in Paris time, in words: `lundi 7 décembre 2026 à 09:00`."""
    local = ensure_utc(moment).astimezone(PARIS)
    return f"{day(moment)} à {local.hour:02d}:{local.minute:02d}"


def money(amount: Decimal) -> str:
    """`Decimal("1200")` -> `1 200,00 €` (spaces between thousands, comma before cents)."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    whole, fraction = f"{abs(cents):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{' '.join(groups)},{fraction} €"


def number(value: Decimal) -> str:
    """A decimal as French writes it, without trailing zeros: `2.50` -> `2,5`, `3.00` -> `3`."""
    text = f"{value.normalize():f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def days(value: Decimal) -> str:
    """A number of days: `1 jour`, `0,5 jour`, `3 jours`, `2,5 jours` (plural from 2)."""
    unit = "jour" if abs(value) < 2 else "jours"
    return f"{number(value)} {unit}"


def level(value: int) -> str:
    """`niveau 2`."""
    return f"niveau {value}"


# ------------------------------------------------------------------ service levels (§10)

SLA_CLOCKS = {"take": "prise en charge", "answer": "réponse"}


def sla_clock(name: str) -> str:
    """A service-level clock in words: `prise en charge` (take), `réponse` (answer)."""
    return SLA_CLOCKS[name]


def business_minutes(minutes: int) -> str:
    """A duration of business time: `45 min`, `4 h`, `2 h 30`."""
    hours, rest = divmod(abs(minutes), 60)
    sign = "-" if minutes < 0 else ""
    if not hours:
        return f"{sign}{rest} min"
    return f"{sign}{hours} h" + (f" {rest:02d}" if rest else "")
