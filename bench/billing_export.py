"""Benchmark of the monthly billing export: a month of N time entries in the embedded moto.

For each size it reports, in one process and one run:
- `read`: merely reading the month's entries through the `by_month` index (paged Query);
- `export`: the whole export (lock, the same read streamed into the aggregator, CSV, workbook,
  manifest, S3 writes, lock update), and its time as a ratio to `read`;
- the export's peak memory (tracemalloc), measured in a second pass so that tracing does not
  slow the timed one, with the index pages replayed from a recording (moto, unlike DynamoDB,
  materialises every matching item on each Query; see `run_size`). The export's peak stays
  flat as the entries grow: the aggregator keeps one counter per (organisation, ticket,
  consultant) line, never the entries.

Entries go straight into moto's backend (as tests/integration/test_jobs.py seeds), in the
exact shape the adapters write them (`items.time_entry_to_item`). The exporter is the one the
composition root builds (`bootstrap_billing.exporter_over`); `read` is its month read
(`DynamoBillingRepository.month_items`).

    python -m bench                      # 50,000 and 200,000 entries
    python -m bench 2000 8000            # other sizes
    python -m bench --read-peak          # also the peak memory of the bare read (slower)
"""

from __future__ import annotations

import gc
import json
import os
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from helpdesk.domain.model import Caller, Role

DEFAULT_SIZES = (50_000, 200_000)
MONTH = "2026-10"
AFTER = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
REGION = "eu-west-1"
TABLE = "helpdesk-bench"
BUCKET = "helpdesk-bench-exports"
TICKETS = 500  # tickets of the month (3 organisations, 12 consultants)
CONSULTANTS = tuple(f"cons-{i:02d}" for i in range(12))
MANAGER = Caller(id="bench", role=Role.MANAGER, email="bench@consult.example")
T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    entries: int
    lines: int
    read_seconds: float
    export_seconds: float
    read_peak_mib: float
    export_peak_mib: float

    @property
    def ratio(self) -> float:
        return self.export_seconds / self.read_seconds if self.read_seconds else float("inf")


def _timed(action: Callable[[], T]) -> tuple[float, T]:
    gc.collect()
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def _peak(action: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


class _ReplayedIndex:
    """Serves recorded `by_month` Query pages (other calls go to moto)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.real = client.query
        self.pages: dict[str, Any] = {}

    @staticmethod
    def _key(kwargs: dict[str, Any]) -> str:
        return json.dumps(kwargs.get("ExclusiveStartKey"), sort_keys=True)

    def record(self, read: Callable[[], Any]) -> None:
        def recording(**kwargs: Any) -> Any:
            reply = self.real(**kwargs)
            if kwargs.get("IndexName") == "by_month":
                self.pages[self._key(kwargs)] = reply
            return reply

        self.client.query = recording
        try:
            read()
        finally:
            self.client.query = self.real

    def __enter__(self) -> _ReplayedIndex:
        def replaying(**kwargs: Any) -> Any:
            if kwargs.get("IndexName") == "by_month":
                return self.pages[self._key(kwargs)]
            return self.real(**kwargs)

        self.client.query = replaying
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.query = self.real


def _seed(client: Any, count: int) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from helpdesk.adapters.dynamodb import items as it
    from helpdesk.adapters.dynamodb.toolkit import Table, marshal
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.domain.model import TicketType
    from helpdesk.domain.timekeeping import TimeEntry, TimeKind
    from helpdesk.service import HelpdeskService

    service = HelpdeskService(DynamoUnitOfWork(Table(client, TABLE)))
    for org, rate in (("acme", "90.00"), ("initech", "72.50"), ("globex", None)):
        service.put_org(
            MANAGER,
            org,
            name=org.title(),
            email_domains=[f"{org}.example"],
            auto_close_days=7,
            hourly_rate=rate,
        )
    orgs = ("acme", "initech", "globex")
    types = (TicketType.ASSISTANCE, TicketType.INCIDENT, TicketType.EVOLUTION)
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    created = datetime(2026, 10, 1, tzinfo=UTC)
    task_minutes: dict[int, int] = {}
    for n in range(count):
        number = n % TICKETS + 1
        ticket_type = types[number % 3]
        entry = TimeEntry(
            id=f"{n:012d}",
            ticket_number=number,
            org_id=orgs[number % 3 if number % 7 else 0],
            consultant=CONSULTANTS[(n // TICKETS) % len(CONSULTANTS)],
            day=date(2026, 10, 1 + n % 31),
            minutes=1 + n % 240,
            kind=TimeKind.REALISATION,
            comment="",
            billable=ticket_type.billed_on_time,
            created_at=created,
        )
        backend.put_item(TABLE, marshal(it.time_entry_to_item(entry, ticket_type)))
        task_minutes[number] = task_minutes.get(number, 0) + entry.minutes
    for number, minutes in task_minutes.items():  # each entry's transaction adds to its task
        task = {
            "pk": f"TICKET#{number}",
            "sk": f"TASK#{MONTH}",
            "entity": "task",
            "ticket_number": number,
            "month": MONTH,
            "title": f"#{number}",
            "minutes": minutes,
        }
        backend.put_item(TABLE, marshal(task))


def run_size(count: int, template: Any, with_read_peak: bool = True) -> Result:
    import boto3
    from moto import mock_aws

    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.adapters.exports_store import ExportsStore
    from helpdesk.bootstrap_billing import exporter_over
    from infra.cfn_template import create_table_from_template

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(client, template, "TicketsTable", TABLE)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        _seed(client, count)
        exporter = exporter_over(Table(client, TABLE), ExportsStore(s3, BUCKET))

        def read() -> int:
            return sum(1 for _ in exporter.billing.month_items(MONTH))

        def export() -> int:
            result = exporter.export(MANAGER, MONTH, AFTER)
            assert result.created
            return int(result.document["row_counts"]["lines"])

        def unlock() -> None:
            exporter.unlock(MANAGER, MONTH, "benchmark pass", AFTER)

        read_seconds, read_count = _timed(read)
        assert read_count == count, (read_count, count)
        export_seconds, lines = _timed(export)
        unlock()
        # Memory: moto materialises (and projects) every matching item on each Query, which
        # DynamoDB does not: its memory would drown the export's own. So the index pages are
        # recorded first (untraced), then replayed to the traced export: the peak counts what
        # the export itself allocates (the pages it holds one at a time, the aggregator, the
        # files, the S3 writes), as a Lambda would see it.
        replay = _ReplayedIndex(client)
        replay.record(read)
        with replay:
            export_peak = _peak(export)
            read_peak = _peak(read) if with_read_peak else float("nan")
        return Result(count, lines, read_seconds, export_seconds, read_peak, export_peak)


def report(results: Sequence[Result]) -> str:
    rows = [
        "entries   lines   read s  export s  ratio  read peak MiB  export peak MiB"
        "  (peaks: the process's own allocations, index pages replayed)",
    ]
    for r in results:
        rows.append(
            f"{r.entries:>7}  {r.lines:>6}  {r.read_seconds:>7.2f}  {r.export_seconds:>8.2f}"
            f"  {r.ratio:>5.2f}  {r.read_peak_mib:>13.1f}  {r.export_peak_mib:>15.1f}"
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        rows.append(
            f"entries x{large.entries / small.entries:.1f}: export peak memory "
            f"x{large.export_peak_mib / small.export_peak_mib:.2f}, export time "
            f"x{large.export_seconds / small.export_seconds:.2f}"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] = ()) -> int:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        os.environ[name] = value
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    from infra.cfn_template import load_template
    from infra.moto_serial import serialise_moto_dynamodb

    serialise_moto_dynamodb()
    with_read_peak = "--read-peak" in argv
    sizes = [int(a.replace("_", "")) for a in argv if a != "--read-peak"] or list(DEFAULT_SIZES)
    template = load_template()
    results = []
    for size in sizes:
        result = run_size(size, template, with_read_peak)
        print(report([result]).splitlines()[-1], flush=True)
        results.append(result)
    print(report(results))
    return 0
