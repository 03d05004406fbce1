"""An organisation's contract (DESIGN.md §10): defaults, validation, the JSON document, and the
French public holidays its calendar leaves out."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from helpdesk.domain.business_time import BusinessCalendar, HolidayCalendar, public_holidays
from helpdesk.domain.contract import (
    DEFAULT_CONTRACT,
    BusinessHours,
    Contract,
    SlaTarget,
    contract_json,
    parse_contract,
)
from helpdesk.domain.directory import new_organisation
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.model import Priority

DEFAULT_JSON: dict[str, Any] = {
    "business_hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"},
    "holidays": "FR",
    "sla": {
        "critical": {"take_minutes": 60, "answer_minutes": 240},
        "high": {"take_minutes": 120, "answer_minutes": 480},
        "normal": {"take_minutes": 240, "answer_minutes": 1080},
        "low": {"take_minutes": 480, "answer_minutes": 2700},
    },
    "included_minutes": None,
    "monthly_fee": None,
    "alert_emails": [],
}


# ---------------------------------------------------------------- defaults


@pytest.mark.parametrize("document", [None, {}])
def test_every_field_left_out_takes_the_design_default(document: dict[str, Any] | None) -> None:
    contract = parse_contract(document)
    assert contract == DEFAULT_CONTRACT == Contract()
    assert contract_json(contract) == DEFAULT_JSON


@pytest.mark.parametrize(
    ("priority", "take", "answer"),
    [("critical", 60, 240), ("high", 120, 480), ("normal", 240, 1080), ("low", 480, 2700)],
)
def test_default_targets_per_priority(priority: str, take: int, answer: int) -> None:
    assert DEFAULT_CONTRACT.sla[Priority(priority)] == SlaTarget(take, answer)


def test_default_calendar_is_weekdays_nine_to_six_french_holidays() -> None:
    assert DEFAULT_CONTRACT.calendar == BusinessCalendar(
        days=frozenset({1, 2, 3, 4, 5}), opens=540, closes=1080, holidays=HolidayCalendar.FR
    )


def test_a_full_contract_round_trips() -> None:
    document = {
        "business_hours": {"days": [6, 1, 2], "start": "08:30", "end": "24:00"},
        "holidays": "FR-ALSACE-MOSELLE",
        "sla": {
            "critical": {"take_minutes": 15, "answer_minutes": 120},
            "high": {"take_minutes": 30, "answer_minutes": 240},
            "normal": {"take_minutes": 60, "answer_minutes": 600},
            "low": {"take_minutes": 120, "answer_minutes": 1200},
        },
        "included_minutes": 1200,
        "monthly_fee": "1500.5",
        "alert_emails": ["Compta@Client.example", "dsi@client.example", "compta@client.example"],
    }
    contract = parse_contract(document)
    assert contract.business_hours == BusinessHours((1, 2, 6), "08:30", "24:00")
    assert contract.calendar.opens == 510
    assert contract.calendar.closes == 1440
    assert contract.monthly_fee == Decimal("1500.50")
    assert contract.alert_emails == ("compta@client.example", "dsi@client.example")
    written = contract_json(contract)
    assert written["business_hours"] == {"days": [1, 2, 6], "start": "08:30", "end": "24:00"}
    assert written["monthly_fee"] == "1500.50"
    assert written["holidays"] == "FR-ALSACE-MOSELLE"
    assert written["sla"] == document["sla"]
    assert parse_contract(written) == contract


def test_a_priority_given_in_part_keeps_the_other_defaults() -> None:
    contract = parse_contract({"sla": {"high": {"take_minutes": 90}}})
    assert contract.sla[Priority.HIGH] == SlaTarget(90, 480)
    assert contract.sla[Priority.CRITICAL] == SlaTarget(60, 240)
    assert contract.sla[Priority.LOW] == SlaTarget(480, 2700)


def test_zero_budget_and_zero_fee_are_allowed() -> None:
    contract = parse_contract({"included_minutes": 0, "monthly_fee": "0"})
    assert contract.included_minutes == 0
    assert contract.monthly_fee == Decimal("0.00")
    assert contract_json(contract)["monthly_fee"] == "0.00"


# -------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ("not an object", "contract"),
        ({"hours": {}}, "contract.hours"),
        ({"business_hours": []}, "contract.business_hours"),
        ({"business_hours": {"days": []}}, "contract.business_hours.days"),
        ({"business_hours": {"days": [0, 1]}}, "contract.business_hours.days"),
        ({"business_hours": {"days": [1, 8]}}, "contract.business_hours.days"),
        ({"business_hours": {"days": [1, 1, 2]}}, "contract.business_hours.days"),
        ({"business_hours": {"days": [True]}}, "contract.business_hours.days"),
        ({"business_hours": {"days": ["1"]}}, "contract.business_hours.days"),
        ({"business_hours": {"days": 1}}, "contract.business_hours.days"),
        ({"business_hours": {"weekdays": [1]}}, "contract.business_hours.weekdays"),
        ({"business_hours": {"start": "9:00"}}, "contract.business_hours.start"),
        ({"business_hours": {"start": "24:00"}}, "contract.business_hours.start"),
        ({"business_hours": {"start": "09:60"}}, "contract.business_hours.start"),
        ({"business_hours": {"start": 900}}, "contract.business_hours.start"),
        ({"business_hours": {"end": "24:01"}}, "contract.business_hours.end"),
        ({"business_hours": {"end": "18:00:00"}}, "contract.business_hours.end"),
        ({"business_hours": {"start": "18:00", "end": "09:00"}}, "contract.business_hours.end"),
        ({"business_hours": {"start": "09:00", "end": "09:00"}}, "contract.business_hours.end"),
        ({"holidays": "fr"}, "contract.holidays"),
        ({"holidays": "FR-57"}, "contract.holidays"),
        ({"holidays": None}, "contract.holidays"),
        ({"sla": {"urgent": {}}}, "contract.sla.urgent"),
        ({"sla": {"high": 60}}, "contract.sla.high"),
        ({"sla": {"high": {"take": 60}}}, "contract.sla.high.take"),
        ({"sla": {"high": {"take_minutes": 0}}}, "contract.sla.high.take_minutes"),
        ({"sla": {"low": {"answer_minutes": -5}}}, "contract.sla.low.answer_minutes"),
        ({"sla": {"low": {"answer_minutes": 1.5}}}, "contract.sla.low.answer_minutes"),
        ({"sla": {"low": {"answer_minutes": "60"}}}, "contract.sla.low.answer_minutes"),
        ({"sla": {"low": {"answer_minutes": True}}}, "contract.sla.low.answer_minutes"),
        ({"sla": {"low": {"answer_minutes": 527041}}}, "contract.sla.low.answer_minutes"),
        ({"included_minutes": -1}, "contract.included_minutes"),
        ({"included_minutes": 1_000_001}, "contract.included_minutes"),
        ({"included_minutes": "600"}, "contract.included_minutes"),
        ({"included_minutes": False}, "contract.included_minutes"),
        ({"monthly_fee": "-1.00"}, "contract.monthly_fee"),
        ({"monthly_fee": "12.345"}, "contract.monthly_fee"),
        ({"monthly_fee": "NaN"}, "contract.monthly_fee"),
        ({"monthly_fee": "abc"}, "contract.monthly_fee"),
        ({"monthly_fee": 1200.0}, "contract.monthly_fee"),
        ({"monthly_fee": 1200}, "contract.monthly_fee"),
        ({"alert_emails": "a@b.example"}, "contract.alert_emails"),
        ({"alert_emails": ["not-an-address"]}, "contract.alert_emails"),
        ({"alert_emails": ["a@b.example", 3]}, "contract.alert_emails"),
        ({"alert_emails": [f"p{i}@b.example" for i in range(11)]}, "contract.alert_emails"),
    ],
)
def test_invalid_contracts_name_the_field(document: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_contract(document)
    assert caught.value.field == field


def test_ten_alert_addresses_are_accepted() -> None:
    emails = [f"p{i}@b.example" for i in range(10)]
    assert parse_contract({"alert_emails": emails}).alert_emails == tuple(emails)


def test_round_the_clock_every_day() -> None:
    contract = parse_contract(
        {"business_hours": {"days": [7, 6, 5, 4, 3, 2, 1], "start": "00:00", "end": "24:00"}}
    )
    assert contract.calendar.days == frozenset(range(1, 8))
    assert (contract.calendar.opens, contract.calendar.closes) == (0, 1440)


# ---------------------------------------------------------------- holidays

FR_2026 = {
    date(2026, 1, 1),  # Jour de l'an
    date(2026, 4, 6),  # Lundi de Pâques
    date(2026, 5, 1),  # Fête du Travail
    date(2026, 5, 8),  # Victoire 1945
    date(2026, 5, 14),  # Ascension
    date(2026, 5, 25),  # Lundi de Pentecôte
    date(2026, 7, 14),  # Fête nationale
    date(2026, 8, 15),  # Assomption
    date(2026, 11, 1),  # Toussaint
    date(2026, 11, 11),  # Armistice
    date(2026, 12, 25),  # Noël
}
FR_2027 = {
    date(2027, 1, 1),
    date(2027, 3, 29),  # Lundi de Pâques (Easter is 28 March 2027)
    date(2027, 5, 1),
    date(2027, 5, 6),  # Ascension
    date(2027, 5, 8),
    date(2027, 5, 17),  # Lundi de Pentecôte
    date(2027, 7, 14),
    date(2027, 8, 15),
    date(2027, 11, 1),
    date(2027, 11, 11),
    date(2027, 12, 25),
}


@pytest.mark.parametrize(
    ("calendar", "year", "expected"),
    [
        (HolidayCalendar.FR, 2026, FR_2026),
        (HolidayCalendar.FR, 2027, FR_2027),
        # Alsace-Moselle adds Good Friday (Vendredi saint) and 26 December (Saint-Étienne).
        (HolidayCalendar.FR_ALSACE_MOSELLE, 2026, FR_2026 | {date(2026, 4, 3), date(2026, 12, 26)}),
        (
            HolidayCalendar.FR_ALSACE_MOSELLE,
            2027,
            FR_2027 | {date(2027, 3, 26), date(2027, 12, 26)},
        ),
    ],
)
def test_public_holidays(calendar: HolidayCalendar, year: int, expected: set[date]) -> None:
    assert public_holidays(calendar, year) == expected


def test_a_holiday_is_not_a_business_day_in_its_calendar_only() -> None:
    good_friday = date(2026, 4, 3)
    assert BusinessCalendar(holidays=HolidayCalendar.FR).is_business_day(good_friday)
    alsace = BusinessCalendar(holidays=HolidayCalendar.FR_ALSACE_MOSELLE)
    assert not alsace.is_business_day(good_friday)
    assert not alsace.is_business_day(date(2026, 5, 25))  # Pentecost Monday, FR too
    assert not BusinessCalendar().is_business_day(date(2026, 11, 28))  # a Saturday


def test_computing_holidays_never_loads_the_holiday_library() -> None:
    """Cold start: the library loads every country it knows (about 0.25 s); the holidays are
    computed instead, and the library is not even in the layer."""
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys\n"
        "import helpdesk.domain.contract, helpdesk.domain.business_time\n"
        "import helpdesk.domain.directory\n"
        "assert 'holidays' not in sys.modules, 'imported eagerly'\n"
        "from helpdesk.domain.business_time import HolidayCalendar, public_holidays\n"
        "public_holidays(HolidayCalendar.FR, 2026)\n"
        "assert 'holidays' not in sys.modules, 'imported to compute'\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=root,
        env={"PYTHONPATH": f"{root}:{root / 'layers' / 'domain'}"},
    )


# ------------------------------------------------------------ organisation


def test_an_organisation_carries_its_contract() -> None:
    plain = new_organisation("acme", "Acme", ["acme.example"])
    assert plain.contract == DEFAULT_CONTRACT
    org = new_organisation(
        "acme", "Acme", ["acme.example"], contract={"included_minutes": 600, "holidays": "FR"}
    )
    assert org.contract == Contract(included_minutes=600)
    with pytest.raises(InvalidInput) as caught:
        new_organisation("acme", "Acme", [], contract={"sla": {"low": {"take_minutes": 0}}})
    assert caught.value.field == "contract.sla.low.take_minutes"
