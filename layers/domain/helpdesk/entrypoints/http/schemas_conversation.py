"""The conversation's request and response models: comments, history, quotes (conversation.py).

Apart from schemas.py so that a cold start builds only the models of the router it serves
(bench/results.md, Cold start)."""

from __future__ import annotations

from pydantic import Field

from helpdesk.domain.calendar import iso
from helpdesk.domain.comments import MAX_BODY, Comment
from helpdesk.domain.model import HistoryEvent

from .schemas import (
    Body,
    Model,
    QuoteOut,
    StrictBool,
    StrictStr,
)


class CommentIn(Body):
    body: StrictStr = Field(max_length=MAX_BODY)
    internal: StrictBool = False


class HistoryEventOut(Model):
    version: int
    at: str
    actor: str
    action: str
    from_status: str
    to_status: str
    details: dict[str, str]


class HistoryList(Model):
    items: list[HistoryEventOut]
    next_cursor: str | None = None


class CommentOut(Model):
    id: str
    body: str
    internal: bool
    author: str
    author_role: str
    at: str
    source: str


class CommentList(Model):
    items: list[CommentOut]
    next_cursor: str | None = None


class QuoteList(Model):
    items: list[QuoteOut]
    next_cursor: str | None = None


def event_out(event: HistoryEvent) -> HistoryEventOut:
    return HistoryEventOut(
        version=event.version,
        at=iso(event.at),
        actor=event.actor,
        action=event.action,
        from_status=event.from_status.value,
        to_status=event.to_status.value,
        details=dict(event.details),
    )


def comment_out(comment: Comment) -> CommentOut:
    return CommentOut(
        id=comment.id,
        body=comment.body,
        internal=comment.internal,
        author=comment.author,
        author_role=comment.author_role,
        at=iso(comment.at),
        source=comment.source,
    )
