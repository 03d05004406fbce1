"""The authorisation matrix: every route × every kind of caller, and refusals write nothing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from helpdesk.service import HelpdeskService
from infra.openapi_export import OPENAPI_PATH
from tests.conftest import TABLE_NAME
from tests.integration.api.conftest import IDEMPOTENCY_TABLE, Api, seed
from tests.integration.api.events import FakeLambdaContext, http_event

CALLERS = ("client", "other_client", "l1", "l2", "l3", "manager", "finance", "none")
STAFF_BODY = {"title": "Printer", "description": "jammed", "type": "assistance", "org_id": "acme"}
CLIENT_BODY = {"title": "Printer", "description": "jammed", "type": "assistance"}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expected: dict[str, int]
    body: Any = None
    # open: ticket #1 open; taken: #1 taken by cons-l1; logged: taken, and 30 minutes logged
    # by cons-l1 (entry-1); quoted: #1 an evolution taken by cons-l2, started and quoted
    # (awaiting the client's approval)
    setup: str = "open"


def _row(method: str, path: str, codes: tuple[int, ...], **kw: Any) -> Row:
    return Row(method, path, dict(zip(CALLERS, codes, strict=True)), **kw)


# client, other_client, l1, l2, l3, manager, finance, none
ROWS = [
    _row("POST", "/tickets", (201, 201, 201, 201, 201, 201, 403, 401), body="create"),
    _row("GET", "/tickets", (200, 200, 200, 200, 200, 200, 403, 401)),
    _row("GET", "/tickets/1", (200, 404, 200, 200, 200, 200, 403, 401)),
    _row(
        "POST",
        "/tickets/1/actions/take",
        (403, 404, 200, 409, 409, 200, 403, 401),
        body={"assignee": "cons-l1"},
    ),
    # DESIGN §2/§7: the client cancels without a reason; staff of the level (assistance: level
    # 1) and managers only with one (422 without); other levels 409.
    _row("POST", "/tickets/1/actions/cancel", (200, 404, 422, 409, 409, 422, 403, 401), body={}),
    _row(
        "POST",
        "/tickets/1/actions/cancel",
        (200, 404, 200, 409, 409, 200, 403, 401),
        body={"reason": "Spam"},
    ),
    # DESIGN §7: the holder (cons-l1) hands over to another of the level; a manager too.
    _row(
        "POST",
        "/tickets/1/actions/assign",
        (403, 404, 200, 409, 409, 200, 403, 401),
        body={"assignee": "cons-l1b"},
        setup="taken",
    ),
    # DESIGN §2/§7: the assignee (cons-l2) takes the pending quote back; a manager too.
    _row(
        "POST",
        "/tickets/1/actions/withdraw-quote",
        (403, 404, 409, 200, 409, 200, 403, 401),
        body={},
        setup="quoted",
    ),
    _row("POST", "/tickets/1/actions/auto-close", (403, 403, 403, 403, 403, 403, 403, 401)),
    _row("GET", "/tickets/1/history", (200, 404, 200, 200, 200, 200, 403, 401)),
    _row(
        "POST",
        "/tickets/1/comments",
        (201, 404, 201, 201, 201, 201, 403, 401),
        body={"body": "Any news?"},
    ),
    _row("GET", "/tickets/1/comments", (200, 404, 200, 200, 200, 200, 403, 401)),
    _row("GET", "/tickets/1/quotes", (200, 404, 200, 200, 200, 200, 403, 401)),
    # DESIGN §11: whoever reads the ticket attaches files (internal ones: staff only).
    _row(
        "POST",
        "/tickets/1/attachments",
        (201, 404, 201, 201, 201, 201, 403, 401),
        body={"filename": "a.png", "content_type": "image/png", "size": 10},
    ),
    _row("GET", "/tickets/1/attachments", (200, 404, 200, 200, 200, 200, 403, 401)),
    _row("GET", "/tickets/1/attachments/unknown", (404, 404, 404, 404, 404, 404, 403, 401)),
    _row(
        "POST",
        "/tickets/1/time-entries",
        (403, 404, 201, 201, 201, 201, 403, 401),
        body={"minutes": 30, "kind": "analysis"},
        setup="taken",
    ),
    _row(
        "GET",
        "/tickets/1/time-entries",
        (403, 404, 200, 200, 200, 200, 403, 401),
        setup="taken",
    ),
    _row("GET", "/tickets/1/tasks", (403, 404, 200, 200, 200, 200, 403, 401), setup="taken"),
    # DESIGN §7 "Editing": staff edit every ticket not closed; the requester (client-acme) edits
    # the title and description of their own open ticket.
    _row(
        "PATCH",
        "/tickets/1",
        (200, 404, 200, 200, 200, 200, 403, 401),
        body={"title": "Printer jammed"},
    ),
    # DESIGN §7 "Time entries": the entry's author (cons-l1) or a manager.
    _row(
        "PATCH",
        "/tickets/1/time-entries/entry-1",
        (403, 404, 200, 403, 403, 200, 403, 401),
        body={"minutes": 45},
        setup="logged",
    ),
    _row(
        "DELETE",
        "/tickets/1/time-entries/entry-1",
        (403, 404, 204, 403, 403, 204, 403, 401),
        setup="logged",
    ),
    _row(
        "PUT",
        "/orgs/initech",
        (403, 403, 403, 403, 403, 200, 403, 401),
        body={"name": "Initech", "email_domains": ["initech.example"]},
    ),
    _row("GET", "/orgs/acme", (403, 403, 403, 403, 403, 200, 403, 401)),
    # DESIGN §10: the hour budget: managers, finance, the organisation's own clients.
    _row("GET", "/orgs/acme/consumption", (200, 404, 403, 403, 403, 200, 200, 401)),
    # DESIGN §7: staff list the organisations.
    _row("GET", "/orgs", (403, 403, 200, 200, 200, 200, 403, 401)),
    _row(
        "PUT",
        "/consultants/cons-new",
        (403, 403, 403, 403, 403, 200, 403, 401),
        body={"name": "New", "email": "new@consult.example", "level": 2},
    ),
    # DESIGN §7: the roster is readable by consultants (to choose whom to assign).
    _row("GET", "/consultants", (403, 403, 200, 200, 200, 200, 403, 401)),
    # Billing: finance and managers; October 2026 has ended (the clock is 2026-11-27) and was
    # never exported (GET 404), generating it is 201; unlocking a month never locked is 409.
    _row("GET", "/billing/exports/2026-10", (403, 403, 403, 403, 403, 404, 404, 401)),
    _row("POST", "/billing/exports/2026-10", (403, 403, 403, 403, 403, 201, 201, 401), body={}),
    _row(
        "POST",
        "/billing/exports/2026-10/unlock",
        (403, 403, 403, 403, 403, 409, 403, 401),
        body={"reason": "correction"},
    ),
    # DESIGN §7: the quarantine is the managers'; nothing is held here (the release: 404).
    _row("GET", "/mail/quarantine", (403, 403, 403, 403, 403, 200, 403, 401)),
    _row(
        "POST",
        "/mail/quarantine/" + "0" * 64 + "/release",
        (403, 403, 403, 403, 403, 404, 403, 401),
        body={"as": "comment", "ticket": 1},
    ),
    # DESIGN §8: the link is the credential, no token needed; a bearer token grants nothing
    # more. An unknown link is 404 for everyone (tests/integration/api/test_api_links.py).
    _row("GET", "/links/" + "A" * 43, (404, 404, 404, 404, 404, 404, 404, 404)),
    _row(
        "POST",
        "/links/" + "A" * 43,
        (404, 404, 404, 404, 404, 404, 404, 404),
        body={"reason": "x"},
    ),
]


def _snapshot(dynamodb: Any) -> list[Any]:
    """Everything stored (test only: production never scans)."""
    items: list[Any] = []
    for table in (TABLE_NAME, IDEMPOTENCY_TABLE):
        items.extend(dynamodb.scan(TableName=table, ConsistentRead=True)["Items"])
    return sorted(items, key=repr)


def _wipe(dynamodb: Any) -> None:
    for table, key in ((TABLE_NAME, ("pk", "sk")), (IDEMPOTENCY_TABLE, ("id",))):
        for item in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]:
            dynamodb.delete_item(TableName=table, Key={k: item[k] for k in key})


def _prepare(api: Api, dynamodb: Any, service: HelpdeskService, setup: str, first: bool) -> None:
    """The world of a row: seeded directory, ticket #1 open (or taken by cons-l1, or an
    evolution awaiting the approval of its quote)."""
    if not first:
        _wipe(dynamodb)
        seed(service)
    body = {**CLIENT_BODY, "type": "evolution"} if setup == "quoted" else CLIENT_BODY
    assert api.post("/tickets", "client", body=body).body["number"] == 1
    if setup in ("taken", "logged"):
        assert api.act(1, "take", "l1").status == 200
    if setup == "logged":  # and 30 minutes logged today by cons-l1, as entry-1
        ids, service.ids = service.ids, lambda: "entry-1"
        logged = api.post("/tickets/1/time-entries", "l1", body={"minutes": 30})
        service.ids = ids
        assert logged.status == 201, logged
    if setup == "quoted":
        assert api.act(1, "take", "l2").status == 200
        assert api.act(1, "start", "l2").status == 200
        assert api.act(1, "submit-quote", "l2", {"amount": "1200.00"}).status == 200


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.method} {r.path}" for r in ROWS])
def test_authorisation_matrix(api: Api, dynamodb: Any, service: HelpdeskService, row: Row) -> None:
    """Each caller kind on a fresh world; a refused call must leave every item as it was."""
    failures: list[str] = []
    state = "empty"  # empty: the fixture's seeded table; ready: the row's world; dirty
    for who in CALLERS:
        if state != "ready":
            _prepare(api, dynamodb, service, row.setup, first=state == "empty")
        body = row.body
        if body == "create":
            body = CLIENT_BODY if who in ("client", "other_client") else STAFF_BODY
        before = _snapshot(dynamodb)

        reply = api.call(row.method, row.path, who, body=body)

        expected = row.expected[who]
        state = "ready" if reply.status >= 400 else "dirty"
        if reply.status != expected:
            failures.append(f"{who}: expected {expected}, got {reply}")
        elif reply.status >= 400:
            if reply.content_type != "application/problem+json":
                failures.append(f"{who}: content type {reply.content_type}")
            if reply.body.get("status") != reply.status or not {"type", "title", "detail"} <= set(
                reply.body
            ):
                failures.append(f"{who}: not a problem: {reply.body}")
            if _snapshot(dynamodb) != before:
                failures.append(f"{who}: a refused call wrote something")
        elif reply.status != 204 and reply.content_type != "application/json":
            failures.append(f"{who}: content type {reply.content_type}")
    assert not failures, "\n".join(failures)


def _spec_routes() -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation of docs/openapi.json (the resolver's)."""
    spec = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    methods = {"get", "put", "post", "delete", "patch"}
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in methods
    }


def _template_of(path: str, templates: set[str]) -> str | None:
    for template in templates:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return template
    return None


def test_matrix_covers_every_route_of_the_spec() -> None:
    routes = _spec_routes()
    templates = {path for _, path in routes}
    matched = {row.path: _template_of(row.path, templates) for row in ROWS}
    assert None not in matched.values(), f"rows matching no route: {matched}"
    covered = {(row.method, matched[row.path]) for row in ROWS}
    missing = sorted(routes - covered)
    assert not missing, f"routes of docs/openapi.json missing from the matrix: {missing}"


# Claims API Gateway's authorizer would pass for a well-signed Cognito token that this
# application must still refuse: the handler is the last line of defence.
ODD_CLAIMS: dict[str, tuple[dict[str, str], int]] = {
    "no group": ({"sub": "nobody", "email": "nobody@consult.example"}, 403),
    "empty groups": ({"sub": "nobody", "cognito:groups": "[]"}, 403),
    "unknown group": ({"sub": "eve", "cognito:groups": "[admins]"}, 403),
    "consultant with org": (
        {"sub": "cons-l1", "cognito:groups": "[consultants-l1]", "custom:org_id": "acme"},
        403,
    ),
    "manager with org": (
        {"sub": "manager-1", "cognito:groups": "[managers]", "custom:org_id": "acme"},
        403,
    ),
    "finance with org": (
        {"sub": "finance-1", "cognito:groups": "[finance]", "custom:org_id": "acme"},
        403,
    ),
    "client without org": ({"sub": "client-acme", "cognito:groups": "[clients]"}, 403),
    "no subject": ({"email": "x@acme.example", "cognito:groups": "[managers]"}, 401),
}


@pytest.mark.parametrize("kind", ODD_CLAIMS)
def test_odd_claims_are_refused_on_every_route_and_write_nothing(
    api: Api, dynamodb: Any, service: HelpdeskService, kind: str
) -> None:
    claims, expected = ODD_CLAIMS[kind]
    _prepare(api, dynamodb, service, "taken", first=True)
    before = _snapshot(dynamodb)
    failures: list[str] = []
    for row in ROWS:
        body = STAFF_BODY if row.body == "create" else row.body
        event = http_event(row.method, row.path, claims=claims, body=body)
        result = api.module.lambda_handler(event, FakeLambdaContext())
        problem = json.loads(result["body"])
        # The action-link routes are public (§8: the link is the credential): whatever the
        # claims, an unknown link is 404.
        want = 404 if row.path.startswith("/links/") else expected
        if result["statusCode"] != want or problem.get("status") != want:
            failures.append(f"{row.method} {row.path}: {result['statusCode']} {problem}")
    assert not failures, "\n".join(failures)
    assert _snapshot(dynamodb) == before, "a refused call wrote something"
