"""Cold start of each Lambda function: import its handler module and serve one first event, in
a fresh interpreter, as a ratio to a fresh interpreter that imports boto3 and calls one GetItem.

Every run is a new `python` process with the environment the template gives the function (its
Globals and its own variables, local names for what `!Ref`s a resource, tracing active as
deployed). Moto runs once, as a server in this process, seeded before any run; a child only
talks to it over HTTP, so the timer in the child covers exactly what a Lambda init and first
invocation do: importing boto3 and the handler's modules, building clients, serving the event.
(Moto in the child itself would import boto3 and botocore before the timer starts and hide the
very cost the baseline is made of.) The interpreter's own start-up, identical for all, is not
timed. Each function gets a fresh item to work on at each run (a new outbox item, a new quote,
a new mail), so every run takes the same path as the first one.

Also reported: the peak RSS of each child (VmHWM, what Lambda calls "Max Memory Used"),
from which the Memory sizes subsection derives each function's MemorySize.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bench.import_profile import (
    BytecodeEffect,
    ImportProfile,
    api_import_profile,
    bytecode_effect,
)
from bench.import_profile import render as render_imports

REPO = Path(__file__).resolve().parents[1]
LAYER = REPO / "layers" / "domain"
# Each cold start measured: a function's folder under functions/, or (api-billing) the same
# function as another one on another route.
FUNCTIONS = ("api", "api-billing", "jobs", "notifier", "quote", "mail_ingest", "attachments")
FOLDERS = {"api-billing": "api"}
TEMPLATE_NAMES = {
    "api": "ApiFunction",
    "api-billing": "ApiFunction",
    "jobs": "JobsFunction",
    "notifier": "NotifierFunction",
    "quote": "QuoteFunction",
    "mail_ingest": "MailIngestFunction",
    "attachments": "AttachmentCheckFunction",
}
# 21 (the first bench asked for at least 10): on this shared machine one run of the API took
# 0.8x to 1.6x its floor's neighbouring run (12-01), so the median takes more of them.
RUNS, SMOKE_RUNS = 21, 2
# Memory of the mail function beyond its first event: a mail just under MAIL_MAX_BYTES (parsed,
# its attachment stored) and one over it (read whole, quarantined); SES accepts up to 40 MB.
BIG_MAILS_MIB = (9, 30)
TARGET_RATIO = 1.5
FLOOR_TARGET_RATIO = 1.1  # where the floor alone is above TARGET_RATIO
# What a function cannot do without, timed the same way: the libraries the stack prescribes and
# the clients its first event needs, with one call each and none of our code. Its ratio to the
# baseline is the least the function could reach; the function's ratio to it is our own share.
FLOORS = {
    # Powertools resolver with validation (pydantic), Logger, Tracer, Metrics, one GetItem
    "api": "api-floor",
    # the same, plus an S3 client and GetObject (the route reads the stored manifest)
    "api-billing": "billing-floor",
    # Logger, Metrics, Tracer, an S3 client and GetObject, a DynamoDB GetItem
    "mail_ingest": "mail-floor",
    # Logger, Metrics (no Tracer: the check is not traced), GetObject, one GetItem
    "attachments": "check-floor",
}
FLOOR_EVENTS = {
    "api-floor": "the same GET, one route, one GetItem",
    "billing-floor": "the same GET, one route, one GetItem, one s3:GetObject",
    "mail-floor": "GetObject of the same mail, one GetItem (traced)",
    "check-floor": "GetObject of the same file, one GetItem",
}
REGION = "eu-west-1"
EXPORT_MONTH = "2026-10"
# A PNG's signature and header: what the check sniffs (helpdesk.domain.attachments).
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
TABLE, IDEMPOTENCY_TABLE = "helpdesk-cold", "helpdesk-cold-idempotency"
MAIL_DOMAIN = "helpdesk.example.com"
RESOURCE_NAMES = {  # what a `!Ref` to these resources resolves to here
    "TicketsTable": TABLE,
    "IdempotencyTable": IDEMPOTENCY_TABLE,
    "ExportsBucket": "helpdesk-cold-exports",
    "InboundMailBucket": "helpdesk-cold-inbound",
    "AttachmentsBucket": "helpdesk-cold-attachments",
    "MailConfigurationSet": "helpdesk-cold-mail",
    "QuoteApprovalStateMachine": f"arn:aws:states:{REGION}:123456789012:stateMachine:quote",
}
RESULT_MARK = "@@cold-start@@"
MEMORY_REASONS = {
    "api": "interactive: its cold start (the heaviest, Powertools' resolver, pydantic "
    "validation, X-Ray) is CPU-bound, and 1 GB gives it ~0.6 vCPU, twice 512 MB's; memory "
    "itself is not what it lacks",
    "jobs": "also runs the monthly billing export, whose peak stays flat with the entries "
    "(Batch scaling); hourly auto-close reads only what it changes",
    "notifier": "waits on DynamoDB, SES and Step Functions; a few records per batch",
    "quote": "a few invocations per quote, from Step Functions, nobody waiting on it",
    "mail_ingest": "parses a mail of up to MAIL_MAX_BYTES (10 MB) in memory and reads a "
    "larger one (SES accepts 40 MB) whole before quarantining it",
    "attachments": "streams the file in 64 KiB chunks (Attachments section: a 10 MiB file "
    "peaks at a few hundred KiB); nobody waits on it",
}
FIRST_EVENTS = {
    "api": "GET /tickets/{n} (client)",
    "api-billing": "GET /billing/exports/{month} (finance)",
    "jobs": "auto-close schedule",
    "notifier": "stream batch, 1 outbox mail",
    "quote": "remind (quote awaiting)",
    "mail_ingest": "SES event, new ticket by mail",
    "attachments": "S3 Object Created, a PNG made available",
}

# Runs in the child: everything before `started` is set-up (the event, a context object).
CHILD = """
import json, os, sys, time
event = json.loads(os.environ.pop("COLD_EVENT"))
target = os.environ.pop("COLD_TARGET")
class Context:
    function_name = "helpdesk-" + target
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:" + function_name
    memory_limit_in_mb = 512
    aws_request_id = "cold-start"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "cold"
    def get_remaining_time_in_millis(self):
        return 15000
started = time.perf_counter()
if target == "baseline":
    import boto3
    imported = time.perf_counter()
    client = boto3.client("dynamodb")
    reply = client.get_item(TableName=event["table"], Key=event["key"])
    ok = "Item" in reply
elif target in ("api-floor", "billing-floor"):
    import boto3
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from pydantic import BaseModel
    imported = time.perf_counter()
    class Found(BaseModel):
        pk: str
        sk: str
        size: int = 0
    logger = Logger()
    tracer = Tracer(patch_modules=("botocore",))
    metrics = Metrics(namespace="Floor")
    resolver = APIGatewayHttpResolver(enable_validation=True)
    client = boto3.client("dynamodb")
    def found() -> Found:
        item = client.get_item(TableName=event["table"], Key=event["key"])["Item"]
        size = 0
        if "bucket" in event:
            stored = boto3.client("s3").get_object(Bucket=event["bucket"], Key=event["object"])
            size = len(stored["Body"].read())
        return Found(pk=item["pk"]["S"], sk=item["sk"]["S"], size=size)
    @resolver.get("/tickets/<number>")
    def get_ticket(number: int) -> Found:
        return found()
    @resolver.get("/billing/exports/<month>")
    def get_export(month: str) -> Found:
        return found()
    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(http, context):
        return resolver.resolve(http, context)
    ok = handler(event["http"], Context()).get("statusCode") == 200
elif target in ("mail-floor", "check-floor"):
    import boto3
    from aws_lambda_powertools import Logger, Metrics, Tracer
    imported = time.perf_counter()
    logger = Logger()
    metrics = Metrics(namespace="Floor")
    def handler(event, context):
        raw = boto3.client("s3").get_object(Bucket=event["bucket"], Key=event["object"])
        raw["Body"].read()
        return "Item" in boto3.client("dynamodb").get_item(TableName=event["table"],
                                                           Key=event["key"])
    handler = metrics.log_metrics(handler)
    if target == "mail-floor":  # the mail function is traced; the check is not
        handler = Tracer(patch_modules=("botocore",)).capture_lambda_handler(
            capture_response=False)(handler)
    handler = logger.inject_lambda_context(handler)
    ok = handler(event, Context())
else:
    import app
    imported = time.perf_counter()
    ok = app.lambda_handler(event, Context())
elapsed = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries the parent's peak over fork and exec into ru_maxrss.
with open("/proc/self/status") as status:
    peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
print(os.environ["COLD_MARK"] + json.dumps({"seconds": elapsed, "import_seconds": imported - started,
                                            "rss_kib": peak, "reply": ok},
                                           default=str))
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    import_seconds: float
    rss_mib: float
    reply: Any


@dataclass(frozen=True)
class ColdStart:
    name: str  # a function of FUNCTIONS, "baseline" or a floor of FLOORS
    runs: tuple[Run, ...]

    @property
    def median_seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def median_import_seconds(self) -> float:
        return statistics.median(r.import_seconds for r in self.runs)

    @property
    def peak_rss_mib(self) -> float:
        return max(r.rss_mib for r in self.runs)


@dataclass(frozen=True)
class ColdStarts:
    baseline: ColdStart
    functions: tuple[ColdStart, ...]
    big_mail_rss_mib: dict[str, float]  # peak RSS of a fresh mail function on a big mail
    floors: tuple[ColdStart, ...] = ()
    import_profile: ImportProfile | None = None
    bytecode: BytecodeEffect | None = None

    def ratio(self, name: str) -> float:
        return self.of(name).median_seconds / self.baseline.median_seconds

    def of(self, name: str) -> ColdStart:
        return next(f for f in (*self.functions, *self.floors) if f.name == name)

    def ratio_to_floor(self, name: str) -> float | None:
        floor = FLOORS.get(name)
        if floor is None or floor not in {f.name for f in self.floors}:
            return None
        return self.of(name).median_seconds / self.of(floor).median_seconds


def function_environment(
    template: dict[str, Any], name: str, endpoint: str, code: Path = REPO
) -> dict[str, str]:
    """The variables the template gives function `name`, resolved for this benchmark."""
    resource = template["Resources"][TEMPLATE_NAMES[name]]["Properties"]
    declared = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **resource.get("Environment", {}).get("Variables", {}),
    }
    parameters = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    parameters["MailDomain"] = MAIL_DOMAIN
    env = {key: _resolve(value, parameters) for key, value in declared.items()}
    return {
        **env,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "cold",
        "AWS_SECRET_ACCESS_KEY": "cold",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_LAMBDA_FUNCTION_NAME": f"helpdesk-{name}",
        # Tracing: Active, as deployed: what Lambda sets for the X-Ray SDK (whose segments go,
        # over UDP, to a daemon that is not there).
        "LAMBDA_TASK_ROOT": str(code / "functions" / name),
        "_X_AMZN_TRACE_ID": "Root=1-67890abc-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;"
        "Sampled=1",
    }


def _resolve(value: Any, parameters: dict[str, str]) -> str:
    if isinstance(value, dict) and "Ref" in value:
        ref = str(value["Ref"])
        return RESOURCE_NAMES.get(ref) or parameters[ref]
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = str(value["Fn::Sub"])
        for key, replacement in parameters.items():
            text = text.replace("${" + key + "}", replacement)
        return text
    return str(value)


class Fixtures:
    """The seeded table and buckets, and a first event per function and run."""

    def __init__(self, endpoint: str, runs: int, big_mails: bool = True) -> None:
        import boto3

        from helpdesk.adapters.dynamodb.toolkit import Table
        from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
        from helpdesk.service import HelpdeskService
        from infra.cfn_template import create_table_from_template, load_template

        self.template = load_template()
        self.session = boto3.session.Session(
            aws_access_key_id="cold", aws_secret_access_key="cold", region_name=REGION
        )
        self.dynamodb = self.client("dynamodb", endpoint)
        self.s3 = self.client("s3", endpoint)
        create_table_from_template(self.dynamodb, self.template, "TicketsTable", TABLE)
        create_table_from_template(
            self.dynamodb, self.template, "IdempotencyTable", IDEMPOTENCY_TABLE
        )
        location = {"LocationConstraint": REGION}
        for bucket in ("ExportsBucket", "InboundMailBucket", "AttachmentsBucket"):
            self.s3.create_bucket(Bucket=RESOURCE_NAMES[bucket], CreateBucketConfiguration=location)
        self.client("ses", endpoint).verify_domain_identity(Domain=MAIL_DOMAIN)
        self.table = Table(self.dynamodb, TABLE)
        self.service = HelpdeskService(DynamoUnitOfWork(self.table))
        self.readable_ticket = 0
        self.manifest_key = ""  # the export's manifest.json (the billing floor reads it)
        self.outbox: list[dict[str, Any]] = []
        self.quotes: list[int] = []
        self.messages: list[str] = []
        self.uploads: list[str] = []
        self._seed(runs, big_mails)

    def client(self, service: str, endpoint: str) -> Any:
        return self.session.client(service, endpoint_url=endpoint)

    def _seed(self, runs: int, big_mails: bool) -> None:
        from helpdesk.domain.model import Caller, Role, TicketType
        from helpdesk.domain.workflow import Action, ActionInput

        manager = Caller(id="manager-1", role=Role.MANAGER, email="boss@consult.example")
        client = Caller(
            id="client-acme", role=Role.CLIENT, org_id="acme", email="fabrice@acme.example"
        )
        l2 = Caller(id="cons-l2", role=Role.CONSULTANT, level=2, email="l2@consult.example")
        self.service.put_org(
            manager,
            "acme",
            name="Acme",
            email_domains=["acme.example"],
            auto_close_days=7,
            hourly_rate="90",
        )
        self.service.put_consultant(manager, l2.id, name="L2", email=l2.email, level=2)
        self.readable_ticket = self.service.create_ticket(
            client, title="Imprimante", description="Bloquée.", type=TicketType.ASSISTANCE
        ).number
        quote = ActionInput(amount=Decimal("900"), days=Decimal("3"), description="Export")
        for _ in range(runs):
            created = self.service.create_ticket(
                client, title="Export", description="Mensuel.", type=TicketType.EVOLUTION
            )
            self.outbox.append(self._first_outbox_item(created.number))
            for action in (Action.TAKE, Action.START):
                self.service.perform(l2, created.number, action, ActionInput())
            self.service.perform(l2, created.number, Action.SUBMIT_QUOTE, quote)
            self.quotes.append(created.number)
            self.messages.append(self._store_mail(created.number))
            self.uploads.append(self._upload(client, created.number))
        self._export(Caller(id="finance-1", role=Role.FINANCE, email="compta@consult.example"))
        self.big_mails = {
            f"{megabytes} MB mail": self._store_mail(0, attachment_mib=megabytes)
            for megabytes in (BIG_MAILS_MIB if big_mails else ())
        }

    def _upload(self, client: Any, number: int) -> str:
        """A client's PNG announced on ticket `number` and put where its upload form says: the
        key of the object whose `Object Created` event the check function gets."""
        from helpdesk.adapters.attachments import S3AttachmentFiles
        from helpdesk.bootstrap_attachments import attachment_service_over

        attachments = attachment_service_over(
            self.table,
            S3AttachmentFiles(self.s3, RESOURCE_NAMES["AttachmentsBucket"]),
            self.service.get_ticket,
        )
        announced = attachments.announce(
            client, number, filename="écran.png", content_type="image/png", size=len(PNG)
        )
        self.s3.put_object(
            Bucket=RESOURCE_NAMES["AttachmentsBucket"], Key=announced.record.key, Body=PNG
        )
        return announced.record.key

    def _export(self, finance: Any) -> None:
        """October 2026 exported, so that GET /billing/exports/2026-10 answers its manifest."""
        from helpdesk.adapters.exports_store import ExportsStore
        from helpdesk.bootstrap_billing import exporter_over

        exports = ExportsStore(self.s3, RESOURCE_NAMES["ExportsBucket"])
        exporter = exporter_over(self.table, exports)
        exporter.export(finance, EXPORT_MONTH, datetime(2026, 11, 2, 9, tzinfo=UTC))
        listed = self.s3.list_objects_v2(Bucket=RESOURCE_NAMES["ExportsBucket"])["Contents"]
        (self.manifest_key,) = [o["Key"] for o in listed if o["Key"].endswith("manifest.json")]

    def _first_outbox_item(self, number: int) -> dict[str, Any]:
        reply = self.dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :outbox)",
            ExpressionAttributeValues={
                ":pk": {"S": f"TICKET#{number}"},
                ":outbox": {"S": "OUTBOX#"},
            },
        )
        item: dict[str, Any] = reply["Items"][0]
        return item

    def _store_mail(self, number: int, attachment_mib: int = 0) -> str:
        message = EmailMessage()
        message["From"] = "Fabrice <fabrice@acme.example>"
        message["To"] = f"support@{MAIL_DOMAIN}"
        message["Subject"] = f"Imprimante du bureau {number}"
        message["Message-ID"] = f"<{uuid.uuid4().hex}@acme.example>"
        message["Date"] = "Fri, 27 Nov 2026 09:00:00 +0100"
        message.set_content("Bonjour,\nl'imprimante est encore bloquée.\nFabrice\n")
        if attachment_mib:  # base64 in the message: 3/4 of its size is the file
            attachment = os.urandom(attachment_mib * 2**20 * 3 // 4)
            message.add_attachment(
                attachment, maintype="application", subtype="pdf", filename="scan.pdf"
            )
        message_id = uuid.uuid4().hex
        self.s3.put_object(
            Bucket=RESOURCE_NAMES["InboundMailBucket"],
            Key=f"inbound/{message_id}",
            Body=message.as_bytes(),
        )
        return message_id

    def event(self, name: str, run: int) -> dict[str, Any]:
        builders: dict[str, Callable[[int], dict[str, Any]]] = {
            "baseline": lambda _: {
                "table": TABLE,
                "key": {"pk": {"S": f"TICKET#{self.readable_ticket}"}, "sk": {"S": "TICKET"}},
            },
            "api": lambda _: _http_get(f"/tickets/{self.readable_ticket}"),
            "api-billing": lambda _: _http_get(f"/billing/exports/{EXPORT_MONTH}", FINANCE),
            "api-floor": lambda run: {
                "http": _http_get(f"/tickets/{self.readable_ticket}"),
                **builders["baseline"](run),
            },
            "billing-floor": lambda run: {
                "http": _http_get(f"/billing/exports/{EXPORT_MONTH}", FINANCE),
                "bucket": RESOURCE_NAMES["ExportsBucket"],
                "object": self.manifest_key,
                **builders["baseline"](run),
            },
            "mail-floor": lambda run: {
                "bucket": RESOURCE_NAMES["InboundMailBucket"],
                "object": f"inbound/{self.messages[run]}",
                **builders["baseline"](run),
            },
            "check-floor": lambda run: {
                "bucket": RESOURCE_NAMES["AttachmentsBucket"],
                "object": self.uploads[run],
                **builders["baseline"](run),
            },
            "jobs": lambda _: {"job": "auto-close", "at": datetime.now(UTC).isoformat()},
            "notifier": lambda run: _stream_batch(self.outbox[run]),
            "quote": lambda run: {
                "action": "remind",
                "ticket_number": self.quotes[run],
                "quote_version": 1,
                "reminder": 1,
            },
            "mail_ingest": lambda run: _ses_event(self.messages[run]),
            "attachments": lambda run: {
                "source": "aws.s3",
                "detail-type": "Object Created",
                "detail": {
                    "bucket": {"name": RESOURCE_NAMES["AttachmentsBucket"]},
                    "object": {"key": self.uploads[run]},
                },
            },
        }
        return builders[name](run)


CLIENT = {
    "sub": "client-acme",
    "email": "fabrice@acme.example",
    "cognito:groups": "[clients]",
    "custom:org_id": "acme",
}
FINANCE = {"sub": "finance-1", "email": "compta@consult.example", "cognito:groups": "[finance]"}


def _http_get(path: str, claims: dict[str, str] = CLIENT) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example", "authorization": "Bearer cold"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": "27/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795770000000,
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
        },
        "isBase64Encoded": False,
    }


def _stream_image(item: dict[str, Any]) -> dict[str, Any]:
    """The item as a stream record carries it in the Lambda event (JSON): binary values
    (the outbox's compressed `texts`) base64-encoded."""
    return {
        name: {"B": base64.b64encode(value["B"]).decode()} if "B" in value else value
        for name, value in item.items()
    }


def _stream_batch(item: dict[str, Any]) -> dict[str, Any]:
    item = _stream_image(item)
    keys = {"pk": item["pk"], "sk": item["sk"]}
    return {
        "Records": [
            {
                "eventID": uuid.uuid4().hex,
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "eventSourceARN": f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}/stream/x",
                "dynamodb": {
                    "Keys": keys,
                    "NewImage": item,
                    "SequenceNumber": "1",
                    "SizeBytes": 512,
                    "StreamViewType": "NEW_IMAGE",
                },
            }
        ]
    }


def _ses_event(message_id: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {"messageId": message_id, "source": "fabrice@acme.example"},
                    "receipt": {"recipients": [f"support@{MAIL_DOMAIN}"]},
                },
            }
        ]
    }


def succeeded(name: str, reply: Any) -> bool:
    """Whether the child's first event took the path it is meant to measure."""
    if name == "baseline" or name in FLOORS.values():
        return reply is True
    checks: dict[str, Callable[[Any], bool]] = {
        "api": lambda r: r.get("statusCode") == 200,
        "api-billing": lambda r: r.get("statusCode") == 200,
        "jobs": lambda r: "examined" in r,
        "notifier": lambda r: r.get("batchItemFailures") == [],
        "quote": lambda r: r.get("still_awaiting") is True,
        "mail_ingest": lambda r: len(r.get("results", [])) == 1,
        "attachments": lambda r: (
            [(x["status"], x["changed"]) for x in r["results"]] == [("available", True)]
        ),
    }
    return isinstance(reply, dict) and checks[name](reply)


def child_environment(env: dict[str, str], code: Path) -> dict[str, str]:
    """A child's whole environment: the function's variables, our layer on the path, and no
    bytecode written (each run finds only what `compile_sources` compiled)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(code / "layers" / "domain"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }


def run_child(name: str, env: dict[str, str], event: dict[str, Any], code: Path = REPO) -> Run:
    """One fresh interpreter; `code` is the checkout whose functions and layer it runs."""
    folder = code / "functions" / FOLDERS.get(name, name) if name in FUNCTIONS else code
    child_env = {
        **child_environment(env, code),
        "COLD_EVENT": json.dumps(event),
        "COLD_TARGET": name,
        "COLD_MARK": RESULT_MARK,
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=folder,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith(RESULT_MARK)), None)
    if done.returncode or line is None:
        raise RuntimeError(f"{name} cold start failed: {done.stderr[-2000:]}")
    data = json.loads(line[len(RESULT_MARK) :])
    if not succeeded(name, data["reply"]):
        raise RuntimeError(f"{name}: unexpected first reply {data['reply']!r}")
    return Run(data["seconds"], data["import_seconds"], data["rss_kib"] / 1024, data["reply"])


def compile_sources(code: Path) -> None:
    """Our modules' bytecode, as `make build` ships it (infra.bytecode) and as the libraries
    of the venv have it (pip writes theirs): without it every child would compile our code.
    Timestamp `.pyc`, what Python itself writes: checked against the sources, so a later edit
    is never hidden."""
    import py_compile

    from infra.bytecode import compile_tree

    for folder in (code / "layers" / "domain", code / "functions"):
        compile_tree(folder, py_compile.PycInvalidationMode.TIMESTAMP)


@contextmanager
def moto_server() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    from infra.moto_serial import serialise_moto_dynamodb

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    # Else each transaction deep-copies the table (infra/moto_serial.py), and the moto time a
    # child waits on would grow with the runs before it.
    serialise_moto_dynamodb()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def measure(smoke: bool = False, code: Path = REPO) -> ColdStarts:
    """Median cold start per function and for the baseline, and each one's peak RSS.

    `code`: another checkout's functions and layer (`--code DIR`, e.g. an export of an older
    commit, for before/after figures); the fixtures are always this one's.
    """
    runs = SMOKE_RUNS if smoke else RUNS
    compile_sources(code)
    with moto_server() as endpoint:
        fixtures = Fixtures(endpoint, runs, big_mails=not smoke)
        envs = {
            name: function_environment(fixtures.template, name, endpoint, code)
            for name in FUNCTIONS
        }
        envs["baseline"] = envs["api"]  # the same variables: only the code differs
        for function, floor in FLOORS.items():
            envs[floor] = envs[function]
        floors = tuple(dict.fromkeys(FLOORS.values()))
        targets = ("baseline", *FUNCTIONS, *floors)
        results: dict[str, list[Run]] = {name: [] for name in targets}
        for run in range(runs):  # interleaved: drift of a shared machine hits all alike
            for name in results:
                results[name].append(run_child(name, envs[name], fixtures.event(name, run), code))
        big_mails = {
            label: run_child("mail_ingest", envs["mail_ingest"], _ses_event(message), code).rss_mib
            for label, message in fixtures.big_mails.items()
        }
        profile_env = child_environment(envs["api"], code)
        profile = api_import_profile(profile_env, code, runs=1 if smoke else 3)
        bytecode = bytecode_effect(profile_env, runs=1 if smoke else 5)
    return ColdStarts(
        ColdStart("baseline", tuple(results["baseline"])),
        tuple(ColdStart(name, tuple(results[name])) for name in FUNCTIONS),
        big_mails,
        tuple(ColdStart(name, tuple(results[name])) for name in floors),
        profile,
        bytecode,
    )


def section(smoke: bool = False) -> str:
    return render(measure(smoke))  # bench/__main__.py


def render(found: ColdStarts) -> str:
    base = found.baseline
    lines = [
        "## Cold start",
        "",
        f"A fresh interpreter per run, median of {len(base.runs)} runs (interleaved). Timed in "
        "the child: importing the handler module, then serving its first event; moto runs as a "
        "server outside the child. Baseline: `import boto3`, one DynamoDB client, one GetItem. "
        f"Target: ratio ≤ {TARGET_RATIO}×. Peak RSS: the child's VmHWM (Lambda's \"Max Memory "
        "Used\" also counts the runtime's own process, some 20-30 MB more). A *floor* is what "
        "a function cannot do without, timed the same way with none of our code: the libraries "
        "the stack prescribes and the clients its first event needs, one call each.",
        "",
        "| function | first event | median s | of which import s | ratio to baseline "
        "| ratio to its floor | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
        _row("baseline", "GetItem", base, 1.0, None),
    ]
    for f in found.functions:
        ratio = found.ratio(f.name)
        lines.append(_row(f.name, FIRST_EVENTS[f.name], f, ratio, found.ratio_to_floor(f.name)))
    for floor in found.floors:
        ratio = floor.median_seconds / base.median_seconds
        lines.append(_row(floor.name, FLOOR_EVENTS[floor.name], floor, ratio, None))
    missed = [f.name for f in found.functions if found.ratio(f.name) > TARGET_RATIO]
    lines += ["", _verdict(found, missed)]
    profile = render_imports(found.import_profile, found.bytecode)
    return "\n".join([*lines, "", *profile, *memory_sizes(found)]) + "\n"


def _verdict(found: ColdStarts, missed: list[str]) -> str:
    """The target: ≤ TARGET_RATIO× the baseline, or, for a function whose floor alone is
    above that, ≤ FLOOR_TARGET_RATIO× its floor."""
    if not missed:
        return f"Every function within {TARGET_RATIO}× of the baseline."
    parts = []
    for name in missed:
        floor = FLOORS.get(name)
        if floor is None or floor not in {f.name for f in found.floors}:
            parts.append(f"{name} {found.ratio(name):.2f}×, no floor measured: **missed**")
            continue
        floor_ratio = found.of(floor).median_seconds / found.baseline.median_seconds
        to_floor = found.ratio_to_floor(name) or 0.0
        met = floor_ratio > TARGET_RATIO and to_floor <= FLOOR_TARGET_RATIO
        verdict = (
            f"met (its floor is above {TARGET_RATIO}×)"
            if met
            else f"**missed** (the target: ≤ {TARGET_RATIO}×, or ≤ {FLOOR_TARGET_RATIO}× "
            f"its floor if the floor is above {TARGET_RATIO}×)"
        )
        parts.append(
            f"{name} {found.ratio(name):.2f}× (its floor alone {floor_ratio:.2f}×, {name} "
            f"{to_floor:.2f}× the floor): {verdict}"
        )
    return f"Above {TARGET_RATIO}× the baseline: " + "; ".join(parts) + "."


def memory_sizes(found: ColdStarts) -> list[str]:
    """The template's MemorySize of each function beside the memory it was seen to use."""
    from infra.cfn_template import load_template

    template = load_template()
    default = template["Globals"]["Function"]["MemorySize"]
    lines = [
        "### Memory sizes",
        "",
        "Lambda gives CPU in proportion to memory (1,769 MB = one vCPU), so a size is chosen "
        "for time as much as for room: the cold start above is CPU-bound (imports), the warm "
        "work mostly waits on DynamoDB/SES/S3. Peaks below are the fresh process's; Lambda "
        "adds its runtime's own (~20-30 MB).",
        "",
        "| function | peak RSS MiB (measured) | MemorySize MB (template.yaml) | why |",
        "|---|---:|---:|---|",
    ]
    for f in found.functions:
        if f.name in FOLDERS:  # the same function as another row: its peak is counted there
            continue
        resource = template["Resources"][TEMPLATE_NAMES[f.name]]["Properties"]
        size = resource.get("MemorySize", default)
        same = [g for g in found.functions if FOLDERS.get(g.name, g.name) == f.name]
        peaks = f"{max(g.peak_rss_mib for g in same):.0f}"
        if f.name == "mail_ingest":
            peaks += "".join(
                f"; {label}: {mib:.0f}" for label, mib in found.big_mail_rss_mib.items()
            )
        lines.append(f"| {f.name} | {peaks} | {size} | {MEMORY_REASONS[f.name]} |")
    return lines


def _row(name: str, event: str, cold: ColdStart, ratio: float, to_floor: float | None) -> str:
    floor = f"{to_floor:.2f}" if to_floor is not None else ""
    return (
        f"| {name} | {event} | {cold.median_seconds:.3f} | {cold.median_import_seconds:.3f} "
        f"| {ratio:.2f} | {floor} | {cold.peak_rss_mib:.0f} |"
    )


if __name__ == "__main__":
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))
    code = Path(sys.argv[sys.argv.index("--code") + 1]) if "--code" in sys.argv else REPO
    print(render(measure(smoke="--smoke" in sys.argv, code=code.resolve())))
