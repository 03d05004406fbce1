"""The README, the data model and pyproject.toml say what the code does."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from infra.cfn_template import load_template
from infra.localstack import helpers, smtp
from infra.localstack.config import DEFAULT_SMTP_PORT, LocalConfig
from infra.localstack.schedules import schedules_of
from infra.localstack.stack import LocalStack

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
DATA_MODEL = (REPO_ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")


def local_helper_routes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(method, pattern) of every /_local/ helper the local stack registers."""
    added: list[tuple[str, str]] = []
    original = helpers.LocalRoutes.add

    def add(self: helpers.LocalRoutes, method: str, pattern: str, helper: helpers.Helper) -> None:
        added.append((method, pattern))
        original(self, method, pattern, helper)

    monkeypatch.setattr(helpers.LocalRoutes, "add", add)
    stack = LocalStack(LocalConfig())
    stack._local_routes(schedules_of(load_template()))
    return added


def test_readme_lists_every_local_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    routes = local_helper_routes(monkeypatch)
    assert ("GET", "/_local/outbox") in routes
    for method, pattern in routes:
        written = f"`{method} {pattern.replace('+}', '}')}`"
        assert written in README, f"README's helper table misses {written}"


def test_readme_documents_the_smtp_server() -> None:
    assert "not served yet" not in README
    assert "`SMTP_PORT`" in README
    assert f"127.0.0.1:{DEFAULT_SMTP_PORT}" in README
    assert smtp.DEFAULT_DOMAIN in README
    for schedule in schedules_of(load_template()):
        assert f"`{schedule.name}`" in README


# The items of inbound mail (adapters/mail_store.py), keyed by these partition-key prefixes.
MAIL_ITEM_PREFIXES = ("MAIL#", "MSGIN#", "MSGID#", "MAILRATE#")


@pytest.mark.parametrize("prefix", MAIL_ITEM_PREFIXES)
def test_data_model_lists_every_item_of_inbound_mail(prefix: str) -> None:
    assert f"| `{prefix}" in DATA_MODEL, f"docs/data-model.md misses the {prefix} item"


def test_pyproject_lints_for_the_runtime_and_keeps_3_11() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["readme"] == "README.md"
    assert config["project"]["requires-python"] == ">=3.11"
    assert config["tool"]["ruff"]["target-version"] == "py313"
    assert config["tool"]["mypy"]["python_version"] == "3.13"
    # PEP 695 syntax would not run on 3.11: ruff must not ask for it.
    assert {"UP040", "UP046", "UP047"} <= set(config["tool"]["ruff"]["lint"]["ignore"])
