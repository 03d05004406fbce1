"""Monthly billing: one month's billable items aggregated into lines, and the files for finance.

Pure: no AWS. The adapter streams the month's `by_month` items (time entries, and evolutions
closed in the month with their approved quote) into `BillingAggregator.add_time` /
`add_quote`; the aggregator keeps one counter per (organisation, ticket, consultant) line and
per evolution, so its memory grows with the number of lines, never with the number of entries.

Rules (DESIGN.md §2 Billing):
- assistance and incident: the billable minutes of the month, per ticket and per consultant;
  hours with 2 decimals; when the organisation has an hourly rate, the line amount is computed
  from the exact minutes (`amount_for`) and every total is the sum of line amounts, so the CSV
  reconciles to the cent;
- evolution: one line per evolution closed in the month, at its validated (approved) quote,
  basis `quote`; an abandoned evolution bills nothing; evolution time is never billed, it only
  feeds the internal margin view (quoted amount vs time logged).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from helpdesk.domain.budget import overage
from helpdesk.domain.calendar import french_month_label, iso, paris_date, paris_month, parse_month
from helpdesk.domain.timekeeping import amount_for, hours

SCHEMA_VERSION = 1
ZERO = Decimal("0.00")
QUOTE_CURRENCY = "EUR"  # quotes are submitted in EUR (DESIGN.md §2, submit-quote)

CSV_COLUMNS = (
    "month",
    "org_id",
    "ticket_number",
    "type",
    "basis",
    "consultant",
    "minutes",
    "hours",
    "rate",
    "amount",
    "currency",
    "closed_on",
)


class Basis(StrEnum):
    """What a line bills: the time logged, or an evolution's validated quote (CSV `basis`)."""

    TIME = "time"
    QUOTE = "quote"
    # An organisation on a forfait (§10): its monthly fee, and the time over its budget.
    FEE = "fee"
    OVERAGE = "overage"


# The closures that bill an evolution's approved quote (an abandoned or cancelled one bills
# nothing).
def money(value: Decimal | None) -> str:
    """Money in JSON and CSV: a string with two decimals; empty when there is no amount."""
    return "" if value is None else f"{value.quantize(Decimal('0.01')):.2f}"


def export_keys(month: str) -> dict[str, str]:
    """`exports/YYYY/MM/` object keys of a month's files, by file name."""
    year, number = parse_month(month)
    prefix = f"exports/{year:04d}/{number:02d}/"
    return {
        "csv": f"{prefix}billing-{month}.csv",
        "xlsx": f"{prefix}billing-{month}.xlsx",
        "manifest": f"{prefix}manifest.json",
    }


def report_key(month: str, org_id: str) -> str:
    """The object key of an organisation's monthly report (§10), beside the month's files."""
    return export_keys(month)["manifest"].rsplit("/", 1)[0] + f"/report-{org_id}.xlsx"


@dataclass(frozen=True)
class OrgTerms:
    """What billing needs of an organisation."""

    org_id: str
    name: str = ""
    hourly_rate: Decimal | None = None
    currency: str = "EUR"
    included_minutes: int | None = None  # the monthly hour budget (§10); None: no forfait
    monthly_fee: Decimal | None = None

    @property
    def forfait(self) -> bool:
        """Time is billed as the fee plus the overage, not line by line."""
        return self.included_minutes is not None


@dataclass(frozen=True)
class BillingLine:
    month: str
    org_id: str
    ticket_number: int | None  # None: a line of the organisation (fee, overage)
    type: str
    basis: Basis
    consultant: str
    minutes: int
    hours: Decimal | None
    rate: Decimal | None
    amount: Decimal | None
    currency: str
    closed_on: date | None = None

    def csv_row(self) -> list[str]:
        return [
            self.month,
            self.org_id,
            "" if self.ticket_number is None else str(self.ticket_number),
            self.type,
            self.basis.value,
            self.consultant,
            str(self.minutes),
            "" if self.hours is None else f"{self.hours:.2f}",
            money(self.rate),
            money(self.amount),
            self.currency,
            self.closed_on.isoformat() if self.closed_on else "",
        ]


@dataclass(frozen=True)
class MarginLine:
    """An evolution in the month: its validated quote against the time logged (internal)."""

    org_id: str
    ticket_number: int
    quote_amount: Decimal | None  # set when it closed (billed) in this month
    minutes_in_month: int
    total_minutes: int | None  # all the time logged on the ticket, known when it closed
    rate: Decimal | None

    @property
    def time_value(self) -> Decimal | None:
        if self.total_minutes is None:
            return None
        return amount_for(self.total_minutes, self.rate)

    @property
    def margin(self) -> Decimal | None:
        value = self.time_value
        if self.quote_amount is None or value is None:
            return None
        return self.quote_amount - value


@dataclass(frozen=True)
class OrgTotals:
    org_id: str
    name: str
    currency: str
    minutes: int
    time_amount: Decimal
    quote_amount: Decimal
    rows: int
    included_minutes: int | None = None
    overage_minutes: int | None = None
    monthly_fee: Decimal | None = None

    @property
    def amount(self) -> Decimal:
        return self.time_amount + self.quote_amount

    def as_json(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "name": self.name,
            "currency": self.currency,
            "rows": self.rows,
            "minutes": self.minutes,
            "hours": f"{hours(self.minutes):.2f}",
            "time_amount": money(self.time_amount),
            "quote_amount": money(self.quote_amount),
            "amount": money(self.amount),
            "included_minutes": self.included_minutes,
            "overage_minutes": self.overage_minutes,
            "monthly_fee": None if self.monthly_fee is None else money(self.monthly_fee),
        }


@dataclass(frozen=True)
class _Quote:
    org_id: str
    amount: Decimal
    closed_on: date
    total_minutes: int


@dataclass
class BillingAggregator:
    """Streams one month's items into lines; memory ~ lines, not entries."""

    month: str
    orgs: dict[str, OrgTerms]
    _time: dict[tuple[str, int, str], int] = field(default_factory=dict)
    _types: dict[int, str] = field(default_factory=dict)
    _evolution_minutes: dict[tuple[str, int], int] = field(default_factory=dict)
    _quotes: dict[int, _Quote] = field(default_factory=dict)
    org_minutes: dict[str, int] = field(default_factory=dict)  # billable, per organisation
    # Every minute read per ticket, billable or not: checked against the tickets' month tasks.
    ticket_minutes: dict[int, int] = field(default_factory=dict)
    # (org, ticket) -> (type, every minute of the month): the client reports' time per ticket.
    ticket_time: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    _digest: Any = field(default_factory=hashlib.sha256)
    items_read: int = 0
    billed_entries: int = 0
    unbilled_entries: int = 0

    def __post_init__(self) -> None:
        parse_month(self.month)

    def _seen(self, key: str, minutes: int) -> None:
        self.items_read += 1
        self._digest.update(f"{key}|{minutes}\n".encode())

    def add_time(
        self,
        *,
        key: str,
        org_id: str,
        ticket_number: int,
        ticket_type: str,
        consultant: str,
        minutes: int,
        billable: bool,
    ) -> None:
        """A time entry of the month (`key`: its index sort key, for the entries digest)."""
        self._seen(key, minutes)
        self.ticket_minutes[ticket_number] = self.ticket_minutes.get(ticket_number, 0) + minutes
        _type, so_far = self.ticket_time.get((org_id, ticket_number), (ticket_type, 0))
        self.ticket_time[(org_id, ticket_number)] = (ticket_type, so_far + minutes)
        if billable and ticket_type != "evolution":
            line = (org_id, ticket_number, consultant)
            self._time[line] = self._time.get(line, 0) + minutes
            self.org_minutes[org_id] = self.org_minutes.get(org_id, 0) + minutes
            self._types[ticket_number] = ticket_type
            self.billed_entries += 1
            return
        self.unbilled_entries += 1
        if ticket_type == "evolution":
            ticket = (org_id, ticket_number)
            self._evolution_minutes[ticket] = self._evolution_minutes.get(ticket, 0) + minutes

    def add_quote(
        self,
        *,
        key: str,
        org_id: str,
        ticket_number: int,
        amount: Decimal | None,
        closed_at: datetime | None,
        total_minutes: int,
    ) -> None:
        """An evolution closed with its approved quote (None: nothing to bill, e.g. abandoned)."""
        self._seen(key, 0)
        if amount is None or closed_at is None or paris_month(closed_at) != self.month:
            return
        self._quotes[ticket_number] = _Quote(org_id, amount, paris_date(closed_at), total_minutes)

    @property
    def entries_digest(self) -> str:
        """SHA-256 over the month's index items in index order: the exact set billed."""
        return str(self._digest.hexdigest())

    def terms(self, org_id: str) -> OrgTerms:
        return self.orgs.get(org_id) or OrgTerms(org_id)

    def lines(self) -> list[BillingLine]:
        """Every line, in a deterministic order (org, ticket, basis, consultant)."""
        result: list[BillingLine] = []
        for (org_id, number, consultant), minutes in self._time.items():
            terms = self.terms(org_id)
            # On a forfait the time lines say what was consumed; the fee and the overage
            # lines carry the amounts.
            rate = None if terms.forfait else terms.hourly_rate
            result.append(
                BillingLine(
                    month=self.month,
                    org_id=org_id,
                    ticket_number=number,
                    type=self._types[number],
                    basis=Basis.TIME,
                    consultant=consultant,
                    minutes=minutes,
                    hours=hours(minutes),
                    rate=rate,
                    amount=amount_for(minutes, rate),
                    currency=terms.currency,
                )
            )
        result += self._forfait_lines()
        for number, quote in self._quotes.items():
            result.append(
                BillingLine(
                    month=self.month,
                    org_id=quote.org_id,
                    ticket_number=number,
                    type="evolution",
                    basis=Basis.QUOTE,
                    consultant="",
                    minutes=0,
                    hours=None,
                    rate=None,
                    amount=quote.amount,
                    currency=QUOTE_CURRENCY,
                    closed_on=quote.closed_on,
                )
            )
        result.sort(key=_line_order)
        return result

    def consumed(self, org_id: str) -> int:
        """The organisation's assistance and incident minutes of the month (its budget's)."""
        return self.org_minutes.get(org_id, 0)

    def overage(self, org_id: str) -> int | None:
        return overage(self.terms(org_id).included_minutes, self.consumed(org_id))

    def _forfait_lines(self) -> list[BillingLine]:
        """Per organisation with a monthly fee, its `fee` line (every month, with or without
        activity); per organisation on a forfait that went over, its `overage` line."""
        result: list[BillingLine] = []
        for org_id in sorted(self.orgs):
            terms = self.orgs[org_id]
            if terms.monthly_fee is not None:
                result.append(self._org_line(terms, Basis.FEE, 0, None, terms.monthly_fee))
            extra = self.overage(org_id)
            if extra:
                amount = amount_for(extra, terms.hourly_rate)
                result.append(self._org_line(terms, Basis.OVERAGE, extra, terms.hourly_rate, amount))
        return result

    def _org_line(
        self, terms: OrgTerms, basis: Basis, minutes: int, rate: Decimal | None,
        amount: Decimal | None,
    ) -> BillingLine:
        return BillingLine(
            month=self.month,
            org_id=terms.org_id,
            ticket_number=None,
            type="",
            basis=basis,
            consultant="",
            minutes=minutes,
            hours=hours(minutes) if minutes else None,
            rate=rate,
            amount=amount,
            currency=terms.currency,
        )

    def margin(self) -> list[MarginLine]:
        tickets = {(q.org_id, n) for n, q in self._quotes.items()} | set(self._evolution_minutes)
        result = []
        for org_id, number in sorted(tickets):
            quote = self._quotes.get(number)
            result.append(
                MarginLine(
                    org_id=org_id,
                    ticket_number=number,
                    quote_amount=quote.amount if quote else None,
                    minutes_in_month=self._evolution_minutes.get((org_id, number), 0),
                    total_minutes=quote.total_minutes if quote else None,
                    rate=self.terms(org_id).hourly_rate,
                )
            )
        return result

    def report(self) -> BillingReport:
        return BillingReport.of(self.month, self.lines(), self.margin(), self)


@dataclass(frozen=True)
class BillingReport:
    month: str
    lines: list[BillingLine]
    margin: list[MarginLine]
    organisations: list[OrgTotals]
    items_read: int
    billed_entries: int
    unbilled_entries: int
    entries_digest: str
    ticket_minutes: dict[int, int]
    ticket_time: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    consumed: dict[str, int] = field(default_factory=dict)  # budget minutes per organisation

    @classmethod
    def of(
        cls, month: str, lines: list[BillingLine], margin: list[MarginLine], agg: BillingAggregator
    ) -> BillingReport:
        per_org: dict[str, list[BillingLine]] = {}
        for line in lines:
            per_org.setdefault(line.org_id, []).append(line)
        organisations = []
        for org_id in sorted(per_org):
            terms = agg.terms(org_id)
            own = per_org[org_id]
            organisations.append(
                OrgTotals(
                    org_id=org_id,
                    name=terms.name,
                    currency=terms.currency,
                    # The time logged; the overage line counts some of it again.
                    minutes=sum(x.minutes for x in own if x.basis is Basis.TIME),
                    time_amount=sum(
                        (x.amount or ZERO for x in own if x.basis is not Basis.QUOTE), ZERO
                    ),
                    quote_amount=sum(
                        (x.amount or ZERO for x in own if x.basis is Basis.QUOTE), ZERO
                    ),
                    rows=len(own),
                    included_minutes=terms.included_minutes,
                    overage_minutes=agg.overage(org_id),
                    monthly_fee=terms.monthly_fee,
                )
            )
        return cls(
            month=month,
            lines=lines,
            margin=margin,
            organisations=organisations,
            items_read=agg.items_read,
            billed_entries=agg.billed_entries,
            unbilled_entries=agg.unbilled_entries,
            entries_digest=agg.entries_digest,
            ticket_minutes=dict(agg.ticket_minutes),
            ticket_time=dict(agg.ticket_time),
            consumed=dict(agg.org_minutes),
        )

    @property
    def minutes(self) -> int:
        return sum(o.minutes for o in self.organisations)

    @property
    def time_amount(self) -> Decimal:
        return sum((o.time_amount for o in self.organisations), ZERO)

    @property
    def quote_amount(self) -> Decimal:
        return sum((o.quote_amount for o in self.organisations), ZERO)

    @property
    def amount(self) -> Decimal:
        return self.time_amount + self.quote_amount


def _line_order(line: BillingLine) -> tuple[str, bool, int, str, str]:
    """Per organisation: its tickets' lines by number, then its own lines (fee, overage)."""
    own = line.ticket_number is None
    return (line.org_id, own, line.ticket_number or 0, line.basis.value, line.consultant)


# ------------------------------------------------------------------------ the files
def render_csv(lines: Iterable[BillingLine]) -> bytes:
    """RFC 4180: CRLF line ends, quoting when needed, a header row; UTF-8 (no BOM)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow(line.csv_row())
    return buffer.getvalue().encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_entry(name: str, key: str, data: bytes, content_type: str, rows: int) -> dict[str, Any]:
    return {
        "name": name,
        "key": key,
        "content_type": content_type,
        "rows": rows,
        "size": len(data),
        "sha256": sha256_hex(data),
    }


def build_manifest(
    report: BillingReport,
    *,
    generated_at: datetime,
    export_id: str,
    files: list[dict[str, Any]],
) -> dict[str, Any]:
    """DESIGN.md §4: month, generated_at, schema_version, files, organisations, totals."""
    counts = {basis: sum(1 for x in report.lines if x.basis is basis) for basis in Basis}
    return {
        "month": report.month,
        "generated_at": iso(generated_at),
        "schema_version": SCHEMA_VERSION,
        "export_id": export_id,
        "files": files,
        "row_counts": {
            "lines": len(report.lines),
            "time": counts[Basis.TIME],
            "quote": counts[Basis.QUOTE],
            "fee": counts[Basis.FEE],
            "overage": counts[Basis.OVERAGE],
            "margin": len(report.margin),
        },
        "organisations": [o.as_json() for o in report.organisations],
        "totals": {
            "minutes": report.minutes,
            "hours": f"{hours(report.minutes):.2f}",
            "time_amount": money(report.time_amount),
            "quote_amount": money(report.quote_amount),
            "amount": money(report.amount),
        },
        "entries": {
            "read": report.items_read,
            "billed": report.billed_entries,
            "not_billed": report.unbilled_entries,
            "sha256": report.entries_digest,
        },
    }


def render_manifest(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()


# ------------------------------------------------------------------------- the workbook
_TIME_HEADERS = ("Ticket", "Type", "Base", "Consultant", "Minutes", "Heures", "Taux", "Montant",
                 "Devise", "Clôturé le")


def render_xlsx(report: BillingReport, generated_at: datetime) -> bytes:
    """The workbook for people: a summary sheet, one sheet per organisation (with its totals),
    and the internal margin sheet; numbers are numbers. Deterministic for a given report and
    `generated_at` (fixed document properties and zip entry times)."""
    label = french_month_label(report.month)
    book = new_workbook(f"Facturation {label}", generated_at)

    summary = book.active
    summary.title = "Synthèse"
    summary.append([f"Facturation {label}"])
    summary.append([f"Généré le {iso(generated_at)}"])
    summary.append([])
    summary.append(["Organisation", "Nom", "Minutes", "Heures", "Montant temps", "Montant devis",
                    "Montant", "Devise", "Lignes"])
    for org in report.organisations:
        summary.append([org.org_id, org.name, org.minutes, hours(org.minutes), org.time_amount,
                        org.quote_amount, org.amount, org.currency, org.rows])
    summary.append(["Total", "", report.minutes, hours(report.minutes), report.time_amount,
                    report.quote_amount, report.amount, "", len(report.lines)])

    used: set[str] = {"Synthèse", "Marge (interne)"}
    for org in report.organisations:
        sheet = book.create_sheet(_sheet_title(org.org_id, used))
        sheet.append([f"{org.name or org.org_id} — Facturation {label}"])
        sheet.append([])
        sheet.append(list(_TIME_HEADERS))
        for line in report.lines:
            if line.org_id != org.org_id:
                continue
            sheet.append([line.ticket_number, line.type, line.basis.value, line.consultant or None,
                          line.minutes, line.hours, line.rate, line.amount, line.currency,
                          line.closed_on])
        sheet.append(["Total", None, None, None, org.minutes, hours(org.minutes), None,
                      org.amount, org.currency, None])

    margin = book.create_sheet("Marge (interne)")
    margin.append([f"Marge des évolutions — {label} (interne, ne pas diffuser)"])
    margin.append([])
    margin.append(["Organisation", "Ticket", "Devis validé", "Minutes du mois", "Minutes totales",
                   "Heures totales", "Valeur du temps", "Marge"])
    for row in report.margin:
        margin.append([row.org_id, row.ticket_number, row.quote_amount, row.minutes_in_month,
                       row.total_minutes,
                       hours(row.total_minutes) if row.total_minutes is not None else None,
                       row.time_value, row.margin])

    return save_workbook(book, generated_at)


def new_workbook(title: str, generated_at: datetime) -> Any:
    """An openpyxl workbook whose document properties are fixed by `generated_at`."""
    from openpyxl import Workbook  # imported here: only exports need it

    stamp = generated_at.replace(tzinfo=None, microsecond=0)
    book = Workbook()
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "helpdesk"
    book.properties.title = title
    return book


def save_workbook(book: Any, generated_at: datetime) -> bytes:
    """The workbook's bytes, numbers and dates formatted, identical for identical content."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "0.00"
                elif isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"

    raw = io.BytesIO()
    book.save(raw)
    return _normalised_zip(raw.getvalue(), generated_at.replace(tzinfo=None, microsecond=0))


def _sheet_title(org_id: str, used: set[str]) -> str:
    """An Excel sheet title (31 characters, no []:*?/\\), unique in the workbook."""
    base = "".join("_" if c in "[]:*?/\\" else c for c in org_id)[:31] or "org"
    title, n = base, 1
    while title in used:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(title)
    return title


def _normalised_zip(data: bytes, stamp: datetime) -> bytes:
    """The same zip with every entry dated `stamp`: identical input, identical bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    when = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps `modified` at save
                content = _MODIFIED.sub(
                    rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    content,
                )
            target.writestr(entry, content)
    return out.getvalue()


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
