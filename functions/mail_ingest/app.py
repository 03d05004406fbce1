"""Inbound mail: SES stores the raw message in S3, then invokes this function.

Two event shapes reach it, each naming one stored message:
- the SES receipt rule's Lambda action: `Records[].ses.mail.messageId`, the message being at
  `s3://$INBOUND_BUCKET/$INBOUND_PREFIX<messageId>` (the rule's S3 action put it there), and
  `Records[].ses.receipt.recipients` the envelope recipients;
- an S3 notification (and the local SMTP server): `Records[].s3.bucket.name` and
  `Records[].s3.object.key` (URL-encoded).
Each message is read from S3 and handed to the ingestion (helpdesk.mail_ingest), which records
an outcome for every one of them and raises only on transient AWS errors, so that a retry helps.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.adapters import aws_clients
from helpdesk.adapters.dynamo import DynamoStore
from helpdesk.mail_ingest import MailConfig, MailIngestion, MailSource
from helpdesk.settings import get_settings

logger = Logger()


class BadMailEvent(ValueError):
    """The event names no stored message; retrying cannot help."""


@lru_cache(maxsize=1)
def s3_client() -> Any:
    return aws_clients.client("s3", get_settings())


@lru_cache(maxsize=1)
def ingestion() -> MailIngestion:
    settings = get_settings()
    client = aws_clients.client("dynamodb", settings)
    store = DynamoStore(client, settings.table_name)
    return MailIngestion(store, MailConfig.from_env(os.environ), s3=s3_client())


def _ses_source(ses: dict[str, Any]) -> MailSource:
    bucket = os.environ.get("INBOUND_BUCKET", "")
    if not bucket:
        raise BadMailEvent("INBOUND_BUCKET is not set")
    prefix = os.environ.get("INBOUND_PREFIX", "inbound/")
    message_id = str(ses["mail"]["messageId"])
    recipients = tuple(str(r).lower() for r in ses.get("receipt", {}).get("recipients", []))
    return MailSource(bucket, f"{prefix}{message_id}", recipients)


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


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    results = []
    for source in sources(event):
        raw = s3_client().get_object(Bucket=source.bucket, Key=source.key)["Body"].read()
        result = ingestion().ingest(raw, source)
        logger.info("mail handled", extra={"key": source.key, **asdict(result)})
        results.append({"key": source.key, **asdict(result)})
    return {"results": results}
