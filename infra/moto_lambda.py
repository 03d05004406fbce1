"""Run Lambda functions in-process when moto invokes them (Step Functions tasks, Invoke).

moto runs a function's code in Docker, or not at all (`use_docker: False` only echoes). The
local stack and the tests have no Docker and want the real handler anyway, so this patches
`moto.awslambda.models.LambdaFunction._invoke_lambda`: a function registered here by name is
called in this process with the decoded event and a fake context; its return value (JSON) is
the invocation's payload, and an exception becomes a handled function error
(`{"errorType", "errorMessage"}`), as the Lambda runtime reports it. Functions not registered
keep moto's behaviour.
"""

from __future__ import annotations

import io
import json
import threading
import traceback
import zipfile
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], Any]  # the event -> the result (the context is the caller's)

_handlers: dict[str, Handler] = {}
_lock = threading.Lock()
_installed = False


def register(function_name: str, handler: Handler) -> None:
    """Route moto's invocations of `function_name` to `handler(event)` (install() first)."""
    with _lock:
        _handlers[function_name] = handler


def unregister(function_name: str) -> None:
    with _lock:
        _handlers.pop(function_name, None)


def install() -> None:
    """Patch moto once (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction._invoke_lambda

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        with _lock:
            handler = _handlers.get(self.function_name)
        if handler is None:
            return original(self, event)
        if isinstance(event, str | bytes):
            event = json.loads(event or "{}")
        try:
            result = handler(event if isinstance(event, dict) else {})
        except Exception as exc:  # reported as the Lambda runtime reports a handler error
            error = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc),
            }
            return json.dumps(error), True, ""
        return json.dumps(result, default=str), False, ""

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    _installed = True


def placeholder_zip() -> bytes:
    """A deployment package for moto's CreateFunction: its code is never run here."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()
