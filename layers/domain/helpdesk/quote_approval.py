"""The steps the quote-approval state machine asks of the domain (functions/quote).

The state machine (infra/statemachines/quote_approval.asl.json) waits for the client's decision
on one quote version; on each timeout it calls `remind`, and after the last reminder `expire`.
Both are safe to run twice, and both answer "the ticket moved on" instead of failing when the
client decided (or anything else changed the ticket) in the meantime.
"""

from __future__ import annotations

from helpdesk import side_effects
from helpdesk.domain.errors import ActionNotAllowed, NotFound
from helpdesk.domain.model import SYSTEM, QuoteOutcome, Status
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.ports import AlreadyExists, ConditionNotMet
from helpdesk.service import HelpdeskService


class QuoteApprovalSteps:
    def __init__(self, service: HelpdeskService) -> None:
        self.service = service
        self.uow = service.uow
        self.clock = service.clock

    def remind(self, number: int, version: int, reminder: int) -> bool:
        """Queue the client's reminder, once, if the ticket still awaits this quote version.

        Returns whether it still awaits it (False: the execution has nothing left to do).
        """
        try:
            ticket = self.uow.tickets.get(number)
        except NotFound:
            return False
        quote = ticket.quote
        awaiting = (
            ticket.status is Status.AWAITING_QUOTE_APPROVAL
            and quote is not None
            and quote.version == version
            and quote.outcome is QuoteOutcome.PENDING
        )
        if not awaiting:
            return False
        self.uow.add(*side_effects.of_quote_reminder(ticket, version, reminder, self.clock()))
        try:
            self.uow.commit()
        except ConditionNotMet:
            return False  # decided (or expired) meanwhile
        except AlreadyExists:
            return True  # this reminder was queued by an earlier try
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
