"""The conversation on a ticket: history, comments, quotes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from helpdesk.domain.listing import DEFAULT_LIMIT
from helpdesk.domain.model import Source

from .deps import PageCursor, PageLimit, current_caller, get_service, ok
from .idempotency import once
from .schemas import quote_out, responses
from .schemas_conversation import (
    CommentIn,
    CommentList,
    CommentOut,
    HistoryList,
    QuoteList,
    comment_out,
    event_out,
)
from .tickets import TicketNumber

router = Router()


@router.get(
    "/tickets/<number>/history",
    operation_id="listHistory",
    summary="Every action applied",
    tags=["conversation"],
    responses=responses(200, HistoryList, 404),
)
def history(
    number: TicketNumber, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Response[HistoryList]:
    caller = current_caller(router)
    page = get_service().history_page(caller, number, cursor, limit)
    return ok(HistoryList(items=[event_out(e) for e in page.items], next_cursor=page.next_cursor))


@router.post(
    "/tickets/<number>/comments",
    operation_id="addComment",
    status_code=201,
    summary="Add a comment (internal: consultants only)",
    tags=["conversation"],
    description="The same `Idempotency-Key` and body give the same comment, stored once; the "
    "same key with another body is 422.",
    responses=responses(201, CommentOut, 404, 409),
)
def add_comment(
    number: TicketNumber,
    body: CommentIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[CommentOut]:
    caller = current_caller(router)
    comment = once(
        router,
        caller,
        idempotency_key,
        body.model_dump(mode="json"),
        work=lambda: comment_out(
            get_service().add_comment(
                caller, number, body=body.body, internal=body.internal, source=Source.API
            )
        ),
        remember=lambda out: out.model_dump(mode="json"),
        recall=CommentOut.model_validate,
    )
    return ok(comment, 201)


@router.get(
    "/tickets/<number>/comments",
    operation_id="listComments",
    summary="The conversation",
    tags=["conversation"],
    responses=responses(200, CommentList, 404),
)
def list_comments(
    number: TicketNumber, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Response[CommentList]:
    caller = current_caller(router)
    page = get_service().comments_page(caller, number, cursor, limit)
    items = [comment_out(c) for c in page.items]
    return ok(CommentList(items=items, next_cursor=page.next_cursor))


@router.get(
    "/tickets/<number>/quotes",
    operation_id="listQuotes",
    summary="Every quote version",
    tags=["conversation"],
    responses=responses(200, QuoteList, 404),
)
def list_quotes(
    number: TicketNumber, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Response[QuoteList]:
    caller = current_caller(router)
    page = get_service().quotes_page(caller, number, cursor, limit)
    return ok(QuoteList(items=[quote_out(q) for q in page.items], next_cursor=page.next_cursor))
