"""The unit of work over the single table: the changes a use case adds, as ONE transaction.

Each change becomes one or more operations (helpdesk.adapters.dynamodb.commit_plan), each
tagged with what its failed condition means. A cancelled transaction is read by those tags,
never by position.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from helpdesk.adapters.dynamodb.links import DynamoActionLinks
from helpdesk.adapters.dynamodb.repositories import (
    DynamoDirectoryRepository,
    DynamoTicketRepository,
)
from helpdesk.adapters.dynamodb.toolkit import CONDITION_FAILED, Table, cancellation_codes

if TYPE_CHECKING:
    from helpdesk.changes import Change


class DynamoUnitOfWork:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.tickets = DynamoTicketRepository(table)
        self.directory = DynamoDirectoryRepository(table)
        self.links = DynamoActionLinks(table)
        # The changes added and not yet committed, per thread: in the local stack the API and
        # the quote steps share one service (helpdesk.bootstrap) in one process and may run
        # at once; in Lambda there is one invocation per environment.
        self._pending = threading.local()

    @property
    def _changes(self) -> list[Change]:
        changes: list[Change] | None = getattr(self._pending, "changes", None)
        if changes is None:
            changes = self._pending.changes = []
        return changes

    def add(self, *changes: Change) -> None:
        self._changes.extend(changes)

    def rollback(self) -> None:
        self._changes.clear()

    def commit(self) -> None:
        changes = list(self._changes)
        self._changes.clear()
        from helpdesk.adapters.dynamodb.commit_plan import CommitPlan

        plan = CommitPlan(self.table, self.tickets)
        planned = [p for change in changes for p in plan.operations(change)]
        if not planned:
            return
        try:
            self.table.transact([p.operation for p in planned])
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            codes = cancellation_codes(exc)
            failed = [
                (p, reason)
                for p, code, reason in zip(planned, codes, reasons, strict=False)
                if code == CONDITION_FAILED and p.on_failure is not None
            ]
            if not failed:
                raise
            first, reason = max(failed, key=lambda pair: pair[0].priority)
            assert first.on_failure is not None
            raise first.on_failure(reason) from exc
