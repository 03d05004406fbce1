"""RFC 9457 problem replies of the local front, shaped like the API's own
(`type` `urn:helpdesk:problem:<slug>`, `title`, `status`, `detail`, extensions)."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from infra.localstack.apigw import HttpReply

TYPE_PREFIX = "urn:helpdesk:problem:"
_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    404: "not-found",
    405: "method-not-allowed",
    411: "length-required",
    413: "payload-too-large",
    422: "invalid-input",
    500: "internal-error",
}


def json_reply(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> HttpReply:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return HttpReply(status, [("Content-Type", "application/json"), *(headers or [])], body)


def problem(status: int, detail: str, title: str | None = None, **extra: Any) -> HttpReply:
    payload = {
        "type": TYPE_PREFIX + _SLUGS.get(status, "error"),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return HttpReply(status, [("Content-Type", "application/problem+json")], body)


def invalid_input(field: str, detail: str) -> HttpReply:
    """422 naming the field, as the API does (`field` and `errors`)."""
    errors = [{"field": field, "detail": detail}]
    return problem(422, detail, "Invalid input", field=field, errors=errors)


def unauthorized(detail: str) -> HttpReply:
    """What API Gateway's JWT authorizer answers, as a problem (the function is not called)."""
    reply = problem(401, detail, "Unauthenticated")
    reply.headers.append(("WWW-Authenticate", 'Bearer error="invalid_token"'))
    return reply
