"""The quote-approval state machine's steps: remind the client, expire the quote.

Invoked by Step Functions (`arn:aws:states:::lambda:invoke`) with
`{"action": "remind" | "expire", "ticket_number": n, "quote_version": v, "reminder": k}`:

- `remind` queues the client's k-th reminder (outbox, conditional on the ticket still awaiting
  that version) and answers `{"still_awaiting": bool}`;
- `expire` performs `expire-quote` as the system and answers `{"expired": bool}`; False means
  the table refused it (the client decided first): the execution ends cleanly.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk import bootstrap
from helpdesk.adapters.aws_clients import share_botocore_data
from helpdesk.quote_approval import QuoteApprovalSteps

logger = Logger()
share_botocore_data()  # before Tracer(): one parse of botocore's data per process
# botocore only: patch_all() would import and patch every library X-Ray knows.
tracer = Tracer(patch_modules=("botocore",))
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))


class BadStepEvent(ValueError):
    """Not an event of the state machine; retrying cannot help."""


@lru_cache(maxsize=1)
def default_steps() -> QuoteApprovalSteps:
    return QuoteApprovalSteps(bootstrap.service())


def parse_event(event: dict[str, Any]) -> tuple[str, int, int, int]:
    try:
        action = str(event["action"])
        number, version = int(event["ticket_number"]), int(event["quote_version"])
        reminder = int(event.get("reminder", 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadStepEvent(f"not a quote-approval step: {event!r}") from exc
    if action not in ("remind", "expire"):
        raise BadStepEvent(f"unknown action {action!r}")
    return action, number, version, reminder


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, bool]:
    action, number, version, reminder = parse_event(event)
    steps = default_steps()
    if action == "remind":
        still = steps.remind(number, version, reminder)
        metrics.add_metric(name="QuoteReminders", unit=MetricUnit.Count, value=int(still))
        logger.info(
            "quote reminder",
            extra={
                "ticket": number,
                "quote_version": version,
                "reminder": reminder,
                "still_awaiting": still,
            },
        )
        return {"still_awaiting": still}
    expired = steps.expire(number, version)
    metrics.add_metric(name="QuotesExpired", unit=MetricUnit.Count, value=int(expired))
    logger.info(
        "quote expiry", extra={"ticket": number, "quote_version": version, "expired": expired}
    )
    return {"expired": expired}
