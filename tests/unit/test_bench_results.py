"""A partial `python -m bench` run keeps the earlier sections it did not redo, once each."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import _kept_sections


def test_a_section_with_two_headings_replaces_both(tmp_path: Path) -> None:
    earlier = tmp_path / "results.md"
    earlier.write_text(
        "# Benchmark results\n\n`make bench` (full size), one run.\n\n"
        "## AWS requests per route\n\nold routes\n\n"
        "## AWS requests per inbound mail\n\nold mail\n\n"
        "## Batch scaling\n\nold batch\n",
        encoding="utf-8",
    )
    redone = ["## AWS requests per route\n\nnew routes\n\n## AWS requests per inbound mail\n\nnew"]
    kept = _kept_sections(earlier, redone)
    assert [block.splitlines()[0] for block in kept] == ["## Batch scaling"]
    assert kept[0].endswith("(From an earlier run: `make bench` (full size), one run.)")
