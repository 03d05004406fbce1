"""The monthly billing export: lock the month, read its billable items, write the files.

The use case depends on ports only (helpdesk.ports_billing: `BillingRepository`, the month
locks and items; `ExportFiles`, the exports bucket; helpdesk.ports: the tickets and the
directory). Who may do what is checked here first: finance and managers read and generate
(the scheduled job as `SYSTEM`), managers alone unlock.

`BillingExporter.export(caller, month, now)`:

1. Only a month that has ended (Europe/Paris) is exported: otherwise InvalidInput (422,
   field `month`): the request names a month that cannot be billed yet.
2. The month's lock is put first, conditionally, with status `exporting`, a new export id,
   `generated_at` (= now) and the actor, together with its history event. From then on
   `add_time_entry` refuses any entry dated in the month (MonthLocked, 409), so what is read
   next is final.
3. The month's items are read (the `by_month` index: Query, 1 MB pages, never a Scan) and
   streamed into the aggregator (memory ~ lines, not entries).
4. The CSV, the workbook, each organisation's monthly report (`report-<org_id>.xlsx`, §10),
   then `manifest.json` are written under `exports/YYYY/MM/`. The reports read the tickets
   updated since the month began (index `all_updated`) and those not closed (`queue`).
5. The lock becomes `exported`, with the manifest's key, version and SHA-256, the files'
   versions, the count and digest of the month's entries.

Which export billed an entry: an entry is in exactly one month (its `month_pk`, fixed when it
is written) and a month has one lock, which names the export (`export_id`); the lock forbids
any entry from landing in the month afterwards, and the manifest records the number and the
SHA-256 of the exact set of index items read (`entries`), which `verify()` recomputes. This
costs one write per export instead of one per entry (200,000 UpdateItems, with their index
writes, for a large month) and cannot be half-done. `billed_by(entry)` answers the question.

Reruns: an `exported` month returns the stored manifest unchanged (byte-identical, nothing
rewritten). An `exporting` month (a crash, a timeout) is completed with the lock's export id and
`generated_at`: the files are deterministic, so the rerun writes the same bytes (skipping the
objects already written with the same SHA-256). A manager may unlock an exported month (who
and why kept in a history event); the next export writes new object versions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

from helpdesk.domain.billing import (
    BillingAggregator,
    BillingReport,
    OrgTerms,
    build_manifest,
    export_keys,
    file_entry,
    render_csv,
    render_manifest,
    render_xlsx,
    report_key,
    sha256_hex,
)
from helpdesk.domain.calendar import (
    ensure_utc,
    iso,
    month_bounds,
    parse_month,
)
from helpdesk.domain.errors import Conflict, InvalidInput, NotFound
from helpdesk.domain.model import Caller, Ticket
from helpdesk.domain.timekeeping import TimeEntry
from helpdesk.ports import DirectoryRepository, TicketRepository
from helpdesk.ports_billing import (
    BillingRepository,
    ExportFiles,
    ExportRecord,
    LockAction,
    LockEvent,
    LockStatus,
    MonthLock,
    MonthQuote,
    MonthTime,
)
from helpdesk.service import require_billing_reader, require_manager

if TYPE_CHECKING:  # a generation builds the client reports, a read of the export does not
    from helpdesk.domain.client_report import ClientReport

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPE = "application/json"
MAX_LOCK_ATTEMPTS = 5


def new_export_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class ExportResult:
    month: str
    manifest: bytes  # exactly the stored manifest.json
    created: bool  # this call completed the export (False: it was already exported)
    versions: dict[str, str | None]  # file name -> the object version the manifest describes

    @property
    def document(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.manifest)
        return loaded


def check_month(month: str) -> str:
    try:
        parse_month(month)
    except ValueError as exc:
        raise InvalidInput("month", f"'{month}' is not a month (yyyy-mm).") from exc
    return month


class BillingExporter:
    def __init__(
        self,
        billing: BillingRepository,
        tickets: TicketRepository,
        directory: DirectoryRepository,
        exports: ExportFiles,
        ids: Callable[[], str] = new_export_id,
    ) -> None:
        self.billing = billing
        self.tickets = tickets
        self.directory = directory
        self.exports = exports
        self.ids = ids

    # ------------------------------------------------------------------ reading
    def organisations(self) -> dict[str, OrgTerms]:
        return {
            org.org_id: OrgTerms(
                org.org_id,
                org.name,
                org.hourly_rate,
                org.currency,
                org.contract.included_minutes,
                org.contract.monthly_fee,
            )
            for org in self.directory.list_orgs()
        }

    def client_reports(self, month: str, report: BillingReport) -> list[ClientReport]:
        """The month's report of every organisation (§10), from the tickets updated since the
        month began (those opened, closed or answered in it among them)."""
        from helpdesk.domain.client_report import ReportTerms, build_reports

        terms = {
            org.org_id: ReportTerms(
                org.org_id,
                org.name,
                org.currency,
                org.contract.included_minutes,
                org.contract.monthly_fee,
                org.contract.calendar,
            )
            for org in self.directory.list_orgs()
        }
        start, _end = month_bounds(month)
        return build_reports(
            month, terms, self._report_tickets(start), report.ticket_time, report.consumed
        )

    def _report_tickets(self, start: datetime) -> Iterator[Ticket]:
        """Each ticket that may count in a month starting at `start`, once: those updated
        since (opened, closed or answered in it) and those not closed (a clock may have run
        past its due time in the month without any change to the ticket)."""
        seen: set[int] = set()
        reads = _Reads()
        for ticket in chain(self.billing.touched_tickets(start), self.tickets.not_closed(reads)):
            if ticket.number not in seen:
                seen.add(ticket.number)
                yield ticket

    def aggregate(self, month: str) -> BillingReport:
        aggregator = BillingAggregator(month, self.organisations())
        for item in self.billing.month_items(month):
            match item:
                case MonthQuote():
                    _feed_quote(aggregator, item.key, self.tickets.get(item.ticket_number))
                case MonthTime():
                    aggregator.add_time(
                        key=item.key,
                        org_id=item.org_id,
                        ticket_number=item.ticket_number,
                        ticket_type=item.ticket_type,
                        consultant=item.consultant,
                        minutes=item.minutes,
                        billable=item.billable,
                    )
        return aggregator.report()

    def manifest(self, caller: Caller, month: str) -> ExportResult:
        """The stored export of a month (NotFound when it has none yet)."""
        require_billing_reader(caller)
        check_month(month)
        lock = self.billing.lock(month)
        if lock is None or not lock.exported:
            state = "is being generated" if lock else "has not been exported"
            raise NotFound(f"The billing of {month} {state}.")
        return self._stored(month, lock)

    def with_links(self, result: ExportResult) -> dict[str, Any]:
        """The manifest, each file with a short-lived link to the exact version it describes."""
        manifest = result.document
        for entry in manifest["files"]:
            entry["url"] = self.exports.link(entry["key"], result.versions.get(entry["name"]))
        return manifest

    def _stored(self, month: str, lock: MonthLock) -> ExportResult:
        record = lock.record
        assert record is not None  # an exported lock records its export
        data = self.exports.get(record.manifest_key, record.manifest_version)
        if sha256_hex(data) != record.manifest_sha256:
            raise Conflict(f"The stored manifest of {month} is not the one the lock recorded.")
        return ExportResult(month, data, False, dict(record.versions))

    def billed_by(self, entry: TimeEntry) -> str | None:
        """The export that billed this entry (None while its month is not exported)."""
        lock = self.billing.lock(entry.month)
        return lock.export_id if lock is not None and lock.exported else None

    def verify(self, month: str) -> bool:
        """The month's entries are still exactly those the export read (count and digest)."""
        lock = self.billing.lock(month)
        if lock is None or lock.record is None or not lock.exported:
            return False
        report = self.aggregate(month)
        return (report.items_read, report.entries_digest) == (
            lock.record.entries_read,
            lock.record.entries_sha256,
        )

    def history(self, month: str) -> list[LockEvent]:
        """Who locked, exported and unlocked the month, and why (oldest first)."""
        return self.billing.history(month)

    # ------------------------------------------------------------------ writing
    def export(self, caller: Caller, month: str, now: datetime) -> ExportResult:
        require_billing_reader(caller)
        check_month(month)
        now = ensure_utc(now)
        _, end = month_bounds(month)
        if now < end:
            raise InvalidInput(
                "month",
                f"The month {month} has not ended yet (Europe/Paris): it can be exported "
                f"from {iso(end)}.",
            )
        for _ in range(MAX_LOCK_ATTEMPTS):
            lock = self.billing.lock(month)
            if lock is not None and lock.exported:
                return self._stored(month, lock)
            if lock is None:
                lock = self._take_lock(month, now, caller.id)
                if lock is None:
                    continue  # another export took it first: look again
            return self._complete(month, lock)
        raise Conflict(f"The export of {month} is changing too fast; try again.")

    def _take_lock(self, month: str, now: datetime, actor: str) -> MonthLock | None:
        lock = MonthLock(
            month=month,
            status=LockStatus.EXPORTING,
            export_id=self.ids(),
            generated_at=now.replace(microsecond=0),  # stored to the second
            actor=actor,
        )
        event = LockEvent(month, LockAction.LOCK, actor, now, {"export_id": lock.export_id})
        # Together: a run that fails after the lock cannot lose its history event (the rerun
        # finds the lock and never writes the event again).
        return lock if self.billing.take_lock(lock, event) else None

    def _complete(self, month: str, lock: MonthLock) -> ExportResult:
        export_id = lock.export_id
        generated_at = lock.generated_at
        report = self.aggregate(month)
        self._check_against_tasks(month, report)
        names = export_keys(month)
        csv_name, xlsx_name = names["csv"].rsplit("/", 1)[1], names["xlsx"].rsplit("/", 1)[1]
        csv_data = render_csv(report.lines)
        xlsx_data = render_xlsx(report, generated_at)
        versions = {
            csv_name: self._put(names["csv"], csv_data, CSV_TYPE, export_id),
            xlsx_name: self._put(names["xlsx"], xlsx_data, XLSX_TYPE, export_id),
        }
        files = [
            file_entry(csv_name, names["csv"], csv_data, CSV_TYPE, len(report.lines)),
            file_entry(xlsx_name, names["xlsx"], xlsx_data, XLSX_TYPE, len(report.lines)),
        ]
        from helpdesk.domain.client_report import render_report, report_name

        for client in self.client_reports(month, report):
            key, name = report_key(month, client.org_id), report_name(client.org_id)
            data = render_report(client, generated_at)
            versions[name] = self._put(key, data, XLSX_TYPE, export_id)
            files.append(file_entry(name, key, data, XLSX_TYPE, len(client.time)))
        manifest = render_manifest(
            build_manifest(report, generated_at=generated_at, export_id=export_id, files=files)
        )
        manifest_sha = sha256_hex(manifest)
        manifest_version = self._put(names["manifest"], manifest, JSON_TYPE, export_id)
        exported = MonthLock(
            month=month,
            status=LockStatus.EXPORTED,
            export_id=export_id,
            generated_at=generated_at,
            actor=lock.actor,
            record=ExportRecord(
                manifest_key=names["manifest"],
                manifest_sha256=manifest_sha,
                manifest_version=manifest_version,
                versions=versions,
                entries_read=report.items_read,
                entries_sha256=report.entries_digest,
                line_count=len(report.lines),
                total_minutes=report.minutes,
                total_amount=report.amount,
            ),
        )
        event = LockEvent(
            month,
            LockAction.EXPORTED,
            lock.actor,
            generated_at,
            {"export_id": export_id, "manifest_sha256": manifest_sha},
        )
        # The lock's new status and its history event together: a run that dies between
        # them would leave an exported month without its "exported" event.
        if not self.billing.finish_lock(exported, event):
            current = self.billing.lock(month)  # a concurrent run of the same export finished
            if current is not None and current.exported:
                return self._stored(month, current)
            raise Conflict(f"The export of {month} was unlocked while it ran.")
        return ExportResult(month, manifest, True, versions)

    def _check_against_tasks(self, month: str, report: BillingReport) -> None:
        """The index is eventually consistent: an entry committed just before the lock may not
        be in it yet. Each ticket's month task counts its minutes in the entry's own
        transaction; read consistently (after the lock, so final), they must equal what the
        index gave. Otherwise nothing is written and the lock stays `exporting`: a rerun (the
        schedule's retries, or the next POST) completes the export once the index has caught
        up."""
        numbers = sorted(report.ticket_minutes)
        logged_minutes = self.billing.task_minutes(numbers, month)
        for number in numbers:
            logged = logged_minutes.get(number, 0)
            if logged != report.ticket_minutes[number]:
                raise Conflict(
                    f"The month index has not caught up with ticket #{number} yet "
                    f"({report.ticket_minutes[number]} of {logged} minutes); the export "
                    f"of {month} stays locked and completes on the next run."
                )

    def _put(self, key: str, data: bytes, content_type: str, export_id: str) -> str | None:
        """Write once per export: a rerun finds the same bytes there and leaves them."""
        digest = sha256_hex(data)
        existing = self.exports.head(key)
        if existing is not None and (existing.sha256, existing.export_id) == (digest, export_id):
            return existing.version_id
        stored = self.exports.put(
            key, data, content_type=content_type, sha256=digest, export_id=export_id
        )
        return stored.version_id

    def unlock(self, caller: Caller, month: str, reason: str, now: datetime) -> dict[str, Any]:
        """Managers only: drop an exported month's lock; keep who and why."""
        require_manager(caller)
        check_month(month)
        reason = reason.strip()
        if not reason:
            raise InvalidInput("reason", "'reason' is required to unlock a month.")
        lock = self.billing.lock(month)
        if lock is None or lock.record is None or not lock.exported:
            state = "is being exported" if lock else "is not locked"
            raise Conflict(f"The month {month} {state}: there is nothing to unlock.")
        now = ensure_utc(now)
        event = LockEvent(
            month,
            LockAction.UNLOCK,
            caller.id,
            now,
            {
                "reason": reason,
                "export_id": lock.export_id,
                "manifest_sha256": lock.record.manifest_sha256,
            },
        )
        if not self.billing.unlock(lock, event):
            raise Conflict(f"The lock of {month} changed meanwhile; try again.")
        return {
            "month": month,
            "status": "unlocked",
            "unlocked_by": caller.id,
            "reason": reason,
            "at": iso(now),
            "previous_export_id": lock.export_id,
        }


@dataclass
class _Reads:
    items_read: int = 0


def _feed_quote(aggregator: BillingAggregator, key: str, ticket: Ticket) -> None:
    """A closed evolution (read whole, consistently): its approved quote, if it is billed."""
    quote = ticket.approved_quote
    aggregator.add_quote(
        key=key,
        org_id=ticket.org_id,
        ticket_number=ticket.number,
        amount=quote.amount if quote is not None else None,
        closed_at=ticket.closed_at if ticket.billing_month is not None else None,
        total_minutes=ticket.time_spent_minutes,
    )
