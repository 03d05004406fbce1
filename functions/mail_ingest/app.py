"""Inbound mail: SES stores the raw message in S3, then invokes this function.

Two event shapes reach it, each naming one stored message:
- the SES receipt rule's Lambda action: `Records[].ses.mail.messageId`, the message being at
  `s3://$INBOUND_BUCKET/$INBOUND_PREFIX<messageId>` (the rule's S3 action put it there), and
  `Records[].ses.receipt.recipients` the envelope recipients;
- an S3 notification (and the local SMTP server): `Records[].s3.bucket.name` and
  `Records[].s3.object.key` (URL-encoded).
Each message is read from S3 and handed to the ingestion (helpdesk.mail_ingest, built by
helpdesk.bootstrap_mail from helpdesk.settings), which records an outcome for every one of them
and raises only on transient errors, so that a retry helps.

Metrics (namespace POWERTOOLS_METRICS_NAMESPACE), one count per message and delivery:
MailAccepted (a ticket or a comment), MailQuarantined, MailFailed (recorded `failed`, or a
transient error raised for a retry), MailDuplicate, MailIgnored (auto-replies, bounces),
MailBounceRecorded (a bounce of our own mail, recorded on its ticket),
MailRateLimited, and MailReplayed for a delivery of a message already handled (its outcome was
counted when it was decided); MailBadEvent for an event that names no stored message; and
MailSalvaged, besides MailAccepted, for a message of broken MIME structure read anyway;
TicketsCreated, besides MailAccepted, for a message that opened a ticket (as the API counts the
tickets it creates). MailFailed is alarmed (template.yaml, docs/operations.md).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk import bootstrap_mail
from helpdesk.adapters.aws_clients import share_botocore_data
from helpdesk.domain.mail import MailOutcomeKind
from helpdesk.mail_ingest import IngestResult, MailIngestion, MailSource
from helpdesk.settings import get_settings

logger = Logger()
share_botocore_data()  # before Tracer(): one parse of botocore's data per process
# botocore only: patch_all() would import and patch every library X-Ray knows.
tracer = Tracer(patch_modules=("botocore",))
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

# The SES message id, else the S3 notification's request id, else the object's key.
CORRELATION_ID_PATH = (
    "Records[0].ses.mail.messageId"
    ' || Records[0].responseElements."x-amz-request-id"'
    " || Records[0].s3.object.key"
)
OUTCOME_METRICS = {
    MailOutcomeKind.TICKET_CREATED: "MailAccepted",
    MailOutcomeKind.COMMENT_ADDED: "MailAccepted",
    MailOutcomeKind.QUARANTINED: "MailQuarantined",
    MailOutcomeKind.FAILED: "MailFailed",
    MailOutcomeKind.DUPLICATE: "MailDuplicate",
    MailOutcomeKind.IGNORED_AUTO_REPLY: "MailIgnored",
    MailOutcomeKind.BOUNCE_RECORDED: "MailBounceRecorded",
    MailOutcomeKind.RATE_LIMITED: "MailRateLimited",
}
REPLAYED_METRIC = "MailReplayed"
BAD_EVENT_METRIC = "MailBadEvent"  # an event naming no stored message (a misconfiguration)
SALVAGED_METRIC = "MailSalvaged"  # accepted, though its MIME structure was broken
TICKETS_CREATED_METRIC = "TicketsCreated"  # as the API counts them (the dashboard's figures)


class BadMailEvent(ValueError):
    """The event names no stored message; retrying cannot help."""


@lru_cache(maxsize=1)
def s3_client() -> Any:
    return bootstrap_mail.s3_client()


@lru_cache(maxsize=1)
def ingestion() -> MailIngestion:
    return bootstrap_mail.mail_ingestion(s3=s3_client())


def _ses_source(ses: dict[str, Any]) -> MailSource:
    settings = get_settings()
    if not settings.inbound_bucket:
        raise BadMailEvent("INBOUND_BUCKET is not set")
    message_id = str(ses["mail"]["messageId"])
    recipients = tuple(str(r).lower() for r in ses.get("receipt", {}).get("recipients", []))
    return MailSource(settings.inbound_bucket, f"{settings.inbound_prefix}{message_id}", recipients)


def _s3_source(s3: dict[str, Any]) -> MailSource:
    return MailSource(str(s3["bucket"]["name"]), unquote_plus(str(s3["object"]["key"])))


def sources(event: dict[str, Any]) -> list[MailSource]:
    """The stored messages an SES or S3 event names."""
    try:
        records = event["Records"]
        found = [_ses_source(r["ses"]) if "ses" in r else _s3_source(r["s3"]) for r in records]
    except (KeyError, TypeError) as exc:
        raise BadMailEvent(f"not an SES or S3 event: {str(event)[:300]}") from exc
    if not found:
        raise BadMailEvent("the event has no records")
    return found


def count(result: IngestResult) -> None:
    name = REPLAYED_METRIC if result.replayed else OUTCOME_METRICS[result.outcome]
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    if result.outcome is MailOutcomeKind.TICKET_CREATED and not result.replayed:
        metrics.add_metric(name=TICKETS_CREATED_METRIC, unit=MetricUnit.Count, value=1)
    if result.salvaged and not result.replayed:
        metrics.add_metric(name=SALVAGED_METRIC, unit=MetricUnit.Count, value=1)


def ingest(source: MailSource) -> dict[str, Any]:
    raw = s3_client().get_object(Bucket=source.bucket, Key=source.key)["Body"].read()
    try:
        result = ingestion().ingest(raw, source)
    except Exception:  # transient (the ingestion raises nothing else): Lambda retries
        metrics.add_metric(name="MailFailed", unit=MetricUnit.Count, value=1)
        raise
    count(result)
    reply = {
        "key": source.key,
        **asdict(result),
        "outcome": result.outcome.value,
        "salvaged": result.salvaged,
    }
    logger.info("mail handled", extra=reply)
    return reply


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        found = sources(event)
    except BadMailEvent:
        metrics.add_metric(name=BAD_EVENT_METRIC, unit=MetricUnit.Count, value=1)
        raise
    return {"results": [ingest(source) for source in found]}
