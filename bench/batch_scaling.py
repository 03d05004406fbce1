"""Batch scaling: the scheduled jobs read what they change, not the table.

At each size (1k, 10k, 100k tickets) the table holds a fixed number of tickets due for
auto-closure and a fixed number open (taken, in progress; their answer clock running and past
due, DESIGN.md §10), the rest closed. Auto-close, sla-watch and the task rollover run against
moto; a botocore hook on the client sums `ScannedCount` over every
Query reply (what DynamoDB bills as items read), independently of the jobs' own `items_read`.
Reads must stay flat as the table grows. Time is reported too, with a caveat: moto evaluates
an index Query by going through the whole table, which DynamoDB does not, so moto's time grows
with the table even when the items read do not.

The monthly billing export at as many time entries (bench/billing_export.py `run_size`): its
peak memory (tracemalloc, index pages replayed) must stay flat as the entries grow.

Tickets go straight into moto's backend in the shape the store writes them (as
tests/integration/test_jobs.py seeds): 100k tickets in seconds, not the minutes moto's
transactions would take through the API.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

SIZES, SMOKE_SIZES = (1_000, 10_000, 100_000), (100, 400)
# The export's entries: moto pages an index Query by going through the whole table, so an
# export costs O(entries²) here (100k: over 20 minutes); its lines stop growing past ~6,000
# entries (500 tickets x 12 consultants), and the peak is compared from there.
EXPORT_SIZES, SMOKE_EXPORT_SIZES = (1_000, 10_000, 20_000), (100, 400)
DUE, OPEN = 20, 50  # per size: tickets the auto-close finds due; tickets the rollover serves
REGION = "eu-west-1"
TABLE = "helpdesk-batch"
TAKEN = datetime(2026, 1, 2, tzinfo=UTC)
ANSWERED = datetime(2026, 1, 3, tzinfo=UTC)
AUTO_CLOSE_AT = datetime(2026, 1, 20, tzinfo=UTC)  # a week after the answers: all due
ROLLOVER_AT = datetime(2026, 2, 1, 0, 5, tzinfo=UTC)  # 01:05 in Paris, the 1st of the month
SLA_WATCH_AT = AUTO_CLOSE_AT  # the open tickets' answer clocks are missed by then
JOBS = ("auto-close", "sla-watch", "task-rollover")


@dataclass(frozen=True)
class JobRun:
    job: str
    tickets: int
    items_read: int  # ScannedCount summed over the job's Query replies (botocore hook)
    reported_read: int  # the job's own `items_read`
    changed: int  # tickets closed, or tasks created
    seconds: float


@dataclass(frozen=True)
class ExportRun:
    entries: int
    lines: int
    seconds: float
    peak_mib: float


@dataclass(frozen=True)
class BatchScaling:
    jobs: tuple[JobRun, ...]
    exports: tuple[ExportRun, ...]

    def runs_of(self, job: str) -> list[JobRun]:
        return [r for r in self.jobs if r.job == job]

    def reads_flat(self) -> bool:
        """Each job read the same number of items at every size."""
        return all(
            len({r.items_read for r in self.runs_of(job)}) == 1
            for job in JOBS
        )


class QueryReads:
    """Sums `ScannedCount` of the client's Query replies (an `after-call` botocore hook)."""

    def __init__(self, client: Any) -> None:
        self.items = 0
        client.meta.events.register("after-call.dynamodb.Query", self._count)

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.items += int(parsed.get("ScannedCount", 0))


@contextmanager
def _aws_environment() -> Iterator[None]:
    """Fake credentials and the region for moto, restored afterwards."""
    wanted = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    with mock.patch.dict(os.environ, wanted):  # restores the whole environment on exit
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        yield


def seed_tickets(count: int) -> None:
    """`count` tickets: DUE answered a week ago, OPEN in progress, the others closed."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from helpdesk.adapters.dynamodb import items as it
    from helpdesk.adapters.dynamodb.toolkit import marshal
    from helpdesk.domain.contract import DEFAULT_CONTRACT
    from helpdesk.domain.model import ClosureReason, Priority, Status, Ticket, TicketType
    from helpdesk.domain.sla import apply_action
    from helpdesk.domain.ticket_sla import open_sla
    from helpdesk.domain.workflow import Action

    created = datetime(2026, 1, 1, tzinfo=UTC)
    opened = open_sla(DEFAULT_CONTRACT, Priority.NORMAL, created)
    taken = apply_action(
        opened.clocks,
        Action.TAKE,
        ticket_type=TicketType.ASSISTANCE,
        at=TAKEN,
        calendar=opened.calendar,
    )
    base = Ticket(
        number=0,
        title="bulk",
        description="",
        type=TicketType.ASSISTANCE,
        org_id="acme",
        requester="client-acme",
        requester_email="fabrice@acme.example",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        taken_at=TAKEN,
        assignee="cons-l1",
    )
    due = replace(
        base,
        status=Status.ANSWER_SENT,
        answered_at=ANSWERED,
        auto_close_at=ANSWERED + timedelta(days=7),
    )
    in_progress = replace(base, status=Status.IN_PROGRESS, sla=replace(opened, clocks=taken))
    closed = replace(
        base, status=Status.CLOSED, closure_reason=ClosureReason.CONFIRMED, closed_at=ANSWERED
    )
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    with _unchecked_item_sizes():
        for number in range(1, count + 1):
            shape = due if number <= DUE else in_progress if number <= DUE + OPEN else closed
            backend.put_item(TABLE, marshal(it.ticket_to_item(replace(shape, number=number))))


@contextmanager
def _unchecked_item_sizes() -> Iterator[None]:
    """Seeding only: moto re-sums an item's size at each attribute it sets (quadratic in the
    attributes, most of the seeding time); these items are a few hundred bytes, far from the
    400 KB limit it checks."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    checked = LimitedSizeDict.__setitem__
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


def run_jobs(count: int, template: Any) -> list[JobRun]:
    import boto3
    from moto import mock_aws

    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.jobs import AutoCloseJob, JobReport, SlaWatchJob, TaskRolloverJob
    from infra.cfn_template import create_table_from_template

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(client, template, "TicketsTable", TABLE)
        seed_tickets(count)
        uow = DynamoUnitOfWork(Table(client, TABLE))
        reads = QueryReads(client)
        runs = []
        jobs: list[tuple[str, Callable[[], JobReport], str]] = [
            ("auto-close", lambda: AutoCloseJob(uow).run(AUTO_CLOSE_AT), "closed"),
            ("sla-watch", lambda: SlaWatchJob(uow).run(SLA_WATCH_AT), "sla_missed"),
            ("task-rollover", lambda: TaskRolloverJob(uow).run(ROLLOVER_AT), "tasks_created"),
        ]
        for name, job, changed in jobs:
            reads.items = 0
            gc.collect()
            started = time.perf_counter()
            report = job()
            seconds = time.perf_counter() - started
            runs.append(
                JobRun(
                    name,
                    count,
                    reads.items,
                    report.items_read,
                    int(getattr(report, changed)),
                    seconds,
                )
            )
        return runs


def run_export(entries: int, template: Any) -> ExportRun:
    from bench import billing_export

    seed = billing_export._seed

    def seed_unchecked(client: Any, count: int) -> None:
        with _unchecked_item_sizes():
            seed(client, count)

    billing_export._seed = seed_unchecked  # only its seeding: the export runs as it is
    try:
        result = billing_export.run_size(entries, template, with_read_peak=False)
    finally:
        billing_export._seed = seed
    return ExportRun(entries, result.lines, result.export_seconds, result.export_peak_mib)


def measure(smoke: bool = False) -> BatchScaling:
    from infra.cfn_template import load_template
    from infra.moto_serial import serialise_moto_dynamodb

    serialise_moto_dynamodb()  # also: transactions copy the items they name, not the table
    sizes = SMOKE_SIZES if smoke else SIZES
    export_sizes = SMOKE_EXPORT_SIZES if smoke else EXPORT_SIZES
    template = load_template()
    jobs: list[JobRun] = []
    exports: list[ExportRun] = []
    with _aws_environment():
        for size in sizes:
            _progress(f"jobs over {size:,} tickets")
            jobs += run_jobs(size, template)
        for size in export_sizes:
            _progress(f"billing export of {size:,} entries")
            exports.append(run_export(size, template))
    return BatchScaling(tuple(jobs), tuple(exports))


def _progress(step: str) -> None:
    print(f"batch scaling: {step}", file=sys.stderr, flush=True)


def section(smoke: bool = False) -> str:
    return render(measure(smoke))


def render(found: BatchScaling) -> str:
    lines = [
        "## Batch scaling",
        "",
        f"Per size: {DUE} tickets due for auto-closure and {OPEN} in progress (answer clock "
        "missed: sla-watch marks them through its sparse index), the rest closed. Items read = `ScannedCount` summed over every Query reply (botocore hook). "
        "Time is moto's, which goes through the whole table for an index Query (DynamoDB "
        "does not): only the items read carry over to AWS.",
        "",
        "| job | tickets | items read | read × smallest | changed | time s | time × smallest |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for job in JOBS:
        runs = found.runs_of(job)
        first = runs[0]
        for r in runs:
            lines.append(
                f"| {job} | {r.tickets:,} | {r.items_read} | {_ratio(r.items_read, first.items_read)}"
                f" | {r.changed} | {r.seconds:.3f} | {_ratio(r.seconds, first.seconds)} |"
            )
    lines.append("")
    lines.append("Reads flat across sizes: " + ("yes." if found.reads_flat() else "**NO**."))
    lines += [
        "",
        "Billing export (bench/billing_export.py): peak memory of the export itself "
        "(tracemalloc, index pages replayed). It follows the invoice lines (one counter per "
        "organisation, ticket and consultant), not the entries: compare it once the lines "
        "stop growing (~6,000 entries). Sizes stop at 20,000: moto's paged index Query goes "
        "through the whole table on every page, O(entries²) here.",
        "",
        "| entries | lines | export s | time × smallest | peak MiB | peak × smallest |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    first_export = found.exports[0]
    for e in found.exports:
        lines.append(
            f"| {e.entries:,} | {e.lines} | {e.seconds:.2f} "
            f"| {_ratio(e.seconds, first_export.seconds)} | {e.peak_mib:.1f} "
            f"| {_ratio(e.peak_mib, first_export.peak_mib)} |"
        )
    return "\n".join(lines) + "\n"


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}" if reference else "n/a"


if __name__ == "__main__":
    print(section(smoke="--smoke" in sys.argv))
