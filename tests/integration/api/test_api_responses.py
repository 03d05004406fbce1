"""Every reply body is built from the `*Out` model the OpenAPI document shows.

The builders of schemas.py construct their model (no hand-made dict), `deps.ok` takes only a
response model, and every route's return annotation is `Response[<model>]`: a field the model
does not declare cannot be sent, a declared required field cannot be missing.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from helpdesk.domain.comments import Comment
from helpdesk.domain.directory import Consultant, Organisation
from helpdesk.domain.model import (
    ClosureReason,
    HistoryEvent,
    Priority,
    Quote,
    QuoteOutcome,
    Source,
    Status,
    Ticket,
    TicketType,
)
from helpdesk.domain.timekeeping import Task, TimeEntry, TimeKind
from helpdesk.entrypoints.http import (
    schemas,
    schemas_conversation,
    schemas_directory,
    schemas_time,
)
from helpdesk.entrypoints.http.schemas import Model
from tests.unit.test_contract import DEFAULT_JSON

AT = datetime(2026, 3, 30, 8, 15, tzinfo=UTC)

QUOTE = Quote(
    version=2,
    amount=Decimal("1200.5"),
    submitted_by="cons-l2",
    submitted_at=AT,
    days=Decimal("3.50"),
    description="Export module",
    validity_days=15,
    outcome=QuoteOutcome.APPROVED,
    reason=None,
    decided_by="client-acme",
    decided_at=AT,
)

TICKET = Ticket(
    number=88,
    title="Export is slow",
    description="Since Monday",
    type=TicketType.EVOLUTION,
    org_id="acme",
    requester="client-acme",
    created_at=AT,
    updated_at=AT,
    status=Status.CLOSED,
    support_level=2,
    priority=Priority.HIGH,
    assignee="cons-l2",
    version=9,
    requester_email="fabrice@acme.example",  # not in TicketOut: never sent
    closed_at=AT,
    closure_reason=ClosureReason.CONFIRMED,
    quotes=(QUOTE,),
    time_spent_minutes=95,
    linked_ticket=12,
    attachments=("spec.pdf",),
)

# (builder call, its model, the JSON it must give): pins the keys and their order too.
CASES: list[tuple[str, Callable[[], BaseModel], type[Model], dict[str, Any]]] = [
    (
        "quote",
        lambda: schemas.quote_out(QUOTE),
        schemas.QuoteOut,
        {
            "version": 2,
            "amount": "1200.50",
            "days": "3.5",
            "description": "Export module",
            "validity_days": 15,
            "valid_until": "2026-04-14T08:15:00Z",  # submitted 30 March 08:15 + 15 days
            "outcome": "approved",
            "reason": None,
            "submitted_by": "cons-l2",
            "submitted_at": "2026-03-30T08:15:00Z",
            "decided_by": "client-acme",
            "decided_at": "2026-03-30T08:15:00Z",
        },
    ),
    (
        "event",
        lambda: schemas_conversation.event_out(
            HistoryEvent(9, AT, "client-acme", "confirm", Status.ANSWER_SENT, Status.CLOSED)
        ),
        schemas_conversation.HistoryEventOut,
        {
            "version": 9,
            "at": "2026-03-30T08:15:00Z",
            "actor": "client-acme",
            "action": "confirm",
            "from_status": "answer_sent",
            "to_status": "closed",
            "details": {},
        },
    ),
    (
        "comment",
        lambda: schemas_conversation.comment_out(
            Comment("c1", 88, "client-acme", "client", "Thanks", False, AT, Source.EMAIL, "<m@x>")
        ),
        schemas_conversation.CommentOut,
        {
            "id": "c1",
            "body": "Thanks",
            "internal": False,
            "author": "client-acme",
            "author_role": "client",
            "at": "2026-03-30T08:15:00Z",
            "source": "email",
        },
    ),
    (
        "time entry",
        lambda: schemas_time.time_entry_out(
            TimeEntry(
                "t1",
                88,
                "acme",
                "cons-l2",
                date(2026, 3, 30),
                45,
                TimeKind.REALISATION,
                "Index",
                True,
                AT,
            )
        ),
        schemas_time.TimeEntryOut,
        {
            "id": "t1",
            "ticket_number": 88,
            "consultant": "cons-l2",
            "date": "2026-03-30",
            "month": "2026-03",
            "minutes": 45,
            "kind": TimeKind.REALISATION.value,
            "comment": "Index",
            "billable": True,
            "created_at": "2026-03-30T08:15:00Z",
        },
    ),
    (
        "task",
        lambda: schemas_time.task_out(Task(88, "2026-03", "#88 2026-03", 45)),
        schemas_time.TaskOut,
        {"month": "2026-03", "title": "#88 2026-03", "minutes": 45},
    ),
    (
        "org",
        lambda: schemas_directory.org_out(
            Organisation("acme", "ACME", ("acme.example",), 7, Decimal("90"), "EUR")
        ),
        schemas_directory.OrgOut,
        {
            "org_id": "acme",
            "name": "ACME",
            "email_domains": ["acme.example"],
            "auto_close_days": 7,
            "hourly_rate": "90.00",
            "currency": "EUR",
            "quote_validity_days": 30,  # the default (§8)
            "contract": DEFAULT_JSON,  # §10's defaults
        },
    ),
    (
        "consultant",
        lambda: schemas_directory.consultant_out(
            Consultant("cons-l2", "Zoé", "zoe@consult.example", 2)
        ),
        schemas_directory.ConsultantOut,
        {
            "id": "cons-l2",
            "name": "Zoé",
            "email": "zoe@consult.example",
            "level": 2,
            "role": "consultant",
            "active": True,
        },
    ),
]


@pytest.mark.parametrize(("name", "build", "model", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_builder_constructs_its_model(
    name: str, build: Callable[[], BaseModel], model: type[Model], expected: dict[str, Any]
) -> None:
    built = build()
    assert type(built) is model
    dumped = built.model_dump(mode="json")
    assert list(dumped) == list(model.model_fields)  # every declared key, in declared order
    assert dumped == expected


def test_a_ticket_reply_has_exactly_the_declared_fields() -> None:
    built = schemas.ticket_out(TICKET, ["reopen"], 2, TICKET.updated_at)
    assert type(built) is schemas.TicketOut
    dumped = built.model_dump(mode="json")
    assert list(dumped) == list(schemas.TicketOut.model_fields)
    assert "requester_email" not in dumped
    assert dumped["quote"] == CASES[0][3]
    assert dumped["closure_reason"] == "confirmed"
    assert dumped["auto_close_at"] is None
    assert dumped["allowed_actions"] == ["reopen"]
    assert dumped["attachments_count"] == 2
    assert dumped["sla"] is None  # a ticket stored before the clocks: no made-up promise


def test_an_undeclared_field_is_never_sent_and_a_missing_one_is_refused() -> None:
    """By construction: the model drops what it does not declare, refuses what is missing."""
    fields = schemas_directory.consultant_out(Consultant("c", "C", "c@x", 1)).model_dump()
    leaked = schemas_directory.ConsultantOut.model_validate({**fields, "password": "hunter2"})
    assert "password" not in leaked.model_dump(mode="json")
    with pytest.raises(ValidationError):
        schemas_directory.ConsultantOut.model_validate(
            {k: v for k, v in fields.items() if k != "email"}
        )


def test_every_route_answers_with_a_response_model() -> None:
    """Each route's return annotation is `Response[<a *Out model>]`, which the resolver uses
    to validate and serialise the body: no route can return a plain dict. Only a 204 (no
    content: `DELETE` of a time entry) answers `Response[None]`."""
    from functions.api import app as app_module

    resolver = app_module.include_all_routes()
    routes = resolver._static_routes + resolver._dynamic_routes
    assert routes
    without_body = {("DELETE", "/tickets/<number>/time-entries/<entry_id>")}
    for route in routes:
        returned = typing.get_type_hints(route.func)["return"]
        (model,) = typing.get_args(returned)
        if (route.method, route.path) in without_body:
            assert model is type(None), (route.method, route.path, model)
            continue
        assert issubclass(model, Model), (route.method, route.path, model)
        assert model.model_config.get("extra") in (None, "ignore"), (route.path, model)
