"""Random walks through the workflow: invariants that hold in every reachable state."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.domain.errors import ActionNotAllowed, DomainError, Forbidden, InvalidInput
from helpdesk.domain.model import Caller, ClosureReason, QuoteOutcome, Role, Status, Ticket
from helpdesk.domain.workflow import (
    Action,
    ActionContext,
    ActionInput,
    Transition,
    allowed_actions,
    decide,
    restart_countdown,
    suspend_countdown,
)
from tests.unit.builders import (
    CLIENT,
    L1,
    L1B,
    L2,
    L2B,
    L3,
    L3B,
    MANAGER,
    NOW,
    OTHER_CLIENT,
    SYSTEM,
    base_ticket,
)

CALLERS = (CLIENT, OTHER_CLIENT, L1, L1B, L2, L2B, L3, L3B, MANAGER, SYSTEM)
ROSTER = {L1.id: 1, L1B.id: 1, L2.id: 2, L2B.id: 2, L3.id: 3, L3B.id: 3}


def body_for(action: Action, ticket: Ticket, assignee: str | None) -> ActionInput:
    return ActionInput(
        assignee=assignee,
        amount=Decimal("950.50") if action is Action.SUBMIT_QUOTE else None,
        reason="parce que",
        message="réponse",
        note="note",
        quote_version=ticket.quote.version if ticket.quote else None,
    )


def check_invariants(ticket: Ticket) -> None:
    assert (ticket.status is Status.CLOSED) == (ticket.closure_reason is not None)
    assert (ticket.status is Status.ON_HOLD) == (ticket.held_from is not None)
    if ticket.held_from is not None:
        assert ticket.held_from in (Status.TAKEN, Status.IN_PROGRESS, Status.IN_REALISATION)
    if ticket.status is Status.ANSWER_SENT:
        assert ticket.auto_close_at is not None
    else:
        assert ticket.auto_close_at is None and not ticket.countdown_suspended
    assert ticket.type.base_level <= ticket.support_level <= ticket.type.max_level
    if ticket.status is not Status.OPEN and ticket.closure_reason is not ClosureReason.CANCELLED:
        assert ticket.taken_at is not None
    versions = [q.version for q in ticket.quotes]
    assert versions == list(range(1, len(versions) + 1))
    assert all(q.outcome is not QuoteOutcome.PENDING for q in ticket.quotes[:-1])
    approved = [q for q in ticket.quotes if q.outcome is QuoteOutcome.APPROVED]
    assert len(approved) <= 1
    if ticket.status is Status.AWAITING_QUOTE_APPROVAL:
        assert ticket.quote is not None and ticket.quote.outcome is QuoteOutcome.PENDING
    if ticket.status is Status.IN_REALISATION:
        assert ticket.approved_quote is not None or ticket.type != "evolution"


def attempt(
    ticket: Ticket, caller: Caller, action: Action, body: ActionInput, context: ActionContext
) -> Transition | DomainError:
    try:
        return decide(ticket, caller, action, body, context)
    except DomainError as error:
        return error


step = st.tuples(
    st.sampled_from(CALLERS),
    # An action, or an index into what this caller is allowed (to walk deep into the table).
    st.one_of(
        st.integers(min_value=0, max_value=20),
        st.integers(min_value=0, max_value=20),
        st.integers(min_value=0, max_value=20),
        st.sampled_from(list(Action)),
    ),
    st.sampled_from([None, *ROSTER]),
    st.integers(min_value=0, max_value=10 * 24),  # hours elapsed before the step
    st.sampled_from(["none", "client-writes", "consultant-answers"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["assistance", "incident", "evolution"]),
    st.lists(step, min_size=1, max_size=30),
)
def test_random_walk(
    ticket_type: str, steps: list[tuple[Caller, Action | int, str | None, int, str]]
) -> None:
    ticket = base_ticket(ticket_type)
    now = NOW
    approved_amount: Decimal | None = None
    for caller, choice, assignee, elapsed, comment in steps:
        now += timedelta(hours=elapsed)
        if comment == "client-writes":
            ticket = suspend_countdown(ticket, now) or ticket
        elif comment == "consultant-answers":
            ticket = restart_countdown(ticket, now, 7) or ticket
        if not isinstance(choice, Action):
            # Pick among every (caller, action) pair allowed now, to walk deep into the table.
            pairs = [(c, a) for c in CALLERS for a in allowed_actions(ticket, c, now)]
            if not pairs:
                break
            caller, picked = pairs[choice % len(pairs)]
            choice = Action(picked)
            # A valid assignee: a manager taking names one of the type's level; `assign` names
            # the caller on a queue ticket (a consultant) or another of the ticket's level.
            level = ticket.type.base_level
            takes = choice is Action.TAKE and caller == MANAGER
            assignee = next(c for c, v in ROSTER.items() if v == level) if takes else None
            if choice is Action.ASSIGN:
                if caller.role is Role.CONSULTANT and ticket.assignee is None:
                    assignee = caller.id
                else:
                    assignee = next(
                        c
                        for c, v in ROSTER.items()
                        if v == ticket.support_level and c != ticket.assignee
                    )
        action = choice
        allowed = allowed_actions(ticket, caller, now)
        context = ActionContext(now, assignee_level=ROSTER.get(assignee or ""))
        outcome = attempt(ticket, caller, action, body_for(action, ticket, assignee), context)
        if isinstance(outcome, Forbidden):
            assert action.value not in allowed
            continue
        if isinstance(outcome, InvalidInput):
            # Only an assignee of the wrong level can be refused here: the body is complete.
            assert outcome.field == "assignee"
            assert action.value in allowed
            continue
        if isinstance(outcome, ActionNotAllowed):
            assert action.value not in allowed
            assert outcome.allowed_actions == allowed
            continue
        assert isinstance(outcome, Transition), outcome
        transition = outcome
        assert action.value in allowed
        after = transition.ticket
        assert after.version == ticket.version + 1
        assert transition.event.version == after.version
        assert transition.event.from_status is ticket.status
        assert transition.event.to_status is after.status
        assert transition.event.actor == caller.id
        if caller.role is Role.CLIENT:
            assert caller.org_id == ticket.org_id
        if action is Action.ASSIGN:
            assert after.status is ticket.status and after.assignee == assignee
            assert ROSTER[assignee or ""] == after.support_level
        if action is Action.WITHDRAW_QUOTE:
            assert after.quote is not None and after.quote.outcome is QuoteOutcome.WITHDRAWN
        check_invariants(after)
        if after.approved_quote is not None:
            if approved_amount is None:
                approved_amount = after.approved_quote.amount
            assert after.approved_quote.amount == approved_amount
        ticket = after
