"""Sends the outbox: the table's stream delivers each new outbox item to this function.

The event source mapping filters on INSERTs of `entity = outbox` items; failures are reported
per record (partial batch response) so only they are retried. An item's `channel` says what it
is: `mail` (or none, items older than channels) goes out through SES; `workflow` is a command to
the quote-approval state machine (start an execution, resume it with the client's decision).

The partial batch response is built here rather than with Powertools' batch utility, whose
import (~75 ms, all its processors and data classes) was a third of this function's cold start
for a loop of a few lines (bench/results.md, Cold start).

Metrics (namespace POWERTOOLS_METRICS_NAMESPACE, dimension `service`), the alarms of
template.yaml and docs/operations.md: `Mail_<outcome>` and `Workflow_<outcome>` per item
performed; `OutboxFailed` per record that failed (it is retried, then lands in the dead-letter
queue); `OutboxOldestAge`, in seconds, the age of each item this run finds not yet performed
(performed now, or failing). The stream hands a shard's items over in order, so the Maximum of
`OutboxOldestAge` over a period is the age of the oldest item still waiting to be performed: a
stuck item (SES refusing, a bug) shows as an age growing with each retry. A stream that stops
calling this function at all shows in Lambda's own IteratorAge, alarmed too.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk import bootstrap
from helpdesk.adapters.aws_clients import share_botocore_data
from helpdesk.domain.calendar import parse_instant
from helpdesk.domain.outbox import Channel

logger = Logger()
share_botocore_data()  # before Tracer(): one parse of botocore's data per process
# botocore only: patch_all() would import and patch every library X-Ray knows.
tracer = Tracer(patch_modules=("botocore",))
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

OUTBOX_AGE_METRIC = "OutboxOldestAge"
OUTBOX_FAILED_METRIC = "OutboxFailed"
# Outcomes of an item some earlier run had already performed: its age says nothing of a delay.
ALREADY_PERFORMED = frozenset({"already_sent", "already_done"})


def _string(image: dict[str, Any], name: str) -> str | None:
    """A string attribute of a stream image (DynamoDB JSON: `{"S": "..."}`)."""
    value = image.get(name)
    return str(value["S"]) if isinstance(value, dict) and "S" in value else None


def _age_seconds(image: dict[str, Any], now: datetime) -> float | None:
    """Seconds since the item was stored with its change (None if it carries no time)."""
    created = _string(image, "created_at")
    try:
        return max(0.0, (now - parse_instant(created)).total_seconds()) if created else None
    except ValueError:
        return None


def _count_age(age: float | None) -> None:
    if age is not None:
        metrics.add_metric(name=OUTBOX_AGE_METRIC, unit=MetricUnit.Seconds, value=age)


def record_handler(record: dict[str, Any]) -> None:
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    pk, sk = _string(image, "pk"), _string(image, "sk")
    if _string(image, "entity") != "outbox" or pk is None or sk is None:
        return  # the filter lets only outbox inserts through; anything else is not ours
    age = _age_seconds(image, datetime.now(UTC))
    try:
        if _string(image, "channel") == Channel.WORKFLOW.value:
            result = bootstrap.workflow_commands().execute(pk, sk)
            outcome, metric, message = result.outcome, "Workflow", "workflow command run"
        else:
            delivery = bootstrap.notifier().deliver(pk, sk)
            outcome, metric, message = delivery.outcome, "Mail", "outbox delivered"
    except Exception:
        _count_age(age)  # still not performed: the retry will find it older
        raise
    if outcome not in ALREADY_PERFORMED:
        _count_age(age)
    metrics.add_metric(name=f"{metric}_{outcome}", unit=MetricUnit.Count, value=1)
    logger.info(message, extra={"sk": sk, "outcome": outcome, "age_seconds": age})


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
            metrics.add_metric(name=OUTBOX_FAILED_METRIC, unit=MetricUnit.Count, value=1)
            failures.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failures}
