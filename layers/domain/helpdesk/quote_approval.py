"""The steps the quote-approval state machine asks of the domain (functions/quote).

The state machine (infra/statemachines/quote_approval.asl.json) waits for the client's decision
on one quote version; on each timeout it calls `remind`, and after the last reminder `expire`.
Both are safe to run twice, and both answer "the ticket moved on" instead of failing when the
client decided (or anything else changed the ticket) in the meantime.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from helpdesk.adapters import items as it
from helpdesk.adapters import keys
from helpdesk.adapters.dynamo import marshal
from helpdesk.domain import notifications
from helpdesk.domain.errors import ActionNotAllowed, NotFound
from helpdesk.domain.model import SYSTEM, Status
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService


class QuoteApprovalSteps:
    def __init__(self, service: HelpdeskService) -> None:
        self.service = service
        self.store = service.store
        self.clock = service.clock

    def remind(self, number: int, version: int, reminder: int) -> bool:
        """Queue the client's reminder, once, if the ticket still awaits this quote version.

        Returns whether it still awaits it (False: the execution has nothing left to do).
        """
        try:
            ticket = self.store.get_ticket(number)
        except NotFound:
            return False
        if it.awaiting_quote_version(ticket) != version:
            return False
        operations: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": self.store.table,
                    "Key": marshal(keys.ticket_key(number)),
                    "ConditionExpression": "#status = :awaiting AND awaiting_quote_version = :v",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": marshal(
                        {":awaiting": Status.AWAITING_QUOTE_APPROVAL.value, ":v": version}
                    ),
                }
            }
        ]
        message = notifications.quote_reminder(ticket, reminder)
        if message is not None:
            # Keyed by the ticket's version (unchanged while it awaits) and the reminder's
            # number: a retried step finds it there and queues nothing more.
            item = it.outbox_to_item(message, ticket.version, self.clock())
            operations.append(
                {
                    "Put": {
                        "TableName": self.store.table,
                        "Item": marshal(item),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            self.store.client.transact_write_items(TransactItems=operations)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            codes = [r.get("Code", "None") for r in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False  # decided (or expired) meanwhile
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return True  # this reminder was queued by an earlier try
            raise
        return True

    def expire(self, number: int, version: int) -> bool:
        """Expire the quote: marked expired, the ticket back to in_progress, the assignee told.

        False when the table refuses it: the client decided first, the ticket moved on.
        """
        try:
            self.service.perform(
                SYSTEM, number, Action.EXPIRE_QUOTE, ActionInput(quote_version=version)
            )
        except (ActionNotAllowed, NotFound):  # StatusConflict included
            return False
        return True
