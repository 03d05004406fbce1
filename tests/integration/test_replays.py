"""Replays: each asynchronous entry point (mail ingestion, each schedule, each Step Functions
task, the notifier's stream batches) gets the same event three times; the table, the buckets,
SES's sent mail and Step Functions are the same after the third delivery as after the first.

The scenarios and the snapshot live in tests/reliability/replays.py (`make reliability` reports
the same figures).
"""

from __future__ import annotations

import pytest

from tests.reliability.replays import DELIVERIES, ENTRY_POINTS, measure, replay


@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
def test_three_deliveries_leave_the_state_of_one(entry_point: str) -> None:
    result = replay(entry_point)
    assert result.deliveries == DELIVERIES
    assert result.first_changes > 0  # the first delivery did its work...
    assert result.differences == []  # ...and the replays added nothing


def test_the_report_has_a_line_per_entry_point() -> None:
    figures = measure(None, names=("stream workflow start",))
    per_entry_point = [f for f in figures if f.what.startswith("differences after")]
    assert [f.what.rsplit(": ", 1)[1] for f in per_entry_point] == ["stream workflow start"]
    assert all(f.ok for f in figures)
    assert [f.value for f in per_entry_point] == [0]
