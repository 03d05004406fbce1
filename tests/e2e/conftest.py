"""The local stack (`python -m infra.localstack`) as a subprocess, once per session."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

from tests.e2e.support import Api, StackProcess, free_port


@pytest.fixture(scope="session")
def stack() -> Iterator[StackProcess]:
    with tempfile.NamedTemporaryFile("w+", suffix=".log", prefix="localstack-") as output:
        process = StackProcess(output, free_port())
        try:
            process.wait_until_up()
        except RuntimeError as exc:
            process.stop()
            pytest.fail(f"{exc}; its output:\n{process.text()}", pytrace=False)
        yield process
        process.stop()


@pytest.fixture(scope="session")
def api(stack: StackProcess) -> Api:
    return Api(stack.base_url)


@pytest.fixture(scope="session")
def tokens(stack: StackProcess) -> dict[str, str]:
    """The demo users' tokens as printed at start: CLIENT_ACME, L1, MANAGER..."""
    return stack.tokens()
