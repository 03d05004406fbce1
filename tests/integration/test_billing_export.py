"""The monthly billing export against moto: reconciliation, locking, reruns, crash recovery."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import boto3
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from helpdesk import bootstrap_billing
from helpdesk.adapters.dynamodb.billing import DynamoBillingRepository
from helpdesk.adapters.dynamodb.repositories import DynamoTicketRepository
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.billing_export import BillingExporter
from helpdesk.billing_job import BillingExportJob
from helpdesk.domain.calendar import paris_month, previous_month
from helpdesk.domain.errors import Conflict, Forbidden, InvalidInput, MonthLocked
from helpdesk.domain.model import SYSTEM, ClosureReason, QuoteOutcome
from helpdesk.ports_billing import LockAction, LockStatus
from helpdesk.service import HelpdeskService
from helpdesk.settings import get_settings
from infra.cfn_template import create_table_from_template
from tests.conftest import CLIENT, FINANCE, L1, MANAGER, REGION, TABLE_NAME
from tests.integration.billing_support import (
    BUCKET,
    World,
    crash_at_manifest,
    create_bucket,
    csv_rows,
    exporter_over,
    quote,
)
from tests.support.functions import load_function

MONTH = "2026-10"
AFTER = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 02:00 in Paris on the 1st
RATES = {"acme": Decimal("90.00"), "initech": Decimal("72.50"), "globex": None}
# The monthly client reports (§10): one per organisation, rewritten identically by a rerun.
REPORTS = ("report-acme.xlsx", "report-globex.xlsx", "report-initech.xlsx")


def _orgs(service: HelpdeskService) -> None:
    service.put_org(MANAGER, "initech", name="Initech", email_domains=["initech.example"],
                    auto_close_days=7, hourly_rate="72.50")


@pytest.fixture
def s3(dynamodb: Any) -> Any:
    client = boto3.client("s3", region_name=REGION)
    create_bucket(client)
    return client


@pytest.fixture
def exporter(service: HelpdeskService, table: Table, s3: Any) -> BillingExporter:
    _orgs(service)
    return exporter_over(table, s3)


def _locked(table: Table) -> bool:
    """The month has its lock item (no time entry lands in it)."""
    return DynamoBillingRepository(table).lock(MONTH) is not None


def _object(s3: Any, name: str) -> bytes:
    key = f"exports/2026/10/{name}"
    body: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def _versions(s3: Any) -> int:
    return len(s3.list_object_versions(Bucket=BUCKET).get("Versions", []))


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------- reconciliation
DAYS = [date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 15), date(2026, 10, 31),
        date(2026, 11, 1)]
# Instants around the month's ends in Paris: 2026-09-30T22:30Z is October 1st 00:30 in Paris
# (summer time), 2026-10-31T23:30Z is November 1st 00:30 (winter time).
CLOSINGS = [datetime(2026, 9, 30, 21, 59, tzinfo=UTC), datetime(2026, 9, 30, 22, 30, tzinfo=UTC),
            datetime(2026, 10, 20, 12, tzinfo=UTC), datetime(2026, 10, 31, 22, 59, tzinfo=UTC),
            datetime(2026, 10, 31, 23, 30, tzinfo=UTC)]

ticket_st = st.tuples(
    st.sampled_from(["assistance", "incident", "evolution"]),
    st.sampled_from(sorted(RATES)),
    st.sampled_from(["approved", "refused-then-approved", "refused-then-abandoned", "open"]),
    st.sampled_from(CLOSINGS),
    st.decimals(min_value=Decimal("1"), max_value=Decimal("99999"), places=2),
)
entry_st = st.tuples(
    st.integers(0, 7), st.sampled_from(["lea", "marc", "marie", "sophie"]),
    st.sampled_from(DAYS), st.integers(1, 600),
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(tickets=st.lists(ticket_st, min_size=1, max_size=8),
       entries=st.lists(entry_st, max_size=40))
def test_export_totals_reconcile_with_the_months_entries(
    template: dict[str, Any], tickets: list[Any], entries: list[Any]
) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(dynamodb, template, "TicketsTable", TABLE_NAME)
        s3 = boto3.client("s3", region_name=REGION)
        create_bucket(s3)
        table = Table(dynamodb, TABLE_NAME)
        service = HelpdeskService(DynamoUnitOfWork(table))
        for org, rate in RATES.items():
            service.put_org(MANAGER, org, name=org.title(), email_domains=[f"{org}.example"],
                            auto_close_days=7, hourly_rate=None if rate is None else str(rate))
        world = World(table)
        made = [world.ticket(kind, org) for kind, org, *_ in tickets]
        expected_minutes: dict[str, int] = defaultdict(int)
        exact: dict[str, Decimal] = defaultdict(Decimal)
        lines: dict[tuple[str, int, str], int] = defaultdict(int)
        day_totals: dict[tuple[str, date], int] = defaultdict(int)
        for index, consultant, day, minutes in entries:
            ticket = made[index % len(made)]
            if day_totals[(consultant, day)] + minutes > 1440:
                continue  # a consultant's day holds 24 hours (tested elsewhere)
            day_totals[(consultant, day)] += minutes
            world.entry(ticket, consultant, day, minutes)
            if day.strftime("%Y-%m") == MONTH and ticket.type.value != "evolution":
                expected_minutes[ticket.org_id] += minutes
                lines[(ticket.org_id, ticket.number, consultant)] += minutes
                rate = RATES[ticket.org_id]
                if rate is not None:
                    exact[ticket.org_id] += Decimal(minutes) * rate / 60
        expected_quotes: dict[int, Decimal] = {}
        for ticket, (kind, _org, story, closed_at, amount) in zip(made, tickets, strict=True):
            if kind != "evolution" or story == "open":
                continue
            refused = quote("10.00", QuoteOutcome.REFUSED)
            if story == "refused-then-abandoned":
                world.close_evolution(ticket, closed_at, (refused,), ClosureReason.ABANDONED)
                continue
            approved = quote(str(amount), QuoteOutcome.APPROVED, 2)
            history = (approved,) if story == "approved" else (refused, approved)
            world.close_evolution(ticket, closed_at, history)
            if paris_month(closed_at) == MONTH:
                expected_quotes[ticket.number] = Decimal(amount)

        result = exporter_over(table, s3).export(SYSTEM, MONTH, AFTER)
        manifest = result.document
        rows = csv_rows(_object(s3, f"billing-{MONTH}.csv"))

    time_rows = [r for r in rows if r["basis"] == "time"]
    quote_rows = [r for r in rows if r["basis"] == "quote"]
    # To the minute: every billable minute of the month, nothing else, evolution time never.
    assert sum(int(r["minutes"]) for r in time_rows) == sum(expected_minutes.values())
    assert manifest["totals"]["minutes"] == sum(expected_minutes.values())
    assert all(r["type"] != "evolution" for r in time_rows)
    assert {(r["org_id"], int(r["ticket_number"]), r["consultant"]): int(r["minutes"])
            for r in time_rows} == dict(lines)
    # Each evolution closed in the month once, at its validated quote; abandoned ones never.
    assert {int(r["ticket_number"]): Decimal(r["amount"]) for r in quote_rows} == expected_quotes
    assert len(quote_rows) == len(expected_quotes)
    # To the cent: line amounts from the exact minutes; totals are sums of the lines.
    for row in time_rows:
        rate = RATES[row["org_id"]]
        if rate is None:
            assert (row["rate"], row["amount"]) == ("", "")
        else:
            assert Decimal(row["amount"]) == _round(Decimal(row["minutes"]) * rate / 60)
    by_org = {o["org_id"]: o for o in manifest["organisations"]}
    for org, minutes in expected_minutes.items():
        assert by_org[org]["minutes"] == minutes
        line_sum = sum((Decimal(r["amount"] or 0) for r in time_rows if r["org_id"] == org),
                       Decimal("0.00"))
        assert Decimal(by_org[org]["time_amount"]) == line_sum
        # Rounding per line: the sum of lines stays within half a cent per line of the exact.
        org_lines = sum(1 for key in lines if key[0] == org)
        assert abs(line_sum - exact[org]) <= Decimal("0.005") * org_lines
    total = sum((Decimal(r["amount"] or 0) for r in rows), Decimal("0.00"))
    assert Decimal(manifest["totals"]["amount"]) == total
    assert manifest["row_counts"]["lines"] == len(rows)


# ----------------------------------------------------------------- scenarios
def _month_of_work(service: HelpdeskService, table: Table) -> World:
    world = World(table)
    a = world.ticket("assistance", "acme")
    i = world.ticket("incident", "initech")
    g = world.ticket("assistance", "globex")
    e = world.ticket("evolution", "acme")
    abandoned = world.ticket("evolution", "initech")
    world.entry(a, "lea", date(2026, 10, 1), 45)
    world.entry(a, "lea", date(2026, 10, 31), 20)
    world.entry(a, "marc", date(2026, 10, 2), 7)
    world.entry(a, "marc", date(2026, 11, 1), 30)  # November: not this export
    world.entry(i, "marie", date(2026, 10, 9), 61)
    world.entry(g, "lea", date(2026, 10, 9), 95)
    world.entry(e, "marie", date(2026, 9, 20), 200)
    world.entry(e, "marie", date(2026, 10, 5), 300)
    world.entry(abandoned, "sophie", date(2026, 10, 5), 120)
    world.close_evolution(e, datetime(2026, 10, 20, 10, tzinfo=UTC),
                          (quote("1200.00", QuoteOutcome.REFUSED),
                           quote("1500.00", QuoteOutcome.APPROVED, 2)))
    world.close_evolution(abandoned, datetime(2026, 10, 21, 10, tzinfo=UTC),
                          (quote("900.00", QuoteOutcome.REFUSED),), ClosureReason.ABANDONED)
    return world


def test_export_writes_the_three_files_and_locks_the_month(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _month_of_work(service, table)
    monkeypatch.setattr(table.client, "scan", None)  # no production path scans
    result = exporter.export(FINANCE, MONTH, AFTER)
    assert result.created
    data = _object(s3, f"billing-{MONTH}.csv")
    assert data.startswith(b"month,org_id,ticket_number,type,basis,consultant,minutes,hours,"
                           b"rate,amount,currency,closed_on\r\n")
    assert [tuple(r.values()) for r in csv_rows(data)] == [
        ("2026-10", "acme", "1", "assistance", "time", "lea", "65", "1.08", "90.00", "97.50",
         "EUR", ""),
        ("2026-10", "acme", "1", "assistance", "time", "marc", "7", "0.12", "90.00", "10.50",
         "EUR", ""),
        ("2026-10", "acme", "4", "evolution", "quote", "", "0", "", "", "1500.00", "EUR",
         "2026-10-20"),
        ("2026-10", "globex", "3", "assistance", "time", "lea", "95", "1.58", "", "", "EUR", ""),
        ("2026-10", "initech", "2", "incident", "time", "marie", "61", "1.02", "72.50", "73.71",
         "EUR", ""),
    ]
    manifest = json.loads(_object(s3, "manifest.json"))
    assert manifest == result.document
    assert manifest["totals"] == {"minutes": 228, "hours": "3.80", "time_amount": "181.71",
                                  "quote_amount": "1500.00", "amount": "1681.71"}
    assert [(o["org_id"], o["minutes"], o["time_amount"], o["quote_amount"], o["amount"])
            for o in manifest["organisations"]] == [
        ("acme", 72, "108.00", "1500.00", "1608.00"),
        ("globex", 95, "0.00", "0.00", "0.00"),
        ("initech", 61, "73.71", "0.00", "73.71"),
    ]
    assert manifest["generated_at"] == "2026-11-01T01:00:00Z"
    for entry in manifest["files"]:
        body = _object(s3, entry["name"])
        assert entry["size"] == len(body) and len(entry["sha256"]) == 64
    assert [f["name"] for f in manifest["files"]] == [
        "billing-2026-10.csv", "billing-2026-10.xlsx",
        "report-acme.xlsx", "report-globex.xlsx", "report-initech.xlsx",
    ]
    assert manifest["row_counts"] == {"lines": 5, "time": 4, "quote": 1, "fee": 0, "overage": 0,
                                      "margin": 2}
    assert manifest["entries"]["read"] == 8  # 7 October entries and the closed evolution
    assert _locked(table)
    # Which export billed an entry: the lock of its month names it.
    entry = DynamoTicketRepository(table).with_time_entries(1)[1][0]
    assert exporter.billed_by(entry) == manifest["export_id"]
    assert exporter.verify(MONTH)
    assert world.tickets


def test_workbook_opens_and_its_totals_equal_the_csvs(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any
) -> None:
    _month_of_work(service, table)
    exporter.export(FINANCE, MONTH, AFTER)
    rows = csv_rows(_object(s3, f"billing-{MONTH}.csv"))
    book = openpyxl.load_workbook(io.BytesIO(_object(s3, f"billing-{MONTH}.xlsx")))
    assert book.sheetnames == ["Synthèse", "acme", "globex", "initech", "Marge (interne)"]
    summary = book["Synthèse"]
    assert summary["A1"].value == "Facturation Octobre 2026"
    total = next(r for r in summary.iter_rows(values_only=True) if r[0] == "Total")
    csv_amount = sum((Decimal(r["amount"] or 0) for r in rows), Decimal(0))
    assert total[2] == sum(int(r["minutes"]) for r in rows)
    assert isinstance(total[6], (int, float))  # numbers are numbers
    assert Decimal(str(total[6])) == csv_amount
    for org in ("acme", "globex", "initech"):
        sheet = book[org]
        assert "Octobre 2026" in sheet["A1"].value
        last = list(sheet.iter_rows(values_only=True))[-1]
        own = [r for r in rows if r["org_id"] == org]
        assert last[0] == "Total" and last[4] == sum(int(r["minutes"]) for r in own)
        assert Decimal(str(last[7])) == sum((Decimal(r["amount"] or 0) for r in own), Decimal(0))
    margin = list(book["Marge (interne)"].iter_rows(values_only=True))[3:]
    # The closed evolution: 1500.00 quoted, 500 minutes logged in all (200 in September).
    assert margin[0][:7] == ("acme", 4, 1500, 300, 500, 8.33, 750)
    assert margin[1][:5] == ("initech", 5, None, 120, None)  # abandoned: never billed


def test_rerun_of_an_exported_month_is_byte_identical_and_writes_nothing(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any
) -> None:
    _month_of_work(service, table)
    first = exporter.export(SYSTEM, MONTH, AFTER)
    files = {n: _object(s3, n) for n in (f"billing-{MONTH}.csv", f"billing-{MONTH}.xlsx",
                                           "manifest.json", *REPORTS)}
    versions = _versions(s3)
    again = exporter.export(FINANCE, MONTH, AFTER + timedelta(days=3))
    assert not again.created
    assert again.manifest == first.manifest == files["manifest.json"]
    assert _versions(s3) == versions
    assert {n: _object(s3, n) for n in files} == files


def test_a_time_entry_into_a_locked_month_is_refused_and_writes_nothing(
    service: HelpdeskService, table: Table, exporter: BillingExporter, dynamodb: Any
) -> None:
    world = _month_of_work(service, table)
    exporter.export(SYSTEM, MONTH, AFTER)
    before = sorted(dynamodb.scan(TableName=TABLE_NAME)["Items"], key=repr)  # test only
    with pytest.raises(MonthLocked) as caught:
        world.entry(world.tickets[1], "lea", date(2026, 10, 30), 15)
    assert caught.value.month == MONTH
    assert sorted(dynamodb.scan(TableName=TABLE_NAME)["Items"], key=repr) == before
    world.entry(world.tickets[1], "lea", date(2026, 11, 2), 15)  # November is open


def test_a_month_that_has_not_ended_is_refused(exporter: BillingExporter, table: Table) -> None:
    with pytest.raises(InvalidInput) as caught:
        exporter.export(FINANCE, MONTH, datetime(2026, 10, 31, 22, 59, tzinfo=UTC))
    assert caught.value.field == "month"
    assert not _locked(table)
    with pytest.raises(InvalidInput):
        exporter.export(FINANCE, "2026-13", AFTER)
    # 23:00Z on October 31st is already November 1st in Paris.
    assert exporter.export(FINANCE, MONTH, datetime(2026, 10, 31, 23, 0, tzinfo=UTC)).created


def test_a_crash_mid_export_is_completed_by_the_rerun(
    service: HelpdeskService, table: Table, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orgs(service)
    _month_of_work(service, table)
    crashing = exporter_over(table, s3)
    crash_at_manifest(monkeypatch, crashing)
    with pytest.raises(RuntimeError):
        crashing.export(SYSTEM, MONTH, AFTER)
    lock = crashing.billing.lock(MONTH)
    assert lock is not None and lock.status is LockStatus.EXPORTING and _locked(table)
    csv_before = _object(s3, f"billing-{MONTH}.csv")

    rerun = exporter_over(table, s3).export(SYSTEM, MONTH, AFTER + timedelta(hours=1))
    assert rerun.created
    manifest = rerun.document
    assert (manifest["export_id"], manifest["generated_at"]) == (
        lock.export_id, "2026-11-01T01:00:00Z"
    )
    csv_after = _object(s3, f"billing-{MONTH}.csv")
    assert csv_after == csv_before  # same bytes; the objects were not written again
    for name in (f"billing-{MONTH}.csv", f"billing-{MONTH}.xlsx", "manifest.json", *REPORTS):
        prefix = f"exports/2026/10/{name}"
        assert len(s3.list_object_versions(Bucket=BUCKET, Prefix=prefix)["Versions"]) == 1
    rows = csv_rows(csv_after)
    assert sum(int(r["minutes"]) for r in rows) == manifest["totals"]["minutes"] == 228
    assert len(rows) == len({(r["ticket_number"], r["consultant"], r["basis"]) for r in rows})
    assert manifest["files"][0]["sha256"] != manifest["files"][1]["sha256"]


def test_unlock_records_who_and_why_and_regeneration_writes_new_versions(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any
) -> None:
    world = _month_of_work(service, table)
    first = exporter.export(SYSTEM, MONTH, AFTER)
    unlocked = exporter.unlock(MANAGER, MONTH, "Heures oubliées", AFTER + timedelta(days=1))
    assert unlocked["previous_export_id"] == first.document["export_id"]
    assert not _locked(table)
    world.entry(world.tickets[1], "lea", date(2026, 10, 30), 15)
    second = exporter.export(MANAGER, MONTH, AFTER + timedelta(days=2))
    assert second.created and second.document["totals"]["minutes"] == 228 + 15
    assert second.document["export_id"] != first.document["export_id"]
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="exports/2026/10/")["Versions"]
    # Each of the six files (CSV, workbook, manifest, the three organisations' reports) twice:
    # the first export kept as a prior version.
    assert len(versions) == 12
    old = s3.get_object(Bucket=BUCKET, Key="exports/2026/10/manifest.json",
                        VersionId=first.versions.get("manifest.json") or
                        next(v["VersionId"] for v in versions
                             if v["Key"].endswith("manifest.json") and not v["IsLatest"]))
    assert old["Body"].read() == first.manifest
    unlock = [h for h in exporter.history(MONTH) if h.action is LockAction.UNLOCK]
    assert [(h.actor, h.details["reason"]) for h in unlock] == [("manager-1", "Heures oubliées")]


@pytest.fixture
def composed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The composition root builds the exporter from the settings (moto's table and bucket)."""
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("EXPORTS_BUCKET", BUCKET)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    def forget() -> None:
        get_settings.cache_clear()
        bootstrap_billing.reset()

    forget()
    yield
    forget()


def test_billing_export_job_exports_the_month_before_its_time(
    service: HelpdeskService, table: Table, s3: Any, composed: None
) -> None:
    _orgs(service)
    _month_of_work(service, table)
    jobs = load_function("jobs")
    report = jobs.run_job("billing-export", AFTER, DynamoUnitOfWork(table)).as_dict()
    assert (report["month"], report["outcome"], report["lines"], report["amount"]) == (
        MONTH, "exported", 5, "1681.71"
    )
    assert report["items_read"] == 8
    replay = BillingExportJob(exporter_over(table, s3)).run(AFTER)
    assert replay.outcome == "already_exported" and replay.export_id == report["export_id"]


@pytest.mark.parametrize("at", [datetime(1999, 12, 1, tzinfo=UTC),
                                datetime(3000, 1, 1, tzinfo=UTC)])
def test_billing_export_job_refuses_times_outside_2000_2999(
    exporter: BillingExporter, table: Table, s3: Any, at: datetime
) -> None:
    with pytest.raises(InvalidInput) as caught:
        BillingExportJob(exporter).run(at)
    assert caught.value.field == "at"
    assert DynamoBillingRepository(table).lock(previous_month(paris_month(at))) is None
    assert "Versions" not in s3.list_object_versions(Bucket=BUCKET)


def test_only_finance_managers_and_the_system_export_and_only_managers_unlock(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any
) -> None:
    _month_of_work(service, table)
    for caller in (CLIENT, L1):
        with pytest.raises(Forbidden):
            exporter.export(caller, MONTH, AFTER)
        with pytest.raises(Forbidden):
            exporter.manifest(caller, MONTH)
    assert not _locked(table)  # refused before anything is read or written
    exporter.export(FINANCE, MONTH, AFTER)
    assert exporter.manifest(FINANCE, MONTH).document["month"] == MONTH
    for caller in (FINANCE, SYSTEM, L1):
        with pytest.raises(Forbidden):
            exporter.unlock(caller, MONTH, "pas moi", AFTER)
    assert _locked(table)


def test_an_index_lagging_behind_the_lock_exports_nothing_until_it_catches_up(
    service: HelpdeskService, table: Table, exporter: BillingExporter, s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _month_of_work(service, table)
    complete = exporter.billing.month_items

    def lagging(month: str) -> Any:
        items = list(complete(month))
        return iter(items[1:])  # one of ticket #1's entries is not in the index yet

    monkeypatch.setattr(exporter.billing, "month_items", lagging)
    with pytest.raises(Conflict, match="has not caught up"):
        exporter.export(SYSTEM, MONTH, AFTER)
    assert _locked(table)  # no entry can land meanwhile
    assert "Versions" not in s3.list_object_versions(Bucket=BUCKET)
    monkeypatch.setattr(exporter.billing, "month_items", complete)
    result = exporter.export(SYSTEM, MONTH, AFTER)
    assert result.created and result.document["totals"]["minutes"] == 228
