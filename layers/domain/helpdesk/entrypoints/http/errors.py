"""The one place that turns errors into RFC 9457 `application/problem+json` answers."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from http import HTTPStatus
from typing import Any, get_args

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import get_flat_dependant
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import BaseModel

from helpdesk.domain.errors import (
    ActionNotAllowed,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    MonthLocked,
    NotFound,
    StaleVersion,
    TicketClosed,
)

from .context import Unauthenticated

__all__ = [
    "InvalidHeader",
    "Unauthenticated",
    "as_lambda_response",
    "domain_problem",
    "problem",
    "register",
]

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:helpdesk:problem:"

logger = Logger(child=True)


class InvalidHeader(Exception):
    """A request header that is not what its grammar allows (400 `invalid-header`, naming it):
    `If-Match: garbage` is not a stale version, it is not an entity tag at all."""

    title = "Invalid header"

    def __init__(self, header: str, detail: str) -> None:
        super().__init__(detail)
        self.header = header
        self.detail = detail


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
    if isinstance(exc, TicketClosed):
        # §4: a 409 lists the allowed actions; a closed ticket has none.
        return problem(409, "ticket-closed", exc.title, exc.detail, allowed_actions=[])
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


MAX_JSON_DEPTH = 32  # DESIGN.md §7: a body nested deeper is 422 (json.loads recurses: a 500)
_JSON_NESTING = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit`, read without
    parsing (iteratively: a 10,000-deep body must not exhaust the stack being measured).
    Brackets inside strings do not count; a malformed text is left to the parser."""
    if text.count("[") + text.count("{") <= limit:  # most bodies: no walk at all
        return False
    depth = 0
    for token in _JSON_NESTING.finditer(text):  # strings are skipped whole, in C
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _too_deep() -> Response[Any]:
    detail = f"The body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels."
    errors = [{"field": "body", "detail": detail}]
    return problem(422, "invalid-input", "Invalid input", detail, field="body", errors=errors)


def body_problem(event: dict[str, Any]) -> Response[Any] | None:
    """A 415 for a body that is not declared JSON, a 422 for one that is not UTF-8 text or
    that nests deeper than MAX_JSON_DEPTH."""
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
    if not event.get("body"):
        return None
    text = event["body"]
    if event.get("isBase64Encoded"):
        # API Gateway base64-encodes a body that is not UTF-8 text; Powertools would then
        # raise UnicodeDecodeError while decoding it.
        try:
            text = base64.b64decode(event["body"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            detail = "The body is not valid JSON (it is not UTF-8 text)."
            errors = [{"field": "body", "detail": detail}]
            return problem(
                422, "invalid-input", "Invalid input", detail, field="body", errors=errors
            )
    if isinstance(text, str) and json_depth_exceeds(text):
        return _too_deep()
    return None


def declared_query_parameters(route: Any) -> dict[str, Any]:
    """The query parameters a route declares, name → type, read from its handler's signature
    (Powertools' dependant, the source of the OpenAPI document too): each `Query()`
    parameter's alias, or the fields of a pydantic model given as `Query()`."""
    declared: dict[str, Any] = {}
    for param in get_flat_dependant(route.dependant).query_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, field in annotation.model_fields.items():
                declared[field.alias or name] = field.annotation
        else:
            declared[param.alias] = annotation
    return declared


# A query string is text: pydantic's lax parsing of it takes "1.0", "+5", " 5" and "1_000"
# for integers and "2026-11-27T00:00:00" for a date. Values of these types must be written
# plainly (DESIGN.md §7: values are never coerced).
_PLAIN_QUERY_VALUES: dict[Any, tuple[re.Pattern[str], str]] = {
    int: (re.compile(r"-?[0-9]{1,18}"), "an integer written with digits only"),
    date: (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "a date written YYYY-MM-DD"),
    bool: (re.compile(r"true|false"), "true or false"),
}


def _plain_type(annotation: Any) -> Any:
    """`int | None` → int; a type of _PLAIN_QUERY_VALUES or None."""
    candidates = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    if len(candidates) == 1 and candidates[0] in _PLAIN_QUERY_VALUES:
        return candidates[0]
    return None


def unknown_query_problem(route: Any, query: Mapping[str, Any] | None) -> Response[Any] | None:
    """422 naming each query parameter the route does not declare (DESIGN.md §7: a filter is
    never silently ignored; Powertools would ignore it), and each integer, date or boolean
    not written plainly."""
    declared = declared_query_parameters(route)
    errors = []
    for name in sorted(query or {}):
        if name not in declared:
            names = ", ".join(sorted(declared)) or "none"
            errors.append(
                {
                    "field": name[:100],
                    "detail": f"Unknown query parameter '{name[:100]}'; this route takes: {names}.",
                }
            )
            continue
        plain = _plain_type(declared[name])
        if plain is not None:
            pattern, wanted = _PLAIN_QUERY_VALUES[plain]
            if not pattern.fullmatch(str((query or {})[name])):
                errors.append({"field": name, "detail": f"'{name}' must be {wanted}."})
    if not errors:
        return None
    detail = "; ".join(e["detail"] for e in errors)
    return problem(
        422, "invalid-input", "Invalid input", detail, field=errors[0]["field"], errors=errors
    )


def refuse_unknown_query(
    app: APIGatewayHttpResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    """Global middleware: the matched route (Powertools keeps it in the context) against the
    request's query parameters. Runs after the request validation (bad values first)."""
    route = app.context.get("_route")
    if route is not None:
        refused = unknown_query_problem(route, app.current_event.query_string_parameters)
        if refused is not None:
            return refused
    return next_middleware(app)


def register(app: APIGatewayHttpResolver) -> None:
    """Install the handlers on the resolver."""

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[Any]:
        return domain_problem(exc)

    @app.exception_handler(InvalidHeader)
    def _invalid_header(exc: InvalidHeader) -> Response[Any]:
        errors = [{"field": exc.header, "detail": exc.detail}]
        return problem(
            400, "invalid-header", exc.title, exc.detail, field=exc.header, errors=errors
        )

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
