"""The action table of DESIGN.md §2 as data, its guards, and the transitions it allows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, cast

from helpdesk.domain.calendar import (
    DEFAULT_AUTO_CLOSE_DAYS,
    auto_close_due,
    ensure_utc,
    iso,
    paris_month,
)
from helpdesk.domain.errors import ActionNotAllowed, Forbidden, InvalidInput
from helpdesk.domain.events import DomainEvent, QuoteDecided, QuoteSubmitted, TaskNeeded
from helpdesk.domain.model import (
    SYSTEM,
    Caller,
    ClosureReason,
    HistoryEvent,
    Priority,
    Quote,
    QuoteOutcome,
    Role,
    Status,
    Ticket,
    TicketType,
)
from helpdesk.domain.money import parse_money
from helpdesk.domain.quote_schedule import DEFAULT_QUOTE_VALIDITY_DAYS


class Action(StrEnum):
    TAKE = "take"
    START = "start"
    ESCALATE = "escalate"
    HOLD = "hold"
    RESUME = "resume"
    SUBMIT_QUOTE = "submit-quote"
    APPROVE_QUOTE = "approve-quote"
    REFUSE_QUOTE = "refuse-quote"
    SEND_ANSWER = "send-answer"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    CLOSE = "close"
    CANCEL = "cancel"
    ASSIGN = "assign"
    WITHDRAW_QUOTE = "withdraw-quote"
    AUTO_CLOSE = "auto-close"
    EXPIRE_QUOTE = "expire-quote"


class Actor(StrEnum):
    """Who, among the roles, performs a row of the table."""

    LEVEL = "level"  # a consultant of the ticket's current level, or a manager
    # a consultant of the level on a queue ticket (nobody assigned) or on their own; a manager
    HOLDER = "holder"
    ASSIGNEE = "assignee"  # the assignee (or, unassigned, one of the level), or a manager
    CLIENT = "client"  # a client of the ticket's organisation
    SYSTEM = "system"  # the scheduler or the quote-approval state machine


ACTOR_ROLES: dict[Actor, frozenset[Role]] = {
    Actor.LEVEL: frozenset({Role.CONSULTANT, Role.MANAGER}),
    Actor.HOLDER: frozenset({Role.CONSULTANT, Role.MANAGER}),
    Actor.ASSIGNEE: frozenset({Role.CONSULTANT, Role.MANAGER}),
    Actor.CLIENT: frozenset({Role.CLIENT}),
    Actor.SYSTEM: frozenset({Role.SYSTEM}),
}

ALL_TYPES = frozenset(TicketType)
TIME_BILLED = frozenset({TicketType.ASSISTANCE, TicketType.INCIDENT})
EVOLUTION = frozenset({TicketType.EVOLUTION})

# The status a reopened ticket returns to, per type.
REOPEN_TO = {
    TicketType.ASSISTANCE: Status.IN_PROGRESS,
    TicketType.INCIDENT: Status.IN_PROGRESS,
    TicketType.EVOLUTION: Status.IN_REALISATION,
}


@dataclass(frozen=True)
class ActionInput:
    """The body of an action; which fields count depends on the action."""

    assignee: str | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    amount: Decimal | None = None
    days: Decimal | None = None
    description: str | None = None
    validity_days: int | None = None
    reason: str | None = None
    message: str | None = None
    note: str | None = None
    quote_version: int | None = None


@dataclass(frozen=True)
class ActionContext:
    """Stored facts an action may need besides the ticket, read by the service."""

    now: datetime
    assignee_level: int | None = None  # roster level of `ActionInput.assignee`, if any
    # False when `ActionInput.assignee` is on the roster but inactive: never assignable (§7)
    assignee_active: bool = True
    auto_close_days: int = DEFAULT_AUTO_CLOSE_DAYS
    # submit-quote's validity when the request names none: the organisation's (§8)
    quote_validity_days: int = DEFAULT_QUOTE_VALIDITY_DAYS


E = TypeVar("E", TaskNeeded, QuoteSubmitted, QuoteDecided)


@dataclass(frozen=True)
class Transition:
    """An applied action: the ticket before and after, its history event, and what it causes
    besides (domain events, turned into tasks and outbox items by helpdesk.side_effects)."""

    before: Ticket
    ticket: Ticket
    event: HistoryEvent
    events: tuple[DomainEvent, ...] = ()

    def caused(self, kind: type[E]) -> E | None:
        """The domain event of this kind the transition caused, if any."""
        return next((e for e in self.events if isinstance(e, kind)), None)


def _always(_ticket: Ticket, _now: datetime) -> bool:
    return True


def _can_escalate(ticket: Ticket, _now: datetime) -> bool:
    return ticket.support_level < ticket.type.max_level


def _quote_pending(ticket: Ticket, _now: datetime) -> bool:
    quote = ticket.quote
    return quote is not None and quote.outcome is QuoteOutcome.PENDING


def _quote_refused(ticket: Ticket, _now: datetime) -> bool:
    quote = ticket.quote
    return quote is not None and quote.outcome in (QuoteOutcome.REFUSED, QuoteOutcome.EXPIRED)


def _never_quoted(ticket: Ticket, _now: datetime) -> bool:
    """No quote awaits or binds the client: none submitted, or the last one taken back."""
    quote = ticket.quote
    return quote is None or quote.outcome is QuoteOutcome.WITHDRAWN


def _auto_close_due(ticket: Ticket, now: datetime) -> bool:
    return ticket.countdown_running and ticket.auto_close_at is not None and (
        ticket.auto_close_at <= ensure_utc(now)
    )


@dataclass(frozen=True)
class Rule:
    """One row of the action table."""

    action: Action
    types: frozenset[TicketType]
    from_statuses: frozenset[Status]
    actor: Actor
    to: Status | None = None  # None: decided by the action (unchanged, resume, reopen)
    required: tuple[str, ...] = ()
    closure: ClosureReason | None = None
    condition: Callable[[Ticket, datetime], bool] = _always
    condition_text: str = ""


_ABANDON_TEXT = (
    "only an evolution whose quote was refused or expired, or that was never quoted "
    "(or whose quote was withdrawn), can be abandoned"
)


def _s(*statuses: Status) -> frozenset[Status]:
    return frozenset(statuses)


ACTION_TABLE: tuple[Rule, ...] = (
    Rule(Action.TAKE, ALL_TYPES, _s(Status.OPEN), Actor.LEVEL, Status.TAKEN),
    Rule(Action.START, ALL_TYPES, _s(Status.TAKEN), Actor.ASSIGNEE, Status.IN_PROGRESS),
    Rule(
        Action.ESCALATE,
        ALL_TYPES,
        _s(Status.TAKEN, Status.IN_PROGRESS),
        Actor.ASSIGNEE,
        condition=_can_escalate,
        condition_text="the ticket is already at the highest level its type allows",
    ),
    Rule(
        Action.HOLD,
        ALL_TYPES,
        _s(Status.TAKEN, Status.IN_PROGRESS, Status.IN_REALISATION),
        Actor.ASSIGNEE,
        Status.ON_HOLD,
    ),
    Rule(Action.RESUME, ALL_TYPES, _s(Status.ON_HOLD), Actor.ASSIGNEE),
    Rule(
        Action.SUBMIT_QUOTE,
        EVOLUTION,
        _s(Status.IN_PROGRESS),
        Actor.ASSIGNEE,
        Status.AWAITING_QUOTE_APPROVAL,
        required=("amount",),
    ),
    Rule(
        Action.APPROVE_QUOTE,
        EVOLUTION,
        _s(Status.AWAITING_QUOTE_APPROVAL),
        Actor.CLIENT,
        Status.IN_REALISATION,
        condition=_quote_pending,
    ),
    Rule(
        Action.REFUSE_QUOTE,
        EVOLUTION,
        _s(Status.AWAITING_QUOTE_APPROVAL),
        Actor.CLIENT,
        Status.IN_PROGRESS,
        required=("reason",),
        condition=_quote_pending,
    ),
    Rule(
        Action.SEND_ANSWER,
        TIME_BILLED,
        _s(Status.IN_PROGRESS),
        Actor.ASSIGNEE,
        Status.ANSWER_SENT,
        required=("message",),
    ),
    Rule(
        Action.SEND_ANSWER,
        EVOLUTION,
        _s(Status.IN_REALISATION),
        Actor.ASSIGNEE,
        Status.ANSWER_SENT,
        required=("message",),
    ),
    Rule(
        Action.CONFIRM,
        ALL_TYPES,
        _s(Status.ANSWER_SENT),
        Actor.CLIENT,
        Status.CLOSED,
        closure=ClosureReason.CONFIRMED,
    ),
    Rule(Action.REOPEN, ALL_TYPES, _s(Status.ANSWER_SENT), Actor.CLIENT, required=("reason",)),
    Rule(
        Action.CLOSE,
        ALL_TYPES,
        _s(Status.ANSWER_SENT),
        Actor.ASSIGNEE,
        Status.CLOSED,
        required=("note",),
        closure=ClosureReason.CLOSED_BY_CONSULTANT,
    ),
    Rule(
        Action.CLOSE,
        EVOLUTION,
        _s(Status.IN_PROGRESS),
        Actor.ASSIGNEE,
        Status.CLOSED,
        required=("note",),
        closure=ClosureReason.ABANDONED,
        condition=_quote_refused,
        condition_text=_ABANDON_TEXT,
    ),
    Rule(
        Action.CLOSE,
        EVOLUTION,
        _s(Status.IN_PROGRESS),
        Actor.ASSIGNEE,
        Status.CLOSED,
        required=("note",),
        closure=ClosureReason.ABANDONED,
        condition=_never_quoted,
        condition_text=_ABANDON_TEXT,
    ),
    Rule(
        Action.CANCEL,
        ALL_TYPES,
        _s(Status.OPEN),
        Actor.CLIENT,
        Status.CLOSED,
        closure=ClosureReason.CANCELLED,
    ),
    Rule(
        Action.CANCEL,
        ALL_TYPES,
        _s(Status.OPEN),
        Actor.LEVEL,
        Status.CLOSED,
        required=("reason",),
        closure=ClosureReason.CANCELLED,
    ),
    Rule(
        Action.ASSIGN,
        ALL_TYPES,
        _s(
            Status.TAKEN,
            Status.IN_PROGRESS,
            Status.ON_HOLD,
            Status.AWAITING_QUOTE_APPROVAL,
            Status.IN_REALISATION,
        ),
        Actor.HOLDER,
        required=("assignee",),
    ),
    Rule(
        Action.WITHDRAW_QUOTE,
        EVOLUTION,
        _s(Status.AWAITING_QUOTE_APPROVAL),
        Actor.ASSIGNEE,
        Status.IN_PROGRESS,
        condition=_quote_pending,
    ),
    Rule(
        Action.AUTO_CLOSE,
        ALL_TYPES,
        _s(Status.ANSWER_SENT),
        Actor.SYSTEM,
        Status.CLOSED,
        closure=ClosureReason.AUTO_CLOSED,
        condition=_auto_close_due,
        condition_text="the auto-close countdown is not due",
    ),
    Rule(
        Action.EXPIRE_QUOTE,
        EVOLUTION,
        _s(Status.AWAITING_QUOTE_APPROVAL),
        Actor.SYSTEM,
        Status.IN_PROGRESS,
        required=("quote_version",),
        condition=_quote_pending,
    ),
)

HUMAN_ACTIONS = tuple(a for a in Action if a not in (Action.AUTO_CLOSE, Action.EXPIRE_QUOTE))


def roles_for(action: Action) -> frozenset[Role]:
    """Every role that performs this action on some ticket."""
    roles: set[Role] = set()
    for rule in ACTION_TABLE:
        if rule.action is action:
            roles |= ACTOR_ROLES[rule.actor]
    return frozenset(roles)


def _caller_fits(rule: Rule, ticket: Ticket, caller: Caller) -> bool:
    if caller.role not in ACTOR_ROLES[rule.actor]:
        return False
    if caller.role is Role.MANAGER or rule.actor is Actor.SYSTEM:
        return True
    if rule.actor is Actor.CLIENT:
        return caller.org_id == ticket.org_id
    if rule.actor is Actor.LEVEL:
        return caller.level == ticket.support_level
    if rule.actor is Actor.HOLDER:
        return caller.level == ticket.support_level and ticket.assignee in (None, caller.id)
    # Assignee: the assignee; an unassigned ticket (escalated to a queue) is claimed by
    # the first consultant of its level who acts on it.
    if ticket.assignee is not None:
        return caller.id == ticket.assignee
    return caller.level == ticket.support_level


def _rule_applies(rule: Rule, ticket: Ticket, caller: Caller, now: datetime) -> bool:
    return (
        ticket.type in rule.types
        and ticket.status in rule.from_statuses
        and _caller_fits(rule, ticket, caller)
        and rule.condition(ticket, now)
    )


def allowed_actions(ticket: Ticket, caller: Caller, now: datetime) -> list[str]:
    """The actions this caller may perform on this ticket now, in table order."""
    allowed: list[str] = []
    for rule in ACTION_TABLE:
        if rule.action.value not in allowed and _rule_applies(rule, ticket, caller, now):
            allowed.append(rule.action.value)
    return allowed


def find_rule(ticket: Ticket, caller: Caller, action: Action, now: datetime) -> Rule:
    """The table row that lets this caller perform this action now, or the right error."""
    if caller.role not in roles_for(action):
        raise Forbidden(f"A {caller.role.value} never performs '{action.value}'.")
    for rule in ACTION_TABLE:
        if rule.action is action and _rule_applies(rule, ticket, caller, now):
            return rule
    raise ActionNotAllowed(
        _refusal_detail(ticket, caller, action, now), allowed_actions(ticket, caller, now)
    )


def _refusal_detail(ticket: Ticket, caller: Caller, action: Action, now: datetime) -> str:
    rules = [r for r in ACTION_TABLE if r.action is action]
    if not any(ticket.type in r.types for r in rules):
        return f"'{action.value}' does not apply to a ticket of type {ticket.type.value}."
    rules = [r for r in rules if ticket.type in r.types]
    if not any(ticket.status in r.from_statuses for r in rules):
        return (
            f"'{action.value}' is not possible while the ticket is "
            f"'{ticket.status.label}' ({ticket.status.value})."
        )
    rules = [r for r in rules if ticket.status in r.from_statuses]
    if not any(_caller_fits(r, ticket, caller) for r in rules):
        # Explain the row meant for the caller's role (a consultant refused a staff `cancel`
        # is told about the level, not about the client's own `cancel`).
        rules = [r for r in rules if caller.role in ACTOR_ROLES[r.actor]] or rules
        if rules[0].actor is Actor.LEVEL:
            return f"Only a consultant of level {ticket.support_level} can '{action.value}'."
        if rules[0].actor is Actor.HOLDER:
            return (
                f"Only the ticket's assignee, a consultant of level {ticket.support_level} "
                f"while nobody holds it, or a manager can '{action.value}'."
            )
        if rules[0].actor is Actor.CLIENT:
            return f"Only a client of the ticket's organisation can '{action.value}'."
        return f"Only the ticket's assignee can '{action.value}'."
    texts = [r.condition_text for r in rules if r.condition_text]
    return texts[0] if texts else f"'{action.value}' is not possible on this ticket now."


def decide(
    ticket: Ticket,
    caller: Caller,
    action: Action,
    params: ActionInput,
    context: ActionContext,
) -> Transition:
    """Check the action against the table and the guards; return the resulting transition."""
    now = ensure_utc(context.now)
    rule = find_rule(ticket, caller, action, now)
    for name in rule.required:
        value = getattr(params, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidInput(name, f"'{name}' is required to '{action.value}'.")
    apply = _APPLIERS[action]
    changes, details, events = apply(ticket, caller, params, context)
    popped = changes.pop("status", ticket.status)
    target = rule.to if rule.to is not None else cast(Status, popped)
    if "assignee" in changes:
        assignee = cast("str | None", changes.pop("assignee"))
    elif ticket.assignee is None and rule.actor is Actor.ASSIGNEE and caller.role is Role.CONSULTANT:
        assignee = caller.id  # claims an unassigned ticket of its level
        details["assignee"] = caller.id
    else:
        assignee = ticket.assignee
    after = replace(
        ticket,
        status=target,
        assignee=assignee,
        version=ticket.version + 1,
        updated_at=now,
        **cast(dict[str, Any], changes),
    )
    if target is not Status.ANSWER_SENT:
        after = replace(after, auto_close_at=None, countdown_suspended=False)
    if rule.closure is not None:
        after = replace(after, closure_reason=rule.closure, closed_at=now)
    event = HistoryEvent(
        version=after.version,
        at=now,
        actor=caller.id,
        action=action.value,
        from_status=ticket.status,
        to_status=after.status,
        details={k: v for k, v in details.items() if v != ""},
    )
    return Transition(before=ticket, ticket=after, event=event, events=tuple(events))


Applied = tuple[dict[str, object], dict[str, str], list[DomainEvent]]


def _text(value: str | None) -> str:
    return value.strip() if value else ""


def _assignee_of_level(params: ActionInput, context: ActionContext, level: int) -> None:
    if params.assignee is None:
        return
    if context.assignee_level != level:
        raise InvalidInput(
            "assignee", f"'{params.assignee}' is not a consultant of level {level}."
        )
    if not context.assignee_active:
        raise InvalidInput(
            "assignee", f"'{params.assignee}' is inactive on the roster: never assignable."
        )


def _take(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    new_type = params.type or ticket.type
    level = new_type.base_level
    assignee = params.assignee
    if assignee is None:
        if caller.role is not Role.CONSULTANT or caller.level != level:
            raise InvalidInput(
                "assignee", f"Name a consultant of level {level} to take this ticket."
            )
        assignee = caller.id
    else:
        _assignee_of_level(params, ctx, level)
    month = paris_month(ctx.now)
    changes: dict[str, object] = {
        "type": new_type,
        "support_level": level,
        "priority": params.priority or ticket.priority,
        "assignee": assignee,
        "taken_at": ensure_utc(ctx.now),
    }
    details = {"assignee": assignee, "priority": str(changes["priority"]), "task_month": month}
    if new_type is not ticket.type:
        details["type"] = f"{ticket.type.value} -> {new_type.value}"
    return changes, details, [TaskNeeded(month)]


def _no_change(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return {}, {}, []


def _escalate(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    level = ticket.support_level + 1
    _assignee_of_level(params, ctx, level)
    details = {"from_level": str(ticket.support_level), "to_level": str(level)}
    details["assignee"] = params.assignee or ""
    details["reason"] = _text(params.reason)
    # Without a named assignee the ticket waits in the new level's queue.
    return {"support_level": level, "assignee": params.assignee}, details, []


def _hold(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return {"held_from": ticket.status}, {"reason": _text(params.reason)}, []


def _resume(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    if ticket.held_from is None:  # cannot happen through the table; stored data is damaged
        raise ActionNotAllowed("The ticket does not remember where it was held from.", [])
    return {"status": ticket.held_from, "held_from": None}, {}, []


def _submit_quote(
    ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext
) -> Applied:
    assert params.amount is not None  # required by the table
    amount = parse_money(params.amount, "amount")
    days = params.days
    if days is not None and (not days.is_finite() or days <= 0 or days > 10000):
        raise InvalidInput("days", "'days' must be a positive number of days.")
    validity = (
        params.validity_days if params.validity_days is not None else ctx.quote_validity_days
    )
    if not 1 <= validity <= 365:
        raise InvalidInput("validity_days", "'validity_days' must be between 1 and 365.")
    quote = Quote(
        version=len(ticket.quotes) + 1,
        amount=amount,
        days=days,
        description=_text(params.description),
        validity_days=validity,
        submitted_by=caller.id,
        submitted_at=ensure_utc(ctx.now),
    )
    details = {"quote_version": str(quote.version), "amount": f"{amount:.2f}"}
    if days is not None:
        details["days"] = str(days)
    return {"quotes": (*ticket.quotes, quote)}, details, [QuoteSubmitted(quote.version)]


def _decide_quote(
    ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext, outcome: QuoteOutcome
) -> Applied:
    current = ticket.quote
    assert current is not None  # the table's condition guarantees a pending quote
    if params.quote_version is not None and params.quote_version != current.version:
        raise ActionNotAllowed(
            f"Quote version {params.quote_version} is not the pending one "
            f"(version {current.version}).",
            allowed_actions(ticket, caller, ctx.now),
        )
    reason = _text(params.reason) or None
    decided = replace(
        current,
        outcome=outcome,
        reason=reason,
        decided_by=caller.id,
        decided_at=ensure_utc(ctx.now),
    )
    details = {"quote_version": str(current.version), "outcome": outcome.value}
    if reason:
        details["reason"] = reason
    if outcome is QuoteOutcome.APPROVED:
        details["amount"] = f"{current.amount:.2f}"
    event = QuoteDecided(current.version, outcome)
    return {"quotes": (*ticket.quotes[:-1], decided)}, details, [event]


def _approve(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return _decide_quote(ticket, caller, params, ctx, QuoteOutcome.APPROVED)


def _refuse(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return _decide_quote(ticket, caller, params, ctx, QuoteOutcome.REFUSED)


def _expire(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return _decide_quote(ticket, caller, params, ctx, QuoteOutcome.EXPIRED)


def _send_answer(
    ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext
) -> Applied:
    due = auto_close_due(ctx.now, ctx.auto_close_days)
    changes: dict[str, object] = {
        "answered_at": ensure_utc(ctx.now),
        "auto_close_at": due,
        "countdown_suspended": False,
    }
    return changes, {"message": _text(params.message), "auto_close_at": iso(due)}, []


def _reopen(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return {"status": REOPEN_TO[ticket.type]}, {"reason": _text(params.reason)}, []


def _close(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return {}, {"note": _text(params.note)}, []


def _cancel(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return {}, {"reason": _text(params.reason)}, []


def _assign(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    assert params.assignee is not None  # required by the table
    _assignee_of_level(params, ctx, ticket.support_level)
    if caller.role is Role.CONSULTANT and ticket.assignee is None and params.assignee != caller.id:
        raise InvalidInput(
            "assignee",
            "A consultant takes a queue ticket for themself; a manager assigns it to others.",
        )
    if params.assignee == ticket.assignee:
        raise InvalidInput("assignee", f"'{params.assignee}' already holds this ticket.")
    details = {"from": ticket.assignee or "", "assignee": params.assignee}
    return {"assignee": params.assignee}, details, []


def _withdraw(ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext) -> Applied:
    return _decide_quote(ticket, caller, params, ctx, QuoteOutcome.WITHDRAWN)


def _auto_close(
    ticket: Ticket, caller: Caller, params: ActionInput, ctx: ActionContext
) -> Applied:
    due = ticket.auto_close_at
    return {}, {"auto_close_at": iso(due) if due else ""}, []


_APPLIERS: dict[Action, Callable[[Ticket, Caller, ActionInput, ActionContext], Applied]] = {
    Action.TAKE: _take,
    Action.START: _no_change,
    Action.ESCALATE: _escalate,
    Action.HOLD: _hold,
    Action.RESUME: _resume,
    Action.SUBMIT_QUOTE: _submit_quote,
    Action.APPROVE_QUOTE: _approve,
    Action.REFUSE_QUOTE: _refuse,
    Action.SEND_ANSWER: _send_answer,
    Action.CONFIRM: _no_change,
    Action.REOPEN: _reopen,
    Action.CLOSE: _close,
    Action.CANCEL: _cancel,
    Action.ASSIGN: _assign,
    Action.WITHDRAW_QUOTE: _withdraw,
    Action.AUTO_CLOSE: _auto_close,
    Action.EXPIRE_QUOTE: _expire,
}


def suspend_countdown(ticket: Ticket, now: datetime) -> Ticket | None:
    """A client wrote while the ticket awaits confirmation: stop the countdown.

    Returns the changed ticket, or None when nothing changes.
    """
    if not ticket.countdown_running:
        return None
    return replace(
        ticket, countdown_suspended=True, version=ticket.version + 1, updated_at=ensure_utc(now)
    )


MAIL_BOUNCED = "mail-bounced"


def mail_bounced(ticket: Ticket, now: datetime, details: dict[str, str]) -> Transition:
    """A mail we sent about the ticket could not be delivered (a delivery report said so): the
    history records it (`mail-bounced`: recipient, status, diagnostic) with a version of its
    own, and a running auto-close countdown is suspended until a consultant acts (a public
    comment starts it again, a new answer starts a new one): a client who never received our
    answer is not closed in silence."""
    now = ensure_utc(now)
    after = replace(
        ticket,
        countdown_suspended=ticket.countdown_suspended or ticket.countdown_running,
        version=ticket.version + 1,
        updated_at=now,
    )
    event = HistoryEvent(
        version=after.version,
        at=now,
        actor=SYSTEM.id,
        action=MAIL_BOUNCED,
        from_status=ticket.status,
        to_status=ticket.status,
        details=details,
    )
    return Transition(before=ticket, ticket=after, event=event)


def restart_countdown(ticket: Ticket, now: datetime, days: int) -> Ticket | None:
    """A consultant answered the client's reply: the countdown starts again from now."""
    if ticket.status is not Status.ANSWER_SENT or not ticket.countdown_suspended:
        return None
    return replace(
        ticket,
        countdown_suspended=False,
        auto_close_at=auto_close_due(now, days),
        version=ticket.version + 1,
        updated_at=ensure_utc(now),
    )
