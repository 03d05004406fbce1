"""Where a cold start's import time goes (part of the Cold start section of `make bench`).

- The API's imports beyond its floor: `python -X importtime` of the handler module plus the
  router a ticket read includes, against the floor's own imports; the self time of every
  module the floor does not import, summed per group (our modules one by one, a library per
  top-level package).
- What bytecode is worth: `import boto3` in a fresh interpreter with the venv's `.pyc` and with
  none (PYTHONPYCACHEPREFIX pointing at an empty folder, nothing written): the second is what a
  cold start pays for every library when the deployment package holds no bytecode, which is
  what `sam build` alone produces (infra/bytecode.py).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

API_FIRST_IMPORTS = "import app\napp.include_routes_for('/tickets/1')\n"
API_FLOOR_IMPORTS = (
    "import boto3\n"
    "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
    "from pydantic import BaseModel\n"
    "APIGatewayHttpResolver(enable_validation=True)\n"
    "Tracer(patch_modules=('botocore',))\n"
)
OUR_GROUP_DEPTH = 3  # helpdesk.domain.workflow, helpdesk.entrypoints.http...


@dataclass(frozen=True)
class ImportProfile:
    beyond_floor_ms: float  # self times summed, as -X importtime reports them
    groups: tuple[tuple[str, float], ...]  # (group, ms), largest first


@dataclass(frozen=True)
class BytecodeEffect:
    with_pyc_s: float
    without_pyc_s: float
    runs: int


def _self_times(source: str, folder: Path, env: dict[str, str], runs: int) -> dict[str, float]:
    """Mean self time (µs) of each module `source` imports, over `runs` fresh interpreters."""
    totals: dict[str, float] = defaultdict(float)
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", source],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, _cumulative, module = line.removeprefix("import time:").split("|")
            totals[module.strip()] += int(own) / runs
    return totals


def _group(module: str) -> str:
    if module.startswith(("helpdesk.", "aws_lambda_powertools.")):
        return ".".join(module.split(".")[:OUR_GROUP_DEPTH])
    return module.split(".")[0]


def api_import_profile(env: dict[str, str], code: Path, runs: int = 3) -> ImportProfile:
    folder = code / "functions" / "api"
    floor = _self_times(API_FLOOR_IMPORTS, folder, env, runs)
    ours = _self_times(API_FIRST_IMPORTS, folder, env, runs)
    groups: dict[str, float] = defaultdict(float)
    for module, micros in ours.items():
        if module not in floor:
            groups[_group(module)] += micros / 1000
    return ImportProfile(
        beyond_floor_ms=sum(groups.values()),
        groups=tuple(sorted(groups.items(), key=lambda group: -group[1])),
    )


def bytecode_effect(env: dict[str, str], runs: int = 5) -> BytecodeEffect:
    """`import boto3` timed in a fresh interpreter, with and without bytecode (interleaved)."""
    timed = (
        "import time\nstarted = time.perf_counter()\nimport boto3\n"
        "print(time.perf_counter() - started)"
    )
    seconds: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as empty:
        for _ in range(runs):
            for with_pyc in (True, False):
                child = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
                if not with_pyc:
                    child["PYTHONPYCACHEPREFIX"] = empty
                done = subprocess.run(
                    [sys.executable, "-c", timed],
                    env=child,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=True,
                )
                seconds[with_pyc].append(float(done.stdout.strip()))
    return BytecodeEffect(statistics.median(seconds[True]), statistics.median(seconds[False]), runs)


def render(
    profile: ImportProfile | None, bytecode: BytecodeEffect | None, top: int = 12
) -> list[str]:
    lines: list[str] = []
    if profile is not None:
        lines += [
            "### Where the API's import time goes",
            "",
            "`python -X importtime` of `import app` plus the router a ticket read includes, "
            "against the floor's imports, mean of 3 fresh interpreters: the self time of every "
            f"module the floor does not import, {profile.beyond_floor_ms:.0f} ms in all "
            "(importtime's own overhead included), by group:",
            "",
            "| group | ms |",
            "|---|---:|",
            *(f"| `{name}` | {ms:.1f} |" for name, ms in profile.groups[:top]),
            f"| {len(profile.groups) - top} other groups | "
            f"{sum(ms for _, ms in profile.groups[top:]):.1f} |",
            "",
        ]
    if bytecode is not None:
        lines += [
            "### Bytecode",
            "",
            f"`import boto3` in a fresh interpreter, median of {bytecode.runs}: "
            f"**{bytecode.with_pyc_s:.3f} s** with the `.pyc` files, "
            f"**{bytecode.without_pyc_s:.3f} s** without "
            f"({bytecode.without_pyc_s / bytecode.with_pyc_s:.1f}×). `sam build` writes no "
            "bytecode and Lambda's `/opt` and `/var/task` are read-only, so a layer built by "
            "`sam build` alone compiles every module it imports at every cold start; `make "
            "build` therefore compiles the build (infra/bytecode.py, unchecked-hash `.pyc`), "
            "and the runs above import compiled code, as deployed.",
            "",
        ]
    return lines


if __name__ == "__main__":  # a quick look: python -m bench.import_profile
    environment = {"PATH": os.environ.get("PATH", ""), **os.environ}
    print("\n".join(render(None, bytecode_effect(environment))))
