"""The quote-approval state machine's executions, through Step Functions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

# A token that no longer waits: the execution moved on (decided, expired, ended).
NOTHING_TO_RESUME = frozenset({"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"})


class StepFunctionsQuoteApprovals:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn

    def start(
        self,
        name: str,
        ticket_number: int,
        quote_version: int,
        validity_days: int,
        waits: Sequence[int],
    ) -> bool:
        """The input of infra/statemachines/quote_approval.asl.json: `waits` in seconds, each
        a positive whole number (its TimeoutSecondsPath), at least one."""
        if not waits or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in waits):
            raise ValueError(f"waits must be positive whole seconds, at least one: {waits!r}")
        payload = {
            "ticket_number": ticket_number,
            "quote_version": quote_version,
            "validity_days": validity_days,
            "waits": list(waits),
        }
        try:
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def resume(self, task_token: str, decision: str, reason: str | None) -> bool:
        output: dict[str, Any] = {"decision": decision}
        if reason:
            output["reason"] = reason
        try:
            self.client.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in NOTHING_TO_RESUME:
                return False
            raise
        return True
