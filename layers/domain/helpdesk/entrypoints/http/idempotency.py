"""`Idempotency-Key` on the routes that create (DESIGN.md §4 `POST /tickets`, §7 "Retries").

One implementation for every such route: a Powertools `idempotent_function` keyed on the
caller, the request's method and path, and the key; the body is the payload it validates. The
same key and body give the first call's result (the work is done once); the same key with
another body is IdempotencyValidationError, a 422 (entrypoints/http/errors.py); a call still
running with that key is a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.model import Caller
from helpdesk.settings import get_settings

__all__ = ["IDEMPOTENCY_TTL_SECONDS", "MAX_KEY_LENGTH", "once", "reset_idempotency"]

MAX_KEY_LENGTH = 255
IDEMPOTENCY_TTL_SECONDS = 24 * 3600

Result = TypeVar("Result")
Stored = dict[str, Any]


@lru_cache(maxsize=1)
def _idempotent() -> tuple[Callable[..., Stored], Any]:
    """The idempotent runner, built on first use: its persistence layer makes a boto3 client."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from helpdesk.adapters import aws_clients

    settings = get_settings()
    if not settings.idempotency_table_name:
        raise RuntimeError("IDEMPOTENCY_TABLE_NAME is not set")
    client = aws_clients.client("dynamodb", settings)
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=client
    )
    config = IdempotencyConfig(
        event_key_jmespath="[sub, route, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config
    )
    def run_once(request: Stored, work: Callable[[], Stored]) -> Stored:
        return work()

    return run_once, config


def reset_idempotency() -> None:
    """Forget the persistence layer (tests that change the settings)."""
    _idempotent.cache_clear()


def checked_key(value: str) -> str:
    key = value.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidInput(
            "Idempotency-Key", f"'Idempotency-Key' must be 1-{MAX_KEY_LENGTH} characters."
        )
    return key


def once(
    router: BaseRouter,
    caller: Caller,
    key: str | None,
    body: Stored,
    work: Callable[[], Result],
    remember: Callable[[Result], Stored],
    recall: Callable[[Stored], Result],
) -> Result:
    """`work()` done once per (caller, route, key): without a key, every call does it; a
    replay answers `recall(what remember stored)` of the first call."""
    if key is None:
        return work()
    run_once, config = _idempotent()
    if router.lambda_context is not None:
        config.register_lambda_context(router.lambda_context)
    event = router.current_event
    route = f"{event.http_method} {event.path}"
    done: list[Result] = []

    def first() -> Stored:
        done.append(work())
        return remember(done[-1])

    request = {"sub": caller.id, "route": route, "key": checked_key(key), "body": body}
    stored = run_once(request=request, work=first)
    return done[0] if done else recall(stored)
