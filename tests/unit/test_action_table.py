"""Every row of the action table of DESIGN.md §2, for every type, status, action and caller.

The expectation below is transcribed by hand from DESIGN.md §2 (and §3 for the quote expiry of
the approval state machine, §7 for handing over and correcting). It never reads `helpdesk.domain.workflow.ACTION_TABLE`: the domain
is checked against this table, not against itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput
from helpdesk.domain.model import Caller, Ticket
from helpdesk.domain.workflow import (
    Action,
    ActionContext,
    ActionInput,
    allowed_actions,
    decide,
)
from tests.unit.builders import (
    BASE_LEVEL,
    CLIENT,
    FINANCE,
    L1,
    L1B,
    L2,
    L2B,
    L3,
    L3B,
    MANAGER,
    MAX_LEVEL,
    NOW,
    OTHER_CLIENT,
    OWNER,
    PICKED,
    SITUATIONS,
    SYSTEM,
    Situation,
    build_ticket,
)

TYPES = ("assistance", "incident", "evolution")
ACTIONS = (
    "take",
    "start",
    "escalate",
    "hold",
    "resume",
    "submit-quote",
    "approve-quote",
    "refuse-quote",
    "send-answer",
    "confirm",
    "reopen",
    "close",
    "cancel",
    "assign",
    "withdraw-quote",
    "auto-close",
    "expire-quote",
)
ALL = frozenset(TYPES)
TIME_BILLED = frozenset({"assistance", "incident"})
EVOLUTION = frozenset({"evolution"})

# Who performs a row. LEVEL: a consultant of the ticket's current level, or a manager.
# ASSIGNEE: the assignee (unassigned: a consultant of the level), or a manager.
# HOLDER (§7, `assign`): a consultant of the level on a queue ticket (nobody assigned) or on
# the ticket they hold; a manager on any.
LEVEL, ASSIGNEE, CLIENT_OF_ORG, SCHEDULER = "level", "assignee", "client", "system"
HOLDER = "holder"
ACTOR_ROLES = {
    LEVEL: {"consultant", "manager"},
    ASSIGNEE: {"consultant", "manager"},
    HOLDER: {"consultant", "manager"},
    CLIENT_OF_ORG: {"client"},
    SCHEDULER: {"system"},
}

# Special targets.
UNCHANGED = "=unchanged"  # escalate, assign
HELD_FROM = "=held_from"  # resume
REOPENED = "=reopened"  # reopen: per type, below
REOPEN_TO = {"assistance": "in_progress", "incident": "in_progress", "evolution": "in_realisation"}

# Conditions the rows put on the ticket beyond type, status and caller.
BELOW_MAX = "below_max_level"
QUOTE_PENDING = "quote_pending"
QUOTE_REFUSED = "quote_refused"
NEVER_QUOTED = "never_quoted"  # no quote, or the last one withdrawn (§7)
DUE = "countdown_due"


@dataclass(frozen=True)
class Row:
    action: str
    types: frozenset[str]
    from_statuses: frozenset[str]
    to: str
    actor: str
    required: str | None = None
    closure: str | None = None
    condition: str | None = None


def _s(*statuses: str) -> frozenset[str]:
    return frozenset(statuses)


# DESIGN.md §2, "Actions (the only way a status changes)", row by row.
EXPECTED_TABLE: tuple[Row, ...] = (
    Row("take", ALL, _s("open"), "taken", LEVEL),
    Row("start", ALL, _s("taken"), "in_progress", ASSIGNEE),
    Row("escalate", ALL, _s("taken", "in_progress"), UNCHANGED, ASSIGNEE, condition=BELOW_MAX),
    Row("hold", ALL, _s("taken", "in_progress", "in_realisation"), "on_hold", ASSIGNEE),
    Row("resume", ALL, _s("on_hold"), HELD_FROM, ASSIGNEE),
    Row(
        "submit-quote",
        EVOLUTION,
        _s("in_progress"),
        "awaiting_quote_approval",
        ASSIGNEE,
        required="amount",
    ),
    Row(
        "approve-quote",
        EVOLUTION,
        _s("awaiting_quote_approval"),
        "in_realisation",
        CLIENT_OF_ORG,
        condition=QUOTE_PENDING,
    ),
    Row(
        "refuse-quote",
        EVOLUTION,
        _s("awaiting_quote_approval"),
        "in_progress",
        CLIENT_OF_ORG,
        required="reason",
        condition=QUOTE_PENDING,
    ),
    Row("send-answer", TIME_BILLED, _s("in_progress"), "answer_sent", ASSIGNEE, "message"),
    Row("send-answer", EVOLUTION, _s("in_realisation"), "answer_sent", ASSIGNEE, "message"),
    Row("confirm", ALL, _s("answer_sent"), "closed", CLIENT_OF_ORG, closure="confirmed"),
    Row("reopen", ALL, _s("answer_sent"), REOPENED, CLIENT_OF_ORG, required="reason"),
    Row(
        "close",
        ALL,
        _s("answer_sent"),
        "closed",
        ASSIGNEE,
        required="note",
        closure="closed_by_consultant",
    ),
    Row(
        "close",
        EVOLUTION,
        _s("in_progress"),
        "closed",
        ASSIGNEE,
        required="note",
        closure="abandoned",
        condition=QUOTE_REFUSED,
    ),
    Row("cancel", ALL, _s("open"), "closed", CLIENT_OF_ORG, closure="cancelled"),
    # §2 and §7: staff cancel spam, duplicates, wrong recipients, with a reason.
    Row("cancel", ALL, _s("open"), "closed", LEVEL, required="reason", closure="cancelled"),
    # §2 and §7: an evolution abandoned before any quote.
    Row(
        "close",
        EVOLUTION,
        _s("in_progress"),
        "closed",
        ASSIGNEE,
        required="note",
        closure="abandoned",
        condition=NEVER_QUOTED,
    ),
    Row(
        "assign",
        ALL,
        _s("taken", "in_progress", "on_hold", "awaiting_quote_approval", "in_realisation"),
        UNCHANGED,
        HOLDER,
        required="assignee",
    ),
    Row(
        "withdraw-quote",
        EVOLUTION,
        _s("awaiting_quote_approval"),
        "in_progress",
        ASSIGNEE,
        condition=QUOTE_PENDING,
    ),
    Row(
        "auto-close",
        ALL,
        _s("answer_sent"),
        "closed",
        SCHEDULER,
        closure="auto_closed",
        condition=DUE,
    ),
    # §3: the quote-approval state machine expires a quote the client never answered.
    Row(
        "expire-quote",
        EVOLUTION,
        _s("awaiting_quote_approval"),
        "in_progress",
        SCHEDULER,
        required="quote_version",
        condition=QUOTE_PENDING,
    ),
)

# The callers under test. "*-assignee" callers are made the ticket's assignee.
CALLERS: dict[str, Caller] = {
    "client-of-org": CLIENT,
    "client-other-org": OTHER_CLIENT,
    "l1-assignee": L1,
    "l1-not-assignee": L1B,
    "l2-assignee": L2,
    "l2-not-assignee": L2B,
    "l3-assignee": L3,
    "l3-not-assignee": L3B,
    "manager": MANAGER,
    "finance": FINANCE,
    "system": SYSTEM,
}


def ticket_for(ticket_type: str, situation: Situation, caller_kind: str) -> Ticket:
    assignee = (
        CALLERS[caller_kind].id
        if caller_kind.endswith("-assignee") and not (caller_kind.endswith("not-assignee"))
        else OWNER
    )
    return build_ticket(ticket_type, situation, assignee)


# ------------------------------------------------------------------ the oracle


def roles_performing(action: str) -> set[str]:
    return set().union(*(ACTOR_ROLES[r.actor] for r in EXPECTED_TABLE if r.action == action))


def caller_fits(row: Row, ticket: Ticket, caller: Caller) -> bool:
    role = caller.role.value
    if role not in ACTOR_ROLES[row.actor]:
        return False
    if row.actor == CLIENT_OF_ORG:
        return caller.org_id == ticket.org_id
    if row.actor == SCHEDULER or role == "manager":
        return True
    if row.actor == LEVEL:
        return caller.level == ticket.support_level
    if row.actor == HOLDER:
        return caller.level == ticket.support_level and ticket.assignee in (None, caller.id)
    if ticket.assignee is None:  # claimed by the first consultant of its level who acts
        return caller.level == ticket.support_level
    return caller.id == ticket.assignee


def condition_holds(row: Row, ticket: Ticket) -> bool:
    latest = ticket.quotes[-1].outcome.value if ticket.quotes else None
    if row.condition == BELOW_MAX:
        return ticket.support_level < MAX_LEVEL[ticket.type.value]
    if row.condition == QUOTE_PENDING:
        return latest == "pending"
    if row.condition == QUOTE_REFUSED:
        return latest in ("refused", "expired")
    if row.condition == NEVER_QUOTED:
        return latest in (None, "withdrawn")
    if row.condition == DUE:
        return (
            ticket.auto_close_at is not None
            and ticket.auto_close_at <= NOW
            and not ticket.countdown_suspended
        )
    return True


def matching_rows(ticket: Ticket, caller: Caller, action: str) -> list[Row]:
    return [
        row
        for row in EXPECTED_TABLE
        if row.action == action
        and ticket.type.value in row.types
        and ticket.status.value in row.from_statuses
        and caller_fits(row, ticket, caller)
        and condition_holds(row, ticket)
    ]


def expected_allowed(ticket: Ticket, caller: Caller) -> set[str]:
    return {action for action in ACTIONS if matching_rows(ticket, caller, action)}


def expected_target(row: Row, ticket: Ticket) -> str:
    if row.to == UNCHANGED:
        return ticket.status.value
    if row.to == HELD_FROM:
        assert ticket.held_from is not None
        return ticket.held_from.value
    if row.to == REOPENED:
        return REOPEN_TO[ticket.type.value]
    return row.to


def valid_request(action: str, ticket: Ticket, caller: Caller) -> tuple[ActionInput, ActionContext]:
    """A complete, valid body for the action (so a refusal can only come from the table)."""
    level = BASE_LEVEL[ticket.type.value]
    if action == "take" and caller.role.value == "manager":
        return ActionInput(assignee=PICKED, priority=None), ActionContext(NOW, assignee_level=level)
    if action == "assign":
        # A consultant takes a queue ticket for themself; else someone of the ticket's level.
        queue_for_self = caller.role.value == "consultant" and ticket.assignee is None
        assignee = caller.id if queue_for_self else PICKED
        return ActionInput(assignee=assignee), ActionContext(
            NOW, assignee_level=ticket.support_level
        )
    if action == "cancel" and caller.role.value in ("consultant", "manager"):
        return ActionInput(reason="Spam"), ActionContext(NOW)
    body = {
        "submit-quote": ActionInput(amount=Decimal("1200.00"), days=Decimal("3")),
        "refuse-quote": ActionInput(reason="Trop cher"),
        "send-answer": ActionInput(message="C'est fait."),
        "reopen": ActionInput(reason="Toujours en erreur"),
        "close": ActionInput(note="Confirmé par téléphone"),
        "expire-quote": ActionInput(quote_version=len(ticket.quotes) or 1),
    }.get(action, ActionInput())
    return body, ActionContext(NOW)


# ------------------------------------------------------------------ the table itself


def test_the_domain_knows_exactly_the_seventeen_actions() -> None:
    assert sorted(a.value for a in Action) == sorted(ACTIONS)


# ------------------------------------------------------------------ the cartesian product


@pytest.mark.parametrize("caller_kind", list(CALLERS))
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("situation", SITUATIONS, ids=[s.id for s in SITUATIONS])
@pytest.mark.parametrize("ticket_type", TYPES)
def test_action_table(
    ticket_type: str, situation: Situation, action: str, caller_kind: str
) -> None:
    caller = CALLERS[caller_kind]
    ticket = ticket_for(ticket_type, situation, caller_kind)
    rows = matching_rows(ticket, caller, action)
    params, context = valid_request(action, ticket, caller)

    if not rows:
        if caller.role.value not in roles_performing(action):
            with pytest.raises(Forbidden):
                decide(ticket, caller, Action(action), params, context)
        else:
            with pytest.raises(ActionNotAllowed) as refused:
                decide(ticket, caller, Action(action), params, context)
            assert refused.value.allowed_actions == allowed_actions(ticket, caller, NOW)
            assert set(refused.value.allowed_actions) == expected_allowed(ticket, caller)
            assert action not in refused.value.allowed_actions
        return

    assert len(rows) == 1, "the expected table has overlapping rows"
    row = rows[0]
    if row.required is not None:
        # The row's required field, left out, is refused naming it (422).
        with pytest.raises(InvalidInput) as missing:
            decide(ticket, caller, Action(action), replace(params, **{row.required: None}), context)
        assert missing.value.field == row.required
    transition = decide(ticket, caller, Action(action), params, context)
    after, event = transition.ticket, transition.event
    target = expected_target(row, ticket)
    assert after.status.value == target
    assert after.version == ticket.version + 1
    assert (event.version, event.actor, event.action) == (after.version, caller.id, action)
    assert (event.from_status.value, event.to_status.value) == (ticket.status.value, target)
    assert event.at == NOW and after.updated_at == NOW
    if row.closure is not None:
        assert after.closure_reason is not None
        assert after.closure_reason.value == row.closure
        assert after.closed_at == NOW
    else:
        assert after.closure_reason is None
    if action == "escalate":
        assert after.support_level == ticket.support_level + 1
    if action == "assign":
        assert after.assignee == params.assignee
        assert after.support_level == ticket.support_level
    if action == "withdraw-quote":
        assert [q.outcome.value for q in after.quotes] == ["withdrawn"]
    if target == "answer_sent":
        assert after.auto_close_at is not None and after.auto_close_at > NOW
    else:
        assert after.auto_close_at is None


# ------------------------------------------------------------------ allowed_actions itself


@pytest.mark.parametrize("caller_kind", list(CALLERS))
@pytest.mark.parametrize("situation", SITUATIONS, ids=[s.id for s in SITUATIONS])
@pytest.mark.parametrize("ticket_type", TYPES)
def test_allowed_actions_match_the_table(
    ticket_type: str, situation: Situation, caller_kind: str
) -> None:
    caller = CALLERS[caller_kind]
    ticket = ticket_for(ticket_type, situation, caller_kind)
    allowed = allowed_actions(ticket, caller, NOW)
    assert set(allowed) == expected_allowed(ticket, caller)
    assert len(allowed) == len(set(allowed)), "an action is listed twice"


@pytest.mark.parametrize("action", ACTIONS)
def test_finance_is_forbidden_everything(action: str) -> None:
    for situation in SITUATIONS:
        for ticket_type in TYPES:
            ticket = build_ticket(ticket_type, situation)
            with pytest.raises(Forbidden):
                decide(ticket, FINANCE, Action(action), ActionInput(), ActionContext(NOW))
            assert allowed_actions(ticket, FINANCE, NOW) == []
