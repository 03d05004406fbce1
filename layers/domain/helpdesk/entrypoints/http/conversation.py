"""The conversation on a ticket: history, comments, quotes."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from helpdesk.domain.model import Source

from .deps import current_caller, get_service, ok
from .schemas import (
    CommentIn,
    CommentList,
    CommentOut,
    HistoryList,
    QuoteList,
    comment_out,
    event_out,
    quote_out,
    responses,
)
from .tickets import TicketNumber

router = Router()


@router.get(
    "/tickets/<number>/history",
    summary="Every action applied",
    tags=["conversation"],
    responses=responses(200, HistoryList, 404),
)
def history(number: TicketNumber) -> Response[HistoryList]:
    caller = current_caller(router)
    return ok(HistoryList(items=[event_out(e) for e in get_service().history(caller, number)]))


@router.post(
    "/tickets/<number>/comments",
    status_code=201,
    summary="Add a comment (internal: consultants only)",
    tags=["conversation"],
    responses=responses(201, CommentOut, 404, 409),
)
def add_comment(number: TicketNumber, body: CommentIn) -> Response[CommentOut]:
    caller = current_caller(router)
    comment = get_service().add_comment(
        caller, number, body=body.body, internal=body.internal, source=Source.API
    )
    return ok(comment_out(comment), 201)


@router.get(
    "/tickets/<number>/comments",
    summary="The conversation",
    tags=["conversation"],
    responses=responses(200, CommentList, 404),
)
def list_comments(number: TicketNumber) -> Response[CommentList]:
    caller = current_caller(router)
    comments = get_service().comments(caller, number)
    return ok(CommentList(items=[comment_out(c) for c in comments]))


@router.get(
    "/tickets/<number>/quotes",
    summary="Every quote version",
    tags=["conversation"],
    responses=responses(200, QuoteList, 404),
)
def list_quotes(number: TicketNumber) -> Response[QuoteList]:
    caller = current_caller(router)
    ticket = get_service().get_ticket(caller, number)
    return ok(QuoteList(items=[quote_out(q) for q in ticket.quotes]))
