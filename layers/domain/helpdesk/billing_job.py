"""The scheduled billing export (functions/jobs, `billing-export`): on the 1st at 02:00
(Paris), the month before. Apart from helpdesk.billing_export so that the billing routes do not
import the jobs' module (bench/results.md, Cold start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpdesk.billing_export import BillingExporter
from helpdesk.domain.calendar import iso, paris_month, previous_month
from helpdesk.domain.model import SYSTEM
from helpdesk.jobs import JobReport, check_run_time


@dataclass
class BillingJobReport(JobReport):
    month: str = ""
    outcome: str = ""  # exported | already_exported
    export_id: str = ""
    lines: int = 0
    minutes: int = 0
    amount: str = "0.00"


class BillingExportJob:
    """Scheduled on the 1st at 02:00 (Paris): exports the month before `at`."""

    def __init__(self, exporter: BillingExporter) -> None:
        self.exporter = exporter

    def run(self, at: datetime) -> BillingJobReport:
        at = check_run_time(at)  # years 2000-2999, as every job
        month = previous_month(paris_month(at))
        result = self.exporter.export(SYSTEM, month, at)
        manifest = result.document
        return BillingJobReport(
            job="billing-export",
            at=iso(at),
            items_read=int(manifest["entries"]["read"]),
            month=month,
            outcome="exported" if result.created else "already_exported",
            export_id=str(manifest["export_id"]),
            lines=int(manifest["row_counts"]["lines"]),
            minutes=int(manifest["totals"]["minutes"]),
            amount=str(manifest["totals"]["amount"]),
        )
