"""Sends the outbox: the table's stream delivers each new outbox item to this function.

The event source mapping filters on INSERTs of `entity = outbox` items; failures are reported
per record (partial batch response) so only they are retried. An item's `channel` says what it
is: `mail` (or none, items older than channels) goes out through SES; `workflow` is a command to
the quote-approval state machine (start an execution, resume it with the client's decision).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.adapters.dynamo import DynamoStore
from helpdesk.adapters.items import OUTBOX_WORKFLOW
from helpdesk.adapters.mailer import SesMailer
from helpdesk.notifier import Notifier
from helpdesk.settings import get_settings
from helpdesk.workflow_commands import WorkflowCommands

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@lru_cache(maxsize=1)
def default_notifier() -> Notifier:
    settings = get_settings()
    dynamodb = boto3.client(
        "dynamodb", region_name=settings.aws_region, endpoint_url=settings.endpoint_url
    )
    ses = boto3.client("sesv2", region_name=settings.aws_region, endpoint_url=settings.endpoint_url)
    return Notifier(
        DynamoStore(dynamodb, settings.table_name),
        SesMailer(ses, settings.sender),
        settings.mail_domain,
    )


@lru_cache(maxsize=1)
def default_commands() -> WorkflowCommands:
    settings = get_settings()
    dynamodb = boto3.client(
        "dynamodb", region_name=settings.aws_region, endpoint_url=settings.endpoint_url
    )
    sfn = boto3.client(
        "stepfunctions", region_name=settings.aws_region, endpoint_url=settings.endpoint_url
    )
    return WorkflowCommands(
        DynamoStore(dynamodb, settings.table_name), sfn, settings.quote_state_machine_arn
    )


def record_handler(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image or image.get("entity") != "outbox":
        return  # the filter lets only outbox inserts through; anything else is not ours
    if image.get("channel") == OUTBOX_WORKFLOW:
        result = default_commands().execute(str(image["pk"]), str(image["sk"]))
        metrics.add_metric(name=f"Workflow_{result.outcome}", unit=MetricUnit.Count, value=1)
        logger.info("workflow command run", extra={"sk": image["sk"], "outcome": result.outcome})
        return
    delivery = default_notifier().deliver(str(image["pk"]), str(image["sk"]))
    metrics.add_metric(name=f"Mail_{delivery.outcome}", unit=MetricUnit.Count, value=1)
    logger.info("outbox delivered", extra={"sk": image["sk"], "outcome": delivery.outcome})


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
