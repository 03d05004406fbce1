"""The composition root of the monthly billing export: the exporter over the table (month
locks, `by_month`, tickets, directory) and the exports bucket, built once per Lambda
environment from the settings (helpdesk.settings).

Used by the billing routes and by the jobs function's `billing-export`. Nothing is imported
or built before the first call: the other routes' cold start does not pay for the export
modules (bench/results.md, Cold start).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.adapters.exports_store import ExportsStore
    from helpdesk.billing_export import BillingExporter
    from helpdesk.ports_billing import ExportFiles

_exports_override: ExportFiles | None = None


def exporter_over(table: Table, exports: ExportFiles) -> BillingExporter:
    """The exporter over this table and this exports bucket (tests, the benchmark)."""
    from helpdesk.adapters.dynamodb.billing import DynamoBillingRepository
    from helpdesk.adapters.dynamodb.repositories import (
        DynamoDirectoryRepository,
        DynamoTicketRepository,
    )
    from helpdesk.billing_export import BillingExporter

    return BillingExporter(
        DynamoBillingRepository(table),
        DynamoTicketRepository(table),
        DynamoDirectoryRepository(table),
        exports,
    )


@lru_cache(maxsize=1)
def exports_store() -> ExportsStore:
    from helpdesk.adapters.exports_store import ExportsStore

    return ExportsStore.from_settings()


@lru_cache(maxsize=1)
def billing_exporter() -> BillingExporter:
    """The environment's exporter (the table and the bucket of the settings)."""
    from helpdesk import bootstrap

    return exporter_over(bootstrap.table(), _exports_override or exports_store())


def use_exports(exports: ExportFiles | None) -> None:
    """Export to this bucket from now on (tests, the local stack); None: the settings' one.
    The exporter is built again on its next use."""
    global _exports_override
    _exports_override = exports
    billing_exporter.cache_clear()


def reset() -> None:
    """Forget everything built (tests, harnesses that change the settings between runs)."""
    use_exports(None)
    exports_store.cache_clear()
