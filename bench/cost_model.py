"""Cost model: a month of 10,000 tickets at eu-west-1 list prices, from the counted requests.

Inputs, all printed with the result:
- the DynamoDB requests and read/write units of each API request, counted by
  `bench.calls_per_route` (this run);
- the handler's own time per invocation (GET and action) from `bench.warm_overhead` (this
  run), plus an assumed in-region latency per AWS request, times the function's MemorySize
  read from template.yaml: Lambda GB-seconds;
- cold starts: a share of invocations times the API function's cold start (`bench.cold_start`
  when it ran, else an assumed second), billed since AWS bills the INIT phase;
- the mix of what happens to a ticket (MIX, below) and, for the parts not driven through the
  API here (notifier, inbound mail, quote state machine, jobs), their requests as read from
  the code paths (stated per line).

Free tiers are left out (the figure is what the traffic costs, not the first-year bill).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.calls_per_route import Deliveries, IngestCount, RouteCount
from bench.warm_overhead import Overhead

ROOT = Path(__file__).resolve().parents[1]
TICKETS_PER_MONTH = 10_000
TARGET_USD = 2.00

# eu-west-1 (Ireland) list prices, USD, from the AWS pricing pages as of early 2025 (the
# author's knowledge of them: this machine has no internet to re-check; DynamoDB on-demand
# after the November 2024 price reduction). Free tiers excluded.
PRICES_AS_OF = "early 2025, eu-west-1 list prices (not re-checked online)"
HTTP_API_PER_MILLION = 1.11
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION_REQUESTS = 0.20
DYNAMODB_PER_MILLION_WRU = 0.7068
DYNAMODB_PER_MILLION_RRU = 0.1415
DYNAMODB_STORAGE_PER_GB_MONTH = 0.283
DYNAMODB_PITR_PER_GB_MONTH = 0.2263
SFN_STANDARD_PER_THOUSAND_TRANSITIONS = 0.025
S3_PUT_PER_THOUSAND = 0.005
S3_GET_PER_THOUSAND = 0.0004
S3_STANDARD_PER_GB_MONTH = 0.023
SCHEDULER_PER_MILLION = 1.00
SES_PER_THOUSAND_MESSAGES = 0.10  # sent or received
SES_PER_THOUSAND_INBOUND_CHUNKS = 0.09  # 256 KB chunks of received mail

# SnapStart on the API (template parameter SnapStart, issue #21). The Lambda pricing page's
# rate tables are not in the reference text available here; these are its us-east-1 figures as
# transcribed by third parties (no eu-west-1 figure found): a cache charge per GB-second of the
# function's memory for as long as a published version with SnapStart exists (3 hours at
# least), and a restore charge per GB of memory each time an environment is restored.
SNAPSTART_PRICES_AS_OF = (
    "us-east-1 list prices (no eu-west-1 figure found; Lambda duration and request prices are "
    "the same in both regions)"
)
SNAPSTART_CACHE_PER_GB_SECOND = 0.0000015046
SNAPSTART_RESTORE_PER_GB = 0.0001397998
SNAPSTART_CACHE_MINIMUM_SECONDS = 3 * 3600
SECONDS_PER_MONTH = 730 * 3600
# One version is cached at a time: a deploy moves the alias and deletes the version it left
# (template.yaml VersionDeletionPolicy: Delete), so a month costs one version's cache unless
# deploys come more often than the 3-hour minimum.
DEPLOYS_PER_MONTH = 8
# A restored environment's billed restore time (runtime load + after-restore hook), assumed
# until measured (the REPORT line's "Billed Restore Duration" on AWS).
ASSUMED_RESTORE_SECONDS = 0.25

# Assumed in-region latency added to the handler's own time, per AWS request (ms).
LATENCY_MS = {"read": 5.0, "write": 10.0, "other": 20.0}
COLD_START_SHARE = 0.02  # of API invocations (containers recycled after idle minutes)
ASSUMED_INIT_SECONDS = 1.0  # used when bench.cold_start did not run

# What one ticket brings in a month, on average: (request measured by calls_per_route, count).
# Creates carry an Idempotency-Key (the web client retries with one); 20% of tickets come by mail.
MIX: tuple[tuple[str, float], ...] = (
    ("POST /tickets (Idempotency-Key, first)", 0.8),
    ("GET /tickets/{number}", 8.0),
    ("GET /tickets (client)", 2.0),
    ("GET /tickets (level 1 queue)", 3.0),
    ("GET /tickets/{number}/history", 1.0),
    ("GET /tickets/{number}/comments", 3.0),
    ("GET /tickets/{number}/quotes", 0.1),
    ("GET /tickets/{number}/time-entries", 0.5),
    ("GET /tickets/{number}/tasks", 0.2),
    ("POST /tickets/{number}/comments (client)", 1.0),
    ("POST /tickets/{number}/comments (internal note)", 1.0),
    ("POST /tickets/{number}/time-entries", 3.0),
    ("POST /tickets/{number}/actions/take", 0.9),
    ("POST /tickets/{number}/actions/take (assign: ticket + consultant)", 0.1),
    ("POST /tickets/{number}/actions/start", 1.0),
    ("POST /tickets/{number}/actions/escalate", 0.2),
    ("POST /tickets/{number}/actions/hold", 0.3),
    ("POST /tickets/{number}/actions/resume", 0.3),
    ("POST /tickets/{number}/actions/submit-quote", 0.1),
    ("POST /tickets/{number}/actions/approve-quote", 0.08),
    ("POST /tickets/{number}/actions/refuse-quote", 0.02),
    ("POST /tickets/{number}/actions/send-answer (auto-close days: org read)", 1.1),
    ("POST /tickets/{number}/actions/reopen", 0.1),
    ("POST /tickets/{number}/actions/confirm", 0.5),
    ("POST /tickets/{number}/actions/close", 0.05),
    ("POST /tickets/{number}/actions/cancel", 0.03),
)
MAILS_OUT_PER_TICKET = 4.0  # acknowledgement, answer(s), closure, a reminder now and then
# Mails in: 0.2 new tickets by mail (the other 0.8 are the API's creates) + 0.3 replies; each
# costs what the mail function's measured request of that outcome does (calls_per_route).
MAILS_IN_MIX = (("new ticket", 0.2), ("comment on its ticket", 0.3))
MAILS_IN_PER_TICKET = sum(share for _, share in MAILS_IN_MIX)
QUOTE_SHARE = 0.1  # tickets with a quote-approval execution
REMINDED_QUOTE_SHARE = 0.3  # of those, decided after one reminder
AUTO_CLOSED_PER_TICKET = 0.5
STORED_KB_PER_TICKET = 15.0  # ticket, ~8 events, outbox, comments, time entries, task
MAIL_KB = 60.0  # average raw inbound message kept in S3
EXPORTS_PER_MONTH = 1
JOB_RUNS_PER_MONTH = 24 * 30 + 2  # hourly auto-close, monthly rollover and export

# Quote approval paths through infra/statemachines/quote_approval.asl.json (states entered).
DECIDED_PATH = ("Init", "StoreToken", "Decision", "Approved")
REMINDED_PATH = (
    "Init",
    "StoreToken",
    "RemindOrExpire",
    "CountReminder",
    "Remind",
    "StillAwaiting",
    "StoreToken",
    "Decision",
    "Approved",
)


@dataclass(frozen=True)
class Line:
    service: str
    what: str
    quantity: float
    unit: str
    unit_price: float  # USD per unit
    excluded: bool = False  # SES message fees: a separate line, outside the target

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_price


def function_memory_mb(template: dict[str, Any], code_uri: str) -> int:
    """MemorySize of the function whose CodeUri is `code_uri` (else Globals, else 128)."""
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and props.get("CodeUri") == code_uri:
            return int(props.get("MemorySize", default))
    raise KeyError(f"no function with CodeUri {code_uri}")


def asl_states() -> set[str]:
    text = (ROOT / "infra" / "statemachines" / "quote_approval.asl.json").read_text()
    return set(re.findall(r'"(\w+)":\s*\{\s*"Type"', text))


def _invocation_ms(row: RouteCount, own_ms: float) -> float:
    latency = sum(LATENCY_MS[c.kind] for c in row.calls)
    return math.ceil(own_ms + latency)  # Lambda bills by the millisecond


@dataclass(frozen=True)
class SnapStartEstimate:
    """SnapStart on the API at the model's volume, beside the cold starts it would shorten."""

    cold_starts: float  # a month: each one a restore with SnapStart
    memory_gb: float
    init_seconds: float  # the API's cold start without SnapStart (bench.cold_start or assumed)
    restore_seconds: float = ASSUMED_RESTORE_SECONDS
    deploys: int = DEPLOYS_PER_MONTH

    @property
    def cache_gb_seconds(self) -> float:
        lifetime = SECONDS_PER_MONTH / max(self.deploys, 1)
        versions = max(self.deploys, 1)
        return versions * max(lifetime, SNAPSTART_CACHE_MINIMUM_SECONDS) * self.memory_gb

    @property
    def cache_usd(self) -> float:
        return self.cache_gb_seconds * SNAPSTART_CACHE_PER_GB_SECOND

    @property
    def restore_usd(self) -> float:
        return self.cold_starts * self.memory_gb * SNAPSTART_RESTORE_PER_GB

    @property
    def init_usd_saved(self) -> float:
        """The INIT duration no longer billed, less the billed restore duration."""
        seconds = self.cold_starts * (self.init_seconds - self.restore_seconds)
        return seconds * self.memory_gb * LAMBDA_ARM_PER_GB_SECOND

    @property
    def extra_usd(self) -> float:
        return self.cache_usd + self.restore_usd - self.init_usd_saved

    @property
    def user_seconds_saved(self) -> float:
        return self.cold_starts * max(self.init_seconds - self.restore_seconds, 0.0)


@dataclass(frozen=True)
class Model:
    lines: list[Line]
    notes: list[str]
    mix: list[tuple[str, float, float, float, float]]  # label, per ticket, RRU, WRU, billed ms
    snapstart: SnapStartEstimate | None = None

    @property
    def total_usd(self) -> float:
        return sum(line.usd for line in self.lines if not line.excluded)

    @property
    def ses_usd(self) -> float:
        return sum(line.usd for line in self.lines if line.excluded)


def build(
    rows: Sequence[RouteCount],
    overheads: Sequence[Overhead],
    template: dict[str, Any],
    api_init_seconds: float | None = None,
    deliveries: Deliveries | None = None,
    ingests: Sequence[IngestCount] | None = None,
) -> Model:
    by_label = {r.label: r for r in rows}
    own = {
        ("read" if o.what.startswith("GET") else "write"): max(o.handler_ms - o.bare_ms, 0.5)
        for o in overheads
    }
    memory_gb = {
        name: function_memory_mb(template, f"functions/{name}") / 1024
        for name in ("api", "notifier", "mail_ingest", "quote", "jobs")
    }
    n = TICKETS_PER_MONTH
    api_requests = rru = wru = gb_seconds = 0.0
    mix = []
    for label, per_ticket in MIX:
        row = by_label[label]
        count = per_ticket * n
        api_requests += count
        rru += count * row.read_units
        wru += count * row.write_units
        billed_ms = _invocation_ms(row, own["read" if label.startswith("GET") else "write"])
        gb_seconds += count * billed_ms / 1000 * memory_gb["api"]
        mix.append((label, per_ticket, row.read_units, row.write_units, billed_ms))
    init_seconds = api_init_seconds if api_init_seconds is not None else ASSUMED_INIT_SECONDS
    cold_gb_seconds = api_requests * COLD_START_SHARE * init_seconds * memory_gb["api"]

    mails_out = MAILS_OUT_PER_TICKET * n
    mails_in = MAILS_IN_PER_TICKET * n
    quotes = QUOTE_SHARE * n
    missing = (set(DECIDED_PATH) | set(REMINDED_PATH)) - asl_states()
    assert not missing, f"quote_approval.asl.json has no state {missing}"
    transitions = quotes * (
        (1 - REMINDED_QUOTE_SHARE) * len(DECIDED_PATH) + REMINDED_QUOTE_SHARE * len(REMINDED_PATH)
    )
    auto_closed = AUTO_CLOSED_PER_TICKET * n
    # Notifier per mail: measured (bench.calls_per_route.measure_notifier) when given, else
    # as read in helpdesk/notifier.py: claim UpdateItem (1 WRU), one transaction (outbox
    # update + Message-ID record: 2 × 2 WRU); ~80 ms each.
    notifier_wru = mails_out * (
        deliveries.per_mail(deliveries.row.write_units) if deliveries else 5
    )
    notifier_rru = mails_out * (
        deliveries.per_mail(deliveries.row.read_units) if deliveries else 0.1
    )
    # Mail ingest per message: measured per outcome (bench.calls_per_route.measure_mail_ingest)
    # when given, else as read: raw mail from S3, dedupe + rate-limit writes (2 × 1 WRU), then
    # a comment or a ticket transaction (~14 WRU as the API's create); ~150 ms.
    ingest_wru, ingest_rru = mails_in * (2 + 14), mails_in * 3.0
    by_outcome: dict[str, list[Any]] = {}
    if ingests:
        by_outcome = {i.label: list(i.calls) for i in ingests}
        ingest_wru = n * sum(
            share * sum(c.write_units for c in by_outcome[label]) for label, share in MAILS_IN_MIX
        )
        ingest_rru = n * sum(
            share * sum(c.read_units for c in by_outcome[label]) for label, share in MAILS_IN_MIX
        )
    # Auto-close (jobs): one `due` Query per hourly run + per ticket the close transaction
    # (~10 WRU, like the API's confirm); rollover and export are monthly and small.
    confirm = by_label["POST /tickets/{number}/actions/confirm"]
    jobs_wru = auto_closed * confirm.write_units
    jobs_rru = JOB_RUNS_PER_MONTH * 1.0 + auto_closed * 1.0
    export = by_label["POST /billing/exports/{month}"]
    # Quote function (reminders): a GetItem and a transaction per reminder, ~50 ms.
    reminders = quotes * REMINDED_QUOTE_SHARE
    stored_gb = n * STORED_KB_PER_TICKET / 1024 / 1024

    lambda_invocations = {
        "api": api_requests,
        "notifier": mails_out,
        "mail_ingest": mails_in,
        "quote": reminders,
        "jobs": float(JOB_RUNS_PER_MONTH),
    }
    other_gb_seconds = (
        mails_out * 0.080 * memory_gb["notifier"]
        + mails_in * 0.150 * memory_gb["mail_ingest"]
        + reminders * 0.050 * memory_gb["quote"]
        + JOB_RUNS_PER_MONTH * 0.200 * memory_gb["jobs"]
    )
    total_wru = wru + notifier_wru + ingest_wru + jobs_wru + export.write_units
    total_rru = rru + notifier_rru + ingest_rru + jobs_rru + export.read_units
    lines = [
        Line(
            "API Gateway HTTP API", "requests", api_requests, "request", HTTP_API_PER_MILLION / 1e6
        ),
        Line(
            "Lambda",
            "requests (all functions)",
            sum(lambda_invocations.values()),
            "request",
            LAMBDA_PER_MILLION_REQUESTS / 1e6,
        ),
        Line(
            "Lambda",
            f"API duration, {memory_gb['api'] * 1024:.0f} MB arm64",
            gb_seconds,
            "GB-s",
            LAMBDA_ARM_PER_GB_SECOND,
        ),
        Line(
            "Lambda",
            f"API cold starts ({COLD_START_SHARE:.0%} × {init_seconds:.2f} s INIT)",
            cold_gb_seconds,
            "GB-s",
            LAMBDA_ARM_PER_GB_SECOND,
        ),
        Line(
            "Lambda",
            "notifier, mail ingest, quote, jobs duration",
            other_gb_seconds,
            "GB-s",
            LAMBDA_ARM_PER_GB_SECOND,
        ),
        Line(
            "DynamoDB",
            "write request units (API, notifier, ingest, jobs)",
            total_wru,
            "WRU",
            DYNAMODB_PER_MILLION_WRU / 1e6,
        ),
        Line("DynamoDB", "read request units", total_rru, "RRU", DYNAMODB_PER_MILLION_RRU / 1e6),
        Line(
            "DynamoDB",
            "storage added this month (+ PITR)",
            stored_gb,
            "GB-month",
            DYNAMODB_STORAGE_PER_GB_MONTH + DYNAMODB_PITR_PER_GB_MONTH,
        ),
        Line(
            "Step Functions",
            "standard transitions (quote approval)",
            transitions,
            "transition",
            SFN_STANDARD_PER_THOUSAND_TRANSITIONS / 1000,
        ),
        Line(
            "S3",
            "PUT (inbound mail by SES, export files)",
            mails_in + 3 * EXPORTS_PER_MONTH,
            "request",
            S3_PUT_PER_THOUSAND / 1000,
        ),
        Line(
            "S3",
            "GET/HEAD (ingest reads, export checks and downloads)",
            mails_in + 6 * EXPORTS_PER_MONTH,
            "request",
            S3_GET_PER_THOUSAND / 1000,
        ),
        Line(
            "S3",
            "storage of this month's raw mail",
            mails_in * MAIL_KB / 1024 / 1024,
            "GB-month",
            S3_STANDARD_PER_GB_MONTH,
        ),
        Line(
            "EventBridge Scheduler",
            "job invocations",
            float(JOB_RUNS_PER_MONTH),
            "invocation",
            SCHEDULER_PER_MILLION / 1e6,
        ),
        Line(
            "SES",
            "messages sent",
            mails_out,
            "message",
            SES_PER_THOUSAND_MESSAGES / 1000,
            excluded=True,
        ),
        Line(
            "SES",
            "messages received",
            mails_in,
            "message",
            SES_PER_THOUSAND_MESSAGES / 1000,
            excluded=True,
        ),
        Line(
            "SES",
            "received 256 KB chunks (1 per message)",
            mails_in,
            "chunk",
            SES_PER_THOUSAND_INBOUND_CHUNKS / 1000,
            excluded=True,
        ),
    ]
    api_wru_share = wru / total_wru if total_wru else 0.0
    notes = [
        f"API DynamoDB units: {wru:,.0f} WRU ({api_wru_share:.0%} of all writes) and "
        f"{rru:,.0f} RRU for {api_requests:,.0f} requests.",
        f"Handler's own time per invocation (warm overhead, handler − bare calls): "
        f"GET {own.get('read', 0):.2f} ms, action {own.get('write', 0):.2f} ms; plus "
        f"{LATENCY_MS['read']:g} ms per read, {LATENCY_MS['write']:g} ms per write (assumed "
        f"in-region latency).",
        f"Quote approval: {quotes:,.0f} executions, {len(DECIDED_PATH)} states when decided "
        f"without reminder, {len(REMINDED_PATH)} after one ({REMINDED_QUOTE_SHARE:.0%}).",
        f"Mail ingest: {ingest_wru:,.0f} WRU a month for {mails_in:,.0f} mails in ("
        + (
            ", ".join(
                f"{share:g} a ticket: {label}, "
                f"{sum(c.write_units for c in by_outcome[label]):g} WRU each (measured)"
                for label, share in MAILS_IN_MIX
            )
            if ingests
            else "not measured in this run: 16 WRU each, as read"
        )
        + ").",
        "Largest API writers (WRU a month): "
        + ", ".join(f"`{label}` {units:,.0f}" for label, units in _top_writers(by_label)[:3])
        + ". A ticket write is the item twice (transaction) plus one unit per entry in the "
        "indexes that hold it, all projecting ALL (by_org, all_tickets, all_updated, "
        "org_updated, by_assignee, queue, and sla_watch, due while a clock runs), two for an "
        "entry that moves (the three sorted by `updated_at` move at every action); a time "
        "entry adds to the ticket's `time_spent_minutes`, which every listing shows, so it "
        "rewrites those entries too (9 of its 20 units), besides the entry, its monthly task, "
        "the consultant's day, the budget counter and the month's lock check.",
        "MemorySize from template.yaml: "
        + ", ".join(f"{name} {gb * 1024:.0f} MB" for name, gb in memory_gb.items())
        + ". Lambda is a small share here: the duration lines scale with memory × time, and "
        "the API's time is mostly waiting on DynamoDB, which more memory does not shorten.",
    ]
    snapstart = SnapStartEstimate(
        cold_starts=api_requests * COLD_START_SHARE,
        memory_gb=memory_gb["api"],
        init_seconds=init_seconds,
    )
    return Model(lines, notes, mix, snapstart)


def _top_writers(by_label: dict[str, RouteCount]) -> list[tuple[str, float]]:
    monthly = [
        (label, per_ticket * TICKETS_PER_MONTH * by_label[label].write_units)
        for label, per_ticket in MIX
    ]
    return sorted(monthly, key=lambda pair: pair[1], reverse=True)


def report(model: Model) -> str:
    lines = [
        "## Cost model: a month of 10,000 tickets (eu-west-1)",
        "",
        f"Prices: {PRICES_AS_OF}; free tiers excluded. Per ticket besides the API requests "
        f"below: {MAILS_OUT_PER_TICKET:g} mails out, {MAILS_IN_PER_TICKET:g} in; "
        f"{QUOTE_SHARE:.0%} with a quote approval; {AUTO_CLOSED_PER_TICKET:g} auto-closed; "
        f"{EXPORTS_PER_MONTH} billing export a month.",
        "",
        "| API request (measured above) | per ticket | a month | RRU each | WRU each "
        "| billed ms each |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| `{label}` | {per_ticket:g} | {per_ticket * TICKETS_PER_MONTH:,.0f} | {r:g} "
            f"| {w:g} | {ms:.0f} |"
            for label, per_ticket, r, w, ms in model.mix
        ],
        "",
        "| service | what | quantity | unit price (USD) | USD |",
        "|---|---|---:|---:|---:|",
    ]
    for line in model.lines:
        if not line.excluded:
            lines.append(
                f"| {line.service} | {line.what} | {line.quantity:,.1f} {line.unit} "
                f"| {line.unit_price:.3g} | {line.usd:.4f} |"
            )
    verdict = "under" if model.total_usd < TARGET_USD else "**OVER**"
    lines.append(f"| **total** | excluding SES message fees | | | **{model.total_usd:.2f}** |")
    for line in model.lines:
        if line.excluded:
            lines.append(
                f"| {line.service} (separate) | {line.what} | {line.quantity:,.0f} {line.unit} "
                f"| {line.unit_price:.3g} | {line.usd:.2f} |"
            )
    top = max((line for line in model.lines if not line.excluded), key=lambda line: line.usd)
    lines += [
        "",
        f"Total ${model.total_usd:.2f} per 10,000 tickets a month, {verdict} the "
        f"${TARGET_USD:.2f} target; SES message fees ${model.ses_usd:.2f} on top. Largest "
        f"line: {top.service} {top.what} (${top.usd:.2f}).",
        "",
        *[f"- {note}" for note in model.notes],
    ]
    if model.snapstart is not None:
        lines += ["", snapstart_report(model.snapstart, model.total_usd)]
    return "\n".join(lines)


def snapstart_report(estimate: SnapStartEstimate, total_usd: float) -> str:
    """The SnapStart subsection: its charges for the API, the cold-start time it saves, the
    decision. Figures computed from the estimate's inputs, all printed."""
    e = estimate
    gb = f"{e.memory_gb * 1024:.0f} MB"
    with_snapstart = total_usd + e.extra_usd
    per_minute = e.extra_usd / (e.user_seconds_saved / 60) if e.user_seconds_saved else math.inf
    rows = [
        ("cache: one version of the API", f"{e.cache_gb_seconds:,.0f} GB-s",
         SNAPSTART_CACHE_PER_GB_SECOND, e.cache_usd),
        ("restores: one a cold start", f"{e.cold_starts:,.0f} × {gb}",
         SNAPSTART_RESTORE_PER_GB, e.restore_usd),
        ("INIT no longer billed, less the restore duration",
         f"{e.cold_starts:,.0f} × ({e.init_seconds:.2f} − {e.restore_seconds:.2f}) s",
         LAMBDA_ARM_PER_GB_SECOND, -e.init_usd_saved),
    ]  # fmt: skip
    verdict = "under" if with_snapstart < TARGET_USD else "**over**"
    if total_usd >= TARGET_USD:
        reason = (
            f"it would add ${e.extra_usd:.2f} ({e.extra_usd / total_usd:.0%}) to a month "
            f"already over the ${TARGET_USD:.2f} target"
        )
    elif with_snapstart >= TARGET_USD:
        reason = f"it would take the month over the ${TARGET_USD:.2f} target"
    else:
        reason = f"it adds {e.extra_usd / total_usd:.0%} to the month"
    decision = (
        f"**Decision: SnapStart stays disabled by default**: {reason}; its cache charge alone "
        f"(${e.cache_usd:.2f}) is {e.cache_usd / total_usd:.1f}× the rest of the stack, for "
        f"{e.cold_starts / 30:,.0f} cold starts a day, while importing less at init (the rest of "
        "issue #21) shortens every cold start at no charge. Enable it "
        "(`sam deploy --parameter-overrides SnapStart=enabled`) where the cold start measured on "
        "AWS stays above what users accept, or where the traffic makes the cache a small share."
    )
    return "\n".join(
        [
            "### SnapStart on the API (template parameter `SnapStart`)",
            "",
            f"Prices: {SNAPSTART_PRICES_AS_OF}. Cold starts as above: {COLD_START_SHARE:.0%} of "
            f"the API's invocations, {e.cold_starts:,.0f} a month, each a restore with SnapStart; "
            f"{e.deploys} deploys a month, each caching a new version ({SNAPSTART_CACHE_MINIMUM_SECONDS // 3600} h "
            f"at least) and deleting the one before; cold start {e.init_seconds:.2f} s "
            f"(this run's `bench.cold_start` when it ran), restore {e.restore_seconds:.2f} s "
            "(assumed until measured).",
            "",
            "| SnapStart | quantity | unit price (USD) | USD a month |",
            "|---|---:|---:|---:|",
            *[
                f"| {what} | {quantity} | {price:.3g} | {usd:+.4f} |"
                for what, quantity, price, usd in rows
            ],
            f"| **extra a month** | | | **{e.extra_usd:+.2f}** |",
            "",
            f"It would save {e.user_seconds_saved / 60:,.0f} minutes of waiting a month "
            f"({e.cold_starts:,.0f} requests {e.init_seconds - e.restore_seconds:.2f} s sooner), "
            f"at ${per_minute:.2f} a minute saved, and bring the month to ${with_snapstart:.2f}, "
            f"{verdict} the ${TARGET_USD:.2f} target. The cache charge is paid for the time the "
            "version exists, whatever the traffic: at this volume it is most of the cost.",
            "",
            decision,
        ]
    )


def section(
    smoke: bool = False,
    rows: Sequence[RouteCount] | None = None,
    overheads: Sequence[Overhead] | None = None,
    api_init_seconds: float | None = None,
    deliveries: Deliveries | None = None,
    ingests: Sequence[IngestCount] | None = None,
) -> str:
    """The cost section; measures the requests and the overhead itself unless given them."""
    from bench import calls_per_route, warm_overhead
    from infra.cfn_template import load_template

    rows = rows if rows is not None else calls_per_route.measure_routes()
    overheads = overheads if overheads is not None else warm_overhead.measure(smoke)
    deliveries = deliveries if deliveries is not None else calls_per_route.measure_notifier()
    ingests = ingests if ingests is not None else calls_per_route.measure_mail_ingest()
    template = load_template()
    return report(build(rows, overheads, template, api_init_seconds, deliveries, ingests))
