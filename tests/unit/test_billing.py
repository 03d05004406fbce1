"""The pure billing: lines, totals to the cent, the CSV (RFC 4180), the manifest, the workbook."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.domain.billing import (
    BillingAggregator,
    OrgTerms,
    build_manifest,
    export_keys,
    render_csv,
    render_manifest,
    render_xlsx,
)

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
