"""AWS requests per API route and per workflow action, against the floor.

The API function's handler runs in-process (HTTP API payload v2 events with JWT claims, as
API Gateway hands them over) against moto with the template's tables. A botocore event hook
(`before-parameter-build` / `after-call`, installed in every botocore session, as moto installs its own)
counts each request by service and operation, and sizes the items it reads and writes, from
which the DynamoDB on-demand units follow (for the cost model):

- reads: 4 KB units per item (GetItem, BatchGetItem) or per request (Query: the summed size of
  the items returned), half a unit when eventually consistent;
- writes: 1 KB units of the stored item after the write (an update bills the larger of before
  and after; after is what a growing ticket has), doubled in a transaction; plus its index
  writes, standard writes of the entry's size (what the index projects, per template.yaml): an
  entry added or removed, an entry rewritten because an attribute it projects changed, and
  twice an entry whose index key changed (delete + put). An update that changes neither an
  entry's key nor what it projects does not write it (a KEYS_ONLY or INCLUDE index).

The floor: 1 request for a read; for an action, 1 write (one conditional write or one
transaction) plus at most 1 read where the action needs stored data. The action-link routes
(`/links/{token}`) start from a token, not a ticket number: the link item (keyed by the token's
SHA-256) must be read before the ticket it names can be, so their floor is one read more (GET:
link + ticket; POST: link + ticket + 1 write). A route above the floor is listed with why
(`EXPLAINED`), or it fails `tests/integration/test_bench_calls.py`.
"""

from __future__ import annotations

import io
import json
import math
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

# The API's test support: the same events, claims and handler loading as its tests.
from tests.integration.api.events import CLAIMS, FakeLambdaContext, http_event
from tests.support.functions import load_function

REGION = "eu-west-1"
TABLE = "helpdesk-bench"
IDEMPOTENCY_TABLE = "helpdesk-bench-idempotency"
BUCKET = "helpdesk-bench-exports"
INBOUND_BUCKET = "helpdesk-bench-inbound"
ATTACHMENTS_BUCKET = "helpdesk-bench-attachments"
MAIL_DOMAIN = "helpdesk.example"
EXPORT_MONTH = "2026-10"


class BenchClock:
    """The service's clock: the measured tickets are opened in EXPORT_MONTH (time is logged
    from a ticket's creation day on, DESIGN.md §7), the rest runs once that month has ended."""

    OPENED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    LATER = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __init__(self) -> None:
        self.now = self.OPENED

    def __call__(self) -> datetime:
        return self.now


BENCH_CLOCK = BenchClock()
ROOT = Path(__file__).resolve().parents[1]

READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})

# Token claims per caller, as the Cognito JWT authorizer passes them on (API Gateway flattens
# the `cognito:groups` array to "[a b]").
ROSTER = (("cons-l1", 1), ("cons-l1b", 1), ("cons-l2", 2), ("cons-l3", 3))

# Routes above the floor, and why that is the right number of requests.
EXPLAINED: dict[str, str] = {
    "GET /tickets/{number}/history": (
        "+1 GetItem: the ticket item decides who may see it (a client: its organisation's "
        "only). Events share its partition but not its sort range: outbox and task items sort "
        "between `EVENT#` and `TICKET`, so one Query for both would read those too, more read "
        "units than these two small reads."
    ),
    "GET /tickets/{number}/comments": (
        "+1 GetItem: the ticket decides who may see it; `COMMENT#` items sort before the "
        "events, outbox and tasks, all between them and `TICKET` (see the history route)."
    ),
    "POST /tickets/{number}/actions/send-answer (auto-close days: org read)": (
        "+1 GetItem: the countdown takes the organisation's current `auto_close_days`, and "
        "the organisation is known only once the ticket is read (a copy kept on the ticket "
        "would go stale when the setting changes)."
    ),
    "POST /tickets/{number}/actions/submit-quote": (
        "+1 GetItem: a quote without `validity_days` takes its organisation's current "
        "`quote_validity_days` (DESIGN §8; the organisation is known once the ticket is read, "
        "and a copy on the ticket would go stale, as send-answer's `auto_close_days`). A body "
        "naming `validity_days` stays at the floor."
    ),
    "GET /tickets/{number}/attachments": (
        "+1 GetItem: the ticket decides who may see it (404 across organisations), as for "
        "comments; `ATTACHMENT#` items sort before the comments, events and `TICKET`, so one "
        "Query for both would read all of those. The download links are presigned: no request."
    ),
    "GET /tickets/{number}/attachments/{attachment_id}": (
        "+1 GetItem of the attachment after the ticket's (who may see it first: a client "
        "never learns whether another organisation's ticket has such a file). Both could be "
        "one BatchGetItem (1 request fewer, the same read units)."
    ),
    "POST /tickets (Idempotency-Key, first)": (
        "+2 on the idempotency table (Powertools: PutItem `INPROGRESS` before, UpdateItem "
        "`COMPLETED` after); the create itself stays at the floor."
    ),
    "PATCH /tickets/{number} (title: words, month task renamed)": (
        "+1 BatchGetItem: the export locks of the months of the ticket's tasks (`LOCK` "
        "partition, not the ticket's, so the Query of the ticket and its tasks cannot read "
        "them). A task of an exported month keeps its title, so the edit must know which "
        "months are locked before it writes; a condition in the transaction could only "
        "refuse the whole edit. Only when the title changes and the ticket has month tasks: "
        "a priority or description edit stays at the floor."
    ),
    "POST /mail/quarantine/{id}/release (as a ticket)": (
        "+1 GetItem of the mail record (still quarantined? where its raw message is), +1 "
        "s3:GetObject of the raw message (title and description are parsed from it; the "
        "record keeps no body), +1 GetItem: the named organisation must exist (checked "
        "before the sender's caller is built; the create reads it again with the counter, one "
        "BatchGetItem: its contract starts the clocks). That read and the one transaction (ticket + "
        "the record `released`, on condition it is still quarantined) are the create's. A "
        "manager's occasional act; the record, organisation and counter reads could share "
        "one BatchGetItem (2 requests fewer, the same read units)."
    ),
    "POST /mail/quarantine/{id}/release (as a comment)": (
        "+1 GetItem of the mail record and +1 s3:GetObject of the raw message (as a "
        "ticket). The ticket is read once, by helpdesk.quarantine (its organisation makes "
        "the sender's caller), and handed to `HelpdeskService.add_comment`."
    ),
    "POST /billing/exports/{month}": (
        "A batch, not a request-sized action: lock, paged by_month Query, ticket Gets for the "
        "lines, S3 writes (CSV, workbook, manifest), lock update. Scales with the month, see "
        "the billing export section."
    ),
    "GET /orgs/{org_id}/consumption": (
        "+1 GetItem: the organisation (its `included_minutes`, and 404 when it does not "
        "exist) and the month's hour-budget counter (DESIGN §10) are two items of two "
        "partitions; one BatchGetItem could carry both (one request fewer, the same units)."
    ),
    "POST /tickets/{number}/time-entries": (
        "+1 GetItem: the organisation, whose `included_minutes` decides whether the entry "
        "reaches an hour-budget alert (§10); the counter itself is an ADD in the entry's "
        "transaction. With a budget, +1 GetItem of the month's counter before (the alerts the "
        "entry reaches) and +1 after the commit (an alert that entries racing past a "
        "threshold left unsent). Evolution time consumes nothing: at the floor."
    ),
    "PATCH /tickets/{number}/time-entries/{entry_id}": (
        "+1 GetItem: the organisation (its budget), as `POST .../time-entries`; with a budget "
        "and more minutes, the counter reads of the POST."
    ),
    "GET /billing/exports/{month}": (
        "Lock item + the manifest object from S3 (the presigned links cost no request)."
    ),
}


# ----------------------------------------------------------------- counting hook


@dataclass
class Call:
    service: str
    operation: str
    read_units: float = 0.0
    write_units: float = 0.0
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    sizing_error: str | None = None  # why its units could not be sized (then 0)

    @property
    def kind(self) -> str:
        if self.service != "dynamodb":
            return "other"
        if self.operation in READS:
            return "read"
        return "write" if self.operation in WRITES else "other"


class CallCounter:
    """Collects every AWS request made by any botocore client of this process."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.enabled = True
        self.sizing = True  # off while timing: sizing items costs as much as moto's work
        self._lock = threading.Lock()

    def before_parameter_build(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if "bench_params" in context:  # once, even if reached through two registrations
            return
        context["bench_params"] = dict(params)
        if self.enabled and self.sizing and model.service_model.service_name == "dynamodb":
            try:
                keys_ = written_keys(model.name, params)
                context["bench_indexes_before"] = [index_entries(t, k) for _, t, k in keys_]
            except Exception as exc:  # measuring must never change the request's fate
                context["bench_sizing_error"] = repr(exc)

    def after_call(
        self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if not self.enabled or context.get("bench_recorded"):
            return
        context["bench_recorded"] = True
        service = model.service_model.service_name
        operation = model.name
        request = context.get("bench_params") or {}
        call = Call(service, operation, params=request)
        if service == "dynamodb" and self.sizing:
            before = context.get("bench_indexes_before", [])
            try:
                call.read_units, call.write_units = dynamodb_units(
                    operation, request, parsed, before
                )
            except Exception as exc:  # kept on the call (the report and tests show it)
                context["bench_sizing_error"] = repr(exc)
            call.sizing_error = context.get("bench_sizing_error")
        with self._lock:
            self.calls.append(call)

    def take(self) -> list[Call]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


_counter: CallCounter | None = None


def install_counter() -> CallCounter:
    """The process's counter, registered in every botocore session (existing default ones and
    those created later). Install it before the clients are made: clients copy the session's
    handlers when they are created."""
    global _counter
    if _counter is not None:
        return _counter
    import boto3
    from botocore.handlers import BUILTIN_HANDLERS

    counter = CallCounter()
    hooks = (
        ("before-parameter-build", counter.before_parameter_build),
        ("after-call", counter.after_call),
    )
    BUILTIN_HANDLERS.extend(hooks)
    if boto3.DEFAULT_SESSION is not None:
        for event, handler in hooks:
            boto3.DEFAULT_SESSION.events.register(event, handler)
    _counter = counter
    return counter


# ----------------------------------------------------------------- DynamoDB units


def _moto_table(name: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(name)


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (moto's own sizing rules)."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    return sum(bytesize(name) + DynamoType(value).size() for name, value in item.items())


def _stored_item(table_name: str, key: dict[str, Any]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _moto_table(table_name)
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return table.get_item(hash_key, range_key)


@dataclass(frozen=True)
class IndexEntry:
    """One global index entry of an item: its index key, what the index projects of the item
    (as stored), and that projection's size in bytes."""

    key: str
    projected: str
    size: int


def index_entries(table_name: str, key: dict[str, Any]) -> dict[str, IndexEntry]:
    """The global index entries of the stored item now: index name → its entry, as the index's
    projection (the table's, created from template.yaml) keeps it."""
    from moto.dynamodb.models.utilities import bytesize

    stored = _stored_item(table_name, key)
    if stored is None:
        return {}
    entries = {}
    for index in _moto_table(table_name).global_indexes:
        if not all(p["AttributeName"] in stored.attrs for p in index.schema):
            continue  # sparse: the item has no entry there
        attrs = index.project(stored).attrs
        entries[index.name] = IndexEntry(
            key=json.dumps([str(stored.attrs[p["AttributeName"]].value) for p in index.schema]),
            projected=json.dumps(attrs, sort_keys=True, default=lambda v: v.to_json()),
            size=sum(bytesize(n) + v.size() for n, v in attrs.items()),
        )
    return entries


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def index_write_units(before: dict[str, IndexEntry], after: dict[str, IndexEntry]) -> int:
    """Write units of the index entries one item write causes (DynamoDB's rules for global
    secondary indexes): an entry added or removed costs its size (1 KB units); an entry whose
    index key changed, a delete and a put (both sizes); an entry whose key stayed, one put
    of its new size when a projected attribute changed, nothing otherwise (so a KEYS_ONLY or
    INCLUDE index is not written by an update of attributes it does not hold)."""
    units = 0
    for name in set(before) | set(after):
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            units += _kb((new or old).size)  # type: ignore[union-attr]
        elif old.key != new.key:
            units += _kb(old.size) + _kb(new.size)
        elif old.projected != new.projected:
            units += _kb(new.size)
    return units


def write_units(
    table_name: str, key: dict[str, Any], before: dict[str, IndexEntry], transactional: bool
) -> float:
    """1 KB units of one item write: the item (twice in a transaction: prepare and commit),
    plus its index writes, which follow the commit as standard writes (`index_write_units`)."""
    stored = _stored_item(table_name, key)
    size = stored.size() if stored is not None else 1  # a delete bills what it removed (~)
    units = _kb(size) * (2 if transactional else 1)
    return float(units + index_write_units(before, index_entries(table_name, key)))


def written_keys(operation: str, request: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, table, key) of every item a write request names."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        table = request.get("TableName", "")
        return [(operation, table, request.get("Key") or _key_of(table, request.get("Item", {})))]
    if operation == "TransactWriteItems":
        found = []
        for operation_item in request.get("TransactItems", []):
            ((kind, body),) = operation_item.items()
            table = body["TableName"]
            found.append((kind, table, body.get("Key") or _key_of(table, body.get("Item", {}))))
        return found
    return []


def _key_of(table_name: str, item: dict[str, Any]) -> dict[str, Any]:
    table = _moto_table(table_name)
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: item[name] for name in names}


def _read_units(sizes: Sequence[int], consistent: bool) -> float:
    factor = 1.0 if consistent else 0.5
    return sum(max(1, math.ceil(size / 4096)) * factor for size in sizes) if sizes else factor


def dynamodb_units(
    operation: str,
    request: dict[str, Any],
    parsed: dict[str, Any],
    indexes_before: Sequence[dict[str, IndexEntry]] = (),
) -> tuple[float, float]:
    """(read units, write units) of one DynamoDB request, from its request and response."""
    consistent = bool(request.get("ConsistentRead"))
    if operation == "GetItem":
        item = parsed.get("Item")
        return _read_units([item_size(item)] if item else [], consistent), 0.0
    if operation == "BatchGetItem":
        sizes = [item_size(i) for items in parsed.get("Responses", {}).values() for i in items]
        any_consistent = any(
            r.get("ConsistentRead") for r in request.get("RequestItems", {}).values()
        )
        return _read_units(sizes, any_consistent), 0.0
    if operation in ("Query", "Scan"):
        total = sum(item_size(i) for i in parsed.get("Items", []))
        return max(1, math.ceil(total / 4096)) * (1.0 if consistent else 0.5), 0.0
    transactional = operation == "TransactWriteItems"
    units = 0.0
    written = written_keys(operation, request)
    befores = list(indexes_before) or [{} for _ in written]
    for (kind, table, key), before in zip(written, befores, strict=True):
        if kind == "ConditionCheck":
            units += 2.0  # a transactional condition check bills as a 1 KB write
        else:
            units += write_units(table, key, before, transactional)
    return 0.0, units


# ----------------------------------------------------------------- the handler in moto


@dataclass
class Reply:
    status: int
    body: Any


class ApiHarness:
    """The API function's handler over moto, as API Gateway calls it."""

    def __init__(self, module: ModuleType, client: Any) -> None:
        self.module = module
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        who: str | None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        claims = CLAIMS[who] if who is not None else None
        event = http_event(method, path, claims=claims, body=body, headers=headers, query=query)
        with redirect_stdout(io.StringIO()):  # the metrics (EMF) Lambda would print per call
            result = self.module.lambda_handler(event, FakeLambdaContext())
        text = result.get("body")
        return Reply(result["statusCode"], json.loads(text) if text else None)

    def act(
        self,
        number: int,
        action: str,
        who: str,
        body: dict[str, Any] | None = None,
    ) -> Reply:
        return self.call("POST", f"/tickets/{number}/actions/{action}", who, body or {})

    def create(self, title: str, ticket_type: str = "assistance") -> int:
        reply = self.call("POST", "/tickets", "client", {"title": title, "type": ticket_type})
        assert reply.status == 201, reply
        return int(reply.body["number"])


def bench_environment() -> None:
    """What the function gets from the template, with fake credentials (moto only)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "TABLE_NAME": TABLE,
        "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE,
        "EXPORTS_BUCKET": BUCKET,
        "ATTACHMENTS_BUCKET": ATTACHMENTS_BUCKET,
        "POWERTOOLS_SERVICE_NAME": "helpdesk",
        "POWERTOOLS_METRICS_NAMESPACE": "Helpdesk",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "MAIL_DOMAIN": MAIL_DOMAIN,  # the sender: support@MAIL_DOMAIN
        "APP_URL": "https://helpdesk.example",
    }.items():
        os.environ[name] = value
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MAIL_FROM"):
        os.environ.pop(name, None)


def _load_api_module() -> ModuleType:
    return load_function("api")


@contextmanager
def api_over_moto() -> Iterator[tuple[ApiHarness, CallCounter]]:
    """The handler over fresh moto tables, the directory seeded; counting from the start.
    The process's environment is restored afterwards (the tests run this too)."""
    saved_environment = dict(os.environ)
    bench_environment()
    counter = install_counter()
    counter.enabled = True
    import boto3
    from botocore.config import Config
    from moto import mock_aws

    from helpdesk import bootstrap_mail
    from helpdesk.adapters.attachments import S3AttachmentFiles
    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.adapters.exports_store import ExportsStore
    from helpdesk.adapters.raw_mail import S3RawMailStore
    from helpdesk.bootstrap_attachments import attachment_service_over
    from helpdesk.service import HelpdeskService
    from helpdesk.settings import get_settings
    from infra.cfn_template import create_table_from_template, load_template
    from infra.moto_serial import serialise_moto_dynamodb

    serialise_moto_dynamodb()
    template = load_template()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(client, template, "TicketsTable", TABLE)
        create_table_from_template(client, template, "IdempotencyTable", IDEMPOTENCY_TABLE)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.create_bucket(
            Bucket=INBOUND_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        get_settings.cache_clear()
        module = _load_api_module()
        BENCH_CLOCK.now = BenchClock.OPENED
        module.set_service(
            HelpdeskService(DynamoUnitOfWork(Table(client, TABLE)), clock=BENCH_CLOCK)
        )
        module.reset_idempotency()
        presign = boto3.client("s3", region_name=REGION, config=Config(signature_version="s3v4"))
        module.billing.set_exports(ExportsStore(s3, BUCKET, presign))
        bootstrap_mail.use_quarantine(
            bootstrap_mail.quarantine_over(
                Table(client, TABLE), S3RawMailStore(s3, presign), BENCH_CLOCK
            )
        )
        s3.create_bucket(
            Bucket=ATTACHMENTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        s3.put_bucket_versioning(
            Bucket=ATTACHMENTS_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        module.attachments.set_attachments(
            attachment_service_over(
                Table(client, TABLE),
                S3AttachmentFiles(s3, ATTACHMENTS_BUCKET, presign),
                module.get_service().get_ticket,
            )
        )
        harness = ApiHarness(module, client)
        _seed_directory(harness)
        counter.take()
        try:
            yield harness, counter
        finally:
            counter.enabled = False
            counter.take()
            module.billing.set_exports(None)
            module.attachments.set_attachments(None)
            bootstrap_mail.use_quarantine(None)
            module.set_service(None)
            module.reset_idempotency()
            os.environ.clear()
            os.environ.update(saved_environment)
            get_settings.cache_clear()


def _seed_directory(api: ApiHarness) -> None:
    org = {
        "name": "Acme",
        "email_domains": ["acme.example"],
        "auto_close_days": 7,
        "hourly_rate": "90.00",
    }
    assert api.call("PUT", "/orgs/acme", "manager", org).status == 200
    for consultant_id, level in ROSTER:
        body = {
            "name": consultant_id.upper(),
            "email": f"{consultant_id}@consult.example",
            "level": level,
        }
        assert api.call("PUT", f"/consultants/{consultant_id}", "manager", body).status == 200


# ----------------------------------------------------------------- measuring


@dataclass
class RouteCount:
    label: str
    status: int
    calls: list[Call]
    floor_reads: int
    floor_writes: int

    @property
    def reads(self) -> int:
        return sum(1 for c in self.calls if c.kind == "read")

    @property
    def writes(self) -> int:
        return sum(1 for c in self.calls if c.kind == "write")

    @property
    def total(self) -> int:
        return len(self.calls)

    @property
    def floor(self) -> int:
        return self.floor_reads + self.floor_writes

    @property
    def at_floor(self) -> bool:
        return (
            self.reads <= self.floor_reads
            and self.writes <= self.floor_writes
            and self.total == self.reads + self.writes
        )

    @property
    def explanation(self) -> str | None:
        return EXPLAINED.get(self.label)

    @property
    def ok(self) -> bool:
        return self.at_floor or self.explanation is not None

    @property
    def read_units(self) -> float:
        return sum(c.read_units for c in self.calls)

    @property
    def write_units(self) -> float:
        return sum(c.write_units for c in self.calls)

    @property
    def operations(self) -> str:
        return operations_of(self.calls)


def operations_of(calls: Sequence[Call]) -> str:
    """`2×GetItem, s3:GetObject, TransactWriteItems`: the requests made, in order, counted."""
    names: dict[str, int] = {}
    for call in calls:
        name = call.operation if call.service == "dynamodb" else f"{call.service}:{call.operation}"
        names[name] = names.get(name, 0) + 1
    return ", ".join(f"{n}×{name}" if n > 1 else name for name, n in names.items())


class Measurer:
    def __init__(self, api: ApiHarness, counter: CallCounter) -> None:
        self.api = api
        self.counter = counter
        self.rows: list[RouteCount] = []

    def measure(
        self,
        label: str,
        request: Callable[[], Reply],
        expected: int = 200,
        floor: tuple[int, int] | None = None,
    ) -> Reply:
        """One request, counted; `floor` (reads, writes) when not the usual one (see the
        module's docstring)."""
        self.counter.take()
        reply = request()
        calls = self.counter.take()
        assert reply.status == expected, (label, reply)
        is_read = label.startswith("GET ")
        floor_reads, floor_writes = floor or ((1, 0) if is_read else (1, 1))
        self.rows.append(RouteCount(label, reply.status, calls, floor_reads, floor_writes))
        return reply

    def action(
        self,
        number: int,
        action: str,
        who: str,
        body: dict[str, Any] | None = None,
        label: str | None = None,
    ) -> Reply:
        name = label or f"POST /tickets/{{number}}/actions/{action}"
        return self.measure(name, lambda: self.api.act(number, action, who, body))


def measure_routes() -> list[RouteCount]:
    """Every route of docs/openapi.json and every human workflow action, counted once."""
    with api_over_moto() as (api, counter):
        m = Measurer(api, counter)
        _directory_routes(m)
        number = _ticket_routes(m)
        _conversation_routes(m, number)
        _mail_routes(m, number)
        _attachment_routes(m, number)
        _actions(m)
        _link_routes(m)
        _billing_routes(m, number)
        return m.rows


def _directory_routes(m: Measurer) -> None:
    api = m.api
    org = {
        "name": "Initech",
        "email_domains": ["initech.example"],
        "auto_close_days": 5,
        "hourly_rate": "72.50",
    }
    m.measure("PUT /orgs/{org_id}", lambda: api.call("PUT", "/orgs/initech", "manager", org))
    m.measure("GET /orgs/{org_id}", lambda: api.call("GET", "/orgs/initech", "manager"))
    m.measure("GET /orgs", lambda: api.call("GET", "/orgs", "l1"))
    m.measure(
        "GET /orgs/{org_id}/consumption",
        lambda: api.call("GET", "/orgs/initech/consumption", "manager"),
    )
    person = {"name": "Zoe", "email": "zoe@consult.example", "level": 2}
    m.measure(
        "PUT /consultants/{id}", lambda: api.call("PUT", "/consultants/cons-zoe", "manager", person)
    )
    m.measure("GET /consultants", lambda: api.call("GET", "/consultants", "manager"))


def _ticket_routes(m: Measurer) -> int:
    api = m.api
    body = {"title": "VPN down", "description": "since this morning", "type": "assistance"}
    created = m.measure(
        "POST /tickets (client)", lambda: api.call("POST", "/tickets", "client", body), 201
    )
    staff_body = {**body, "org_id": "acme"}
    m.measure(
        "POST /tickets (consultant, org_id)",
        lambda: api.call("POST", "/tickets", "l1", staff_body),
        201,
    )
    key = {"Idempotency-Key": uuid.uuid4().hex}
    m.measure(
        "POST /tickets (Idempotency-Key, first)",
        lambda: api.call("POST", "/tickets", "client", body, key),
        201,
    )
    m.measure(
        "POST /tickets (Idempotency-Key, replay)",
        lambda: api.call("POST", "/tickets", "client", body, key),
        201,
    )
    number = int(created.body["number"])
    m.measure("GET /tickets (client)", lambda: api.call("GET", "/tickets", "client"))
    m.measure(
        "GET /tickets (level 1 queue)",
        lambda: api.call("GET", "/tickets", "l1", query={"level": "1", "status": "open"}),
    )
    m.measure("GET /tickets/{number}", lambda: api.call("GET", f"/tickets/{number}", "client"))
    return number


def _conversation_routes(m: Measurer, number: int) -> None:
    api = m.api
    path = f"/tickets/{number}"
    BENCH_CLOCK.now = BenchClock.LATER
    assert api.act(number, "take", "l1").status == 200
    assert api.act(number, "start", "l1").status == 200
    m.measure(
        "POST /tickets/{number}/comments (client)",
        lambda: api.call("POST", f"{path}/comments", "client", {"body": "Any news?"}),
        201,
    )
    m.measure(
        "POST /tickets/{number}/comments (internal note)",
        lambda: api.call(
            "POST", f"{path}/comments", "l1", {"body": "checking the VPN logs", "internal": True}
        ),
        201,
    )
    m.measure(
        "GET /tickets/{number}/comments", lambda: api.call("GET", f"{path}/comments", "client")
    )
    m.measure("GET /tickets/{number}/history", lambda: api.call("GET", f"{path}/history", "client"))
    m.measure("GET /tickets/{number}/quotes", lambda: api.call("GET", f"{path}/quotes", "client"))
    entry = {"minutes": 45, "comment": "diagnosis", "date": f"{EXPORT_MONTH}-15"}
    m.measure(
        "POST /tickets/{number}/time-entries",
        lambda: api.call("POST", f"{path}/time-entries", "l1", entry),
        201,
    )
    m.measure(
        "GET /tickets/{number}/time-entries", lambda: api.call("GET", f"{path}/time-entries", "l1")
    )
    m.measure("GET /tickets/{number}/tasks", lambda: api.call("GET", f"{path}/tasks", "l1"))
    # The edits, once the ticket has a time entry and so a month task (a new title renames it).
    m.measure(
        "PATCH /tickets/{number} (priority)",
        lambda: api.call("PATCH", path, "l1", {"priority": "high"}),
    )
    m.measure(
        "PATCH /tickets/{number} (title: words, month task renamed)",
        lambda: api.call("PATCH", path, "l1", {"title": "VPN down since the update"}),
    )
    spare = api.call("POST", f"{path}/time-entries", "l1", {**entry, "minutes": 15})
    assert spare.status == 201, spare
    entry_path = f"{path}/time-entries/{spare.body['id']}"
    m.measure(
        "PATCH /tickets/{number}/time-entries/{entry_id}",
        lambda: api.call("PATCH", entry_path, "l1", {"minutes": 20}),
    )
    m.measure(
        "DELETE /tickets/{number}/time-entries/{entry_id}",
        lambda: api.call("DELETE", entry_path, "l1"),
        204,
    )


def _actions(m: Measurer) -> None:
    """Every human action, each on a ticket in a state that allows it."""
    api = m.api
    first = api.create("Printer jammed")
    m.action(first, "take", "l1")
    m.action(first, "start", "l1")
    m.action(first, "hold", "l1", {"reason": "waiting for the part"})
    m.action(first, "resume", "l1")
    m.action(first, "escalate", "l1", {"reason": "needs level 2"})
    m.action(
        first,
        "send-answer",
        "l2",
        {"message": "Replaced the roller."},
        label="POST /tickets/{number}/actions/send-answer (auto-close days: org read)",
    )
    m.action(first, "reopen", "client", {"reason": "jammed again"})
    assert api.act(first, "send-answer", "l2", {"message": "Replaced the tray."}).status == 200
    m.action(first, "confirm", "client")

    assigned = api.create("New laptop")
    m.action(
        assigned,
        "take",
        "manager",
        {"assignee": "cons-l1"},
        label="POST /tickets/{number}/actions/take (assign: ticket + consultant)",
    )
    m.action(assigned, "assign", "manager", {"assignee": "cons-l1b"})
    m.action(api.create("Wrong ticket"), "cancel", "client")

    evolution = api.create("Export to SAP", "evolution")
    assert api.act(evolution, "take", "l2").status == 200
    assert api.act(evolution, "start", "l2").status == 200
    m.action(evolution, "submit-quote", "l2", {"amount": "1200.00", "days": "3"})
    m.action(evolution, "refuse-quote", "client", {"reason": "too expensive"})
    m.action(
        evolution,
        "close",
        "l2",
        {"note": "abandoned after the refusal"},
        label="POST /tickets/{number}/actions/close (abandon)",
    )
    approved = api.create("Import from SAP", "evolution")
    for step, body in (("take", {}), ("start", {}), ("submit-quote", {"amount": "800.00"})):
        assert api.act(approved, step, "l2", body).status == 200
    m.action(approved, "approve-quote", "client")
    assert api.act(approved, "send-answer", "l2", {"message": "Delivered."}).status == 200
    m.action(approved, "close", "l2", {"note": "client silent"})
    withdrawn = api.create("Export to Excel", "evolution")
    for step, body in (("take", {}), ("start", {}), ("submit-quote", {"amount": "300.00"})):
        assert api.act(withdrawn, step, "l2", body).status == 200
    m.action(withdrawn, "withdraw-quote", "l2")


# A link route's floor (reads, writes): the link, then the ticket it names; POST also writes.
LINK_READ_FLOOR = (2, 0)
LINK_ACTION_FLOOR = (2, 1)


def _link_routes(m: Measurer) -> None:
    """An action link (DESIGN §8) opened, then used: issued as the notifier issues it
    (`DynamoActionLinks.issue`), for the quote the client was mailed, while it is pending."""
    from helpdesk.adapters.dynamodb.links import DynamoActionLinks
    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.domain.links import link_expiry
    from helpdesk.ports import LinkGrant

    api = m.api
    number = api.create("Export to the ERP", "evolution")
    for step, body in (("take", {}), ("start", {}), ("submit-quote", {"amount": "450.00"})):
        assert api.act(number, step, "l2", body).status == 200
    ticket = api.call("GET", f"/tickets/{number}", "client")
    assert ticket.status == 200 and ticket.body["status"] == "awaiting_quote_approval", ticket
    version = int(ticket.body["quote"]["version"])
    links = DynamoActionLinks(Table(api.client, TABLE), clock=BENCH_CLOCK)
    grant = LinkGrant(number, "approve-quote", version, None, link_expiry(BENCH_CLOCK()))
    token = links.issue(grant)
    path = f"/links/{token}"
    m.measure("GET /links/{token}", lambda: api.call("GET", path, None), floor=LINK_READ_FLOOR)
    m.measure(
        "POST /links/{token}", lambda: api.call("POST", path, None, {}), floor=LINK_ACTION_FLOOR
    )


def quarantined_mail(api: ApiHarness, subject: str) -> str:
    """A message from a domain no organisation owns, received as SES delivers it (raw bytes in
    the inbound bucket) and quarantined by the ingestion, as the mail function builds it
    (helpdesk.bootstrap_mail): its sha256, the quarantine's id."""
    import boto3

    from helpdesk.adapters.dynamodb.mail import DynamoMailRepository
    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.domain.mail import MailRouting
    from helpdesk.mail_ingest import MailConfig, MailIngestion, MailSource

    raw = (
        "From: someone@unknown.example\r\n"
        f"To: support@{MAIL_DOMAIN}\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@unknown.example>\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "Who are you?\r\n"
    ).encode()
    key = f"inbound/{uuid.uuid4().hex}"
    boto3.client("s3", region_name=REGION).put_object(Bucket=INBOUND_BUCKET, Key=key, Body=raw)
    table = Table(api.client, TABLE)
    ingestion = MailIngestion(
        lambda: DynamoUnitOfWork(table),
        DynamoMailRepository(table),
        MailConfig(MailRouting(MAIL_DOMAIN)),
        clock=BENCH_CLOCK,
    )
    result = ingestion.ingest(raw, MailSource(INBOUND_BUCKET, key))
    assert result.outcome.value == "quarantined", result
    return result.sha256


def _mail_routes(m: Measurer, number: int) -> None:
    """The quarantine: listed, then one message released as a ticket, one as a comment."""
    api = m.api
    as_ticket = quarantined_mail(api, "Hello")
    as_comment = quarantined_mail(api, "About my ticket")
    m.measure("GET /mail/quarantine", lambda: api.call("GET", "/mail/quarantine", "manager"))
    ticket = {"as": "ticket", "org_id": "acme", "type": "assistance"}
    m.measure(
        "POST /mail/quarantine/{id}/release (as a ticket)",
        lambda: api.call("POST", f"/mail/quarantine/{as_ticket}/release", "manager", ticket),
    )
    comment = {"as": "comment", "ticket": number}
    m.measure(
        "POST /mail/quarantine/{id}/release (as a comment)",
        lambda: api.call("POST", f"/mail/quarantine/{as_comment}/release", "manager", comment),
    )


PNG = b"\x89PNG\r\n\x1a\n" + bytes(1024)


def _attachment_routes(m: Measurer, number: int) -> None:
    """Announce a file (the upload form), then, once it is uploaded and checked (not counted
    here: the check function's requests are its own, bench/attachments.py), list and read."""
    api = m.api
    path = f"/tickets/{number}/attachments"
    body = {"filename": "screen.png", "content_type": "image/png", "size": len(PNG)}
    created = m.measure(
        "POST /tickets/{number}/attachments",
        lambda: api.call("POST", path, "client", body),
        201,
    )
    key = created.body["upload"]["fields"]["key"]
    import boto3

    boto3.client("s3", region_name=REGION).put_object(
        Bucket=ATTACHMENTS_BUCKET, Key=key, Body=PNG, ContentType="image/png"
    )
    assert api.module.attachments.get_attachments().check(key).status.value == "available"
    m.measure("GET /tickets/{number}/attachments", lambda: api.call("GET", path, "client"))
    m.measure(
        "GET /tickets/{number}/attachments/{attachment_id}",
        lambda: api.call("GET", f"{path}/{created.body['id']}", "client"),
    )


def _billing_routes(m: Measurer, number: int) -> None:
    api = m.api
    path = f"/billing/exports/{EXPORT_MONTH}"
    m.measure("POST /billing/exports/{month}", lambda: api.call("POST", path, "finance"), 201)
    m.measure("GET /billing/exports/{month}", lambda: api.call("GET", path, "finance"))
    m.measure(
        "POST /billing/exports/{month}/unlock",
        lambda: api.call("POST", f"{path}/unlock", "manager", {"reason": "late entry"}),
    )


# ----------------------------------------------------------------- inbound mail

# The mail function's requests for each outcome of one received message (functions/mail_ingest,
# as SES's S3 notification invokes it), the s3:GetObject of the raw message included. Every
# delivery begins with the mail record (one conditional PutItem: seen once; a replay's fails
# and returns the record) and, but for a replay, ends with one transaction (the record final,
# the Message-ID handled, and the effect if any), after which the record is not read again
# (mail_ingest.Recorded). A mail that names Message-IDs (In-Reply-To, References) adds one
# BatchGetItem: are they ours (the thread)? Before issue 21 each also had an UpdateItem
# describing the mail and a GetItem re-reading the record (a quarantine one more GetItem
# for its index key, a duplicate one more GetItem and transaction): new ticket 10, comment 11,
# quarantine 10, duplicate 8, rate-limited 8, auto-reply 6, bounce 10.
INGEST_NOTES: dict[str, str] = {
    "new ticket": (
        "record, Message-ID look-up (handled already?), the sender's hourly count (the "
        "counter's UpdateItem, then the record's: its rank and summary in one write), the "
        "organisation of the sender's domain, then the creation's counter + organisation "
        "read (BatchGetItem) and its transaction"
    ),
    "comment on its ticket": (
        "as a new ticket up to the count, then the ticket its `[#n]` tag names and the "
        "organisation of the sender's domain, then the comment's transaction (on the "
        "ticket just read: no second read)"
    ),
    "quarantined (unknown sender)": (
        "as a new ticket up to the organisation look-up, which finds none: the outcome "
        "alone in the transaction (its place in the quarantine index from the record)"
    ),
    "duplicate (same Message-ID, other bytes)": (
        "the Message-ID found handled: the summary noted (UpdateItem), the outcome alone; no count"
    ),
    "rate-limited": "the count says over the limit: the outcome alone, nothing looked up",
    "ignored (auto-reply)": "no count, no look-up: the summary noted, the outcome alone",
    "bounce of our mail": (
        "the reported Message-ID looked up among ours (BatchGetItem), the sender's count, "
        "then the ticket read and one transaction (history, staff mail, outcome)"
    ),
    "replayed delivery (same bytes)": (
        "the record's condition fails and returns it, final: nothing else"
    ),
}


@dataclass(frozen=True)
class IngestCount:
    label: str
    outcome: str
    calls: list[Call]

    @property
    def operations(self) -> str:
        return operations_of(self.calls)

    @property
    def total(self) -> int:
        return len(self.calls)


def _inbound(
    sender: str,
    subject: str,
    message_id: str,
    extra_headers: str = "",
    body: str = "Bonjour,\r\nle serveur ne répond plus.\r\n",
) -> bytes:
    return (
        f"From: {sender}\r\n"
        f"To: support@{MAIL_DOMAIN}\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\n"
        f"{extra_headers}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}"
    ).encode()


def _bounce(reported_message_id: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\r\n"
        f"To: support@{MAIL_DOMAIN}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mx.acme.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n\r\n'
        "--dsn\r\nContent-Type: text/plain\r\n\r\nCould not be delivered.\r\n\r\n"
        "--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.acme.example\r\n\r\n"
        "Final-Recipient: rfc822; carla@acme.example\r\nAction: failed\r\n"
        "Status: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n\r\n"
        "--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@{MAIL_DOMAIN}\r\nTo: carla@acme.example\r\n"
        f"Message-ID: <{reported_message_id}>\r\n"
        "--dsn--\r\n"
    ).encode()


def measure_mail_ingest() -> list[IngestCount]:
    """The mail function's handler (functions/mail_ingest, built by helpdesk.bootstrap_mail)
    handling one message of each outcome, as an S3 notification names it, over the bench's
    table: its requests, the raw message's s3:GetObject included."""
    import boto3

    from helpdesk.adapters.dynamodb import keys
    from helpdesk.adapters.dynamodb.toolkit import Table, marshal

    with api_over_moto() as (api, counter):
        module = load_function("mail_ingest")
        module.s3_client.cache_clear()
        module.ingestion.cache_clear()
        s3 = boto3.client("s3", region_name=REGION)
        table = Table(api.client, TABLE)
        counts: list[IngestCount] = []

        def deliver(label: str, raw: bytes) -> dict[str, Any]:
            key = f"inbound/{uuid.uuid4().hex}"
            s3.put_object(Bucket=INBOUND_BUCKET, Key=key, Body=raw)
            event = {
                "Records": [{"s3": {"bucket": {"name": INBOUND_BUCKET}, "object": {"key": key}}}]
            }
            counter.take()
            with redirect_stdout(io.StringIO()):  # the metrics (EMF) Lambda would print
                reply = module.lambda_handler(event, FakeLambdaContext())
            (result,) = reply["results"]
            counts.append(IngestCount(label, result["outcome"], counter.take()))
            return dict(result)

        try:
            module.ingestion().clock = BENCH_CLOCK
            first = _inbound("carla@acme.example", "Serveur en panne", "m1@acme.example")
            created = deliver("new ticket", first)
            number = created["ticket_number"]
            deliver(
                "comment on its ticket",
                _inbound("carla@acme.example", f"Re: [#{number}] Serveur", "m2@acme.example"),
            )
            deliver(
                "quarantined (unknown sender)",
                _inbound("eve@unknown.example", "Hello", "m3@unknown.example"),
            )
            deliver(
                "duplicate (same Message-ID, other bytes)",
                b"Received: from mx2.acme.example\r\n" + first,
            )
            hour = BENCH_CLOCK().strftime("%Y-%m-%dT%H")
            table.client.put_item(
                TableName=TABLE,
                Item=marshal({**keys.mail_rate_key("flood@acme.example", hour), "count": 20}),
            )
            deliver(
                "rate-limited",
                _inbound("flood@acme.example", "Encore", "m4@acme.example"),
            )
            deliver(
                "ignored (auto-reply)",
                _inbound(
                    "carla@acme.example",
                    "Absence",
                    "m5@acme.example",
                    "Auto-Submitted: auto-replied\r\n",
                ),
            )
            ours = f"ack-{number}@{MAIL_DOMAIN}"
            table.client.put_item(
                TableName=TABLE,
                Item=marshal({**keys.message_id_key(ours), "ticket_number": number}),
            )
            deliver("bounce of our mail", _bounce(ours))
            deliver("replayed delivery (same bytes)", first)
        finally:
            module.ingestion.cache_clear()
            module.s3_client.cache_clear()
        return counts


def ingest_report(counts: Sequence[IngestCount]) -> str:
    lines = [
        "## AWS requests per inbound mail",
        "",
        "The mail function's handler (functions/mail_ingest) handling one message of each "
        "outcome in-process against moto, as an S3 notification names it (the raw message's "
        "s3:GetObject is counted).",
        "",
        "| mail | outcome | requests | requests made | what they are |",
        "|---|---|---:|---|---|",
    ]
    for c in counts:
        lines.append(
            f"| {c.label} | `{c.outcome}` | {c.total} | {c.operations} "
            f"| {INGEST_NOTES.get(c.label, '')} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class MailKind:
    """The deliveries of one kind of mail: how many, and their requests (all of them)."""

    label: str
    mails: int
    row: RouteCount

    def per_mail(self, amount: float) -> float:
        return amount / self.mails if self.mails else 0.0


@dataclass(frozen=True)
class Deliveries:
    """The notifier's requests for `mails` deliveries (`row`: all of them), by kind of mail,
    and for the same events delivered once more (`replay`: the stream's duplicates)."""

    mails: int
    row: RouteCount
    kinds: tuple[MailKind, ...] = ()
    replay: MailKind | None = None

    def per_mail(self, amount: float) -> float:
        return amount / self.mails if self.mails else 0.0

    def kind(self, label: str) -> MailKind:
        return next(
            k for k in (*self.kinds, *([self.replay] if self.replay else [])) if k.label == label
        )


# What each kind of mail costs beyond the claim, the send and the closing transaction.
MAIL_KIND_NOTES = {
    "to the requester (stored address)": "the address is on the outbox item",
    "to the requester, 2 action links": (
        "+1 PutItem per link (its token's SHA-256, issued at send time)"
    ),
    "to a level (every active consultant)": "+1 Query of the roster (the level's addresses now)",
    "to one consultant": "+1 GetItem of the consultant (the address now)",
    "replayed delivery": (
        "the claim's condition fails (already sent; a failed conditional write still bills "
        "the item's write units), +1 GetItem finds it sent; no send, no link, no transaction"
    ),
}


def mail_kind(item: dict[str, Any]) -> str:
    """The kind of an outbox mail, by whom it goes to and the links it carries."""
    links = len(item.get("links") or [])
    if item.get("to"):
        who = "to the requester"
        if not links:
            return f"{who} (stored address)"
        return f"{who}, {links} action link{'s' if links > 1 else ''}"
    if item.get("to_consultant"):
        return "to one consultant"
    if item.get("to_level") is not None:
        return "to a level (every active consultant)"
    return "no recipient field"


def _kind_row(label: str, calls: list[Call], mails: int) -> MailKind:
    return MailKind(label, mails, RouteCount(label, 200, calls, 1, 1))


def deliveries_report(found: Deliveries) -> str:
    row = found.row
    lines = [
        f"Notifier (not an API route; per mail, over the {found.mails} mails the action flows "
        f"above queue): {found.per_mail(row.total):.2f} AWS requests "
        f"({row.operations}), {found.per_mail(row.write_units):.2f} WRU, "
        f"{found.per_mail(row.read_units):.2f} RRU. Per mail: the claim (conditional "
        "UpdateItem), the send, then one transaction (sent + the Message-ID record); what each "
        "kind adds below. The notifier is the function's own (`helpdesk.bootstrap.notifier`).",
    ]
    kinds = [*found.kinds, *([found.replay] if found.replay else [])]
    if kinds:
        lines += [
            "",
            "| mail | mails | requests per mail | requests of one | WRU per mail | RRU per mail "
            "| beyond claim, send, transaction |",
            "|---|---:|---:|---|---:|---:|---|",
        ]
        for kind in kinds:
            r = kind.row
            per = kind.per_mail(r.total)
            lines.append(
                f"| {kind.label} | {kind.mails} | {per:g} | {one_mail(kind)} "
                f"| {kind.per_mail(r.write_units):.2f} | {kind.per_mail(r.read_units):.2f} "
                f"| {MAIL_KIND_NOTES.get(kind.label, '')} |"
            )
    return "\n".join(lines)


def one_mail(kind: MailKind) -> str:
    """The requests of one mail of the kind (every mail of a kind makes the same ones)."""
    per = kind.row.total // kind.mails if kind.mails else 0
    one = RouteCount(kind.label, 200, kind.row.calls[:per], 1, 1)
    return one.operations


def measure_notifier() -> Deliveries:
    """The notifier delivering every pending mail of a run of the API flows (as the table's
    stream hands them over), each counted apart and grouped by kind of mail; then every one
    of them delivered again (a stream's duplicate). The notifier is the function's own
    (helpdesk.bootstrap.notifier), over the bench's table."""
    from helpdesk import bootstrap
    from helpdesk.adapters.dynamodb.toolkit import unmarshal

    with api_over_moto() as (api, counter):
        m = Measurer(api, counter)
        _actions(m)
        import boto3

        ses = boto3.client("sesv2", region_name=REGION)
        ses.create_email_identity(EmailIdentity=MAIL_DOMAIN)
        counter.take()
        table = _moto_table(TABLE)
        stored = [unmarshal(item.to_json()["Attributes"]) for item in table.all_items()]
        pending = [
            item
            for item in stored
            if item.get("entity") == "outbox"
            and item.get("channel", "mail") == "mail"
            and item.get("delivery") == "pending"
        ]
        bootstrap.notifier.cache_clear()
        by_kind: dict[str, list[list[Call]]] = {}
        replays: list[list[Call]] = []
        try:
            notifier = bootstrap.notifier()
            for item in pending:
                counter.take()
                outcome = notifier.deliver(item["pk"], item["sk"])
                assert outcome.outcome == "sent", (item["kind"], outcome)
                by_kind.setdefault(mail_kind(item), []).append(counter.take())
            for item in pending:
                counter.take()
                outcome = notifier.deliver(item["pk"], item["sk"])
                assert outcome.outcome == "already_sent", (item["kind"], outcome)
                replays.append(counter.take())
        finally:
            bootstrap.notifier.cache_clear()
        every = [call for calls in by_kind.values() for one in calls for call in one]
        order = {label: i for i, label in enumerate(MAIL_KIND_NOTES)}  # then any other kind
        by_kind = dict(sorted(by_kind.items(), key=lambda pair: order.get(pair[0], len(order))))
        kinds = tuple(
            _kind_row(label, [call for one in mails for call in one], len(mails))
            for label, mails in by_kind.items()
        )
        for kind, mails in zip(kinds, by_kind.values(), strict=True):
            shapes = {tuple(c.operation for c in one) for one in mails}
            assert len(shapes) == 1, (kind.label, shapes)  # one kind, the same requests
        assert len({tuple(c.operation for c in one) for one in replays}) <= 1, replays
        replay = _kind_row(
            "replayed delivery", [call for one in replays for call in one], len(replays)
        )
        return Deliveries(len(pending), RouteCount("notifier", 200, every, 1, 1), kinds, replay)


def openapi_routes() -> set[str]:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    methods = {"get", "post", "put", "delete", "patch"}
    return {
        f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item if m in methods
    }


def route_of(label: str) -> str:
    """`POST /tickets (client)` → `POST /tickets`; actions → the action route."""
    route = label.split(" (")[0]
    if route.startswith("POST /tickets/{number}/actions/"):
        return "POST /tickets/{number}/actions/{action}"
    return route


# Routes of docs/openapi.json whose requests are not counted, each with why. A route missing
# from the measured rows and from this list fails test_bench_calls.
NOT_MEASURED_YET: dict[str, str] = {}


def uncovered_routes(rows: Sequence[RouteCount]) -> set[str]:
    return openapi_routes() - {route_of(r.label) for r in rows} - set(NOT_MEASURED_YET)


def uncovered_actions(rows: Sequence[RouteCount]) -> set[str]:
    from helpdesk.domain.workflow import HUMAN_ACTIONS

    done = {r.label.split("/actions/")[1].split(" ")[0] for r in rows if "/actions/" in r.label}
    return {a.value for a in HUMAN_ACTIONS} - done


def report(rows: Sequence[RouteCount]) -> str:
    lines = [
        "## AWS requests per route",
        "",
        "Counted by a botocore `before-parameter-build`/`after-call` hook while the API handler serves "
        "each request in-process against moto (one request each). Floor: 1 read for a GET; "
        "1 write + at most 1 read for anything else; the link routes 1 read more (the link, "
        "then the ticket it names). RRU/WRU: DynamoDB on-demand units from "
        "the item sizes (4 KB reads; 1 KB writes, an item ×2 in a transaction, and per "
        "index entry written, removed or rewritten (a projected attribute changed) +1 per KB "
        "of what the index projects, moved to another index key twice that).",
        "",
        "| route | requests | reads | writes | floor | RRU | WRU | ok | requests made / why above the floor |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        verdict = "floor" if r.at_floor else ("explained" if r.explanation else "**ABOVE**")
        why = r.operations + (f" — {r.explanation}" if r.explanation and not r.at_floor else "")
        lines.append(
            f"| `{r.label}` | {r.total} | {r.reads} | {r.writes} | {r.floor} "
            f"| {r.read_units:g} | {r.write_units:g} | {verdict} | {why} |"
        )
    missing = sorted(uncovered_routes(rows)) + sorted(uncovered_actions(rows))
    at_floor = sum(1 for r in rows if r.at_floor)
    lines += [
        "",
        f"{len(rows)} requests measured: {at_floor} at the floor, "
        f"{sum(1 for r in rows if not r.at_floor and r.explanation)} above it and explained, "
        f"{sum(1 for r in rows if not r.ok)} unexplained. Routes or actions not covered: "
        f"{', '.join(missing) if missing else 'none'}.",
    ]
    unsized = [c.sizing_error for r in rows for c in r.calls if c.sizing_error]
    if unsized:
        lines.append(f"Requests whose units could not be sized (counted as 0): {unsized}.")
    return "\n".join(lines)


def section(smoke: bool = False) -> str:
    """The markdown section (the same run at every size: one request per route)."""
    return "\n\n".join(
        [
            report(measure_routes()),
            deliveries_report(measure_notifier()),
            ingest_report(measure_mail_ingest()),
        ]
    )
