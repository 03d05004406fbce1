"""The cold-start and batch-scaling benchmarks at smoke size, so that they cannot rot.

No timing is asserted (a shared, noisy machine): the structure of what they report, that every
function's cold start was measured on the path it is meant to take, and that the jobs read the
same number of items whatever the size of the table.
"""

from __future__ import annotations

import pytest

from bench import batch_scaling, cold_start

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cold() -> cold_start.ColdStarts:
    return cold_start.measure(smoke=True)


@pytest.fixture(scope="module")
def batch() -> batch_scaling.BatchScaling:
    return batch_scaling.measure(smoke=True)


def test_cold_start_is_measured_for_every_function(cold: cold_start.ColdStarts) -> None:
    floors = list(dict.fromkeys(cold_start.FLOORS.values()))
    assert [f.name for f in cold.functions] == list(cold_start.FUNCTIONS)
    assert [f.name for f in cold.floors] == floors
    for measured in (cold.baseline, *cold.functions, *cold.floors):
        assert len(measured.runs) == cold_start.SMOKE_RUNS
        assert all(0 < r.import_seconds < r.seconds for r in measured.runs), measured.name
        assert measured.peak_rss_mib > 0
    section = cold_start.render(cold)
    assert section.startswith("## Cold start\n")
    main, imports, memory = (
        part.splitlines()
        for part in _split(section, "### Where the API's import time goes", "### Memory sizes")
    )
    functions = list(cold_start.FUNCTIONS)
    assert _first_cells(main) == ["function", "baseline", *functions, *floors]
    assert _first_cells(memory) == [
        "function",
        *(f for f in functions if f not in cold_start.FOLDERS),
    ]
    for name in cold_start.FLOORS:  # each floor measured beside its function
        ratio = cold.ratio_to_floor(name)
        assert ratio is not None and ratio > 0
    assert cold.import_profile is not None and cold.import_profile.beyond_floor_ms > 0
    assert any(name.startswith("helpdesk.") for name, _ in cold.import_profile.groups)
    assert cold.bytecode is not None
    assert cold.bytecode.without_pyc_s > cold.bytecode.with_pyc_s
    assert "### Bytecode" in "\n".join(imports)


def _split(text: str, *marks: str) -> list[str]:
    parts = []
    for mark in marks:
        before, _, text = text.partition(mark)
        parts.append(before)
    return [*parts, text]


def _first_cells(lines: list[str]) -> list[str]:
    return [line.split(" | ")[0].removeprefix("| ") for line in lines if line.startswith("| ")]


def test_cold_start_environment_is_the_templates(cold: cold_start.ColdStarts) -> None:
    from infra.cfn_template import load_template

    env = cold_start.function_environment(load_template(), "mail_ingest", "http://moto")
    assert env["TABLE_NAME"] == cold_start.TABLE
    assert env["INBOUND_BUCKET"] == cold_start.RESOURCE_NAMES["InboundMailBucket"]
    assert env["MAIL_FROM"] == f"support@{cold_start.MAIL_DOMAIN}"
    assert env["AWS_ENDPOINT_URL"] == "http://moto"


def test_batch_jobs_read_the_same_items_at_every_size(batch: batch_scaling.BatchScaling) -> None:
    sizes = list(batch_scaling.SMOKE_SIZES)
    expected = {
        "auto-close": batch_scaling.DUE,
        "sla-watch": batch_scaling.OPEN,  # only the running clocks, through the sparse index
        "task-rollover": batch_scaling.OPEN,
    }
    for job, count in expected.items():
        runs = batch.runs_of(job)
        assert [r.tickets for r in runs] == sizes
        assert [(r.items_read, r.reported_read, r.changed) for r in runs] == [
            (count, count, count)
        ] * len(sizes)
    assert batch.reads_flat()


def test_batch_section_reports_jobs_and_export_memory(batch: batch_scaling.BatchScaling) -> None:
    assert [e.entries for e in batch.exports] == list(batch_scaling.SMOKE_EXPORT_SIZES)
    assert all(e.lines > 0 and e.peak_mib > 0 for e in batch.exports)
    section = batch_scaling.render(batch)
    assert section.startswith("## Batch scaling\n")
    assert "Reads flat across sizes: yes." in section
    assert section.count("| auto-close |") == len(batch_scaling.SMOKE_SIZES)
