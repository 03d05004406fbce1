"""`python -m bench`: every benchmark section, written to bench/results.md (one run).

    python -m bench                        # every section, full size → bench/results.md
    python -m bench --smoke                # every section at smoke size (a quick check)
    python -m bench calls cost             # only these sections
    python -m bench --output other.md      # elsewhere
    python -m bench billing 2000 8000      # the billing export benchmark alone, other sizes

Sections: calls (AWS requests per route, per notifier mail, per inbound mail), attachments
(the upload check: requests per event, peak memory on 10 MiB), overhead (warm handler), cold
(cold start), batch
(batch scaling), listing (`GET /tickets` reads at growing tables), billing (monthly export),
cost (the month of 10,000 tickets: uses the calls, overhead and, when it ran, the cold start
figures of this run). `bench.cold_start`, `bench.batch_scaling` and `bench.listing_reads` are
optional: a missing one is reported, not fatal.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import billing_export

SECTIONS = ("calls", "attachments", "overhead", "cold", "batch", "listing", "billing", "cost")
RESULTS = Path(__file__).resolve().parent / "results.md"
SMOKE_BILLING_SIZES = ("1000", "4000")


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"bench.{name}")
    except ImportError:
        return None


def _billing_section(smoke: bool) -> str:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        billing_export.main(SMOKE_BILLING_SIZES if smoke else ())
    printed = output.getvalue().strip().splitlines()
    # main() prints each size's row as it goes, then the whole table: keep the table.
    starts = [i for i, line in enumerate(printed) if line.startswith("entries   lines")]
    table = printed[starts[-1] :] if starts else printed
    return "\n".join(
        [
            "## Monthly billing export",
            "",
            "`bench/billing_export.py`: reading a month's time entries through the `by_month` "
            "index, and the whole export, at growing months (in-process moto).",
            "",
            "```",
            *table,
            "```",
        ]
    )


class Run:
    """The sections of one run, sharing what the cost model needs."""

    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        self.rows: Any = None
        self.overheads: Any = None
        self.api_init_seconds: float | None = None
        self.deliveries: Any = None
        self.ingests: Any = None

    def calls(self) -> str:
        from bench import calls_per_route

        self.rows = calls_per_route.measure_routes()
        self.deliveries = calls_per_route.measure_notifier()
        self.ingests = calls_per_route.measure_mail_ingest()
        return "\n\n".join(
            [
                calls_per_route.report(self.rows),
                calls_per_route.deliveries_report(self.deliveries),
                calls_per_route.ingest_report(self.ingests),
            ]
        )

    def attachments(self) -> str:
        from bench import attachments

        return attachments.section(self.smoke)

    def overhead(self) -> str:
        from bench import warm_overhead

        self.overheads = warm_overhead.measure(self.smoke)
        return warm_overhead.report(self.overheads)

    def cold(self) -> str:
        module = _optional("cold_start")
        if module is None:
            return "## Cold start\n\n(bench/cold_start.py is not there: not measured.)"
        if hasattr(module, "measure") and hasattr(module, "render"):
            found = module.measure(self.smoke)
            with contextlib.suppress(Exception):
                self.api_init_seconds = float(found.of("api").median_seconds)
            return str(module.render(found))
        return str(module.section(self.smoke))

    def batch(self) -> str:
        module = _optional("batch_scaling")
        if module is None:
            return "## Batch scaling\n\n(bench/batch_scaling.py is not there: not measured.)"
        return str(module.section(self.smoke))

    def listing(self) -> str:
        module = _optional("listing_reads")
        if module is None:
            return "## Listing reads\n\n(bench/listing_reads.py is not there: not measured.)"
        return str(module.section(self.smoke))

    def billing(self) -> str:
        return _billing_section(self.smoke)

    def cost(self) -> str:
        from bench import cost_model

        return cost_model.section(
            self.smoke,
            self.rows,
            self.overheads,
            self.api_init_seconds,
            self.deliveries,
            self.ingests,
        )


def header(smoke: bool, chosen: Sequence[str], seconds: float) -> str:
    size = "smoke size" if smoke else "full size"
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"`make bench` ({size}; sections: {', '.join(chosen)}), one run on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {os.cpu_count()} CPUs (`nproc`), "
            f"Python {platform.python_version()} ({platform.machine()}), moto in-process; "
            f"{seconds:.0f} s. Shared machine: timings are indicative, counts are exact.",
        ]
    )


def run(chosen: Sequence[str], smoke: bool, output: Path) -> str:
    state = Run(smoke)
    steps: dict[str, Callable[[], str]] = {name: getattr(state, name) for name in SECTIONS}
    started = time.perf_counter()
    parts = []
    for name in SECTIONS:  # in this order: cost uses what calls, overhead and cold measured
        if name in chosen:
            section_started = time.perf_counter()
            parts.append(steps[name]())
            print(
                f"bench: {name} done in {time.perf_counter() - section_started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    kept = _kept_sections(output, parts) if set(chosen) != set(SECTIONS) else []
    heading = header(smoke, chosen, time.perf_counter() - started)
    text = "\n\n".join([heading, *parts, *kept])
    output.write_text(text + "\n", encoding="utf-8")
    return text


def _kept_sections(output: Path, parts: Sequence[str]) -> list[str]:
    """The sections of an earlier results file that this partial run did not redo (each
    marked with the run it came from)."""
    if not output.exists():
        return []
    earlier = output.read_text(encoding="utf-8").split("\n## ")
    run_line = next((line for line in earlier[0].splitlines() if line.startswith("`make")), "")
    # Every heading a redone part holds: a section may hold more than one (calls: routes, mail).
    redone = {line for part in parts for line in part.splitlines() if line.startswith("## ")}
    kept = []
    for block in earlier[1:]:
        title = "## " + block.splitlines()[0]
        if title not in redone:
            lines = [x for x in block.rstrip().splitlines() if not x.startswith("(From an earlier")]
            marker = next((x for x in block.splitlines() if x.startswith("(From an earlier")), "")
            body = "\n".join(lines).rstrip()
            kept.append(f"## {body}\n\n{marker or f'(From an earlier run: {run_line})'}")
    return kept


def main(argv: Sequence[str]) -> int:
    sizes = [a for a in argv[1:] if a.replace("_", "").isdigit() or a == "--read-peak"]
    if argv and argv[0] == "billing" and sizes and len(sizes) == len(argv) - 1:
        return billing_export.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description="benchmarks")
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (all)")
    parser.add_argument("--smoke", action="store_true", help="smoke sizes (fast)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; sections are {', '.join(SECTIONS)}")
    chosen = list(args.sections) or list(SECTIONS)
    if "cost" in chosen:  # the cost model's inputs
        chosen = [s for s in SECTIONS if s in chosen or s in ("calls", "overhead")]
    print(run(chosen, args.smoke, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
