"""`make bench` at a smoke size, so the benchmark cannot rot."""

from __future__ import annotations

import math

import pytest

from bench import billing_export
from infra.cfn_template import load_template


def test_billing_export_benchmark_runs_at_a_small_size(monkeypatch: pytest.MonkeyPatch) -> None:
    result = billing_export.run_size(2_000, load_template(), with_read_peak=False)
    assert result.entries == 2_000 and result.lines > 0
    assert result.read_seconds > 0 and result.export_seconds > 0
    assert result.export_peak_mib > 0 and math.isnan(result.read_peak_mib)
    text = billing_export.report([result, result])
    assert "ratio" in text and "export peak memory x1.00" in text
