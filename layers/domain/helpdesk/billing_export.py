"""The monthly billing export: lock the month, read it through `by_month`, write the files.

`BillingExporter.export(month, now, actor)`:

1. Only a month that has ended (Europe/Paris) is exported: otherwise InvalidInput (422,
   field `month`): the request names a month that cannot be billed yet.
2. The month's lock item (`LOCK` / `MONTH#<yyyy-mm>`) is put first, conditionally, with status
   `exporting`, a new export id, `generated_at` (= now) and the actor. From then on
   `add_time_entry` refuses any entry dated in the month (MonthLocked, 409), so what is read
   next is final.
3. The month is read through the `by_month` index (Query, 1 MB pages, never a Scan) and
   streamed into the aggregator (memory ~ lines, not entries).
4. The CSV, the workbook, then `manifest.json` are written under `exports/YYYY/MM/`.
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
and why kept in a history item); the next export writes new object versions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.adapters import items as it
from helpdesk.adapters import keys
from helpdesk.adapters.dynamo import DynamoStore, marshal, unmarshal
from helpdesk.adapters.exports_store import ExportsStore
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
    sha256_hex,
)
from helpdesk.domain.calendar import ensure_utc, iso, month_bounds, parse_instant, parse_month
from helpdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from helpdesk.domain.model import Caller, Role, Ticket
from helpdesk.domain.timekeeping import TimeEntry
from helpdesk.jobs import JobReport

EXPORTING = "exporting"
EXPORTED = "exported"
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


@dataclass
class BillingJobReport(JobReport):
    month: str = ""
    outcome: str = ""  # exported | already_exported
    export_id: str = ""
    lines: int = 0
    minutes: int = 0
    amount: str = "0.00"


def require_billing_reader(caller: Caller) -> None:
    if caller.role not in (Role.FINANCE, Role.MANAGER, Role.SYSTEM):
        raise Forbidden("Only finance and managers reach the billing exports.")


def check_month(month: str) -> str:
    try:
        parse_month(month)
    except ValueError as exc:
        raise InvalidInput("month", f"'{month}' is not a month (yyyy-mm).") from exc
    return month


class BillingExporter:
    def __init__(
        self,
        store: DynamoStore,
        exports: ExportsStore,
        ids: Callable[[], str] = new_export_id,
    ) -> None:
        self.store = store
        self.exports = exports
        self.ids = ids

    # ------------------------------------------------------------------ reading
    def _lock(self, month: str) -> dict[str, Any] | None:
        reply = self.store.client.get_item(
            TableName=self.store.table, Key=marshal(keys.month_lock_key(month)), ConsistentRead=True
        )
        return unmarshal(reply["Item"]) if "Item" in reply else None

    def month_items(self, month: str) -> Iterator[dict[str, Any]]:
        """Every `by_month` item of the month, page by page (Query; never a Scan), with only
        the attributes billing reads (a closed evolution is then read whole, by its key)."""
        kwargs: dict[str, Any] = {
            "TableName": self.store.table,
            "IndexName": "by_month",
            "KeyConditionExpression": "month_pk = :m",
            "ExpressionAttributeValues": {":m": {"S": keys.month_pk(month)}},
            "ProjectionExpression": ", ".join(f"#{i}" for i in range(len(_PROJECTED))),
            "ExpressionAttributeNames": {f"#{i}": name for i, name in enumerate(_PROJECTED)},
        }
        while True:
            reply = self.store.client.query(**kwargs)
            yield from reply.get("Items", [])
            last = reply.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def organisations(self) -> dict[str, OrgTerms]:
        return {
            org.org_id: OrgTerms(org.org_id, org.name, org.hourly_rate, org.currency)
            for org in self.store.list_orgs()
        }

    def aggregate(self, month: str) -> BillingReport:
        aggregator = BillingAggregator(month, self.organisations())
        for raw in self.month_items(month):
            key = raw["month_sk"]["S"]
            org_id, number, entry = key.rsplit("#", 2)
            if entry == "QUOTE":
                _feed_quote(aggregator, key, self.store.get_ticket(int(number)))
            else:
                _feed_time(aggregator, key, org_id, int(number), raw)
        return aggregator.report()

    def manifest(self, month: str) -> ExportResult:
        """The stored export of a month (NotFound when it has none yet)."""
        check_month(month)
        lock = self._lock(month)
        if lock is None or lock.get("status") != EXPORTED:
            state = "is being generated" if lock else "has not been exported"
            raise NotFound(f"The billing of {month} {state}.")
        return self._stored(month, lock)

    def _stored(self, month: str, lock: dict[str, Any]) -> ExportResult:
        data = self.exports.get(lock["manifest_key"], lock.get("manifest_version"))
        if sha256_hex(data) != lock["manifest_sha256"]:
            raise Conflict(f"The stored manifest of {month} is not the one the lock recorded.")
        return ExportResult(month, data, False, dict(lock.get("versions") or {}))

    def billed_by(self, entry: TimeEntry) -> str | None:
        """The export that billed this entry (None while its month is not exported)."""
        lock = self._lock(entry.month)
        return str(lock["export_id"]) if lock and lock.get("status") == EXPORTED else None

    def verify(self, month: str) -> bool:
        """The month's entries are still exactly those the export read (count and digest)."""
        lock = self._lock(month)
        if lock is None or lock.get("status") != EXPORTED:
            return False
        report = self.aggregate(month)
        return (report.items_read, report.entries_digest) == (
            int(lock["entries_read"]),
            lock["entries_sha256"],
        )

    # ------------------------------------------------------------------ writing
    def export(self, month: str, now: datetime, actor: str) -> ExportResult:
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
            lock = self._lock(month)
            if lock is not None and lock.get("status") == EXPORTED:
                return self._stored(month, lock)
            if lock is None:
                lock = self._take_lock(month, now, actor)
                if lock is None:
                    continue  # another export took it first: look again
            return self._complete(month, lock)
        raise Conflict(f"The export of {month} is changing too fast; try again.")

    def _take_lock(self, month: str, now: datetime, actor: str) -> dict[str, Any] | None:
        lock = {
            **keys.month_lock_key(month),
            "entity": "month_lock",
            "month": month,
            "status": EXPORTING,
            "export_id": self.ids(),
            "generated_at": iso(now),
            "actor": actor,
        }
        history = self._history_item(
            month, "lock", actor, iso(now), {"export_id": lock["export_id"]}
        )
        # One transaction: a run that fails after the lock cannot lose its history event
        # (the rerun finds the lock and never writes the event again).
        try:
            self.store.client.transact_write_items(
                TransactItems=[self._put_new(lock), self._put_new(history)]
            )
        except ClientError as exc:
            if _first_condition_failed(exc):
                return None
            raise
        return lock

    def _complete(self, month: str, lock: dict[str, Any]) -> ExportResult:
        export_id = str(lock["export_id"])
        generated_at = parse_instant(str(lock["generated_at"]))
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
        manifest = render_manifest(
            build_manifest(report, generated_at=generated_at, export_id=export_id, files=files)
        )
        manifest_sha = sha256_hex(manifest)
        manifest_version = self._put(names["manifest"], manifest, JSON_TYPE, export_id)
        exported = self._history_item(
            month,
            "exported",
            str(lock.get("actor", "")),
            iso(generated_at),
            {"export_id": export_id, "manifest_sha256": manifest_sha},
        )
        done = {
            "Update": {
                "TableName": self.store.table,
                "Key": marshal(keys.month_lock_key(month)),
                "UpdateExpression": (
                    "SET #status = :exported, manifest_key = :key, manifest_sha256 = :sha, "
                    "manifest_version = :version, versions = :versions, entries_read = :read, "
                    "entries_sha256 = :digest, line_count = :lines, total_minutes = :minutes, "
                    "total_amount = :amount"
                ),
                "ConditionExpression": "#status = :exporting AND export_id = :id",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": marshal(
                    {
                        ":exported": EXPORTED,
                        ":exporting": EXPORTING,
                        ":id": export_id,
                        ":key": names["manifest"],
                        ":sha": manifest_sha,
                        ":version": manifest_version or "null",
                        ":versions": {k: v or "null" for k, v in versions.items()},
                        ":read": report.items_read,
                        ":digest": report.entries_digest,
                        ":lines": len(report.lines),
                        ":minutes": report.minutes,
                        ":amount": Decimal(report.amount),
                    }
                ),
            }
        }
        # The lock's new status and its history event together: a run that dies between
        # them would leave an exported month without its "exported" event.
        try:
            self.store.client.transact_write_items(TransactItems=[done, self._put_new(exported)])
        except ClientError as exc:
            if not _first_condition_failed(exc):
                raise
            current = self._lock(month)  # a concurrent run of the same export finished first
            if current is not None and current.get("status") == EXPORTED:
                return self._stored(month, current)
            raise Conflict(f"The export of {month} was unlocked while it ran.") from exc
        return ExportResult(month, manifest, True, versions)

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.store.table,
                "Item": marshal(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _check_against_tasks(self, month: str, report: BillingReport) -> None:
        """The index is eventually consistent: an entry committed just before the lock may not
        be in it yet. Each ticket's month task counts its minutes in the entry's own
        transaction; read consistently (after the lock, so final), they must equal what the
        index gave. Otherwise nothing is written and the lock stays `exporting`: a rerun (the
        schedule's retries, or the next POST) completes the export once the index has caught
        up."""
        numbers = sorted(report.ticket_minutes)
        for start in range(0, len(numbers), 100):
            task_keys = [
                {"pk": keys.ticket_pk(n), "sk": keys.task_sk(month)}
                for n in numbers[start : start + 100]
            ]
            found = self.store.batch_get(task_keys)
            for key in task_keys:
                task = found.get((key["pk"], key["sk"]))
                number = int(key["pk"].split("#", 1)[1])
                logged = int(task.get("minutes", 0)) if task else 0
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

    def unlock(self, month: str, actor: str, reason: str, now: datetime) -> dict[str, Any]:
        """Manager only (checked by the caller): drop an exported month's lock; keep why."""
        check_month(month)
        reason = reason.strip()
        if not reason:
            raise InvalidInput("reason", "'reason' is required to unlock a month.")
        lock = self._lock(month)
        if lock is None or lock.get("status") != EXPORTED:
            state = "is being exported" if lock else "is not locked"
            raise Conflict(f"The month {month} {state}: there is nothing to unlock.")
        at = iso(ensure_utc(now))
        history = self._history_item(
            month,
            "unlock",
            actor,
            at,
            {"reason": reason, "export_id": lock["export_id"],
             "manifest_sha256": lock["manifest_sha256"]},
        )
        try:
            self.store.client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.store.table,
                            "Key": marshal(keys.month_lock_key(month)),
                            "ConditionExpression": "#status = :exported AND export_id = :id",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": marshal(
                                {":exported": EXPORTED, ":id": lock["export_id"]}
                            ),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.store.table,
                            "Item": marshal(history),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise Conflict(f"The lock of {month} changed meanwhile; try again.") from exc
            raise
        return {"month": month, "status": "unlocked", "unlocked_by": actor, "reason": reason,
                "at": at, "previous_export_id": lock["export_id"]}

    def history(self, month: str) -> list[dict[str, Any]]:
        reply = self.store._query_partition("LOCK", f"HISTORY#{month}#")
        return list(reply)

    def _history_item(
        self, month: str, action: str, actor: str, at: str, details: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "pk": "LOCK",
            "sk": f"HISTORY#{month}#{at}#{action}#{uuid.uuid4().hex[:8]}",
            "entity": "month_lock_event",
            "month": month,
            "action": action,
            "actor": actor,
            "at": at,
            **details,
        }


def _first_condition_failed(exc: ClientError) -> bool:
    """A transaction cancelled because its first item's condition failed."""
    if exc.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons") or []
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"


# What billing reads of an index item; `month_sk` (`<org>#<padded n>#<entry id>`, or `#QUOTE`
# for a closed evolution) gives the organisation and the ticket.
_PROJECTED = ("month_sk", "ticket_type", "consultant", "minutes", "billable")


def _feed_quote(aggregator: BillingAggregator, key: str, ticket: Ticket) -> None:
    """A closed evolution (read whole, consistently): its approved quote, if it is billed."""
    quote = ticket.approved_quote
    aggregator.add_quote(
        key=key,
        org_id=ticket.org_id,
        ticket_number=ticket.number,
        amount=quote.amount if quote is not None else None,
        closed_at=ticket.closed_at if it.billing_month(ticket) is not None else None,
        total_minutes=ticket.time_spent_minutes,
    )


def _feed_time(
    aggregator: BillingAggregator, key: str, org_id: str, number: int, raw: dict[str, Any]
) -> None:
    """One time entry (DynamoDB JSON, as the index returns it) into the aggregator."""
    aggregator.add_time(
        key=key,
        org_id=org_id,
        ticket_number=number,
        ticket_type=raw.get("ticket_type", {}).get("S", ""),
        consultant=raw["consultant"]["S"],
        minutes=int(raw["minutes"]["N"]),
        billable=bool(raw.get("billable", {}).get("BOOL", False)),
    )


class BillingExportJob:
    """Scheduled on the 1st at 02:00 (Paris): exports the month before `at`."""

    def __init__(self, exporter: BillingExporter) -> None:
        self.exporter = exporter

    def run(self, at: datetime) -> BillingJobReport:
        from helpdesk.domain.calendar import paris_month, previous_month

        at = ensure_utc(at)
        month = previous_month(paris_month(at))
        result = self.exporter.export(month, at, "system")
        manifest = result.document
        return BillingJobReport(
            job="billing-export",
            at=iso(at),
            items_read=int(manifest["entries"]["read"]),
            month=month,
            outcome="exported" if result.created else "already_exported",
            export_id=str(manifest["export_id"]),
            lines=int(manifest["row_counts"]["lines"]),
            minutes=int(manifest["totals"]["minutes"]),
            amount=str(manifest["totals"]["amount"]),
        )
