"""Scheduled jobs (EventBridge Scheduler): auto-closure, the service-level watch (every 15
minutes), the monthly task rollover and the monthly billing export.

The schedule's input is `{"job": "<name>", "at": "<aws.scheduler.scheduled-time>"}`: the job
runs "as of" that time, so an operator can replay it for any instant.
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk import bootstrap
from helpdesk.adapters.aws_clients import share_botocore_data
from helpdesk.domain.calendar import parse_instant
from helpdesk.domain.errors import InvalidInput
from helpdesk.jobs import AutoCloseJob, JobReport, SlaWatchJob, TaskRolloverJob, check_run_time

if TYPE_CHECKING:  # the monthly export's modules load on its run only (hourly runs' cold start)
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork

logger = Logger()
share_botocore_data()  # before Tracer(): one parse of botocore's data per process
# botocore only: patch_all() would import and patch every library X-Ray knows.
tracer = Tracer(patch_modules=("botocore",))
# The namespace as the handler sets it (tests run without POWERTOOLS_METRICS_NAMESPACE).
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

METRICS = {
    "examined": "TicketsExamined",
    "closed": "TicketsClosed",
    "reminded": "TicketsReminded",
    "tasks_created": "TasksCreated",
    "conflicts": "Conflicts",
    "items_read": "ItemsRead",
}


class BadScheduleEvent(ValueError):
    """The event is not a schedule input this function knows; retrying cannot help."""


@lru_cache(maxsize=1)
def default_uow() -> DynamoUnitOfWork:
    return bootstrap.unit_of_work()


def run_job(name: str, at: datetime, uow: DynamoUnitOfWork) -> JobReport:
    if name == "billing-export":
        from helpdesk import bootstrap_billing
        from helpdesk.billing_job import BillingExportJob

        return BillingExportJob(bootstrap_billing.billing_exporter()).run(at)
    if name == "auto-close":
        return AutoCloseJob(uow).run(at)
    if name == "task-rollover":
        return TaskRolloverJob(uow).run(at)
    if name == "sla-watch":
        return SlaWatchJob(uow).run(at)
    raise BadScheduleEvent(f"unknown job {name!r}")


def parse_event(event: dict[str, Any]) -> tuple[str, datetime]:
    """The job and its run time; a time that is no instant, or outside the years the jobs
    accept (helpdesk.jobs.check_run_time: 2000-2999), is a bad event, refused before anything
    is read or written."""
    try:
        name, at = str(event["job"]), parse_instant(str(event["at"]))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise BadScheduleEvent(f"not a schedule event: {event!r}"[:500]) from exc
    try:
        return name, check_run_time(at)
    except InvalidInput as exc:
        raise BadScheduleEvent(f"{exc.detail} (event: {event!r})"[:500]) from exc


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    name, at = parse_event(event)
    report = run_job(name, at, default_uow())
    metrics.add_dimension(name="job", value=name)
    for attribute, metric in METRICS.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=getattr(report, attribute))
    if name == "sla-watch":  # one per clock found missed (the SlaMissed alarm, §10)
        metrics.add_metric(name="SlaMissed", unit=MetricUnit.Count, value=report.sla_missed)
        metrics.add_metric(name="SlaAtRisk", unit=MetricUnit.Count, value=report.sla_at_risk)
    logger.info("job done", extra=report.as_dict())
    return report.as_dict()
