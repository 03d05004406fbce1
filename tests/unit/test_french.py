"""French values in mails (DESIGN.md §8): priorities, types, statuses, Paris dates in words,
money as `1 200,00 €`. Expected strings are typed from DESIGN.md and a calendar (weekdays and
the Paris offsets checked with `date`), never computed by the code under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from helpdesk.domain import french
from helpdesk.domain.model import Priority, Status, TicketType


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Priority.LOW, "basse"),
        (Priority.NORMAL, "normale"),
        (Priority.HIGH, "haute"),
        (Priority.CRITICAL, "critique"),
    ],
)
def test_priorities_are_french(value: Priority, text: str) -> None:
    assert french.priority(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (TicketType.ASSISTANCE, "Support - Assistance Utilisateur"),
        (TicketType.INCIDENT, "Support - Incident Applicatif"),
        (TicketType.EVOLUTION, "Support - Evolution Applicatif"),
    ],
)
def test_types_are_their_french_names(value: TicketType, text: str) -> None:
    assert french.ticket_type(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Status.OPEN, "Ouvert"),
        (Status.TAKEN, "Pris en charge"),
        (Status.IN_PROGRESS, "En Cours"),
        (Status.ON_HOLD, "Un instant"),
        (Status.AWAITING_QUOTE_APPROVAL, "En Attente Validation Chiffrage"),
        (Status.IN_REALISATION, "En Cours de Réalisation"),
        (Status.ANSWER_SENT, "Réponse Envoyée"),
        (Status.CLOSED, "Fermé"),
    ],
)
def test_statuses_are_their_labels(value: Status, text: str) -> None:
    assert french.status(value) == text


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        # DESIGN.md's own example: 09:00 in Paris is 08:00 UTC in winter.
        (datetime(2026, 12, 7, 8, 0, tzinfo=UTC), "lundi 7 décembre 2026 à 09:00"),
        # Summer time: UTC+2.
        (datetime(2026, 7, 14, 10, 30, tzinfo=UTC), "mardi 14 juillet 2026 à 12:30"),
        # The night summer time starts (29 March 2026, 02:00 CET -> 03:00 CEST).
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "dimanche 29 mars 2026 à 01:59"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "dimanche 29 mars 2026 à 03:00"),
        # The night it ends (25 October 2026): 02:30 happens twice.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "dimanche 25 octobre 2026 à 02:30"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "dimanche 25 octobre 2026 à 02:30"),
        # Late evening UTC is already the next day (and month, and year) in Paris.
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "mardi 1 décembre 2026 à 00:30"),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), "vendredi 1 janvier 2027 à 00:00"),
        (datetime(2028, 2, 29, 11, 5, tzinfo=UTC), "mardi 29 février 2028 à 12:05"),
        (datetime(2026, 8, 15, 6, 0, tzinfo=UTC), "samedi 15 août 2026 à 08:00"),
        # An instant given in another offset is the same instant.
        (
            datetime(2026, 12, 7, 3, 0, tzinfo=timezone(timedelta(hours=-5))),
            "lundi 7 décembre 2026 à 09:00",
        ),
    ],
)
def test_dates_are_paris_time_in_words(moment: datetime, text: str) -> None:
    assert french.date_time(moment) == text


def test_every_weekday_and_month_is_spelled() -> None:
    week = [french.day(datetime(2026, 12, 7 + n, 12, tzinfo=UTC)) for n in range(7)]
    assert week == [
        "lundi 7 décembre 2026",
        "mardi 8 décembre 2026",
        "mercredi 9 décembre 2026",
        "jeudi 10 décembre 2026",
        "vendredi 11 décembre 2026",
        "samedi 12 décembre 2026",
        "dimanche 13 décembre 2026",
    ]
    months = [french.day(datetime(2026, m, 1, 12, tzinfo=UTC)).split(" ")[2] for m in range(1, 13)]
    assert months == [
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
    ]


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        french.date_time(datetime(2026, 12, 7, 9, 0))


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0", "0,00 €"),
        ("0.5", "0,50 €"),
        ("0.05", "0,05 €"),
        ("999.99", "999,99 €"),
        ("1000", "1 000,00 €"),
        ("1200", "1 200,00 €"),
        ("1200.00", "1 200,00 €"),
        ("12000", "12 000,00 €"),
        ("100000", "100 000,00 €"),
        ("1234567.89", "1 234 567,89 €"),
        ("999999999.99", "999 999 999,99 €"),
    ],
)
def test_money_is_french(amount: str, text: str) -> None:
    assert french.money(Decimal(amount)) == text


def test_money_uses_the_characters_of_design() -> None:
    """DESIGN.md writes `1 200,00 €` with plain spaces (U+0020) and the euro sign (U+20AC)."""
    assert [hex(ord(c)) for c in french.money(Decimal("1200"))] == [
        "0x31", "0x20", "0x32", "0x30", "0x30", "0x2c", "0x30", "0x30", "0x20", "0x20ac"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1", "1 jour"),
        ("0.5", "0,5 jour"),
        ("1.5", "1,5 jour"),
        ("2", "2 jours"),
        ("2.50", "2,5 jours"),
        ("3.00", "3 jours"),
        ("100", "100 jours"),
    ],
)
def test_days_are_french(value: str, text: str) -> None:
    assert french.days(Decimal(value)) == text


def test_levels() -> None:
    assert french.level(2) == "niveau 2"
