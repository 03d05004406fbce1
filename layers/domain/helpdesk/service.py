"""Use cases: load what an operation needs, ask the domain, commit one unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from helpdesk.adapters import items as it
from helpdesk.adapters import keys
from helpdesk.adapters.dynamo import DynamoStore, Page, TicketChanged
from helpdesk.domain.calendar import DEFAULT_AUTO_CLOSE_DAYS, task_title
from helpdesk.domain.comments import Comment, new_comment, visible_to
from helpdesk.domain.directory import Consultant, Organisation
from helpdesk.domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    StaleVersion,
    StatusConflict,
)
from helpdesk.domain.model import Caller, HistoryEvent, Role, Status, Ticket, TicketType
from helpdesk.domain.tickets import draft_ticket
from helpdesk.domain.timekeeping import TimeEntry, TimeKind, new_time_entry
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

MAX_RETRIES_ON_CHANGE = 3


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Sortable unique id: creation time in ms, then randomness."""
    return f"{int(datetime.now(UTC).timestamp() * 1000):013d}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class TicketFilters:
    status: Status | None = None
    type: TicketType | None = None
    level: int | None = None
    assignee: str | None = None
    org_id: str | None = None


class HelpdeskService:
    def __init__(
        self,
        store: DynamoStore,
        clock: Callable[[], datetime] = utc_now,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids

    # ---------- visibility ----------

    @staticmethod
    def require_ticket_reader(caller: Caller) -> None:
        if caller.role not in (Role.CLIENT, Role.CONSULTANT, Role.MANAGER, Role.SYSTEM):
            raise Forbidden("Finance reaches billing only.")

    @staticmethod
    def require_staff(caller: Caller) -> None:
        if not caller.is_staff:
            raise Forbidden("Only consultants and managers do this.")

    @staticmethod
    def require_manager(caller: Caller) -> None:
        if caller.role is not Role.MANAGER:
            raise Forbidden("Only managers do this.")

    @staticmethod
    def check_visible(ticket: Ticket, caller: Caller) -> Ticket:
        """Another organisation's ticket does not exist, as far as a client knows."""
        if caller.role is Role.CLIENT and ticket.org_id != caller.org_id:
            raise NotFound(f"Ticket #{ticket.number} does not exist.")
        return ticket

    def get_ticket(self, caller: Caller, number: int) -> Ticket:
        self.require_ticket_reader(caller)
        return self.check_visible(self.store.get_ticket(number), caller)

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
        source: str = "api",
    ) -> Ticket:
        draft = draft_ticket(
            caller,
            title=title,
            description=description,
            type=type,
            org_id=org_id,
            now=self.clock(),
            source=source,
        )
        if caller.role is not Role.CLIENT and self.store.get_org(draft.org_id) is None:
            raise InvalidInput("org_id", f"Organisation '{draft.org_id}' does not exist.")
        return self.store.create_ticket(draft)

    def list_tickets(
        self, caller: Caller, filters: TicketFilters, cursor: str | None, limit: int
    ) -> tuple[list[Ticket], str | None]:
        self.require_ticket_reader(caller)
        if not 1 <= limit <= 100:
            raise InvalidInput("limit", "'limit' must be between 1 and 100.")
        org_id = filters.org_id
        if caller.role is Role.CLIENT:
            if org_id is not None and org_id != caller.org_id:
                return [], None
            org_id = caller.org_id
        conditions: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, object] = {}
        for name, value in (
            ("status", filters.status.value if filters.status else None),
            ("type", filters.type.value if filters.type else None),
            ("support_level", filters.level),
            ("assignee", filters.assignee),
        ):
            if value is not None:
                names[f"#{name}"] = name
                values[f":{name}"] = value
                conditions.append(f"#{name} = :{name}")
        if org_id is not None:
            index, condition = "by_org", "org_pk = :ipk"
            values[":ipk"] = keys.org_index_pk(org_id)
        elif filters.level is not None and filters.status is not Status.CLOSED:
            index, condition = "queue", "queue_pk = :ipk"
            values[":ipk"] = keys.queue_pk(filters.level)
            if filters.status is None:
                # The queue holds open tickets only; closed ones of the level are on all_tickets.
                index, condition = "all_tickets", "all_pk = :ipk"
                values[":ipk"] = keys.ALL_TICKETS_PK
        else:
            index, condition = "all_tickets", "all_pk = :ipk"
            values[":ipk"] = keys.ALL_TICKETS_PK
        page: Page = self.store.query_page(
            index=index,
            key_condition=condition,
            values=values,
            names=names or None,
            filter_expression=" AND ".join(conditions) or None,
            cursor=cursor,
            limit=limit,
        )
        return [it.ticket_from_item(i) for i in page.items], page.next_cursor

    def perform(
        self,
        caller: Caller,
        number: int,
        action: Action,
        params: ActionInput,
        expected_version: int | None = None,
    ) -> Transition:
        """Apply an action; one conditional transaction, retried only while the status holds."""
        self.require_ticket_reader(caller)
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
                self._commit(transition)
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
            return self.check_visible(self.store.get_ticket(number), caller), None
        ticket, consultant = self.store.get_ticket_and_consultant(number, params.assignee)
        self.check_visible(ticket, caller)
        return ticket, consultant.level if consultant else None

    def _auto_close_days(self, ticket: Ticket, action: Action) -> int:
        if action is not Action.SEND_ANSWER:
            return DEFAULT_AUTO_CLOSE_DAYS
        org = self.store.get_org(ticket.org_id)
        return org.auto_close_days if org else DEFAULT_AUTO_CLOSE_DAYS

    def _commit(self, transition: Transition) -> None:
        task = None
        ensure = transition.effect("ensure_task")
        if ensure is not None:
            month = ensure.data["month"]
            task = (month, task_title(transition.ticket.number, transition.ticket.title, month))
        self.store.commit(transition, task=task)

    def history(self, caller: Caller, number: int) -> list[HistoryEvent]:
        self.get_ticket(caller, number)
        return self.store.history(number)

    # ---------- comments ----------

    def add_comment(
        self,
        caller: Caller,
        number: int,
        *,
        body: str,
        internal: bool = False,
        source: str = "api",
        message_id: str | None = None,
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
            changed = self._countdown_change(ticket, caller, comment, now)
            try:
                self.store.put_comment(comment, (ticket, changed) if changed else None)
                return comment
            except TicketChanged as exc:
                ticket = exc.current
        raise StaleVersion(f"Ticket #{number} keeps changing; try again.", ticket.version)

    def _countdown_change(
        self, ticket: Ticket, caller: Caller, comment: Comment, now: datetime
    ) -> Ticket | None:
        if caller.role is Role.CLIENT:
            return suspend_countdown(ticket, now)
        if caller.is_staff and not comment.internal and ticket.countdown_suspended:
            org = self.store.get_org(ticket.org_id)
            days = org.auto_close_days if org else DEFAULT_AUTO_CLOSE_DAYS
            return restart_countdown(ticket, now, days)
        return None

    def comments(self, caller: Caller, number: int) -> list[Comment]:
        self.get_ticket(caller, number)
        return [c for c in self.store.comments(number) if visible_to(c, caller)]

    # ---------- time ----------

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
        self.require_staff(caller)
        ticket = self.store.get_ticket(number)
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
        self.store.add_time_entry(entry, ticket, task_title(ticket.number, ticket.title, entry.month))
        return entry

    def time_entries(self, caller: Caller, number: int) -> list[TimeEntry]:
        self.require_staff(caller)
        return self.store.ticket_and_time_entries(number)[1]

    def tasks(self, caller: Caller, number: int) -> list[dict[str, object]]:
        self.require_staff(caller)
        return [
            {"month": t["month"], "title": t["title"], "minutes": int(t.get("minutes", 0))}
            for t in self.store.ticket_and_tasks(number)[1]
        ]

    # ---------- directory ----------

    def put_org(self, caller: Caller, org: Organisation) -> Organisation:
        self.require_manager(caller)
        self.store.put_org(org, self.store.get_org(org.org_id))
        return org

    def get_org(self, caller: Caller, org_id: str) -> Organisation:
        self.require_manager(caller)
        org = self.store.get_org(org_id)
        if org is None:
            raise NotFound(f"Organisation '{org_id}' does not exist.")
        return org

    def put_consultant(self, caller: Caller, consultant: Consultant) -> Consultant:
        self.require_manager(caller)
        self.store.put_consultant(consultant)
        return consultant

    def list_consultants(self, caller: Caller) -> list[Consultant]:
        self.require_manager(caller)
        return self.store.list_consultants()
