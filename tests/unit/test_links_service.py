"""Action links, the use case on the in-memory unit of work (DESIGN.md §8): acting as the
requester, `via: link` in the history, the link marked used in the action's own commit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from helpdesk.action_links import LinkActions
from helpdesk.domain.errors import InvalidInput, NotFound
from helpdesk.domain.links import LinkGone, LinkState
from helpdesk.domain.model import Status, Ticket, TicketType
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.ports import LinkGrant
from helpdesk.service import HelpdeskService
from tests.conftest import Clock
from tests.unit.builders import CLIENT, L1, L2, MANAGER, NOW
from tests.unit.fakes import InMemoryUnitOfWork


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(uow: InMemoryUnitOfWork, clock: Clock) -> HelpdeskService:
    svc = HelpdeskService(uow, clock=clock)
    svc.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example"])
    assert L2.level is not None
    svc.put_consultant(MANAGER, L2.id, name="L2", email=L2.email, level=L2.level)
    return svc


def quoted(service: HelpdeskService) -> Ticket:
    number = service.create_ticket(
        CLIENT, title="Export", description="CSV", type=TicketType.EVOLUTION
    ).number
    service.perform(L2, number, Action.TAKE, ActionInput())
    service.perform(L2, number, Action.START, ActionInput())
    return service.perform(
        L2, number, Action.SUBMIT_QUOTE, ActionInput(amount=Decimal("1200.00"))
    ).ticket


def issue(uow: InMemoryUnitOfWork, ticket: Ticket, action: str) -> str:
    assert ticket.quote is not None
    grant = LinkGrant(ticket.number, action, ticket.quote.version, None, NOW + timedelta(days=30))
    return uow.links.issue(grant)


def test_use_acts_as_the_requester_via_link_in_one_commit(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    ticket = quoted(service)
    token = issue(uow, ticket, "approve-quote")
    before = uow.committed
    after, caller = LinkActions(service).use(token)
    assert uow.committed == before + 1  # the action and the link's mark: one transaction
    assert after.status is Status.IN_REALISATION
    assert (caller.id, caller.org_id, caller.email) == (CLIENT.id, "acme", CLIENT.email)
    event = uow.tickets.history(ticket.number)[-1]
    assert (event.action, event.actor, event.details["via"]) == ("approve-quote", CLIENT.id, "link")
    [stored] = uow.links.links.values()
    assert stored.used_at == NOW
    with pytest.raises(LinkGone) as gone:
        LinkActions(service).use(token)
    assert gone.value.state is LinkState.USED


def test_a_refusal_without_reason_writes_nothing(
    service: HelpdeskService, uow: InMemoryUnitOfWork
) -> None:
    ticket = quoted(service)
    token = issue(uow, ticket, "refuse-quote")
    before = uow.committed
    with pytest.raises(InvalidInput) as invalid:
        LinkActions(service).use(token, None)
    assert invalid.value.field == "reason"
    assert uow.committed == before
    [stored] = uow.links.links.values()
    assert stored.used_at is None  # still usable, with a reason
    after, _caller = LinkActions(service).use(token, "Trop cher")
    assert after.status is Status.IN_PROGRESS
    assert after.quote is not None and after.quote.reason == "Trop cher"


def test_unknown_and_malformed_tokens_are_not_found(service: HelpdeskService) -> None:
    for token in ("A" * 43, "short", "A" * 500, "%00" * 20):
        with pytest.raises(NotFound):
            LinkActions(service).inspect(token)


def test_a_link_used_meanwhile_loses(service: HelpdeskService, uow: InMemoryUnitOfWork) -> None:
    """Two uses read the link unused: the one committing second finds it used (its ticket
    condition fails too; the link's condition says why)."""
    ticket = quoted(service)
    token = issue(uow, ticket, "approve-quote")
    theirs: list[Ticket] = []
    uow.interleave(lambda: theirs.append(LinkActions(service).use(token)[0]))
    with pytest.raises(LinkGone) as gone:
        LinkActions(service).use(token)
    assert gone.value.state is LinkState.USED
    assert theirs[0].status is Status.IN_REALISATION
    assert [e.action for e in uow.tickets.history(ticket.number)].count("approve-quote") == 1


def test_a_harmless_change_meanwhile_is_checked_again_then_acted_on(
    service: HelpdeskService, uow: InMemoryUnitOfWork, clock: Clock
) -> None:
    """A client's comment suspends the countdown (a new version, the same answer): the use
    loses its first commit, finds the link still valid on the new version, and confirms."""
    assert L1.level is not None
    service.put_consultant(MANAGER, L1.id, name="L1", email=L1.email, level=L1.level)
    number = service.create_ticket(
        CLIENT, title="Imprimante", description="", type=TicketType.ASSISTANCE
    ).number
    for action in (Action.TAKE, Action.START):
        service.perform(L1, number, action, ActionInput())
    ticket = service.perform(L1, number, Action.SEND_ANSWER, ActionInput(message="Fait.")).ticket
    grant = LinkGrant(number, "confirm", None, ticket.answered_at, NOW + timedelta(days=30))
    token = uow.links.issue(grant)
    clock.now = NOW + timedelta(hours=1)
    uow.interleave(lambda: service.add_comment(CLIENT, number, body="Merci !"))
    after, _caller = LinkActions(service).use(token)
    assert (after.status, after.version) == (Status.CLOSED, ticket.version + 2)
    assert [e.action for e in uow.tickets.history(number)][-1] == "confirm"


def test_an_answer_given_again_meanwhile_supersedes_the_link(
    service: HelpdeskService, uow: InMemoryUnitOfWork, clock: Clock
) -> None:
    """Between the link's check and its commit the ticket is reopened and answered again:
    the same status, another answer; the old link must not confirm the new answer."""
    assert L1.level is not None
    service.put_consultant(MANAGER, L1.id, name="L1", email=L1.email, level=L1.level)
    number = service.create_ticket(
        CLIENT, title="Imprimante", description="", type=TicketType.ASSISTANCE
    ).number
    for action in (Action.TAKE, Action.START):
        service.perform(L1, number, action, ActionInput())
    ticket = service.perform(L1, number, Action.SEND_ANSWER, ActionInput(message="Fait.")).ticket
    grant = LinkGrant(number, "confirm", None, ticket.answered_at, NOW + timedelta(days=30))
    token = uow.links.issue(grant)

    def answered_again() -> None:
        clock.now = NOW + timedelta(hours=1)
        service.perform(CLIENT, number, Action.REOPEN, ActionInput(reason="Toujours pas"))
        service.perform(L1, number, Action.SEND_ANSWER, ActionInput(message="Cette fois."))

    uow.interleave(answered_again)
    with pytest.raises(LinkGone) as gone:
        LinkActions(service).use(token)
    assert gone.value.state is LinkState.SUPERSEDED
    assert uow.tickets.get(number).status is Status.ANSWER_SENT
    assert [e.action for e in uow.tickets.history(number)][-1] == "send-answer"
