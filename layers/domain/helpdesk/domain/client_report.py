"""The monthly client report (DESIGN.md §10): per organisation, `report-<org_id>.xlsx` in each
billing export, the figures of the client's monthly steering meeting.

Pure. Four sheets:
- `Demandes`: tickets opened and closed in the month (Paris), by type;
- `Temps`: the time logged in the month per ticket (all types: evolution time shows, marked
  as not consuming the budget);
- `Niveaux de service`: per priority, the take and answer clocks met and missed in the month;
- `Forfait`: the hour budget: included, consumed, remaining, overage, monthly fee.

Decisions where §10 is silent, made here:
- Every organisation of the directory gets its report each month, even a month without any
  activity (a steering meeting happens anyway), and so does an organisation that has billing
  lines without being in the directory any more.
- A clock counts in the month its outcome was decided: `met` when it stopped in the month
  (`done_at`), `missed` when its due time fell in the month (read as of the month's end, so a
  clock still running past its due time then counts as missed). A clock frozen by a closure
  (paused for good) counts neither.
- The clocks are read from the ticket by `ticket_clocks` (one small function): a ticket that
  carries none (stored before the clocks existed) counts in no service-level figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from helpdesk.domain import french
from helpdesk.domain.budget import BudgetUse
from helpdesk.domain.business_time import BusinessCalendar
from helpdesk.domain.calendar import french_month_label, iso, month_bounds
from helpdesk.domain.contract import DEFAULT_CONTRACT
from helpdesk.domain.model import Priority, Ticket, TicketType
from helpdesk.domain.sla import ClockState, SlaClock, SlaClocks, view_state
from helpdesk.domain.timekeeping import hours

PRIORITY_ORDER = (Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW)
TYPE_ORDER = (TicketType.ASSISTANCE, TicketType.INCIDENT, TicketType.EVOLUTION)
CLOCK_NAMES = ("take", "answer")


def report_name(org_id: str) -> str:
    return f"report-{org_id}.xlsx"


def ticket_clocks(ticket: Ticket) -> SlaClocks | None:
    """The ticket's service-level clocks as stored on it (`Ticket.sla`), or None when it has
    none (stored before the clocks existed). The one place the report reads them."""
    return ticket.sla.clocks if ticket.sla is not None else None


@dataclass(frozen=True)
class TicketTime:
    ticket_number: int
    type: str
    minutes: int
    title: str = ""


@dataclass
class ClockCounts:
    met: int = 0
    missed: int = 0


@dataclass
class ClientReport:
    month: str
    org_id: str
    name: str = ""
    currency: str = "EUR"
    opened: dict[TicketType, int] = field(default_factory=dict)
    closed: dict[TicketType, int] = field(default_factory=dict)
    time: list[TicketTime] = field(default_factory=list)
    # (priority, "take" | "answer") -> counts
    levels: dict[tuple[Priority, str], ClockCounts] = field(default_factory=dict)
    included_minutes: int | None = None
    consumed_minutes: int = 0
    monthly_fee: Decimal | None = None

    @property
    def budget(self) -> BudgetUse:
        return BudgetUse(self.month, self.included_minutes, self.consumed_minutes)

    def counts(self, priority: Priority, clock: str) -> ClockCounts:
        return self.levels.setdefault((priority, clock), ClockCounts())


@dataclass(frozen=True)
class ReportTerms:
    """What the report needs of an organisation."""

    org_id: str
    name: str = ""
    currency: str = "EUR"
    included_minutes: int | None = None
    monthly_fee: Decimal | None = None
    calendar: BusinessCalendar = field(default_factory=lambda: DEFAULT_CONTRACT.calendar)


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def clock_outcome(
    clock: SlaClock, start: datetime, end: datetime, calendar: BusinessCalendar
) -> ClockState | None:
    """`met` or `missed` when the clock's outcome was decided in [start, end), else None."""
    if clock.state is ClockState.MET:
        return ClockState.MET if _in(clock.done_at, start, end) else None
    if view_state(clock, end, calendar) is ClockState.MISSED:
        when = clock.due_at or clock.done_at
        return ClockState.MISSED if _in(when, start, end) else None
    return None


def build_reports(
    month: str,
    orgs: Mapping[str, ReportTerms],
    tickets: Iterable[Ticket],
    ticket_time: Mapping[tuple[str, int], tuple[str, int]],
    consumed: Mapping[str, int],
) -> list[ClientReport]:
    """One report per organisation (of `orgs` and of `ticket_time`), in org_id order.

    `tickets`: every ticket that may count in the month (at least those opened, closed or
    answered in it; others are ignored); `ticket_time`: (org, ticket) -> (type, minutes logged
    in the month); `consumed`: the budget's minutes per organisation."""
    start, end = month_bounds(month)
    org_ids = sorted(set(orgs) | {org for org, _n in ticket_time})
    reports: dict[str, ClientReport] = {}
    for org_id in org_ids:
        terms = orgs.get(org_id) or ReportTerms(org_id)
        reports[org_id] = ClientReport(
            month=month,
            org_id=org_id,
            name=terms.name,
            currency=terms.currency,
            included_minutes=terms.included_minutes,
            consumed_minutes=consumed.get(org_id, 0),
            monthly_fee=terms.monthly_fee,
        )
    titles: dict[int, str] = {}
    for ticket in tickets:
        report = reports.get(ticket.org_id)
        if report is None:
            continue
        titles[ticket.number] = ticket.title
        if _in(ticket.created_at, start, end):
            report.opened[ticket.type] = report.opened.get(ticket.type, 0) + 1
        if _in(ticket.closed_at, start, end):
            report.closed[ticket.type] = report.closed.get(ticket.type, 0) + 1
        clocks = ticket_clocks(ticket)
        if clocks is None:
            continue
        # A ticket keeps the calendar it was created under (helpdesk.domain.ticket_sla).
        calendar = (
            ticket.sla.calendar
            if ticket.sla is not None
            else (orgs.get(ticket.org_id) or ReportTerms(ticket.org_id)).calendar
        )
        for name, clock in zip(CLOCK_NAMES, (clocks.take, clocks.answer), strict=True):
            outcome = clock_outcome(clock, start, end, calendar)
            counts = report.counts(ticket.priority, name)
            if outcome is ClockState.MET:
                counts.met += 1
            elif outcome is ClockState.MISSED:
                counts.missed += 1
    for (org_id, number), (ticket_type, minutes) in sorted(ticket_time.items()):
        reports[org_id].time.append(
            TicketTime(number, ticket_type, minutes, titles.get(number, ""))
        )
    return [reports[org_id] for org_id in org_ids]


# ------------------------------------------------------------------------- the workbook
def _type_label(code: str) -> str:
    try:
        return french.ticket_type(TicketType(code))
    except ValueError:
        return code


def render_report(report: ClientReport, generated_at: datetime) -> bytes:
    """The workbook; deterministic for a given report and `generated_at`."""
    from helpdesk.domain.billing import new_workbook, save_workbook

    label = french_month_label(report.month)
    who = report.name or report.org_id
    book = new_workbook(f"Rapport mensuel {who} {label}", generated_at)

    asked = book.active
    asked.title = "Demandes"
    asked.append([f"{who} — Rapport mensuel {label}"])
    asked.append([f"Généré le {iso(generated_at)}"])
    asked.append([])
    asked.append(["Type", "Ouvertes", "Fermées"])
    for ticket_type in TYPE_ORDER:
        asked.append(
            [
                french.ticket_type(ticket_type),
                report.opened.get(ticket_type, 0),
                report.closed.get(ticket_type, 0),
            ]
        )
    asked.append(["Total", sum(report.opened.values()), sum(report.closed.values())])

    spent = book.create_sheet("Temps")
    spent.append([f"Temps passé par demande — {label}"])
    spent.append([])
    spent.append(["Ticket", "Titre", "Type", "Minutes", "Heures", "Compté au forfait"])
    for row in report.time:
        counted = "non" if row.type == TicketType.EVOLUTION.value else "oui"
        spent.append(
            [
                row.ticket_number,
                row.title or None,
                _type_label(row.type),
                row.minutes,
                hours(row.minutes),
                counted,
            ]
        )
    total = sum(row.minutes for row in report.time)
    spent.append(["Total", None, None, total, hours(total), None])

    levels = book.create_sheet("Niveaux de service")
    levels.append([f"Niveaux de service — {label} (heures ouvrées)"])
    levels.append([])
    levels.append(
        [
            "Priorité",
            "Prise en charge respectée",
            "Prise en charge manquée",
            "Réponse respectée",
            "Réponse manquée",
        ]
    )
    for priority in PRIORITY_ORDER:
        take, answer = report.counts(priority, "take"), report.counts(priority, "answer")
        levels.append([french.priority(priority), take.met, take.missed, answer.met, answer.missed])

    budget = book.create_sheet("Forfait")
    budget.append([f"Forfait d'heures — {label}"])
    budget.append([])
    rows: list[tuple[str, object]] = [
        ("Minutes incluses", report.included_minutes),
        ("Minutes consommées", report.consumed_minutes),
        ("Minutes restantes", report.budget.remaining_minutes),
        ("Minutes de dépassement", report.budget.overage_minutes),
        ("Heures incluses", _hours_or_none(report.included_minutes)),
        ("Heures consommées", hours(report.consumed_minutes)),
        ("Heures de dépassement", _hours_or_none(report.budget.overage_minutes)),
        ("Redevance mensuelle", report.monthly_fee),
        ("Devise", report.currency),
    ]
    for name, value in rows:
        budget.append([name, "—" if value is None else value])
    return save_workbook(book, generated_at)


def _hours_or_none(minutes: int | None) -> Decimal | None:
    return None if minutes is None else hours(minutes)
