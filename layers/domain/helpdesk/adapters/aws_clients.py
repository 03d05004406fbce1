"""The one way the code builds its AWS clients: region, endpoint, retries and timeouts from the
settings.

Every client retries throttling (ProvisionedThroughputExceeded, Throttling...) and transient 5xx
with botocore's `standard` (or `adaptive`, client-side rate limiting) retry mode, up to
`AWS_MAX_ATTEMPTS` attempts in all; what is still failing after that reaches the caller, which
tells it apart with `is_transient` (the API answers 503 with Retry-After, an async function
raises so that its trigger retries the whole event).

boto3 is imported on the first call only: a handler's cold start does not pay for it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helpdesk.settings import Settings

# The error codes a later attempt may get past, across the services used here.
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "TransactionInProgressException",
    }
)

TRANSIENT_CANCELLATION_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}
)
# What a 503 answer tells the API's caller: long enough for the table to scale or recover.
RETRY_AFTER_SECONDS = 2


def share_botocore_data() -> None:
    """One botocore data loader for every session of the process; call it before `Tracer()`.

    botocore gives each session a loader of its own, and a loader parses the JSON it serves
    (endpoints.json alone, ~1 MB, takes some 50 ms). Importing the X-Ray SDK (a traced
    function's `Tracer()`) builds two X-Ray clients in sessions of their own, then the first
    client of ours builds a third session: three parses of the same files per cold start
    (bench/results.md, Cold start). The files are the same for every session of the process
    (the same data path), and what a loader returns is already shared by every client of its
    session, so sharing it across sessions changes no behaviour. Idempotent."""
    import botocore.session

    create_loader = botocore.session.create_loader
    if not getattr(create_loader, "shared", False):
        shared = functools.lru_cache(maxsize=None)(create_loader)
        shared.shared = True  # type: ignore[attr-defined]
        botocore.session.create_loader = shared


def client_config(settings: Settings, **extra: Any) -> Any:
    """The botocore Config of every client; `extra` adds service options (signature, s3)."""
    from botocore.config import Config

    # `total_max_attempts` counts the first attempt, as AWS_MAX_ATTEMPTS does; Config's
    # `max_attempts` would count retries only (one attempt more).
    retries = {"mode": settings.aws_retry_mode, "total_max_attempts": settings.aws_max_attempts}
    return Config(
        retries=retries,
        connect_timeout=settings.aws_connect_timeout,
        read_timeout=settings.aws_read_timeout,
        **extra,
    )


def client(
    service_name: str, settings: Settings, *, endpoint_url: str | None = None, **config: Any
) -> Any:
    """A boto3 client for `service_name` in the settings' region and endpoint.

    `endpoint_url` overrides the settings' one (presigned links for the local stack); `config`
    is merged into the shared Config.
    """
    import boto3

    return boto3.client(
        service_name,
        region_name=settings.aws_region,
        endpoint_url=endpoint_url or settings.endpoint_url,
        config=client_config(settings, **config),
    )


def is_transient(exc: BaseException) -> bool:
    """A throttling or server-side error that outlived the client's retries: try again later.

    Also when it is the cause of the exception (a library wrapping it), and a transaction
    cancelled because one of its items was throttled or in another transaction.
    """
    from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BotoConnectionError | ConnectionClosedError | ReadTimeoutError):
            return True
        if isinstance(seen, ClientError) and _transient_reply(seen.response):
            return True
        seen = seen.__cause__
    return False


def _transient_reply(response: Any) -> bool:
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if response.get("Error", {}).get("Code") in TRANSIENT_CODES or status in (500, 502, 503, 504):
        return True
    reasons = {reason.get("Code") for reason in response.get("CancellationReasons") or []}
    return bool(reasons & TRANSIENT_CANCELLATION_REASONS)
