"""Domain errors. The HTTP layer maps each to a status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    title = "Domain error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """The caller's input is invalid (422); `field` names the offending field."""

    title = "Invalid input"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class Forbidden(DomainError):
    """The caller's role never performs this operation (403)."""

    title = "Forbidden"


class NotFound(DomainError):
    """The resource does not exist, or is not visible to the caller (404)."""

    title = "Not found"


class ActionNotAllowed(DomainError):
    """The caller may perform the action, but not on this ticket now (409)."""

    title = "Action not allowed"

    def __init__(self, detail: str, allowed_actions: list[str]) -> None:
        super().__init__(detail)
        self.allowed_actions = allowed_actions


class StatusConflict(ActionNotAllowed):
    """A concurrent writer moved the ticket to another status first (409)."""

    title = "Conflict"


class StaleVersion(DomainError):
    """The ticket's version is not the one the caller expected (412)."""

    title = "Precondition failed"

    def __init__(self, detail: str, current_version: int) -> None:
        super().__init__(detail)
        self.current_version = current_version


class MonthLocked(DomainError):
    """The month's billing export was generated; its time entries are frozen (409)."""

    title = "Month locked"

    def __init__(self, month: str) -> None:
        super().__init__(
            f"The billing export of {month} has been generated: the month is locked "
            "and accepts no more time entries."
        )
        self.month = month


class TicketClosed(DomainError):
    """The ticket is closed: what the caller asked is refused on it (409 `ticket-closed`)."""

    title = "Ticket closed"


class Conflict(DomainError):
    """A write lost against stored state that is not a ticket status (409)."""

    title = "Conflict"
