"""Use cases: load what an operation needs, ask the domain, commit one unit of work.

Who may do what is checked here, and only here: the HTTP routes call these methods and
nothing else decides a role (DESIGN.md §4: 401/403/404 in that order).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

# helpdesk.side_effects (mails, tasks, commands: notifications and their texts) is imported by
# the methods that write, not here: a cold start that only reads never loads it (#21).
from helpdesk.domain.budget import (
    BudgetMove,
    BudgetUse,
    Consumption,
    budget_move,
    consumption_month,
    due_alerts,
    entry_moves,
)
from helpdesk.domain.calendar import DEFAULT_AUTO_CLOSE_DAYS, task_title
from helpdesk.domain.comments import Comment, new_comment, visible_to
from helpdesk.domain.contract import DEFAULT_CONTRACT
from helpdesk.domain.directory import (
    Consultant,
    Organisation,
    RosterRole,
    new_consultant,
    new_organisation,
)
from helpdesk.domain.editing import TicketChanges, decide_edit, time_event
from helpdesk.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MonthLocked,
    NotFound,
    StaleVersion,
    StatusConflict,
)
from helpdesk.domain.listing import DEFAULT_LIMIT, MAX_LIMIT, ME, TicketQuery
from helpdesk.domain.model import (
    Caller,
    HistoryEvent,
    Quote,
    Role,
    Source,
    Ticket,
    TicketType,
)
from helpdesk.domain.quote_schedule import DEFAULT_QUOTE_VALIDITY_DAYS
from helpdesk.domain.ticket_sla import open_sla, with_clocks, with_priority
from helpdesk.domain.tickets import draft_ticket
from helpdesk.domain.timekeeping import (
    Task,
    TimeEntry,
    TimeKind,
    check_entry_removable,
    edited_time_entry,
    new_time_entry,
)
from helpdesk.domain.workflow import (
    Action,
    ActionContext,
    ActionInput,
    Transition,
    allowed_actions,
    decide,
    mail_bounced,
    restart_countdown,
    suspend_countdown,
)
from helpdesk.ports import (
    AlreadyExists,
    BudgetChanged,
    NumberTaken,
    Page,
    TicketChanged,
    UnitOfWork,
)

if TYPE_CHECKING:  # built by the methods that write, not at import (helpdesk.changes)
    from helpdesk.changes import Change

MAX_RETRIES_ON_CHANGE = 3
MAX_BUDGET_ATTEMPTS = 5  # an entry re-decided when another one moved the month's budget
MAX_NUMBER_ATTEMPTS = 200

# Changes a caller adds to a use case's own commit (mail ingestion's outcome record).
Extra = Callable[[Ticket], Sequence["Change"]]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Sortable unique id: creation time in ms, then randomness."""
    return f"{int(datetime.now(UTC).timestamp() * 1000):013d}-{uuid.uuid4().hex[:12]}"


def _nothing(_ticket: Ticket) -> Sequence[Change]:
    return ()


# ---------------------------------------------------------------- who may do what


def require_ticket_reader(caller: Caller) -> None:
    if caller.role not in (Role.CLIENT, Role.CONSULTANT, Role.MANAGER, Role.SYSTEM):
        raise Forbidden("Finance reaches billing only.")


def require_staff(caller: Caller) -> None:
    if not caller.is_staff:
        raise Forbidden("Only consultants and managers do this.")


def require_manager(caller: Caller) -> None:
    if caller.role is not Role.MANAGER:
        raise Forbidden("Only managers do this.")


def require_billing_reader(caller: Caller) -> None:
    if caller.role not in (Role.FINANCE, Role.MANAGER, Role.SYSTEM):
        raise Forbidden("Only finance and managers reach the billing exports.")


def accepted_versions(expected: int | AbstractSet[int] | None) -> frozenset[int] | None:
    """The versions an If-Match accepts (None: any)."""
    if expected is None:
        return None
    return frozenset((expected,)) if isinstance(expected, int) else frozenset(expected)


def stale_version(number: int, version: int, expected: AbstractSet[int]) -> StaleVersion:
    """412: the ticket is at a version the caller's If-Match does not name."""
    named = " or ".join(str(v) for v in sorted(expected)) or "any version listed"
    return StaleVersion(f"Ticket #{number} is at version {version}, not {named}.", version)


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"'limit' must be between 1 and {MAX_LIMIT}.")


def check_visible(ticket: Ticket, caller: Caller) -> Ticket:
    """Another organisation's ticket does not exist, as far as a client knows."""
    if caller.role is Role.CLIENT and ticket.org_id != caller.org_id:
        raise NotFound(f"Ticket #{ticket.number} does not exist.")
    return ticket


class HelpdeskService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Callable[[], datetime] = utc_now,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.ids = ids

    def _commit(self, changes: Sequence[Change]) -> None:
        self.uow.add(*changes)
        self.uow.commit()

    # ---------- visibility ----------

    def get_ticket(self, caller: Caller, number: int) -> Ticket:
        require_ticket_reader(caller)
        return check_visible(self.uow.tickets.get(number), caller)

    def allowed(self, ticket: Ticket, caller: Caller) -> list[str]:
        return allowed_actions(ticket, caller, self.clock())

    # ---------- tickets ----------

    def create_ticket(
        self,
        caller: Caller,
        *,
        title: str,
        description: str,
        type: TicketType,
        org_id: str | None = None,
        source: Source = Source.API,
        extra: Extra = _nothing,
        linked_ticket: int | None = None,
        attachments: tuple[str, ...] = (),
        mail_thread: str = "",
        acknowledge: bool = True,
    ) -> Ticket:
        """Number the draft with the next sequential number, atomically with the counter.

        `mail_thread`: the Message-ID of the mail that creates the ticket (its mails' thread).
        `acknowledge` False: the requester gets no acknowledgement (bulk or list mail, which
        RFC 3834 forbids answering automatically); the staff notice still goes."""
        from helpdesk import side_effects

        draft = draft_ticket(
            caller,
            title=title,
            description=description,
            type=type,
            org_id=org_id,
            now=self.clock(),
            source=source,
        )
        if linked_ticket is not None or attachments:
            draft = replace(draft, linked_ticket=linked_ticket, attachments=attachments)
        # The counter and the organisation in one read: its contract starts the clocks (§10).
        number, org = self.uow.tickets.next_number_and_org(draft.org_id)
        if caller.role is not Role.CLIENT and org is None:
            raise InvalidInput("org_id", f"Organisation '{draft.org_id}' does not exist.")
        contract = org.contract if org is not None else DEFAULT_CONTRACT
        for attempt in range(MAX_NUMBER_ATTEMPTS):
            if attempt:
                number = self.uow.tickets.next_number()
            ticket, event = draft.numbered(number)
            ticket = replace(ticket, sla=open_sla(contract, ticket.priority, ticket.created_at))
            if mail_thread:
                ticket = replace(ticket, mail_thread=mail_thread)
            try:
                self._commit(
                    [*side_effects.of_creation(ticket, event, acknowledge), *extra(ticket)]
                )
                return ticket
            except NumberTaken:
                continue
        raise Conflict("Too many tickets are being created at once; try again.")

    def list_tickets(
        self, caller: Caller, query: TicketQuery, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[Ticket], str | None]:
        """The tickets the caller sees that the query matches (`assignee` may be `me`)."""
        require_ticket_reader(caller)
        check_limit(limit)
        if query.assignee == ME:
            query = replace(query, assignee=caller.id)
        if caller.role is Role.CLIENT:
            if query.org_id is not None and query.org_id != caller.org_id:
                return [], None
            query = replace(query, org_id=caller.org_id)
        page = self.uow.tickets.find(query, cursor, limit)
        return page.items, page.next_cursor

    def perform(
        self,
        caller: Caller,
        number: int,
        action: Action,
        params: ActionInput,
        expected_version: int | AbstractSet[int] | None = None,
        *,
        via: str | None = None,
        extra: Sequence[Change] = (),
        loaded: Ticket | None = None,
    ) -> Transition:
        """Apply an action; one conditional transaction, retried only while the status holds.
        `expected_version`: the version, or the versions (an If-Match list), the caller
        accepts; the commit is conditional on the version `decide` saw, so a version outside
        them is 412 even when another writer moves the ticket in between.
        `via`: how the caller acted (`link`: an action link, §8), in the history event's
        details; `extra`: changes committed in the same transaction (the link marked used);
        `loaded`: the ticket as the caller just read it (the commit stays conditional on its
        version), when the action names no assignee to read with it."""
        from helpdesk import side_effects

        require_ticket_reader(caller)
        expected = accepted_versions(expected_version)
        if loaded is not None and loaded.number == number and params.assignee is None:
            ticket, assignee = check_visible(loaded, caller), None
        else:
            ticket, assignee = self._load_for_action(caller, number, params, action)
        names = {assignee.id: assignee.name} if assignee is not None and assignee.name else {}
        if params.assignee is None:
            assignee = None  # the caller's own entry, read for its name only (a self-take)
        for _attempt in range(MAX_RETRIES_ON_CHANGE):
            if expected is not None and ticket.version not in expected:
                raise stale_version(number, ticket.version, expected)
            context = ActionContext(
                now=self.clock(),
                assignee_level=assignee.level if assignee else None,
                assignee_active=assignee.active if assignee else True,
                auto_close_days=self._auto_close_days(ticket, action),
                quote_validity_days=self._quote_validity_days(ticket, action, params),
            )
            transition = with_clocks(decide(ticket, caller, action, params, context), action)
            if via is not None:
                details = {**transition.event.details, "via": via}
                transition = replace(transition, event=replace(transition.event, details=details))
            try:
                self._commit([*side_effects.of_transition(transition, names), *extra])
                return transition
            except TicketChanged as changed:
                ticket = changed.current
                if expected is not None:
                    if ticket.version not in expected:
                        # The caller's If-Match named the version just replaced: 412, as if
                        # this request had been read a moment later, whatever the other did.
                        raise stale_version(number, ticket.version, expected) from changed
                    continue  # the caller accepts the new version too: decide on it
                if changed.status_changed:
                    raise StatusConflict(
                        f"Ticket #{number} moved to '{ticket.status.label}' "
                        f"({ticket.status.value}) before '{action.value}' could apply.",
                        allowed_actions(ticket, caller, self.clock()),
                    ) from changed
        raise StaleVersion(f"Ticket #{number} keeps changing; reload it.", ticket.version)

    def _load_for_action(
        self, caller: Caller, number: int, params: ActionInput, action: Action
    ) -> tuple[Ticket, Consultant | None]:
        """The ticket and the roster entry of the assignee named (None: unnamed or unknown);
        a manager's entry has no level, so the workflow never assigns one (§7). A consultant
        taking a ticket for themself is read too (same request), so the client's mail can
        name who took it (§8)."""
        wanted = params.assignee
        if wanted is None and action is Action.TAKE and caller.is_staff:
            wanted = caller.id
        if wanted is None:
            return check_visible(self.uow.tickets.get(number), caller), None
        ticket, consultant = self.uow.tickets.get_with_consultant(number, wanted)
        check_visible(ticket, caller)
        return ticket, consultant

    def _auto_close_days(self, ticket: Ticket, action: Action) -> int:
        if action is not Action.SEND_ANSWER:
            return DEFAULT_AUTO_CLOSE_DAYS
        return self._org_auto_close_days(ticket.org_id)

    def _org_auto_close_days(self, org_id: str) -> int:
        org = self.uow.directory.get_org(org_id)
        return org.auto_close_days if org else DEFAULT_AUTO_CLOSE_DAYS

    def _quote_validity_days(self, ticket: Ticket, action: Action, params: ActionInput) -> int:
        """The organisation's quote validity (§8), read for a submit-quote that names none."""
        if action is not Action.SUBMIT_QUOTE or params.validity_days is not None:
            return DEFAULT_QUOTE_VALIDITY_DAYS
        org = self.uow.directory.get_org(ticket.org_id)
        return org.quote_validity_days if org else DEFAULT_QUOTE_VALIDITY_DAYS

    # ---------- editing (DESIGN.md §7) ----------

    def edit_ticket(
        self,
        caller: Caller,
        number: int,
        changes: TicketChanges,
        expected_version: int | AbstractSet[int] | None = None,
    ) -> Ticket:
        """Change the title, description or priority (helpdesk.domain.editing decides who may);
        a new title renames the month tasks of the months not exported, in the same
        transaction (an exported month keeps its title). An edit that changes nothing
        returns the ticket as it is (no new version). `expected_version`: as `perform`."""
        from helpdesk.changes import EventRecorded, TaskRenamed, TicketUpdated

        require_ticket_reader(caller)
        expected = accepted_versions(expected_version)
        ticket, tasks = self.uow.tickets.with_tasks(number)
        check_visible(ticket, caller)
        lock_retried = False
        for _attempt in range(MAX_RETRIES_ON_CHANGE + 1):
            if expected is not None and ticket.version not in expected:
                raise stale_version(number, ticket.version, expected)
            edit = decide_edit(ticket, caller, changes, self.clock())
            if edit is None:
                return ticket
            edit = replace(edit, ticket=with_priority(ticket, edit.ticket, edit.event.at))
            planned: list[Change] = [
                TicketUpdated(edit.before, edit.ticket),
                EventRecorded(number, edit.event),
            ]
            if edit.retitled and tasks:
                locked = self.uow.tickets.locked_months([t.month for t in tasks])
                planned += [
                    TaskRenamed(number, t.month, task_title(number, edit.ticket.title, t.month))
                    for t in tasks
                    if t.month not in locked
                ]
            try:
                self._commit(planned)
                return edit.ticket
            except TicketChanged as changed:
                if expected is not None and changed.current.version not in expected:
                    # The If-Match named the version just replaced: 412, as in `perform`.
                    raise stale_version(number, changed.current.version, expected) from changed
            except MonthLocked:
                # A month was exported between the reads and the commit: once, read again.
                if lock_retried:
                    raise
                lock_retried = True
            ticket, tasks = self.uow.tickets.with_tasks(number)
        raise StaleVersion(f"Ticket #{number} keeps changing; reload it.", ticket.version)

    def history(self, caller: Caller, number: int) -> list[HistoryEvent]:
        self.get_ticket(caller, number)
        return self.uow.tickets.history(number)

    def history_page(
        self, caller: Caller, number: int, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> Page[HistoryEvent]:
        check_limit(limit)
        self.get_ticket(caller, number)
        return self.uow.tickets.history_page(number, cursor, limit)

    def quotes_page(
        self, caller: Caller, number: int, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> Page[Quote]:
        """Every quote version, oldest first; the cursor is the last version listed."""
        check_limit(limit)
        quotes = self.get_ticket(caller, number).quotes
        after = 0
        if cursor:
            if not cursor.isdigit() or len(cursor) > 6:
                raise InvalidInput("cursor", "'cursor' is not a cursor this API gave.")
            after = int(cursor)
        rest = [q for q in quotes if q.version > after]
        page = rest[:limit]
        more = len(rest) > limit
        return Page(page, str(page[-1].version) if more and page else None)

    # ---------- delivery reports ----------

    def record_bounce(
        self,
        number: int,
        *,
        recipient: str,
        status: str,
        diagnostic: str,
        extra: Sequence[Change] = (),
    ) -> Transition:
        """A mail we sent about ticket `number` bounced (a delivery report, read by the mail
        ingestion): `mail-bounced` in the history, the assignee (or the level) told, and the
        auto-close countdown suspended until a consultant acts. No caller: the report is
        trusted because it names a Message-ID only we issued."""
        from helpdesk import side_effects

        details = {"recipient": recipient, "status": status, "diagnostic": diagnostic}
        ticket = self.uow.tickets.get(number)
        for _attempt in range(MAX_RETRIES_ON_CHANGE):
            transition = mail_bounced(ticket, self.clock(), details)
            try:
                self._commit([*side_effects.of_transition(transition), *extra])
                return transition
            except TicketChanged as exc:
                ticket = exc.current
        raise StaleVersion(f"Ticket #{number} keeps changing; try again.", ticket.version)

    # ---------- comments ----------

    def add_comment(
        self,
        caller: Caller,
        number: int,
        *,
        body: str,
        internal: bool = False,
        source: Source = Source.API,
        message_id: str | None = None,
        extra: Sequence[Change] = (),
        loaded: Ticket | None = None,
    ) -> Comment:
        """Store a comment; a client's reply suspends the auto-close countdown, a consultant's
        public reply to it starts the countdown again. `loaded`: the ticket as the caller just
        read it (mail ingestion, which read it to thread the mail), used as this method's own
        read would be: a countdown change stays conditional on its version."""
        from helpdesk import side_effects
        from helpdesk.changes import CommentAdded

        if loaded is not None and loaded.number == number:
            require_ticket_reader(caller)
            ticket = check_visible(loaded, caller)
        else:
            ticket = self.get_ticket(caller, number)
        for _attempt in range(MAX_RETRIES_ON_CHANGE):
            now = self.clock()
            comment = new_comment(
                ticket,
                caller,
                comment_id=self.ids(),
                body=body,
                internal=internal,
                now=now,
                source=source,
                message_id=message_id,
            )
            changes: list[Change] = [CommentAdded(comment), *extra]
            changed = self._countdown_change(ticket, caller, comment, now)
            if changed is not None:
                changes += side_effects.of_countdown_change(ticket, changed)
            # The mails it causes (§8), composed on the ticket as the comment leaves it.
            changes += side_effects.of_comment(changed or ticket, comment, caller)
            try:
                self._commit(changes)
                return comment
            except TicketChanged as exc:
                ticket = exc.current
            except AlreadyExists as exc:
                raise Conflict("This comment was already recorded.") from exc
        raise StaleVersion(f"Ticket #{number} keeps changing; try again.", ticket.version)

    def _countdown_change(
        self, ticket: Ticket, caller: Caller, comment: Comment, now: datetime
    ) -> Ticket | None:
        if caller.role is Role.CLIENT:
            return suspend_countdown(ticket, now)
        if caller.is_staff and not comment.internal and ticket.countdown_suspended:
            return restart_countdown(ticket, now, self._org_auto_close_days(ticket.org_id))
        return None

    def comments(self, caller: Caller, number: int) -> list[Comment]:
        self.get_ticket(caller, number)
        return [c for c in self.uow.tickets.comments(number) if visible_to(c, caller)]

    def comments_page(
        self, caller: Caller, number: int, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> Page[Comment]:
        """The conversation as this caller sees it (a client never sees internal notes)."""
        check_limit(limit)
        self.get_ticket(caller, number)
        return self.uow.tickets.comments_page(number, not caller.is_staff, cursor, limit)

    # ---------- time ----------

    def _staff_ticket(self, caller: Caller, number: int) -> None:
        """Another organisation's ticket is 404 on every route; then the role decides (403)."""
        if not caller.is_staff:
            self.get_ticket(caller, number)
        require_staff(caller)

    def log_time(
        self,
        caller: Caller,
        number: int,
        *,
        minutes: int,
        kind: TimeKind,
        comment: str = "",
        day: date | None = None,
    ) -> TimeEntry:
        from helpdesk.changes import TimeLogged

        self._staff_ticket(caller, number)
        ticket = self.uow.tickets.get(number)
        entry = new_time_entry(
            ticket,
            caller,
            entry_id=self.ids(),
            minutes=minutes,
            kind=kind,
            comment=comment,
            now=self.clock(),
            day=day,
        )
        title = task_title(ticket.number, ticket.title, entry.month)
        for _attempt in range(MAX_BUDGET_ATTEMPTS):
            budget, org = self._budget(ticket, None, entry)
            try:
                self._commit([TimeLogged(entry, ticket, title), *budget])
            except BudgetChanged:
                continue  # another entry sent the alert this one would: decide again
            self._budget_caught_up(org, ticket, None, entry)
            return entry
        raise Conflict(f"The hour budget of {ticket.org_id} keeps changing; try again.")

    def _entry(self, number: int, entry_id: str) -> tuple[Ticket, TimeEntry]:
        ticket, entries = self.uow.tickets.with_time_entries(number)
        for entry in entries:
            if entry.id == entry_id:
                return ticket, entry
        raise NotFound(f"Time entry {entry_id} of ticket #{number} does not exist.")

    def edit_time_entry(
        self,
        caller: Caller,
        number: int,
        entry_id: str,
        *,
        minutes: int | None = None,
        day: date | None = None,
        kind: TimeKind | None = None,
        comment: str | None = None,
    ) -> TimeEntry:
        """Change an entry (its author or a manager, its months unlocked): the ticket's total,
        the tasks and the author's days follow, the history records it (`time-entry-edited`).
        A change that changes nothing returns the entry as it is."""
        self._staff_ticket(caller, number)
        for _attempt in range(MAX_RETRIES_ON_CHANGE):
            ticket, entry = self._entry(number, entry_id)
            after = edited_time_entry(
                ticket,
                caller,
                entry,
                now=self.clock(),
                minutes=minutes,
                day=day,
                kind=kind,
                comment=comment,
            )
            if after == entry:
                return entry
            details = {
                "entry": entry.id,
                "minutes.old": str(entry.minutes),
                "minutes.new": str(after.minutes),
                "date.old": entry.day.isoformat(),
                "date.new": after.day.isoformat(),
            }
            if after.kind is not entry.kind:
                details |= {"kind.old": entry.kind.value, "kind.new": after.kind.value}
            if after.comment != entry.comment:
                details |= {"comment.old": entry.comment, "comment.new": after.comment}
            if self._commit_time_change(ticket, caller, entry, after, details):
                return after
        raise StaleVersion(f"Ticket #{number} keeps changing; try again.", ticket.version)

    def delete_time_entry(self, caller: Caller, number: int, entry_id: str) -> None:
        """Delete an entry (its author or a manager, its month unlocked), recorded in the
        history (`time-entry-deleted`)."""
        self._staff_ticket(caller, number)
        for _attempt in range(MAX_RETRIES_ON_CHANGE):
            ticket, entry = self._entry(number, entry_id)
            check_entry_removable(ticket, caller, entry)
            details = {
                "entry": entry.id,
                "minutes.old": str(entry.minutes),
                "date.old": entry.day.isoformat(),
            }
            if self._commit_time_change(ticket, caller, entry, None, details):
                return
        raise StaleVersion(f"Ticket #{number} keeps changing; try again.", ticket.version)

    def _commit_time_change(
        self,
        ticket: Ticket,
        caller: Caller,
        before: TimeEntry,
        after: TimeEntry | None,
        details: dict[str, str],
    ) -> bool:
        """One transaction; False when the ticket changed meanwhile (read again, decide again)."""
        from helpdesk.changes import EventRecorded, TimeEntryChanged

        action = "time-entry-edited" if after is not None else "time-entry-deleted"
        bumped, event = time_event(ticket, caller, action, details, self.clock())
        month = after.month if after is not None else before.month
        title = task_title(ticket.number, ticket.title, month)
        budget, org = self._budget(bumped, before, after)
        try:
            self._commit(
                [
                    TimeEntryChanged(before, after, ticket, bumped, title),
                    EventRecorded(ticket.number, event),
                    *budget,
                ]
            )
        except (TicketChanged, BudgetChanged):
            return False
        self._budget_caught_up(org, bumped, before, after)
        return True

    # ---------- hour budgets (§10) ----------

    def _budget(
        self, ticket: Ticket, before: TimeEntry | None, after: TimeEntry | None
    ) -> tuple[list[Change], Organisation | None]:
        """The organisation's month counters that `before` becoming `after` moves and the
        alerts the move reaches (its counters read only when it has a budget), with the
        organisation read (None when nothing consumes)."""
        from helpdesk import side_effects

        moves = entry_moves(before, after)
        if not moves:
            return [], None
        if all(delta < 0 for delta in moves.values()):  # minutes given back never alert
            given_back = [BudgetMove(Consumption(ticket.org_id, m), d) for m, d in moves.items()]
            return side_effects.of_budget(
                Organisation(ticket.org_id, ""), ticket, given_back, self.clock()
            ), None
        org = self.uow.directory.get_org(ticket.org_id) or Organisation(ticket.org_id, "")
        included = org.contract.included_minutes
        budget_moves = [
            budget_move(
                included,
                Consumption(org.org_id, month)
                if included is None
                else self.uow.directory.consumption(org.org_id, month),
                delta,
            )
            for month, delta in sorted(moves.items())
        ]
        return side_effects.of_budget(org, ticket, budget_moves, self.clock()), org

    def _budget_caught_up(
        self,
        org: Organisation | None,
        ticket: Ticket,
        before: TimeEntry | None,
        after: TimeEntry | None,
    ) -> None:
        """After a commit that added minutes: a threshold that concurrent entries passed, each
        reading the counter from before the others, is alerted now, in its own transaction
        (the same flags: once per month each)."""
        from helpdesk import side_effects

        months = [m for m, delta in entry_moves(before, after).items() if delta > 0]
        if org is None or org.contract.included_minutes is None:
            return
        for month in months:
            counter = self.uow.directory.consumption(org.org_id, month)
            alerts = due_alerts(org.contract.included_minutes, counter)
            if not alerts:
                continue
            move = BudgetMove(counter, 0, alerts)
            with contextlib.suppress(BudgetChanged, AlreadyExists):  # another one alerted
                self._commit(side_effects.of_budget(org, ticket, [move], self.clock()))

    def consumption(
        self, caller: Caller, org_id: str, month: str | None
    ) -> tuple[Organisation, BudgetUse]:
        """The organisation's hour budget of a month (default: this month, Paris): managers,
        finance and the organisation's own clients; another organisation is 404 to a
        client, as its tickets are."""
        if caller.role is Role.CLIENT:
            if caller.org_id != org_id:
                raise NotFound(f"Organisation '{org_id}' does not exist.")
        elif caller.role not in (Role.MANAGER, Role.FINANCE):
            raise Forbidden("Only managers, finance and the organisation's clients do this.")
        wanted = consumption_month(month, self.clock())
        org = self.uow.directory.get_org(org_id)
        if org is None:
            raise NotFound(f"Organisation '{org_id}' does not exist.")
        used = self.uow.directory.consumption(org_id, wanted)
        return org, BudgetUse(wanted, org.contract.included_minutes, used.minutes)

    def time_entries(self, caller: Caller, number: int) -> list[TimeEntry]:
        self._staff_ticket(caller, number)
        return self.uow.tickets.with_time_entries(number)[1]

    def time_entries_page(
        self, caller: Caller, number: int, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> Page[TimeEntry]:
        check_limit(limit)
        self._staff_ticket(caller, number)
        page = self.uow.tickets.time_entries_page(number, cursor, limit)
        if not page.items and cursor is None:
            self.uow.tickets.get(number)  # no entry: 404 when the ticket does not exist
        return page

    def tasks(self, caller: Caller, number: int) -> list[Task]:
        self._staff_ticket(caller, number)
        return self.uow.tickets.with_tasks(number)[1]

    # ---------- directory ----------

    def put_org(
        self,
        caller: Caller,
        org_id: str,
        *,
        name: str,
        email_domains: list[str],
        auto_close_days: int = DEFAULT_AUTO_CLOSE_DAYS,
        hourly_rate: Decimal | str | None = None,
        currency: str = "EUR",
        quote_validity_days: int = DEFAULT_QUOTE_VALIDITY_DAYS,
        contract: Mapping[str, Any] | None = None,
    ) -> Organisation:
        from helpdesk.changes import OrgSaved

        require_manager(caller)  # the role first: 403 before any check of the fields
        org = new_organisation(
            org_id,
            name,
            email_domains,
            auto_close_days,
            hourly_rate,
            currency,
            quote_validity_days=quote_validity_days,
            contract=contract,
        )
        self._commit([OrgSaved(org, self.uow.directory.get_org(org.org_id))])
        return org

    def get_org(self, caller: Caller, org_id: str) -> Organisation:
        require_manager(caller)
        org = self.uow.directory.get_org(org_id)
        if org is None:
            raise NotFound(f"Organisation '{org_id}' does not exist.")
        return org

    def put_consultant(
        self,
        caller: Caller,
        consultant_id: str,
        *,
        name: str,
        email: str,
        level: int | None,
        role: RosterRole | str = RosterRole.CONSULTANT,
        active: bool = True,
    ) -> Consultant:
        from helpdesk.changes import ConsultantSaved

        require_manager(caller)
        consultant = new_consultant(consultant_id, name, email, level, role=role, active=active)
        self._commit([ConsultantSaved(consultant)])
        return consultant

    def list_consultants(
        self, caller: Caller, *, level: int | None = None, active: bool | None = None
    ) -> list[Consultant]:
        """The roster, for staff (consultants choose whom to assign, §7); optional filters."""
        require_staff(caller)
        return [
            c
            for c in self.uow.directory.list_consultants()
            if (level is None or c.level == level) and (active is None or c.active == active)
        ]

    def list_orgs(self, caller: Caller) -> list[Organisation]:
        """Every customer organisation, for staff (§7)."""
        require_staff(caller)
        return self.uow.directory.list_orgs()
