"""The in-memory unit of work releases a quarantined mail as the DynamoDB adapter does: once,
only a quarantined one, all or nothing with its ticket."""

from __future__ import annotations

from dataclasses import replace

import pytest

from helpdesk.changes import MailHandled, MailReleased, TicketCreated
from helpdesk.domain.mail import MailOutcome
from helpdesk.domain.model import HistoryEvent, Status
from helpdesk.ports import ConditionNotMet
from tests.unit.builders import NOW, OWNER, base_ticket
from tests.unit.fakes import InMemoryUnitOfWork


def created(number: int) -> TicketCreated:
    event = HistoryEvent(1, NOW, OWNER, "create", Status.OPEN, Status.OPEN)
    return TicketCreated(replace(base_ticket(), number=number, version=1), event)


def test_a_quarantined_mail_is_released_once_with_its_ticket() -> None:
    uow = InMemoryUnitOfWork()
    uow.add(MailHandled("sha-q", None, MailOutcome("quarantined", "unknown_sender"), NOW))
    uow.add(MailHandled("sha-t", None, MailOutcome("ticket_created", ticket_number=7), NOW))
    uow.commit()
    uow.add(created(1), MailReleased("sha-t", "manager-1", "ticket", 1, None, NOW))
    with pytest.raises(ConditionNotMet):  # never quarantined
        uow.commit()
    assert uow.tickets.tickets == {}
    uow.add(created(1), MailReleased("sha-q", "manager-1", "ticket", 1, None, NOW))
    uow.commit()
    assert uow.mails_released["sha-q"].ticket_number == 1
    uow.add(created(2), MailReleased("sha-q", "manager-2", "ticket", 2, None, NOW))
    with pytest.raises(ConditionNotMet):  # released already
        uow.commit()
    assert sorted(uow.tickets.tickets) == [1]
