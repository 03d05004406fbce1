"""The pure billing: lines, totals to the cent, the CSV (RFC 4180), the manifest, the workbook;
and the export use case over in-memory fakes of its ports (locks, reruns, authorisation)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.billing_export import BillingExporter
from helpdesk.billing_job import BillingExportJob
from helpdesk.domain.billing import (
    Basis,
    BillingAggregator,
    OrgTerms,
    build_manifest,
    export_keys,
    render_csv,
    render_manifest,
    render_xlsx,
    sha256_hex,
)
from helpdesk.domain.directory import new_organisation
from helpdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from helpdesk.domain.model import ClosureReason, QuoteOutcome, Status, Ticket
from helpdesk.domain.timekeeping import TimeEntry, TimeKind
from helpdesk.ports_billing import (
    LockAction,
    LockEvent,
    LockStatus,
    MonthItem,
    MonthLock,
    MonthQuote,
    MonthTime,
)
from tests.unit.builders import CLIENT, FINANCE, L1, MANAGER, SYSTEM, base_ticket, quote
from tests.unit.fakes import InMemoryDirectory, InMemoryTickets

MONTH = "2026-10"
GENERATED = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
ORGS = {
    "acme": OrgTerms("acme", "Acme", Decimal("90.00")),
    "initech": OrgTerms("initech", "Initech, Inc.", Decimal("72.50")),
    "globex": OrgTerms("globex", "Globex"),
}


def _time(agg: BillingAggregator, n: int, org: str, number: int, who: str, minutes: int,
          ticket_type: str = "assistance") -> None:
    agg.add_time(key=f"{org}#{number:010d}#e{n}", org_id=org, ticket_number=number,
                 ticket_type=ticket_type, consultant=who, minutes=minutes,
                 billable=ticket_type != "evolution")


def test_lines_per_ticket_and_consultant_with_amounts_from_the_exact_minutes() -> None:
    agg = BillingAggregator(MONTH, ORGS)
    _time(agg, 1, "acme", 1, "lea", 1)
    _time(agg, 2, "acme", 1, "lea", 1)
    _time(agg, 3, "acme", 1, "marc", 59)
    _time(agg, 4, "globex", 2, "lea", 90, "incident")
    _time(agg, 5, "acme", 3, "marie", 600, "evolution")
    agg.add_quote(key="acme#3#QUOTE", org_id="acme", ticket_number=3, amount=Decimal("1200"),
                  closed_at=datetime(2026, 10, 31, 22, 59, tzinfo=UTC), total_minutes=900)
    agg.add_quote(key="acme#4#QUOTE", org_id="acme", ticket_number=4, amount=None,
                  closed_at=datetime(2026, 10, 2, tzinfo=UTC), total_minutes=10)  # abandoned
    agg.add_quote(key="acme#5#QUOTE", org_id="acme", ticket_number=5, amount=Decimal("10"),
                  closed_at=datetime(2026, 10, 31, 23, 0, tzinfo=UTC), total_minutes=10)  # Nov
    report = agg.report()
    assert [(x.org_id, x.ticket_number, x.basis, x.consultant, x.minutes, x.hours, x.amount)
            for x in report.lines] == [
        ("acme", 1, "time", "lea", 2, Decimal("0.03"), Decimal("3.00")),
        ("acme", 1, "time", "marc", 59, Decimal("0.98"), Decimal("88.50")),
        ("acme", 3, "quote", "", 0, None, Decimal("1200")),
        ("globex", 2, "time", "lea", 90, Decimal("1.50"), None),
    ]
    assert [x.basis for x in report.lines] == [Basis.TIME, Basis.TIME, Basis.QUOTE, Basis.TIME]
    assert (report.minutes, report.time_amount, report.quote_amount) == (
        151, Decimal("91.50"), Decimal("1200")
    )
    assert [(m.ticket_number, m.minutes_in_month, m.total_minutes, m.time_value, m.margin)
            for m in report.margin] == [(3, 600, 900, Decimal("1350.00"), Decimal("-150.00"))]
    assert (report.items_read, report.billed_entries, report.unbilled_entries) == (8, 4, 1)


def test_memory_grows_with_lines_not_entries() -> None:
    agg = BillingAggregator(MONTH, ORGS)
    for n in range(20_000):
        _time(agg, n, "acme", n % 3, "lea", 1 + n % 7)
    assert len(agg._time) == 3 and agg.items_read == 20_000


def test_csv_is_rfc4180_utf8_with_a_header_and_crlf() -> None:
    agg = BillingAggregator(MONTH, ORGS)
    _time(agg, 1, "initech", 7, 'Zoé "Z", L2', 30)
    data = render_csv(agg.report().lines)
    text = data.decode("utf-8")
    assert text.split("\r\n")[0] == (
        "month,org_id,ticket_number,type,basis,consultant,minutes,hours,rate,amount,currency,"
        "closed_on"
    )
    assert '"Zoé ""Z"", L2"' in text and text.endswith("\r\n") and "\n" not in text.replace(
        "\r\n", ""
    )
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    assert (row["consultant"], row["hours"], row["rate"], row["amount"]) == (
        'Zoé "Z", L2', "0.50", "72.50", "36.25"
    )


def test_manifest_shape_and_keys() -> None:
    agg = BillingAggregator(MONTH, ORGS)
    _time(agg, 1, "acme", 1, "lea", 45)
    files = [{"name": "billing-2026-10.csv", "size": 1, "sha256": "0" * 64}]
    manifest = build_manifest(agg.report(), generated_at=GENERATED, export_id="x", files=files)
    assert {"month", "generated_at", "schema_version", "files", "organisations", "totals",
            "row_counts"} <= set(manifest)
    assert manifest["organisations"][0] == {
        "org_id": "acme", "name": "Acme", "currency": "EUR", "rows": 1, "minutes": 45,
        "hours": "0.75", "time_amount": "67.50", "quote_amount": "0.00", "amount": "67.50",
        "included_minutes": None, "overage_minutes": None, "monthly_fee": None,
    }
    assert manifest["totals"]["amount"] == "67.50" and manifest["generated_at"].endswith("Z")
    assert render_manifest(manifest) == render_manifest(dict(manifest))
    assert export_keys("2026-01") == {
        "csv": "exports/2026/01/billing-2026-01.csv",
        "xlsx": "exports/2026/01/billing-2026-01.xlsx",
        "manifest": "exports/2026/01/manifest.json",
    }


def test_workbook_is_deterministic_and_french() -> None:
    agg = BillingAggregator("2026-02", ORGS)
    _time(agg, 1, "acme", 1, "lea", 45)
    _time(agg, 2, "initech", 2, "marc", 61)
    report = agg.report()
    first, second = render_xlsx(report, GENERATED), render_xlsx(report, GENERATED)
    assert first == second
    book = openpyxl.load_workbook(io.BytesIO(first))
    assert book["Synthèse"]["A1"].value == "Facturation Février 2026"
    assert book.properties.created == GENERATED.replace(tzinfo=None)
    assert book["acme"]["E4"].value == 45 and book["acme"]["H4"].value == 67.5


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)


@settings(max_examples=200, deadline=None)
@given(
    rates=st.fixed_dictionaries({"a": st.none() | amounts, "b": st.none() | amounts}),
    entries=st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.integers(1, 6),
                  st.sampled_from(["lea", "marc", "zoé"]),
                  st.sampled_from(["assistance", "incident", "evolution"]),
                  st.integers(1, 1440)),
        max_size=60,
    ),
)
def test_totals_are_the_sum_of_lines_to_the_cent(
    rates: dict[str, Decimal | None], entries: list[tuple[str, int, str, str, int]]
) -> None:
    orgs = {org: OrgTerms(org, org, rate) for org, rate in rates.items()}
    agg = BillingAggregator(MONTH, orgs)
    types: dict[tuple[str, int], str] = {}
    for n, (org, number, who, kind, minutes) in enumerate(entries):
        kind = types.setdefault((org, number), kind)  # a ticket has one type
        _time(agg, n, org, number, who, minutes, kind)
    report = agg.report()
    billable = [e for e in entries if types[(e[0], e[1])] != "evolution"]
    assert report.minutes == sum(e[4] for e in billable)
    assert all(line.type != "evolution" for line in report.lines)
    for line in report.lines:
        rate = rates[line.org_id]
        expected = None if rate is None else (Decimal(line.minutes) * rate / 60).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert line.amount == expected
    assert report.time_amount == sum((x.amount or Decimal(0) for x in report.lines), Decimal(0))
    rows = list(csv.DictReader(io.StringIO(render_csv(report.lines).decode(), newline="")))
    assert sum(Decimal(r["amount"] or 0) for r in rows) == report.amount
    assert sum(int(r["minutes"]) for r in rows) == report.minutes


# ------------------------------------------------------------- the use case, on fakes
AFTER = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 02:00 in Paris on November 1st


class InMemoryBilling:
    """BillingRepository: the month locks, their history, the month's items and tasks."""

    def __init__(self) -> None:
        self.locks: dict[str, MonthLock] = {}
        self.events: list[LockEvent] = []
        self.items: dict[str, list[MonthItem]] = {}
        self.tasks: dict[tuple[int, str], int] = {}  # (ticket, month) -> minutes
        self.tickets: list[Ticket] = []  # what `touched_tickets` reads

    def lock(self, month: str) -> MonthLock | None:
        return self.locks.get(month)

    def take_lock(self, lock: MonthLock, event: LockEvent) -> bool:
        if lock.month in self.locks:
            return False
        self.locks[lock.month] = lock
        self.events.append(event)
        return True

    def finish_lock(self, lock: MonthLock, event: LockEvent) -> bool:
        current = self.locks.get(lock.month)
        if current is None or current.status is not LockStatus.EXPORTING:
            return False
        if current.export_id != lock.export_id:
            return False
        self.locks[lock.month] = lock
        self.events.append(event)
        return True

    def unlock(self, lock: MonthLock, event: LockEvent) -> bool:
        current = self.locks.get(lock.month)
        if current is None or not current.exported or current.export_id != lock.export_id:
            return False
        del self.locks[lock.month]
        self.events.append(event)
        return True

    def month_items(self, month: str) -> Iterator[MonthItem]:
        return iter(list(self.items.get(month, [])))

    def task_minutes(self, ticket_numbers: Sequence[int], month: str) -> dict[int, int]:
        return {n: self.tasks.get((n, month), 0) for n in ticket_numbers}

    def history(self, month: str) -> list[LockEvent]:
        return [e for e in self.events if e.month == month]

    def touched_tickets(self, since: datetime) -> Iterator[Ticket]:
        return iter([t for t in self.tickets if t.updated_at >= since])


@dataclass(frozen=True)
class Stored:
    version_id: str | None
    sha256: str | None
    export_id: str | None


class InMemoryFiles:
    """ExportFiles: a versioned bucket."""

    def __init__(self) -> None:
        self.versions: dict[str, list[tuple[Stored, bytes]]] = {}
        self.puts = 0

    def put(
        self, key: str, body: bytes, *, content_type: str, sha256: str, export_id: str
    ) -> Stored:
        self.puts += 1
        stored = Stored(f"v{self.puts}", sha256, export_id)
        self.versions.setdefault(key, []).append((stored, body))
        return stored

    def head(self, key: str) -> Stored | None:
        versions = self.versions.get(key)
        return versions[-1][0] if versions else None

    def get(self, key: str, version_id: str | None = None) -> bytes:
        return next(b for s, b in reversed(self.versions[key]) if version_id in (None, s.version_id))

    def link(self, key: str, version_id: str | None = None) -> str:
        return f"https://exports.example/{key}?versionId={version_id}"


@dataclass
class Fakes:
    billing: InMemoryBilling
    files: InMemoryFiles
    exporter: BillingExporter

    def entry(self, n: int, number: int, who: str, minutes: int, org: str = "acme") -> None:
        key = f"{org}#{number:010d}#e{n}"
        self.billing.items.setdefault(MONTH, []).append(
            MonthTime(key, org, number, "assistance", who, minutes, True)
        )
        self.billing.tasks[(number, MONTH)] = self.billing.tasks.get((number, MONTH), 0) + minutes


@pytest.fixture
def fakes() -> Fakes:
    directory = InMemoryDirectory()
    for org in (new_organisation("acme", "Acme", ["acme.example"], 7, "90.00"),
                new_organisation("globex", "Globex", ["globex.example"], 1)):
        directory.orgs[org.org_id] = org
    tickets = InMemoryTickets(directory)
    closed = base_ticket(
        "evolution", number=4, status=Status.CLOSED, closure_reason=ClosureReason.CONFIRMED,
        closed_at=datetime(2026, 10, 20, 10, tzinfo=UTC), time_spent_minutes=500,
        quotes=(quote(1, "1200.00", QuoteOutcome.REFUSED), quote(2, "1500.00", QuoteOutcome.APPROVED)),
    )
    tickets.tickets[closed.number] = closed
    billing, files = InMemoryBilling(), InMemoryFiles()
    ids = iter(f"{n:032x}" for n in range(1, 100))
    exporter = BillingExporter(billing, tickets, directory, files, ids=lambda: next(ids))
    made = Fakes(billing, files, exporter)
    made.entry(1, 1, "lea", 45)
    made.entry(2, 1, "lea", 20)
    made.entry(3, 2, "marc", 95, "globex")
    billing.items[MONTH].append(MonthQuote("acme#0000000004#QUOTE", "acme", 4))
    return made


def test_export_locks_writes_the_files_then_marks_the_lock_exported(fakes: Fakes) -> None:
    result = fakes.exporter.export(FINANCE, MONTH, AFTER)
    assert result.created
    manifest = result.document
    assert manifest["totals"] == {"minutes": 160, "hours": "2.67", "time_amount": "97.50",
                                  "quote_amount": "1500.00", "amount": "1597.50"}
    assert manifest["entries"]["read"] == 4 and manifest["export_id"] == f"{1:032x}"
    lock = fakes.billing.locks[MONTH]
    assert lock.exported and lock.record is not None and lock.actor == FINANCE.id
    assert lock.record.manifest_sha256 == sha256_hex(result.manifest)
    keys = export_keys(MONTH)
    assert fakes.files.get(keys["manifest"]) == result.manifest
    assert [(e.action, e.actor) for e in fakes.exporter.history(MONTH)] == [
        (LockAction.LOCK, FINANCE.id), (LockAction.EXPORTED, FINANCE.id)
    ]
    csv_rows = list(csv.DictReader(io.StringIO(fakes.files.get(keys["csv"]).decode(),
                                               newline="")))
    assert [(r["ticket_number"], r["basis"], r["amount"]) for r in csv_rows] == [
        ("1", "time", "97.50"), ("4", "quote", "1500.00"), ("2", "time", "")
    ]
    entry = TimeEntry("e1", 1, "acme", "lea", date(2026, 10, 3), 45, TimeKind.REALISATION, "",
                      True, AFTER)
    assert fakes.exporter.billed_by(entry) == manifest["export_id"]
    assert fakes.exporter.verify(MONTH)
    linked = fakes.exporter.with_links(fakes.exporter.manifest(MANAGER, MONTH))
    assert all(f["url"].startswith("https://exports.example/exports/2026/10/")
               for f in linked["files"])


def test_a_rerun_returns_the_stored_manifest_and_writes_nothing(fakes: Fakes) -> None:
    first = fakes.exporter.export(FINANCE, MONTH, AFTER)
    puts, events = fakes.files.puts, len(fakes.billing.events)
    again = fakes.exporter.export(MANAGER, MONTH, AFTER + timedelta(days=3))
    assert not again.created and again.manifest == first.manifest
    assert (fakes.files.puts, len(fakes.billing.events)) == (puts, events)


def test_a_task_the_index_has_not_caught_up_with_keeps_the_lock_and_writes_nothing(
    fakes: Fakes,
) -> None:
    fakes.billing.tasks[(1, MONTH)] += 15  # an entry committed but not in the index yet
    with pytest.raises(Conflict, match="#1"):
        fakes.exporter.export(FINANCE, MONTH, AFTER)
    lock = fakes.billing.locks[MONTH]
    assert lock.status is LockStatus.EXPORTING and fakes.files.puts == 0
    fakes.entry(9, 1, "lea", 15)  # the index catches up (the task counted it already)
    fakes.billing.tasks[(1, MONTH)] -= 15
    result = fakes.exporter.export(SYSTEM, MONTH, AFTER + timedelta(hours=1))
    assert result.created and result.document["export_id"] == lock.export_id
    assert result.document["generated_at"] == "2026-11-01T01:00:00Z"  # the lock's, not now


def test_a_run_finding_the_export_finished_by_another_returns_it(fakes: Fakes) -> None:
    other = BillingExporter(fakes.billing, fakes.exporter.tickets, fakes.exporter.directory,
                            fakes.files, ids=lambda: "f" * 32)
    real_finish = fakes.billing.finish_lock

    def overtaken(lock: MonthLock, event: LockEvent) -> bool:
        fakes.billing.finish_lock = real_finish  # type: ignore[method-assign]
        # the other run of the same export (same lock) completes first
        other_result = other.export(SYSTEM, MONTH, AFTER)
        assert other_result.created
        return real_finish(lock, event)

    fakes.billing.take_lock(
        MonthLock(MONTH, LockStatus.EXPORTING, "e" * 32, AFTER, "system"),
        LockEvent(MONTH, LockAction.LOCK, "system", AFTER),
    )
    fakes.billing.finish_lock = overtaken  # type: ignore[method-assign]
    result = fakes.exporter.export(SYSTEM, MONTH, AFTER)
    assert not result.created and result.document["export_id"] == "e" * 32
    assert [e.action for e in fakes.billing.events].count(LockAction.EXPORTED) == 1


def test_roles_are_checked_first(fakes: Fakes) -> None:
    for caller in (CLIENT, L1):
        with pytest.raises(Forbidden):
            fakes.exporter.export(caller, "not a month", AFTER)
        with pytest.raises(Forbidden):
            fakes.exporter.manifest(caller, MONTH)
    with pytest.raises(NotFound):
        fakes.exporter.manifest(FINANCE, MONTH)
    assert fakes.billing.locks == {} and fakes.billing.events == []
    fakes.exporter.export(SYSTEM, MONTH, AFTER)
    for caller in (FINANCE, SYSTEM, L1):
        with pytest.raises(Forbidden):
            fakes.exporter.unlock(caller, MONTH, "pas moi", AFTER)
    assert fakes.billing.locks[MONTH].exported


def test_unlock_keeps_who_and_why_and_the_next_export_is_a_new_one(fakes: Fakes) -> None:
    first = fakes.exporter.export(FINANCE, MONTH, AFTER)
    with pytest.raises(InvalidInput):
        fakes.exporter.unlock(MANAGER, MONTH, "  ", AFTER)
    unlocked = fakes.exporter.unlock(MANAGER, MONTH, " Temps oublié ", AFTER + timedelta(days=1))
    assert unlocked == {"month": MONTH, "status": "unlocked", "unlocked_by": MANAGER.id,
                        "reason": "Temps oublié", "at": "2026-11-02T01:00:00Z",
                        "previous_export_id": first.document["export_id"]}
    event = fakes.exporter.history(MONTH)[-1]
    assert (event.action, event.actor, event.details["reason"]) == (
        LockAction.UNLOCK, MANAGER.id, "Temps oublié")
    assert MONTH not in fakes.billing.locks
    with pytest.raises(Conflict):
        fakes.exporter.unlock(MANAGER, MONTH, "encore", AFTER)
    second = fakes.exporter.export(MANAGER, MONTH, AFTER + timedelta(days=2))
    assert second.created and second.document["export_id"] != first.document["export_id"]
    assert len(fakes.files.versions[export_keys(MONTH)["manifest"]]) == 2


def test_the_job_exports_the_month_before_and_refuses_other_millennia(fakes: Fakes) -> None:
    report = BillingExportJob(fakes.exporter).run(AFTER)
    assert (report.month, report.outcome, report.minutes) == (MONTH, "exported", 160)
    assert fakes.billing.locks[MONTH].actor == SYSTEM.id
    for at in (datetime(1999, 12, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)):
        with pytest.raises(InvalidInput):
            BillingExportJob(fakes.exporter).run(at)
    assert list(fakes.billing.locks) == [MONTH]
    assert json.loads(fakes.files.get(export_keys(MONTH)["manifest"]))["month"] == MONTH
