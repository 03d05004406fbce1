"""Executing the outbox's workflow commands: the quote-approval state machine, driven once each.

A change that starts or decides a quote approval commits a command item in the outbox with the
ticket (`channel = workflow`); the table's stream hands it to the notifier function, which runs
it here, after the commit, with the same claim as a mail (pending -> sending with a lease ->
sent). So a function that dies between the write and the call loses nothing (the stream
retries), and a replayed record does nothing more:

- `quote_approval_start` starts the execution `ticket-<n>-quote-<v>`: the name is
  deterministic, so an execution that exists already means it was started. Its input carries
  the quote's waits in seconds (helpdesk.domain.quote_schedule, `day_seconds` a day: 86400 on
  AWS, QUOTE_DAY_SECONDS; shorter locally and in tests), which add up to exactly the quote's
  validity: a reminder after each wait but the last, the expiry after the last.
- `quote_approval_decision` resumes the execution waiting for that quote version with the
  client's decision, with the task token the state machine stored on the ticket. No token for
  that version yet, or a token that no longer waits: nothing to resume. The execution's next
  conditional write of its token then sees that the ticket moved on, and it ends cleanly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from helpdesk.domain.outbox import CommandKind, Delivery
from helpdesk.domain.quote_schedule import DAY_SECONDS, DEFAULT_QUOTE_VALIDITY_DAYS, waits
from helpdesk.ports import (
    DeliveryInProgress,
    OutboxClaims,
    OutboxKey,
    QuoteApprovals,
    TicketRepository,
)


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
        claims: OutboxClaims,
        tickets: TicketRepository,
        approvals: QuoteApprovals,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        day_seconds: int = DAY_SECONDS,
    ) -> None:
        self.claims = claims
        self.tickets = tickets
        self.approvals = approvals
        self.clock = clock
        self.day_seconds = day_seconds

    def execute(self, pk: str, sk: str) -> CommandResult:
        now = self.clock()
        key: OutboxKey = {"pk": pk, "sk": sk}
        command = self.claims.claim(key, now)
        if command is None:
            if self.claims.delivery(key).get("delivery") == Delivery.SENT.value:
                return CommandResult("already_done")
            raise DeliveryInProgress(f"{pk} {sk} is being executed by another run")
        try:
            outcome = self._run(command)
        except Exception:
            self.claims.release(key)
            raise
        self.claims.finish(key, now, Delivery.SENT, {"result": outcome})
        return CommandResult(outcome)

    def _run(self, command: dict[str, Any]) -> str:
        number = int(command["ticket_number"])
        version = int(command["quote_version"])
        try:
            kind = CommandKind(command["kind"])
        except ValueError:
            raise UnknownCommand(f"unknown workflow command {command['kind']!r}") from None
        if kind is CommandKind.QUOTE_APPROVAL_START:
            validity = int(command.get("validity_days", DEFAULT_QUOTE_VALIDITY_DAYS))
            started = self.approvals.start(
                execution_name(number, version),
                number,
                version,
                validity,
                waits(validity, self.day_seconds),
            )
            return "started" if started else "already_started"
        token = self.tickets.quote_task_token(number, version)
        if token is None:
            return "nothing_to_resume"  # the execution will find the ticket moved on
        reason = command.get("reason")
        resumed = self.approvals.resume(token, str(command["outcome"]), reason)
        return "resumed" if resumed else "nothing_to_resume"
