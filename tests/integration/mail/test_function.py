"""The mail_ingest Lambda: invoked by the SES receipt rule and by S3 notifications."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpdesk.domain.listing import TicketQuery
from helpdesk.service import HelpdeskService
from helpdesk.settings import get_settings
from infra.localstack.lambdas import FakeLambdaContext
from infra.localstack.smtp import s3_put_event
from tests.conftest import MANAGER, TABLE_NAME
from tests.integration.mail.conftest import ATTACHMENTS_BUCKET, INBOUND_BUCKET, corpus
from tests.support.functions import load_function


@pytest.fixture
def function(
    service: HelpdeskService, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    for name, value in {
        "TABLE_NAME": TABLE_NAME,
        "INBOUND_BUCKET": INBOUND_BUCKET,
        "INBOUND_PREFIX": "inbound/",
        "ATTACHMENTS_BUCKET": ATTACHMENTS_BUCKET,
        "MAIL_DOMAIN": "helpdesk.localhost",
    }.items():
        monkeypatch.setenv(name, value)
    module = load_function("mail_ingest")

    def reset() -> None:
        get_settings.cache_clear()
        module.ingestion.cache_clear()
        module.s3_client.cache_clear()

    reset()
    yield module
    reset()


def ses_event(message_id: str, recipients: list[str]) -> dict[str, Any]:
    """What the receipt rule's Lambda action sends (the body is in S3, not in the event)."""
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "messageId": message_id,
                        "source": "fabrice@acme.example",
                        "destination": recipients,
                        "commonHeaders": {"subject": "ignored: read from the raw message"},
                    },
                    "receipt": {
                        "recipients": recipients,
                        "action": {"type": "Lambda", "invocationType": "Event"},
                    },
                },
            }
        ]
    }


def invoke(function: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = function.lambda_handler(event, FakeLambdaContext("mail-ingest"))
    return result


def count(service: HelpdeskService) -> int:
    return len(service.list_tickets(MANAGER, TicketQuery(), None, 100)[0])


def test_an_ses_event_replayed_three_times_gives_one_ticket(
    function: ModuleType, service: HelpdeskService, s3: Any
) -> None:
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/ses-0001", Body=corpus("plain.eml"))
    event = ses_event("ses-0001", ["support@helpdesk.localhost"])
    replies = [invoke(function, event) for _ in range(3)]
    outcomes = [(r["results"][0]["outcome"], r["results"][0]["replayed"]) for r in replies]
    assert outcomes == [
        ("ticket_created", False),
        ("ticket_created", True),
        ("ticket_created", True),
    ]
    assert count(service) == 1
    assert replies[0]["results"][0]["key"] == "inbound/ses-0001"


def test_the_envelope_recipient_of_the_ses_event_chooses_the_type(
    function: ModuleType, service: HelpdeskService, s3: Any
) -> None:
    """A Bcc to incident@ is in the envelope only."""
    raw = corpus("plain.eml").replace(b"To: Support <support@", b"To: Someone <someone@")
    raw = raw.replace(b"Delivered-To: support@helpdesk.localhost\r\n", b"")
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/ses-0002", Body=raw)
    reply = invoke(function, ses_event("ses-0002", ["incident@helpdesk.localhost"]))
    number = reply["results"][0]["ticket_number"]
    assert service.uow.tickets.get(number).type.value == "incident"


def test_an_s3_event_with_an_url_encoded_key(
    function: ModuleType, service: HelpdeskService, s3: Any
) -> None:
    key = "inbound/a message+with spaces"
    s3.put_object(Bucket=INBOUND_BUCKET, Key=key, Body=corpus("attachments.eml"))
    event = s3_put_event(INBOUND_BUCKET, key)
    assert event["Records"][0]["s3"]["object"]["key"] == "inbound%2Fa+message%2Bwith+spaces"
    replies = [invoke(function, event) for _ in range(3)]
    assert {r["results"][0]["ticket_number"] for r in replies} == {1}
    assert count(service) == 1
    stored = s3.list_objects_v2(Bucket=ATTACHMENTS_BUCKET, Prefix="tickets/1/attachments/")
    assert stored["KeyCount"] == 2


def test_an_event_naming_no_message_is_refused(
    function: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(function.BadMailEvent):
        invoke(function, {"Records": [{"something": {}}]})
    with pytest.raises(function.BadMailEvent):
        invoke(function, {"detail-type": "Scheduled Event"})
    _, counts = emitted_metrics(capsys.readouterr().out)
    assert counts == Counter({"MailBadEvent": 2})


def emitted_metrics(output: str) -> tuple[set[str], Counter[str]]:
    """The namespaces and the counts of the metrics in the EMF documents printed."""
    namespaces: set[str] = set()
    counts: Counter[str] = Counter()
    for line in output.splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        if "_aws" not in document:
            continue  # a log line
        for directive in document["_aws"]["CloudWatchMetrics"]:
            namespaces.add(directive["Namespace"])
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                counts[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
    return namespaces, counts


def test_outcomes_are_counted_in_metrics(
    function: ModuleType,
    service: HelpdeskService,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In the namespace of POWERTOOLS_METRICS_NAMESPACE (Helpdesk, as template.yaml sets it)."""
    capsys.readouterr()
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/ok", Body=corpus("plain.eml"))
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/who", Body=corpus("unknown_sender.eml"))
    accepted = invoke(function, s3_put_event(INBOUND_BUCKET, "inbound/ok"))
    quarantined = invoke(function, s3_put_event(INBOUND_BUCKET, "inbound/who"))
    replayed = invoke(function, s3_put_event(INBOUND_BUCKET, "inbound/ok"))
    outcomes = [r["results"][0]["outcome"] for r in (accepted, quarantined, replayed)]
    assert outcomes == ["ticket_created", "quarantined", "ticket_created"]
    namespaces, counts = emitted_metrics(capsys.readouterr().out)
    assert namespaces == {"Helpdesk"}
    assert counts == Counter(
        {"MailAccepted": 1, "TicketsCreated": 1, "MailQuarantined": 1, "MailReplayed": 1}
    )


def test_a_salvaged_message_is_counted_and_answered_as_such(
    function: ModuleType,
    service: HelpdeskService,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = corpus("salvage_nested_same_boundary.eml")
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/broken", Body=body)
    capsys.readouterr()
    [result] = invoke(function, s3_put_event(INBOUND_BUCKET, "inbound/broken"))["results"]
    assert (result["outcome"], result["salvaged"]) == ("ticket_created", True)
    assert "StartBoundaryNotFoundDefect" in result["defects"]
    _, counts = emitted_metrics(capsys.readouterr().out)
    assert counts == Counter({"MailAccepted": 1, "TicketsCreated": 1, "MailSalvaged": 1})


def test_a_transient_error_is_counted_as_failed_and_raised(
    function: ModuleType,
    service: HelpdeskService,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.exceptions import ClientError

    from helpdesk.adapters.dynamodb.toolkit import Table

    def throttled(self: Table, operations: list[dict[str, Any]]) -> None:
        error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
        raise ClientError(error, "TransactWriteItems")

    monkeypatch.setattr(Table, "transact", throttled)
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/slow", Body=corpus("plain.eml"))
    capsys.readouterr()
    with pytest.raises(ClientError):  # Lambda retries the event
        invoke(function, s3_put_event(INBOUND_BUCKET, "inbound/slow"))
    _, counts = emitted_metrics(capsys.readouterr().out)
    assert counts == Counter({"MailFailed": 1})
    assert count(service) == 0


def test_the_log_lines_carry_the_message_as_correlation_id(
    function: ModuleType, service: HelpdeskService, s3: Any
) -> None:
    """The SES message id, or for an S3 notification without a request id, the object key."""
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/ses-0003", Body=corpus("plain.eml"))
    # Stream and level were set when the module was loaded (the corpus run loads it quiet; a
    # test that loaded it under capsys leaves a closed stream, which setStream would flush).
    logger, handler = function.logger, function.logger.registered_handler
    logged, level = io.StringIO(), logger.log_level
    previous, handler.stream = handler.stream, logged
    logger.setLevel("INFO")
    try:
        invoke(function, ses_event("ses-0003", ["support@helpdesk.localhost"]))
        invoke(function, s3_put_event(INBOUND_BUCKET, "inbound/ses-0003"))
    finally:
        handler.stream = previous
        logger.setLevel(level)
    lines = [json.loads(line) for line in logged.getvalue().splitlines() if line]
    handled = [line for line in lines if line.get("message") == "mail handled"]
    assert [line.get("correlation_id") for line in handled] == [
        "ses-0003",
        "inbound%2Fses-0003",
    ]


def test_a_cold_start_imports_no_attachment_code() -> None:
    """Most mail has no files: in a fresh interpreter, importing the handler and building
    its ingestion (attachments bucket set) loads no attachment module (issue 21: they come
    with the first mail that has files)."""
    root = Path(__file__).resolve().parents[3]
    script = """
import json, sys
import app
app.ingestion()
print(json.dumps(sorted(m for m in sys.modules if m in {
    "helpdesk.attachments", "helpdesk.adapters.attachments", "helpdesk.bootstrap_attachments",
    "helpdesk.adapters.dynamodb.attachments", "helpdesk.ports_attachments",
})))
"""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f".{os.pathsep}{root / 'layers' / 'domain'}",
        "TABLE_NAME": "helpdesk-cold",
        "ATTACHMENTS_BUCKET": "helpdesk-cold-attachments",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "cold",
        "AWS_SECRET_ACCESS_KEY": "cold",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root / "functions" / "mail_ingest",
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
