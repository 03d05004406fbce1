"""The local stack loads each function once, however many threads ask for it first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from infra.localstack import stack as stack_module
from infra.localstack.config import LocalConfig
from infra.localstack.stack import LocalStack

THREADS = 8


class SlowLambdaFunction:
    """Stands for LambdaFunction: its load (an import) takes a while, as a real one does."""

    created = 0

    def __init__(self, folder: Path, handler: str, function_name: str, timeout: int = 15) -> None:
        time.sleep(0.05)
        type(self).created += 1
        self.function_name = function_name


def test_concurrent_first_calls_get_the_same_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack_module, "LambdaFunction", SlowLambdaFunction)
    SlowLambdaFunction.created = 0
    stack = LocalStack(LocalConfig())
    barrier = threading.Barrier(THREADS, timeout=10)

    def first_call(_: int) -> Any:
        barrier.wait()
        return stack.function("NotifierFunction")

    with ThreadPoolExecutor(THREADS) as pool:
        functions = list(pool.map(first_call, range(THREADS)))
    assert len({id(f) for f in functions}) == 1
    assert SlowLambdaFunction.created == 1
    assert functions[0].function_name == "helpdesk-local-NotifierFunction"
    assert stack.function("NotifierFunction") is functions[0]
