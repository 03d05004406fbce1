"""Schemathesis against the committed OpenAPI document, on the local stack, once per role.

Each role's token drives one `schemathesis run` (a subprocess of this interpreter, seeded):
the coverage, fuzzing and stateful phases, valid and invalid input alike. Its NDJSON event
stream is read back here: every request sent, its status, and every failed check. A 5xx is a
bug; so is any answer the document does not describe (status, content type, headers, schema).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.support import REPO_ROOT, StackProcess, free_port
from tests.reliability import Figure, StackContext

AREA = "fuzz"
SPEC_PATH = REPO_ROOT / "docs" / "openapi.json"
# The two clients are of different organisations; every consultant level, manager, finance.
ROLES = ("CLIENT_ACME", "CLIENT_GLOBEX", "L1", "L2", "L3", "MANAGER", "FINANCE")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
PHASES = ("coverage", "fuzzing", "stateful")
SEED = 20261128
# Examples per operation and role in the fuzzing and stateful phases; with the coverage
# phase's fixed cases, 7 roles send about 6,000 requests at this size.
REPORT_MAX_EXAMPLES = 10
REQUIRED_REQUESTS = 5_000
RUN_TIMEOUT_SECONDS = 1_800
PARALLEL_ROLES = 2


@dataclass
class RoleRun:
    """What one role's schemathesis run sent and what it found."""

    role: str
    seconds: float = 0.0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)  # "check: operation: message"
    server_error_operations: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)  # schemathesis' own errors

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def run_role(
    base_url: str,
    role: str,
    token: str,
    max_examples: int,
    phases: tuple[str, ...] = PHASES,
) -> RoleRun:
    """One seeded schemathesis run with this role's bearer token."""
    run = RoleRun(role)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{role.lower()}-") as workdir:
        events = Path(workdir) / "events.ndjson"
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(SPEC_PATH),
            f"--url={base_url}",
            f"--header=Authorization: Bearer {token}",
            f"--checks={','.join(CHECKS)}",
            f"--phases={','.join(phases)}",
            "--mode=all",
            f"--max-examples={max_examples}",
            f"--seed={SEED}",
            "--workers=1",
            "--generation-database=none",
            "--no-shrink",
            "--continue-on-failure",
            "--request-timeout=30",
            "--report=ndjson",
            f"--report-ndjson-path={events}",
            "--no-color",
        ]
        started = time.monotonic()
        # Its exit code says "failures found"; the events say which, so they are what counts.
        completed = subprocess.run(
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
        run.seconds = time.monotonic() - started
        if not events.exists():
            run.errors.append(
                f"no report (exit {completed.returncode}): {completed.stdout[-2000:]}"
            )
            return run
        for event in _events(events):
            _record(run, event)
    return run


def _events(path: Path) -> Iterator[Mapping[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _record(run: RoleRun, event: Mapping[str, Any]) -> None:
    if "NonFatalError" in event or "FatalError" in event:
        error = event.get("NonFatalError") or event.get("FatalError") or {}
        run.errors.append(f"{error.get('label', '')}: {error.get('info', error)}"[:500])
        return
    finished = event.get("ScenarioFinished") or event.get("FuzzScenarioFinished")
    if finished is None:
        return
    recorder = finished.get("recorder", {})
    interactions = recorder.get("interactions", {})
    for interaction in interactions.values():
        response = interaction.get("response")
        if response is None:
            continue
        operation = _operation(interaction["request"])
        status = int(response["status_code"])
        run.requests += 1
        run.statuses[status] += 1
        run.operations.add(operation)
        if status >= 500:
            run.server_error_operations.add(f"{status} {operation}")
    for checks in recorder.get("checks", {}).values():
        for check in checks:
            if check.get("status") == "failure" and check["name"] != "not_a_server_error":
                failure = check.get("failure_info", {}).get("failure", {})
                run.violations.append(
                    f"{check['name']}: {failure.get('operation', recorder.get('label'))}: "
                    f"{failure.get('title', '')} {failure.get('message', '')}".strip()
                )


def _operation(request: Mapping[str, Any]) -> str:
    """`GET /tickets/{number}`: the documented operation a request was sent to."""
    method = str(request.get("method", "")).upper()
    path = urlsplit(str(request.get("uri", ""))).path
    for template, pattern in _PATH_PATTERNS:
        if pattern.fullmatch(path):
            return f"{method} {template}"
    return f"{method} {path}"


def _path_patterns() -> list[tuple[str, re.Pattern[str]]]:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return [
        (template, re.compile(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))))
        for template in spec["paths"]
    ]


def documented_operations() -> set[str]:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in methods
    }


_PATH_PATTERNS = _path_patterns()


def run_all(
    base_url: str,
    tokens: Mapping[str, str],
    max_examples: int,
    roles: tuple[str, ...] = ROLES,
    phases: tuple[str, ...] = PHASES,
) -> list[RoleRun]:
    # Two roles at a time: one schemathesis generates while the stack answers the other.
    with ThreadPoolExecutor(max_workers=PARALLEL_ROLES) as pool:
        return list(
            pool.map(
                lambda role: run_role(base_url, role, tokens[role], max_examples, phases), roles
            )
        )


def figures(
    runs: list[RoleRun], seconds: float, required_requests: int = REQUIRED_REQUESTS
) -> list[Figure]:
    total = sum(run.requests for run in runs)
    server_errors = sum(run.server_errors for run in runs)
    violations = [v for run in runs for v in run.violations]
    errors = [e for run in runs for e in run.errors]
    documented = documented_operations()
    covered = set().union(*(run.operations for run in runs)) & documented
    missing = sorted(documented - covered)
    by_role = ", ".join(f"{run.role} {run.requests}" for run in runs)
    statuses = sum((run.statuses for run in runs), Counter[int]())
    return [
        Figure(AREA, "requests sent", total, total >= required_requests, by_role),
        Figure(
            AREA,
            "distinct statuses",
            len(statuses),
            True,
            " ".join(f"{s}:{n}" for s, n in sorted(statuses.items())),
        ),
        Figure(
            AREA,
            "5xx responses",
            server_errors,
            server_errors == 0,
            ", ".join(sorted(set().union(*(run.server_error_operations for run in runs)))),
        ),
        Figure(
            AREA,
            "responses violating the spec",
            len(violations),
            not violations,
            "; ".join(sorted(set(violations))[:5]),
        ),
        Figure(AREA, "schemathesis errors", len(errors), not errors, "; ".join(errors[:3])),
        Figure(
            AREA,
            "operations exercised",
            f"{len(covered)}/{len(documented)}",
            not missing,
            ", ".join(missing),
        ),
        Figure(AREA, "duration (s)", round(seconds, 1), True, f"{PARALLEL_ROLES} roles at a time"),
    ]


@contextmanager
def dedicated_stack() -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh local stack: its base URL and the demo users' tokens.

    The fuzzer is a manager and finance too: it renames organisations, moves consultants
    between levels and locks billing months. The other areas and tests need the seed data.
    """
    with tempfile.NamedTemporaryFile("w+", suffix=".log", prefix="fuzz-stack-") as output:
        stack = StackProcess(output, free_port())
        try:
            stack.wait_until_up()
            tokens = stack.tokens()
            yield stack.base_url, tokens
        finally:
            stack.stop()


def measure(context: StackContext) -> list[Figure]:
    """On a stack of its own (see `dedicated_stack`), not on the shared `context`."""
    with dedicated_stack() as (base_url, tokens):
        started = time.monotonic()
        runs = run_all(base_url, tokens, REPORT_MAX_EXAMPLES)
        return figures(runs, time.monotonic() - started)
