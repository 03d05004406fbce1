"""The one place that turns errors into RFC 9457 `application/problem+json` answers."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from helpdesk.domain.errors import (
    ActionNotAllowed,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    MonthLocked,
    NotFound,
    StaleVersion,
)

from .context import Unauthenticated

__all__ = ["Unauthenticated", "as_lambda_response", "domain_problem", "problem", "register"]

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:helpdesk:problem:"

logger = Logger(child=True)


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> Response[Any]:
    """A problem answer: `type`, `title`, `status`, `detail` and any extension members."""
    body = {"type": TYPE_PREFIX + slug, "title": title, "status": status, "detail": detail}
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == HTTPStatus.UNAUTHORIZED else None
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers,
    )


def as_lambda_response(response: Response[Any]) -> dict[str, Any]:
    """A problem built outside the resolver, in the HTTP API payload v2 shape."""
    headers = {k: v if isinstance(v, str) else ",".join(v) for k, v in response.headers.items()}
    return {
        "statusCode": response.status_code,
        "headers": headers,
        "body": response.body,
        "isBase64Encoded": False,
    }


def domain_problem(exc: DomainError) -> Response[Any]:
    """Each domain error class to its status (DESIGN.md §4)."""
    if isinstance(exc, InvalidInput):
        errors = [{"field": exc.field, "detail": exc.detail}]
        return problem(422, "invalid-input", exc.title, exc.detail, field=exc.field, errors=errors)
    if isinstance(exc, Forbidden):
        return problem(403, "forbidden", exc.title, exc.detail)
    if isinstance(exc, NotFound):
        return problem(404, "not-found", exc.title, exc.detail)
    if isinstance(exc, ActionNotAllowed):
        return problem(
            409, "action-not-allowed", exc.title, exc.detail, allowed_actions=exc.allowed_actions
        )
    if isinstance(exc, StaleVersion):
        return problem(
            412, "stale-version", exc.title, exc.detail, current_version=exc.current_version
        )
    if isinstance(exc, MonthLocked):
        return problem(409, "month-locked", exc.title, exc.detail, month=exc.month)
    if isinstance(exc, Conflict):
        return problem(409, "conflict", exc.title, exc.detail)
    logger.warning("unmapped domain error", extra={"error": type(exc).__name__})
    return problem(400, "bad-request", exc.title, exc.detail)


def _field_of(loc: Sequence[Any]) -> str:
    """`("body", "title")` → `title`; `("query", "limit")` → `limit`; `("body",)` → `body`."""
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> Response[Any]:
    errors = []
    for error in exc.errors():
        field = _field_of(error.get("loc", ()))
        message = str(error.get("msg") or error.get("type") or "invalid")
        if error.get("type") == "json_invalid":
            field, message = "body", "The body is not valid JSON."
        elif error.get("type") == "missing" and field == "body":
            message = "A JSON body is required."
        errors.append({"field": field, "detail": message})
    first = errors[0] if errors else {"field": "body", "detail": "invalid"}
    detail = "; ".join(f"'{e['field']}': {e['detail']}" for e in errors) or "Invalid input."
    return problem(
        422, "invalid-input", "Invalid input", detail, field=first["field"], errors=errors
    )


# Every body of this API is JSON, sent with POST or PUT. Powertools parses other media types
# (forms, multipart) or raises on them inside its validation: a 500, not an answer.
JSON_BODY_METHODS = ("POST", "PUT", "PATCH")
UNSUPPORTED_MEDIA_TYPE = 415


def body_problem(event: dict[str, Any]) -> Response[Any] | None:
    """A 415 for a body that is not declared JSON, a 422 for one that is not UTF-8 text."""
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    content_type = (event.get("headers") or {}).get("content-type", "").strip()
    # Powertools' own test: no content type, or one that starts so, is parsed as JSON.
    if (
        method in JSON_BODY_METHODS
        and content_type
        and not content_type.startswith("application/json")
    ):
        detail = f"Send the body as application/json (not {content_type[:100]})."
        return problem(
            UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type", detail
        )
    if not event.get("isBase64Encoded") or not event.get("body"):
        return None
    # API Gateway base64-encodes a body that is not UTF-8 text; Powertools would then raise
    # UnicodeDecodeError while decoding it.
    try:
        base64.b64decode(event["body"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        detail = "The body is not valid JSON (it is not UTF-8 text)."
        errors = [{"field": "body", "detail": detail}]
        return problem(422, "invalid-input", "Invalid input", detail, field="body", errors=errors)
    return None


def register(app: APIGatewayHttpResolver) -> None:
    """Install the handlers on the resolver."""

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[Any]:
        return domain_problem(exc)

    @app.exception_handler(Unauthenticated)
    def _unauthenticated(exc: Unauthenticated) -> Response[Any]:
        return problem(401, "unauthenticated", exc.title, exc.detail)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[Any]:
        return validation_problem(exc)

    @app.exception_handler(IdempotencyValidationError)
    def _idempotency_mismatch(exc: IdempotencyValidationError) -> Response[Any]:
        detail = "This Idempotency-Key was already used with another body."
        errors = [{"field": "Idempotency-Key", "detail": detail}]
        return problem(
            422,
            "idempotency-key-reused",
            "Invalid input",
            detail,
            field="Idempotency-Key",
            errors=errors,
        )

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def _idempotency_in_progress(exc: IdempotencyAlreadyInProgressError) -> Response[Any]:
        detail = "A request with this Idempotency-Key is still being processed; retry later."
        return problem(409, "idempotency-in-progress", "Conflict", detail, allowed_actions=[])

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response[Any]:
        event = app.current_event
        detail = f"No route {event.http_method} {event.path}."
        return problem(404, "not-found", "Not found", detail)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        from helpdesk.adapters.aws_clients import RETRY_AFTER_SECONDS, is_transient

        if is_transient(exc):
            # Throttling or a 5xx that outlived the client's retries: not a bug, a busy
            # service; the client retries later (creates with their Idempotency-Key).
            logger.warning("AWS unavailable after retries", extra={"error": repr(exc)[:300]})
            unavailable = problem(
                503,
                "service-unavailable",
                "Service unavailable",
                "The service is busy; retry in a few seconds.",
            )
            unavailable.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return unavailable
        logger.exception("unexpected error")
        return problem(500, "internal-error", "Internal error", "An unexpected error occurred.")
