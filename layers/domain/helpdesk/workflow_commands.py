"""Executing the outbox's workflow commands: the quote-approval state machine, driven once each.

A change that starts or decides a quote approval commits a command item in the outbox with the
ticket (`channel = workflow`); the table's stream hands it to the notifier function, which runs
it here, after the commit, with the same claim as a mail (pending -> sending with a lease ->
sent). So a function that dies between the write and the call loses nothing (the stream
retries), and a replayed record does nothing more:

- `quote_approval_start` starts the execution `ticket-<n>-quote-<v>`: the name is
  deterministic, so ExecutionAlreadyExists means it was started already.
- `quote_approval_decision` resumes the execution waiting for that quote version with
  SendTaskSuccess `{"decision": "approved" | "refused"}`, with the task token the state machine
  stored on the ticket. No token for that version yet, or a token that no longer waits
  (TaskDoesNotExist, TaskTimedOut, InvalidToken): nothing to resume. The execution's next
  conditional write of its token then sees that the ticket moved on, and it ends cleanly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.adapters.dynamo import DynamoStore, unmarshal
from helpdesk.adapters.items import OUTBOX_WORKFLOW
from helpdesk.adapters.outbox_claim import DeliveryInProgress, OutboxClaim

NOTHING_TO_RESUME = frozenset({"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"})


def execution_name(ticket_number: int, quote_version: int) -> str:
    """One execution per ticket and quote version: a retried start never starts two."""
    return f"ticket-{ticket_number}-quote-{quote_version}"


@dataclass(frozen=True)
class CommandResult:
    # started | already_started | resumed | nothing_to_resume | already_done
    outcome: str


class UnknownCommand(ValueError):
    """An outbox item of the workflow channel with a kind this code does not know."""


class WorkflowCommands:
    def __init__(
        self,
        store: DynamoStore,
        sfn: Any,
        state_machine_arn: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.sfn = sfn
        self.state_machine_arn = state_machine_arn
        self.clock = clock
        self.claims = OutboxClaim(store, OUTBOX_WORKFLOW)

    def execute(self, pk: str, sk: str) -> CommandResult:
        now = self.clock()
        key = {"pk": pk, "sk": sk}
        claimed = self.claims.claim(key, now)
        if claimed is None:
            stored = self.claims.delivery_state(key)
            if stored.get("delivery", {}).get("S") == "sent":
                return CommandResult("already_done")
            raise DeliveryInProgress(f"{pk} {sk} is being executed by another run")
        try:
            outcome = self._run(unmarshal(claimed))
        except Exception:
            self.claims.release(key)
            raise
        self.claims.finish(key, now, "sent", {"result": outcome})
        return CommandResult(outcome)

    def _run(self, command: dict[str, Any]) -> str:
        kind = command["kind"]
        number = int(command["ticket_number"])
        version = int(command["quote_version"])
        if kind == "quote_approval_start":
            return self._start(number, version, int(command.get("validity_days", 30)))
        if kind == "quote_approval_decision":
            return self._resume(number, version, str(command["outcome"]), command.get("reason"))
        raise UnknownCommand(f"unknown workflow command {kind!r}")

    def _start(self, number: int, version: int, validity_days: int) -> str:
        payload = {
            "ticket_number": number,
            "quote_version": version,
            "validity_days": validity_days,
        }
        try:
            self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=execution_name(number, version),
                input=json.dumps(payload),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return "already_started"
            raise
        return "started"

    def _resume(self, number: int, version: int, outcome: str, reason: str | None) -> str:
        ticket = self.store.get_ticket_item(number) or {}
        token = ticket.get("quote_task_token")
        if not token or int(ticket.get("quote_task_version", 0)) != version:
            return "nothing_to_resume"  # the execution will find the ticket moved on
        output: dict[str, Any] = {"decision": outcome}
        if reason:
            output["reason"] = reason
        try:
            self.sfn.send_task_success(taskToken=str(token), output=json.dumps(output))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in NOTHING_TO_RESUME:
                return "nothing_to_resume"
            raise
        return "resumed"
