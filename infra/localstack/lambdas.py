"""Lambda functions run in-process, one invocation at a time per function.

In AWS each concurrent request gets its own execution environment (its own process). Here every
function shares this process, and Powertools' event handler keeps the current event in class
attributes of `BaseRouter` (shared by every resolver of the process), so two invocations must
never overlap: `LambdaFunction.invoke` holds the function's lock. The HTTP server still accepts
and queues concurrent requests; they reach the handler one after the other, each against the
same (serialised) moto DynamoDB, which is what makes conditional writes decide the winners.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str
    timeout_seconds: int = 15
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def import_handler(folder: Path, handler: str) -> Handler:
    """`import_handler(functions/api, "app.lambda_handler")`, the folder being the task root.

    The module gets a unique name (`<folder>_app`) so two functions' `app.py` never collide.
    """
    folder = folder.resolve()
    module_file, _, attribute = handler.rpartition(".")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    name = f"{folder.name}_{module_file}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, folder / f"{module_file}.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {folder / module_file}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    function: Handler = getattr(module, attribute)
    return function


class LambdaFunction:
    """One function of the template, invoked in-process with a fake context."""

    def __init__(self, folder: Path, handler: str, function_name: str, timeout: int = 15) -> None:
        self.function_name = function_name
        self.timeout = timeout
        self._handler = import_handler(folder, handler)
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> Any:
        context = FakeLambdaContext(self.function_name, timeout_seconds=self.timeout)
        with self._lock:
            return self._handler(event, context)
