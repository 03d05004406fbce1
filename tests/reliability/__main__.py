"""`make reliability`: every area of the suite against one local stack, one table of figures."""

from __future__ import annotations

import importlib
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.support import Api, StackProcess, free_port
from tests.reliability import Figure, StackContext, render

# Each module has `measure(context: StackContext) -> list[Figure]`.
AREAS = (
    "concurrency",
    "replays",
    "faults",
    "fuzz",
    "mail_corpus",
    "authz",
    "template_checks",
)


RESULTS = Path(__file__).resolve().parent / "results.txt"


def header(seconds: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"make reliability, one run on {when}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, the local stack (moto); {seconds:.0f} s.\n"
        "Committed with each change to the figures, to compare run to run.\n"
    )


def main() -> int:
    began = time.monotonic()
    figures: list[Figure] = []
    with tempfile.NamedTemporaryFile("w+", suffix=".log", prefix="reliability-") as output:
        stack = StackProcess(output, free_port())
        try:
            stack.wait_until_up()
            tokens = stack.tokens()
            context = StackContext(Api(stack.base_url), tokens, stack.smtp_port, stack.base_url)
            for name in AREAS:
                started = time.monotonic()
                module = importlib.import_module(f"tests.reliability.{name}")
                area_figures = module.measure(context)
                figures.extend(area_figures)
                print(
                    f"{name}: {len(area_figures)} figures in {time.monotonic() - started:.1f} s",
                    file=sys.stderr,
                )
        finally:
            stack.stop()
    table = render(figures)
    print(table)
    RESULTS.write_text(header(time.monotonic() - began) + "\n" + table + "\n", encoding="utf-8")
    print(
        f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}"
    )
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
