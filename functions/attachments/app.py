"""The check of uploaded attachments (DESIGN.md §11): one event, one object, one decision.

Events (EventBridge rules of template.yaml, on the attachments bucket):
- `Object Created` (source `aws.s3`): `detail.bucket.name`, `detail.object.key`,
  `detail.object.version-id`;
- with MalwareScanning enabled, GuardDuty's `GuardDuty Malware Protection Object Scan Result`:
  `detail.s3ObjectDetails.objectKey`, `versionId`, `detail.scanResultDetails.scanResultStatus`;
- an S3 notification (`Records[].s3`, keys URL-encoded) is read too.
Each names one object of `tickets/<n>/attachments/<id>`; helpdesk.attachments.AttachmentService
.check reads it in chunks and decides its record once (a repeated event changes nothing).

A small function on purpose: no HTTP resolver, no pydantic; boto3 and the domain layer only.
Metrics: AttachmentAvailable, AttachmentRejected (one per decision), AttachmentBadEvent.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk import bootstrap_attachments
from helpdesk.attachments import AttachmentService, Checked
from helpdesk.domain.attachments import AttachmentStatus

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"))

SCAN_RESULT = "GuardDuty Malware Protection Object Scan Result"


class BadAttachmentEvent(ValueError):
    """The event names no object; retrying cannot help."""


@lru_cache(maxsize=1)
def service() -> AttachmentService:
    return bootstrap_attachments.attachment_service()


def objects(event: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """(key, version id, scan result) of each object the event names."""
    try:
        if "Records" in event:
            return [
                (
                    unquote_plus(str(r["s3"]["object"]["key"])),
                    r["s3"]["object"].get("versionId"),
                    None,
                )
                for r in event["Records"]
            ]
        detail = event["detail"]
        if event.get("detail-type") == SCAN_RESULT:
            found = detail["s3ObjectDetails"]
            status = detail["scanResultDetails"]["scanResultStatus"]
            return [(str(found["objectKey"]), found.get("versionId"), str(status))]
        return [(str(detail["object"]["key"]), detail["object"].get("version-id"), None)]
    except (KeyError, TypeError) as exc:
        raise BadAttachmentEvent(f"not an S3 or GuardDuty event: {str(event)[:300]}") from exc


def count(result: Checked) -> None:
    if not result.changed:
        return
    name = (
        "AttachmentAvailable"
        if result.status is AttachmentStatus.AVAILABLE
        else "AttachmentRejected"
    )
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        found = objects(event)
    except BadAttachmentEvent:
        metrics.add_metric(name="AttachmentBadEvent", unit=MetricUnit.Count, value=1)
        raise
    results = []
    for key, version, scan in found:
        result = service().check(key, version, scan)
        count(result)
        reply = {
            "key": key,
            "status": result.status.value if result.status else None,
            "changed": result.changed,
            "reason": result.reason,
        }
        logger.info("attachment checked", extra=reply)
        results.append(reply)
    return {"results": results}
