"""The Makefile's targets install what they use (a fresh clone has no virtualenv)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def dry_run(target: str, **variables: str) -> str:
    """The commands `make` would run for `target` (`make -n`, nothing is executed)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    command = ["make", "--no-print-directory", "-n", target]
    command += [f"{name}={value}" for name, value in variables.items()]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return completed.stdout


def test_reliability_installs_checkov_before_the_suite_and_passes_it_on(tmp_path: Path) -> None:
    """On a fresh clone (no .venv-checkov) `make reliability` first installs checkov, then runs
    the suite with that checkov, so the template area never reports "not installed"."""
    fresh = tmp_path / "venv-checkov"
    commands = dry_run("reliability", VENV_CHECKOV=str(fresh))
    install = commands.find("-r requirements-checkov.txt")
    suite = commands.find("-m tests.reliability")
    assert install != -1, commands
    assert suite != -1, commands
    assert install < suite
    assert f"CHECKOV={fresh}/bin/checkov" in commands


def test_redrive_runs_the_script_on_the_stack_and_queue_given() -> None:
    commands = dry_run("redrive", QUEUE="NotifierDeadLetterQueue", ENV="prod", DRY_RUN="1")
    assert (
        "-m infra.redrive --stack helpdesk-prod --queue NotifierDeadLetterQueue --dry-run"
        in commands
    )
