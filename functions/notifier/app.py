"""Sends the outbox: the table's stream delivers each new outbox item to this function.

The event source mapping filters on INSERTs of `entity = outbox` items; failures are reported
per record (partial batch response) so only they are retried. An item's `channel` says what it
is: `mail` (or none, items older than channels) goes out through SES; `workflow` is a command to
the quote-approval state machine (start an execution, resume it with the client's decision).

The partial batch response is built here rather than with Powertools' batch utility, whose
import (~75 ms, all its processors and data classes) was a third of this function's cold start
for a loop of a few lines (bench/results.md, Cold start).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk import bootstrap
from helpdesk.domain.outbox import Channel

logger = Logger()
# botocore only: patch_all() would import and patch every library X-Ray knows.
tracer = Tracer(patch_modules=("botocore",))
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))


def _string(image: dict[str, Any], name: str) -> str | None:
    """A string attribute of a stream image (DynamoDB JSON: `{"S": "..."}`)."""
    value = image.get(name)
    return str(value["S"]) if isinstance(value, dict) and "S" in value else None


def record_handler(record: dict[str, Any]) -> None:
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    pk, sk = _string(image, "pk"), _string(image, "sk")
    if _string(image, "entity") != "outbox" or pk is None or sk is None:
        return  # the filter lets only outbox inserts through; anything else is not ours
    if _string(image, "channel") == Channel.WORKFLOW.value:
        result = bootstrap.workflow_commands().execute(pk, sk)
        metrics.add_metric(name=f"Workflow_{result.outcome}", unit=MetricUnit.Count, value=1)
        logger.info("workflow command run", extra={"sk": sk, "outcome": result.outcome})
        return
    delivery = bootstrap.notifier().deliver(pk, sk)
    metrics.add_metric(name=f"Mail_{delivery.outcome}", unit=MetricUnit.Count, value=1)
    logger.info("outbox delivered", extra={"sk": sk, "outcome": delivery.outcome})


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Each record on its own; a failed one is reported (by sequence number) for a retry.

    The event source mapping has ReportBatchItemFailures: Lambda retries from the first
    reported record, and the ones after it that succeeded come again (delivery is idempotent).
    """
    failures = []
    for record in event.get("Records") or []:
        try:
            record_handler(record)
        except Exception:
            sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
            logger.exception("outbox record failed", extra={"sequence_number": sequence})
            failures.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failures}
