"""Use cases: load what an operation needs, ask the domain, commit one unit of work.

Who may do what is checked here, and only here: the HTTP routes call these methods and
nothing else decides a role (DESIGN.md §4: 401/403/404 in that order).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from helpdesk import side_effects
from helpdesk.domain.calendar import DEFAULT_AUTO_CLOSE_DAYS, task_title
from helpdesk.domain.comments import Comment, new_comment, visible_to
from helpdesk.domain.directory import (
    Consultant,
    Organisation,
    new_consultant,
    new_organisation,
)
from helpdesk.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StaleVersion,
    StatusConflict,
)
from helpdesk.domain.listing import DEFAULT_LIMIT, MAX_LIMIT, ME, TicketQuery
from helpdesk.domain.model import (
    Caller,
    HistoryEvent,
    Role,
    Source,
    Ticket,
    TicketType,
)
from helpdesk.domain.tickets import draft_ticket
from helpdesk.domain.timekeeping import Task, TimeEntry, TimeKind, new_time_entry
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
from helpdesk.ports import (
    AlreadyExists,
    Change,
    CommentAdded,
    ConsultantSaved,
    NumberTaken,
    OrgSaved,
    TicketChanged,
    TimeLogged,
    UnitOfWork,
)

MAX_RETRIES_ON_CHANGE = 3
MAX_NUMBER_ATTEMPTS = 200

# Changes a caller adds to a use case's own commit (mail ingestion's outcome record).
Extra = Callable[[Ticket], Sequence[Change]]


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
    ) -> Ticket:
        """Number the draft with the next sequential number, atomically with the counter."""
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
        if caller.role is not Role.CLIENT and self.uow.directory.get_org(draft.org_id) is None:
            raise InvalidInput("org_id", f"Organisation '{draft.org_id}' does not exist.")
        for _attempt in range(MAX_NUMBER_ATTEMPTS):
            ticket, event = draft.numbered(self.uow.tickets.next_number())
            try:
                self._commit([*side_effects.of_creation(ticket, event), *extra(ticket)])
                return ticket
            except NumberTaken:
                continue
        raise Conflict("Too many tickets are being created at once; try again.")

    def list_tickets(
        self, caller: Caller, query: TicketQuery, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[Ticket], str | None]:
        """The tickets the caller sees that the query matches (`assignee` may be `me`)."""
        require_ticket_reader(caller)
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput("limit", f"'limit' must be between 1 and {MAX_LIMIT}.")
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
        expected_version: int | None = None,
    ) -> Transition:
        """Apply an action; one conditional transaction, retried only while the status holds."""
        require_ticket_reader(caller)
        ticket, assignee_level = self._load_for_action(caller, number, params)
        for _attempt in range(MAX_RETRIES_ON_CHANGE):
            if expected_version is not None and ticket.version != expected_version:
                raise StaleVersion(
                    f"Ticket #{number} is at version {ticket.version}, "
                    f"not {expected_version}.",
                    ticket.version,
                )
            context = ActionContext(
                now=self.clock(),
                assignee_level=assignee_level,
                auto_close_days=self._auto_close_days(ticket, action),
            )
            transition = decide(ticket, caller, action, params, context)
            try:
                self._commit(side_effects.of_transition(transition))
                return transition
            except TicketChanged as changed:
                ticket = changed.current
                if expected_version is not None:
                    # The caller's If-Match named the version just replaced: 412, as if this
                    # request had been read a moment later, whatever the other writer did.
                    raise StaleVersion(
                        f"Ticket #{number} is at version {ticket.version}, "
                        f"not {expected_version}.",
                        ticket.version,
                    ) from changed
                if changed.status_changed:
                    raise StatusConflict(
                        f"Ticket #{number} moved to '{ticket.status.label}' "
                        f"({ticket.status.value}) before '{action.value}' could apply.",
                        allowed_actions(ticket, caller, self.clock()),
                    ) from changed
        raise StaleVersion(f"Ticket #{number} keeps changing; reload it.", ticket.version)

    def _load_for_action(
        self, caller: Caller, number: int, params: ActionInput
    ) -> tuple[Ticket, int | None]:
        if params.assignee is None:
            return check_visible(self.uow.tickets.get(number), caller), None
        ticket, consultant = self.uow.tickets.get_with_consultant(number, params.assignee)
        check_visible(ticket, caller)
        return ticket, consultant.level if consultant else None

    def _auto_close_days(self, ticket: Ticket, action: Action) -> int:
        if action is not Action.SEND_ANSWER:
            return DEFAULT_AUTO_CLOSE_DAYS
        return self._org_auto_close_days(ticket.org_id)

    def _org_auto_close_days(self, org_id: str) -> int:
        org = self.uow.directory.get_org(org_id)
        return org.auto_close_days if org else DEFAULT_AUTO_CLOSE_DAYS

    def history(self, caller: Caller, number: int) -> list[HistoryEvent]:
        self.get_ticket(caller, number)
        return self.uow.tickets.history(number)

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
    ) -> Comment:
        """Store a comment; a client's reply suspends the auto-close countdown, a consultant's
        public reply to it starts the countdown again."""
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
        self._commit([TimeLogged(entry, ticket, title)])
        return entry

    def time_entries(self, caller: Caller, number: int) -> list[TimeEntry]:
        self._staff_ticket(caller, number)
        return self.uow.tickets.with_time_entries(number)[1]

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
    ) -> Organisation:
        require_manager(caller)  # the role first: 403 before any check of the fields
        org = new_organisation(
            org_id, name, email_domains, auto_close_days, hourly_rate, currency
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
        self, caller: Caller, consultant_id: str, *, name: str, email: str, level: int
    ) -> Consultant:
        require_manager(caller)
        consultant = new_consultant(consultant_id, name, email, level)
        self._commit([ConsultantSaved(consultant)])
        return consultant

    def list_consultants(self, caller: Caller) -> list[Consultant]:
        require_manager(caller)
        return self.uow.directory.list_consultants()
