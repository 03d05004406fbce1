"""Hostile and malformed mail through the ingestion function: none crashes it, none is lost.

Each message goes the way SES delivers it: its raw bytes into the inbound bucket, then the
mail_ingest Lambda handler (functions/mail_ingest/app.py) invoked with the S3 notification,
against moto with the table of template.yaml. The corpus is the files of
tests/integration/mail/corpus plus generated nasties (huge headers, deep nesting, thousands of
identical parts, repetitive megabytes, truncations, random bytes). Every message must end with
a final outcome recorded under `MAIL#<sha256>`: a ticket, a comment, or a quarantine record.
The same messages then go through the running stack's SMTP port, which must accept them.
"""

from __future__ import annotations

import os
import random
import smtplib
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

import infra.localstack  # noqa: F401  (puts the layer, `helpdesk`, on sys.path)
from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.mail import DynamoMailRepository
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.service import HelpdeskService
from helpdesk.settings import get_settings
from infra.cfn_template import create_table_from_template, load_template
from infra.localstack.lambdas import FakeLambdaContext
from infra.localstack.smtp import s3_put_event
from infra.moto_serial import serialise_moto_dynamodb
from tests.conftest import seed_directory
from tests.e2e.support import REPO_ROOT
from tests.reliability import Figure, StackContext
from tests.support.aws import FAKE_AWS_ENVIRONMENT, REGION
from tests.support.functions import load_function

AREA = "mail corpus"
CORPUS_DIR = REPO_ROOT / "tests" / "integration" / "mail" / "corpus"
SEED = 20261128
TABLE = "helpdesk-mail-corpus"
INBOUND_BUCKET = "helpdesk-corpus-inbound"
ATTACHMENTS_BUCKET = "helpdesk-corpus-attachments"
DOMAIN = "helpdesk.localhost"
ACCEPTED = {"ticket_created", "comment_added"}
QUARANTINED = "quarantined"
BOUNCE_RECORDED = "bounce_recorded"
# Our own mails the corpus's delivery reports (bounce_ours*.eml) are about, as the outbound
# notifier records them: ticket 1 is the corpus's first message (attachments.eml).
OUR_SENT_MAIL = {"ack-1@helpdesk.localhost": 1, "taken-1@helpdesk.localhost": 1}
# The corpus is about parsing; the per-sender hourly limit has its own tests.
ENVIRONMENT = {
    **FAKE_AWS_ENVIRONMENT,
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "TABLE_NAME": TABLE,
    "INBOUND_BUCKET": INBOUND_BUCKET,
    "INBOUND_PREFIX": "inbound/",
    "ATTACHMENTS_BUCKET": ATTACHMENTS_BUCKET,
    "MAIL_DOMAIN": DOMAIN,
    "MAIL_RATE_LIMIT": "100000",
}
SMTP_MAX_BYTES = 5 * 1024 * 1024
TO = b"To: support@helpdesk.localhost\r\n"
HEAD = b"From: fabrice@acme.example\r\n" + TO


# ------------------------------------------------------------------ the corpus


def corpus_files() -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted(CORPUS_DIR.glob("*.eml"))]


def generated(random_messages: int = 40) -> list[tuple[str, bytes]]:
    """Nasties too big or too random to keep as files, the same on every run."""
    rng = random.Random(SEED)
    plain = (CORPUS_DIR / "plain.eml").read_bytes()
    attachment = (
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        b'filename="same.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nQUFBQQ==\r\n'
    )
    messages = [
        ("huge_headers", _huge_headers(plain)),
        ("deep_nesting", _deep_nesting(5000)),
        (
            "thousands_of_identical_parts",
            HEAD
            + b"Subject: parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            + attachment * 2000
            + b"--b--\r\n",
        ),
        (
            "repetitive_megabytes",
            HEAD + b"Subject: repeated\r\n\r\n" + b"toujours la meme ligne\r\n" * 380_000,
        ),
        ("over_the_size_limit", HEAD + b"Subject: big\r\n\r\n" + b"x" * (11 * 1024 * 1024)),
        ("nul_bytes", HEAD.replace(b"fabrice", b"fab\x00rice") + b"Subject: \x00\r\n\r\n\x00\x00"),
        ("bare_cr_and_lf", plain.replace(b"\r\n", b"\r").replace(b"Subject", b"\nSubject")),
        ("header_without_colon", HEAD + b"this is not a header\r\n\r\nbody\r\n"),
        ("only_whitespace", b" \r\n\t\r\n\r\n"),
        ("empty", b""),
        ("unicode_separators", HEAD + "Subject: a\u2028b\u0085c\r\n\r\nx\u2029y".encode()),
        ("thousands_of_named_parts", _named_parts(3000)),
        ("huge_sender", b"From: " + b"a" * 300_000 + b"@acme.example\r\n" + TO + b"\r\n"),
        ("huge_filename", _single_attachment(b"\xc3\xa9" * 100_000 + b".pdf")),
        (
            "thousands_of_references",
            HEAD
            + b"Subject: refs\r\nReferences: "
            + b" ".join(b"<r%d@x>" % i for i in range(20_000))
            + b"\r\nIn-Reply-To: <"
            + b"q" * 5000
            + b"@x>\r\n\r\nbody\r\n",
        ),
        (
            "thousands_of_recipients",
            b"From: fabrice@acme.example\r\nTo: "
            + b", ".join(b"u%d@helpdesk.localhost" % i for i in range(5000))
            + b", support@helpdesk.localhost\r\nSubject: many\r\n\r\nbody\r\n",
        ),
    ]
    messages += [
        (f"truncated_{name.removesuffix('.eml')}", raw[: len(raw) // 2])
        for name, raw in corpus_files()
    ]
    messages += [
        (f"random_bytes_{i}", rng.randbytes(rng.randrange(1, 6000))) for i in range(random_messages)
    ]
    return messages


def _huge_headers(plain: bytes) -> bytes:
    junk = b"".join(b"X-Junk-%d: %s\r\n" % (i, b"y" * 900) for i in range(3000))
    subject = b"Subject: " + b"tres long " * 20000 + b"\r\n"
    message_id = b"Message-ID: <" + b"z" * 100_000 + b"@acme.example>\r\n"
    return junk + subject + message_id + plain.replace(b"Message-ID:", b"X-Old-Id:")


def _deep_nesting(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return HEAD + b"Subject: nest\r\n" + opening + b"Content-Type: text/plain\r\n\r\ndeep" + closing


def _named_parts(count: int) -> bytes:
    parts = b"".join(
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        b'filename="%s-%05d.bin"\r\n\r\nA\r\n' % (b"n" * 130, i)
        for i in range(count)
    )
    return (
        HEAD
        + b"Subject: names\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + parts
        + b"--b--\r\n"
    )


def _single_attachment(filename: bytes) -> bytes:
    return (
        HEAD
        + b"Subject: file\r\nContent-Type: application/pdf\r\n"
        + b'Content-Disposition: attachment; filename="'
        + filename
        + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n'
    )


def hostile_corpus(random_messages: int = 40) -> list[tuple[str, bytes]]:
    return corpus_files() + generated(random_messages)


# ------------------------------------------------------------- the function


@dataclass
class CorpusRun:
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    salvaged: int = 0  # accepted though their MIME structure was broken
    crashes: list[str] = field(default_factory=list)  # "name: exception"
    lost: list[str] = field(default_factory=list)  # no final record, or another outcome
    seconds: float = 0.0

    @property
    def accepted(self) -> int:
        return sum(self.outcomes[o] for o in ACCEPTED)


@contextmanager
def ingestion_function() -> Iterator[tuple[ModuleType, Any, DynamoMailRepository]]:
    """The mail_ingest handler over a fresh moto: the module, an S3 client, the mail records."""
    serialise_moto_dynamodb()
    with mock.patch.dict(os.environ, ENVIRONMENT), mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(dynamodb, load_template(), "TicketsTable", TABLE)
        table = Table(dynamodb, TABLE)
        seed_directory(HelpdeskService(DynamoUnitOfWork(table)))  # acme.example, globex.example
        for message_id, number in OUR_SENT_MAIL.items():
            table.write(table.put({**keys.message_id_key(message_id), "ticket_number": number}))
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (INBOUND_BUCKET, ATTACHMENTS_BUCKET):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        function = load_function("mail_ingest")
        _reset(function)
        try:
            yield function, s3, DynamoMailRepository(table)
        finally:
            _reset(function)


def _reset(function: ModuleType) -> None:
    """The handler caches its clients and settings: the next user has another moto."""
    get_settings.cache_clear()
    function.ingestion.cache_clear()
    function.s3_client.cache_clear()


def ingest_all(messages: list[tuple[str, bytes]]) -> CorpusRun:
    run = CorpusRun()
    started = time.monotonic()
    with ingestion_function() as (function, s3, mail):
        for index, (name, raw) in enumerate(messages):
            key = f"inbound/{index:05d}-{name}"
            s3.put_object(Bucket=INBOUND_BUCKET, Key=key, Body=raw)
            run.sent += 1
            try:
                reply = function.lambda_handler(
                    s3_put_event(INBOUND_BUCKET, key), FakeLambdaContext("mail-ingest")
                )
            except Exception as exc:  # the figure: a crash is counted, not raised
                run.crashes.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            [result] = reply["results"]
            run.outcomes[result["outcome"]] += 1
            run.salvaged += bool(result.get("salvaged"))
            record = mail.get(result["sha256"])
            if not record.final or record.outcome != result["outcome"]:
                run.lost.append(f"{name}: recorded {record.outcome}, answered {result['outcome']}")
    run.seconds = time.monotonic() - started
    return run


# ------------------------------------------------------------------- SMTP


def send_over_smtp(port: int, messages: list[tuple[str, bytes]]) -> Counter[str]:
    """Each message to the stack's SMTP server: `accepted`, or the server's refusal code.

    SMTP carries CRLF-ended lines of at most 998 bytes (RFC 5321): each message is sent with
    its lines so ended and cut (`_wrapped`), the rest of its bytes as they are.
    """
    replies: Counter[str] = Counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
        for _name, raw in messages:
            try:
                smtp.sendmail("corpus@acme.example", ["support@helpdesk.localhost"], _wrapped(raw))
                replies["accepted"] += 1
            except smtplib.SMTPResponseException as exc:
                replies[f"refused {exc.smtp_code}"] += 1
                smtp.rset()
    return replies


def _wrapped(raw: bytes) -> bytes:
    """CRLF line ends and lines cut at 990 bytes: what SMTP can carry (a sending MTA's job)."""
    lines = raw.splitlines()
    return b"\r\n".join(line[i : i + 990] for line in lines for i in range(0, len(line) or 1, 990))


# ----------------------------------------------------------------- figures


def figures(run: CorpusRun, smtp_replies: Counter[str] | None = None) -> list[Figure]:
    counted = {*ACCEPTED, QUARANTINED, BOUNCE_RECORDED}
    other = {o: n for o, n in run.outcomes.items() if o not in counted}
    result = [
        Figure(AREA, "messages sent to the function", run.sent),
        Figure(AREA, "crashes", len(run.crashes), not run.crashes, "; ".join(run.crashes[:3])),
        Figure(AREA, "accepted (ticket or comment)", run.accepted),
        Figure(AREA, "salvaged (broken MIME, text read anyway)", run.salvaged),
        Figure(AREA, "quarantined", run.outcomes[QUARANTINED]),
        Figure(AREA, "bounces of our mail recorded", run.outcomes[BOUNCE_RECORDED]),
        Figure(AREA, "other outcomes", sum(other.values()), True, _counts(other)),
        Figure(
            AREA, "lost (no final record)", len(run.lost), not run.lost, "; ".join(run.lost[:3])
        ),
        Figure(AREA, "duration (s)", round(run.seconds, 1)),
    ]
    if smtp_replies is not None:
        refused = sum(n for reply, n in smtp_replies.items() if reply != "accepted")
        result.append(
            Figure(
                AREA,
                "refused by the stack's SMTP",
                refused,
                refused == 0,
                _counts(smtp_replies),
            )
        )
    return result


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))


def measure(context: StackContext) -> list[Figure]:
    messages = hostile_corpus()
    run = ingest_all(messages)
    # The multi-megabyte ones have had their turn in the function; SMTP refuses an empty DATA.
    smtp_sized = [(name, raw) for name, raw in messages if 0 < len(raw) < SMTP_MAX_BYTES]
    return figures(run, send_over_smtp(context.smtp_port, smtp_sized))
