"""Acting from a mail (DESIGN.md §8): the use cases of `GET /links/{token}` and
`POST /links/{token}`.

The link is the credential: no token, no caller. `inspect` only reads (mail scanners open
links: it never writes). `use` performs the grant's action as the ticket's requester, with
`via: link` in the history, and marks the link used in the same transaction: of two concurrent
uses exactly one wins (the mark is conditional), the other finds the link used.

The decision is taken on the very ticket version the link was checked against (`perform`'s
`expected_version`): a ticket that moves meanwhile is checked again, never acted on unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.changes import LinkUsed
from helpdesk.domain.errors import NotFound, StaleVersion
from helpdesk.domain.links import (
    QUOTE_ACTIONS,
    LinkGone,
    LinkState,
    link_state,
    settled_state,
    token_hash,
    well_formed,
)
from helpdesk.domain.model import Caller, Role, Ticket
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.ports import ConditionNotMet, StoredLink
from helpdesk.service import HelpdeskService

VIA_LINK = "link"
MAX_ATTEMPTS = 3
UNKNOWN = "This link does not exist."


@dataclass(frozen=True)
class OpenLink:
    """A valid link and the ticket it acts on."""

    link: StoredLink
    ticket: Ticket


def requester(ticket: Ticket) -> Caller:
    """Who a link acts as: the ticket's requester, a client of its organisation."""
    return Caller(
        id=ticket.requester,
        role=Role.CLIENT,
        email=ticket.requester_email,
        org_id=ticket.org_id,
    )


class LinkActions:
    def __init__(self, service: HelpdeskService) -> None:
        self.service = service

    def inspect(self, token: str) -> OpenLink:
        """The valid link and its ticket; NotFound (404) for an unknown or malformed token,
        LinkGone (410) with its state otherwise. Reads only: the link, then its ticket (and
        the link again when the ticket says superseded)."""
        uow = self.service.uow
        if not well_formed(token):
            raise NotFound(UNKNOWN)
        link = uow.links.get(token_hash(token))
        if link is None:
            raise NotFound(UNKNOWN)
        now = self.service.clock()
        settled = settled_state(link.grant, link.used_at is not None, now)
        if settled is not None:
            raise LinkGone(settled)  # used or expired: the ticket is not even read
        ticket = uow.tickets.get(link.grant.ticket_number)
        state = link_state(link.grant, False, ticket, now)
        if state is LinkState.SUPERSEDED:
            state = self._used_meanwhile(token) or state
        if state is not LinkState.VALID:
            raise LinkGone(state)
        return OpenLink(link, ticket)

    def _used_meanwhile(self, token: str) -> LinkState | None:
        """USED when the link was used between its read and its ticket's: the ticket moved
        on by this very link (a double click), and used is said before superseded."""
        again = self.service.uow.links.get(token_hash(token))
        return LinkState.USED if again is not None and again.used_at is not None else None

    def use(self, token: str, reason: str | None = None) -> tuple[Ticket, Caller]:
        """Perform the link's action as the requester; the ticket after it, and that caller.
        A `reason` the action requires (refuse-quote, reopen) and lacks is InvalidInput (422),
        after the link's own checks (404, 410)."""
        opened = self.inspect(token)
        for _attempt in range(MAX_ATTEMPTS):
            grant, ticket = opened.link.grant, opened.ticket
            caller = requester(ticket)
            params = ActionInput(
                reason=reason,
                quote_version=grant.quote_version if grant.action in QUOTE_ACTIONS else None,
            )
            used = LinkUsed(opened.link.token_hash, self.service.clock())
            try:
                transition = self.service.perform(
                    caller,
                    ticket.number,
                    Action(grant.action),
                    params,
                    expected_version=ticket.version,  # decided on the ticket checked above
                    via=VIA_LINK,
                    extra=[used],
                    loaded=ticket,  # read by `open` just above: no second read
                )
            except ConditionNotMet as exc:
                if isinstance(exc.change, LinkUsed):
                    raise LinkGone(LinkState.USED) from exc
                raise
            except StaleVersion:
                opened = self.inspect(token)  # moved meanwhile: is the link still valid?
                continue
            return transition.ticket, caller
        raise StaleVersion(
            f"Ticket #{opened.ticket.number} keeps changing; try again.", opened.ticket.version
        )
