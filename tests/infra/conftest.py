"""What the template checks share: the template as SAM reads it, and an AWS environment that
cannot reach a real account."""

from __future__ import annotations

from typing import Any

import pytest

from infra.cfn_template import load_template

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A region and fake credentials, so nothing can reach a real account."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
