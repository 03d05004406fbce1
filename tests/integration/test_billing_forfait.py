"""A billing export with a forfait (DESIGN.md §10) against moto, reconciled to the cent with a
hand computation typed below; the monthly client reports read back with openpyxl; a rebuild
from the store writes the same bytes.

Hand computation (October 2026, Europe/Paris):
- acme: hourly rate 72.50, included 600 minutes, monthly fee 1500.00.
  Assistance #1: lea 400 + marc 137 (Oct 31) = 537; incident #2: marie 250. Evolution #3: 300
  minutes, never consumed, billed on its approved quote 2400.00. Outside the month: #1 on
  Sep 30 (20) and Nov 1 (50).
  consumed = 400 + 137 + 250 = 787; overage = 787 - 600 = 187 minutes = 3.12 h;
  overage amount = 187 × 72.50 / 60 = 13557.50 / 60 = 225.958… → 225.96.
  time amount = 1500.00 + 225.96 = 1725.96; amount = 1725.96 + 2400.00 = 4125.96.
- globex: no contract, no rate: #4 lea 95 minutes, no amount: 0.00.
- initech: included 1200, monthly fee 800.00, no activity: fee 800.00, overage 0.
Totals: minutes 787 + 95 = 882; time 1725.96 + 0.00 + 800.00 = 2525.96; quotes 2400.00;
amount 4925.96.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest

from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.billing_export import BillingExporter
from helpdesk.domain import client_report
from helpdesk.domain.billing import sha256_hex
from helpdesk.domain.client_report import render_report
from helpdesk.domain.model import ClosureReason, Priority, QuoteOutcome, Status, Ticket
from helpdesk.domain.sla import ClockState, SlaClock, SlaClocks
from helpdesk.service import HelpdeskService
from tests.conftest import FINANCE, MANAGER
from tests.integration.billing_support import (
    BUCKET,
    World,
    crash_at_manifest,
    csv_rows,
    exporter_over,
    quote,
)
from tests.integration.test_billing_export import s3

__all__ = ["s3"]  # the exports bucket fixture of the billing export tests

MONTH = "2026-10"
AFTER = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def exporter(service: HelpdeskService, table: Table, s3: Any) -> BillingExporter:
    service.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example"],
                    hourly_rate="72.50",
                    contract={"included_minutes": 600, "monthly_fee": "1500.00"})
    service.put_org(MANAGER, "initech", name="Initech", email_domains=["initech.example"],
                    contract={"included_minutes": 1200, "monthly_fee": "800.00"})
    return exporter_over(table, s3)


def _object(s3: Any, name: str) -> bytes:
    body: bytes = s3.get_object(Bucket=BUCKET, Key=f"exports/2026/10/{name}")["Body"].read()
    return body


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """2026, month, day, hour, minute in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _october(table: Table) -> World:
    world = World(table)
    oct2 = _at(10, 2, 8)
    one = world.ticket("assistance", "acme", created_at=oct2, updated_at=oct2)
    two = world.ticket("incident", "acme", created_at=_at(9, 20, 8),
                       updated_at=_at(10, 25, 9), status=Status.CLOSED,
                       closed_at=_at(10, 25, 9), closure_reason=ClosureReason.CONFIRMED)
    three = world.ticket("evolution", "acme", created_at=_at(9, 20, 8),
                         updated_at=_at(10, 20, 10))
    four = world.ticket("assistance", "globex", created_at=oct2, updated_at=oct2)
    # 2026-10-31T23:30Z is November 1st in Paris; 2026-09-30T22:30Z is October 1st.
    world.ticket("assistance", "acme", created_at=_at(10, 31, 23, 30),
                 updated_at=_at(10, 31, 23, 30))
    world.ticket("incident", "acme", created_at=_at(9, 30, 22, 30),
                 updated_at=_at(9, 30, 22, 30))
    world.entry(one, "lea", date(2026, 10, 5), 400)
    world.entry(one, "marc", date(2026, 10, 31), 137)
    world.entry(one, "marc", date(2026, 9, 30), 20)
    world.entry(one, "lea", date(2026, 11, 1), 50)
    world.entry(two, "marie", date(2026, 10, 15), 250)
    world.entry(three, "lea", date(2026, 10, 6), 300)
    world.entry(four, "lea", date(2026, 10, 9), 95)
    world.close_evolution(three, _at(10, 20, 10),
                          (quote("2400.00", QuoteOutcome.APPROVED),))
    return world


def test_a_forfait_with_overage_reconciles_to_the_cent(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any
) -> None:
    _october(table)
    result = exporter.export(FINANCE, MONTH, AFTER)
    rows = [tuple(r.values()) for r in csv_rows(_object(s3, f"billing-{MONTH}.csv"))]
    assert rows == [
        ("2026-10", "acme", "1", "assistance", "time", "lea", "400", "6.67", "", "", "EUR", ""),
        ("2026-10", "acme", "1", "assistance", "time", "marc", "137", "2.28", "", "", "EUR", ""),
        ("2026-10", "acme", "2", "incident", "time", "marie", "250", "4.17", "", "", "EUR", ""),
        ("2026-10", "acme", "3", "evolution", "quote", "", "0", "", "", "2400.00", "EUR",
         "2026-10-20"),
        ("2026-10", "acme", "", "", "fee", "", "0", "", "", "1500.00", "EUR", ""),
        ("2026-10", "acme", "", "", "overage", "", "187", "3.12", "72.50", "225.96", "EUR", ""),
        ("2026-10", "globex", "4", "assistance", "time", "lea", "95", "1.58", "", "", "EUR", ""),
        ("2026-10", "initech", "", "", "fee", "", "0", "", "", "800.00", "EUR", ""),
    ]
    manifest = result.document
    orgs = {o["org_id"]: o for o in manifest["organisations"]}
    assert {k: orgs["acme"][k] for k in ("minutes", "time_amount", "quote_amount", "amount",
                                          "included_minutes", "overage_minutes",
                                          "monthly_fee")} == {
        "minutes": 787, "time_amount": "1725.96", "quote_amount": "2400.00",
        "amount": "4125.96", "included_minutes": 600, "overage_minutes": 187,
        "monthly_fee": "1500.00",
    }
    assert (orgs["globex"]["amount"], orgs["globex"]["included_minutes"],
            orgs["globex"]["overage_minutes"], orgs["globex"]["monthly_fee"]) == (
        "0.00", None, None, None)
    assert (orgs["initech"]["minutes"], orgs["initech"]["time_amount"],
            orgs["initech"]["overage_minutes"], orgs["initech"]["monthly_fee"]) == (
        0, "800.00", 0, "800.00")
    assert manifest["totals"] == {"minutes": 882, "hours": "14.70", "time_amount": "2525.96",
                                  "quote_amount": "2400.00", "amount": "4925.96"}
    assert manifest["row_counts"] == {"lines": 8, "time": 4, "quote": 1, "fee": 2,
                                      "overage": 1, "margin": 1}
    # The workbook for people carries the same lines and totals.
    book = openpyxl.load_workbook(io.BytesIO(_object(s3, f"billing-{MONTH}.xlsx")))
    acme = list(book["acme"].iter_rows(values_only=True))
    assert acme[-1][7] == pytest.approx(4125.96)
    # A rerun answers the stored export, byte for byte.
    again = exporter.export(FINANCE, MONTH, AFTER)
    assert again.manifest == result.manifest and not again.created


def _sheet(book: Any, name: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in book[name].iter_rows(values_only=True)]


def test_the_monthly_report_of_each_organisation_reads_back_and_rebuilds_identically(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any
) -> None:
    _october(table)
    result = exporter.export(FINANCE, MONTH, AFTER)
    files = {f["name"]: f for f in result.document["files"]}
    assert {"report-acme.xlsx", "report-globex.xlsx", "report-initech.xlsx"} <= set(files)
    data = _object(s3, "report-acme.xlsx")
    assert files["report-acme.xlsx"]["sha256"] == sha256_hex(data)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Demandes", "Temps", "Niveaux de service", "Forfait"]
    # Opened in October (Paris): #1, #6 (October 1st, 00:30), #3 no (September); #5 is
    # November 1st in Paris. Closed: #2 (incident), #3 (evolution).
    assert _sheet(book, "Demandes")[3:] == [
        ("Type", "Ouvertes", "Fermées"),
        ("Support - Assistance Utilisateur", 1, 0),
        ("Support - Incident Applicatif", 1, 1),
        ("Support - Evolution Applicatif", 0, 1),
        ("Total", 2, 2),
    ]
    spent = _sheet(book, "Temps")
    assert [r[:4] + r[5:] for r in spent[3:]] == [
        (1, "Ticket 1", "Support - Assistance Utilisateur", 537, "oui"),
        (2, "Ticket 2", "Support - Incident Applicatif", 250, "oui"),
        (3, "Ticket 3", "Support - Evolution Applicatif", 300, "non"),
        ("Total", None, None, 1087, None),
    ]
    # No ticket carries clocks yet: every service-level figure is zero.
    levels = _sheet(book, "Niveaux de service")
    assert levels[3:] == [("critique", 0, 0, 0, 0), ("haute", 0, 0, 0, 0),
                          ("normale", 0, 0, 0, 0), ("basse", 0, 0, 0, 0)]
    budget = dict(r for r in _sheet(book, "Forfait")[2:])
    assert {k: budget[k] for k in ("Minutes incluses", "Minutes consommées",
                                   "Minutes restantes", "Minutes de dépassement")} == {
        "Minutes incluses": 600, "Minutes consommées": 787, "Minutes restantes": -187,
        "Minutes de dépassement": 187,
    }
    assert budget["Redevance mensuelle"] == pytest.approx(1500.00)
    globex = openpyxl.load_workbook(io.BytesIO(_object(s3, "report-globex.xlsx")))
    assert dict(r for r in _sheet(globex, "Forfait")[2:])["Minutes incluses"] == "—"
    # Built again from the store, each report is the same bytes as the stored one.
    report = exporter.aggregate(MONTH)
    generated_at = datetime.fromisoformat(result.document["generated_at"])
    for client in exporter.client_reports(MONTH, report):
        name = f"report-{client.org_id}.xlsx"
        assert sha256_hex(render_report(client, generated_at)) == files[name]["sha256"]
    assert json.loads(result.manifest)["files"] == result.document["files"]


def test_a_forfait_export_that_crashed_is_completed_with_the_same_bytes(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _october(table)
    crash_at_manifest(monkeypatch, exporter)
    with pytest.raises(RuntimeError):
        exporter.export(FINANCE, MONTH, AFTER)
    names = (f"billing-{MONTH}.csv", f"billing-{MONTH}.xlsx", "report-acme.xlsx",
             "report-globex.xlsx", "report-initech.xlsx")
    written = {name: _object(s3, name) for name in names}
    rerun = exporter_over(table, s3).export(FINANCE, MONTH, AFTER + timedelta(hours=2))
    assert rerun.created and rerun.document["totals"]["amount"] == "4925.96"
    for name in names:
        assert _object(s3, name) == written[name]
        versions = s3.list_object_versions(Bucket=BUCKET, Prefix=f"exports/2026/10/{name}")
        assert len(versions["Versions"]) == 1  # the rerun found the same bytes there
    by_name = {f["name"]: f["sha256"] for f in rerun.document["files"]}
    assert all(by_name[name] == sha256_hex(written[name]) for name in names)


def test_a_clock_missed_in_the_month_on_an_untouched_open_ticket_counts(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _october(table)
    # Opened September 30th, never changed since, still open: its take clock (critical, 60
    # business minutes from Wednesday September 30th 10:00 Paris) was due at 11:00, its
    # answer clock (240 minutes) on Thursday October 1st at 10:00: missed in October.
    since = _at(9, 30, 8)
    late = world.ticket("incident", "acme", created_at=since, updated_at=since,
                        priority=Priority.CRITICAL)
    take = SlaClock(60, ClockState.RUNNING, timedelta(0), since, _at(9, 30, 9))
    answer = SlaClock(240, ClockState.RUNNING, timedelta(0), since, _at(10, 1, 8))

    def clocks(ticket: Ticket) -> SlaClocks | None:
        return SlaClocks(take, answer) if ticket.number == late.number else None

    monkeypatch.setattr(client_report, "ticket_clocks", clocks)
    exporter.export(FINANCE, MONTH, AFTER)
    book = openpyxl.load_workbook(io.BytesIO(_object(s3, "report-acme.xlsx")))
    # take: missed in September (not this month's); answer: missed in October.
    assert _sheet(book, "Niveaux de service")[3] == ("critique", 0, 0, 0, 1)
