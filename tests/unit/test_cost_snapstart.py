"""bench.cost_model's SnapStart estimate (issue #21): the cache and restore charges against the
INIT time they save, figures worked out by hand from the published prices."""

from __future__ import annotations

import pytest

from bench.cost_model import SnapStartEstimate, snapstart_report


def test_a_month_of_one_cached_version_and_its_restores() -> None:
    estimate = SnapStartEstimate(
        cold_starts=5_000, memory_gb=1.0, init_seconds=0.8, restore_seconds=0.2, deploys=8
    )
    # 730 h × 3600 s × 1 GB, one version at a time (each deploy deletes the one before)
    assert estimate.cache_gb_seconds == pytest.approx(2_628_000)
    assert estimate.cache_usd == pytest.approx(2_628_000 * 0.0000015046)  # $3.95
    assert estimate.restore_usd == pytest.approx(5_000 * 0.0001397998)  # $0.70
    assert estimate.init_usd_saved == pytest.approx(5_000 * 0.6 * 0.0000133334)  # $0.04
    assert estimate.extra_usd == pytest.approx(3.9541 + 0.6990 - 0.0400, abs=0.001)
    assert estimate.user_seconds_saved == pytest.approx(3_000)


def test_deploys_closer_than_three_hours_pay_the_minimum() -> None:
    estimate = SnapStartEstimate(cold_starts=0, memory_gb=0.5, init_seconds=1.0, deploys=400)
    assert estimate.cache_gb_seconds == pytest.approx(400 * 3 * 3600 * 0.5)


def test_the_measured_cold_start_is_the_input() -> None:
    slow = SnapStartEstimate(cold_starts=1_000, memory_gb=1.0, init_seconds=1.0)
    fast = SnapStartEstimate(cold_starts=1_000, memory_gb=1.0, init_seconds=0.6)
    assert slow.user_seconds_saved - fast.user_seconds_saved == pytest.approx(400)
    assert fast.extra_usd > slow.extra_usd


def test_the_report_gives_the_charges_and_the_decision() -> None:
    estimate = SnapStartEstimate(cold_starts=5_000, memory_gb=1.0, init_seconds=0.8)
    text = snapstart_report(estimate, total_usd=1.70)
    assert "| cache: one version of the API | 2,628,000 GB-s |" in text
    assert "+3.9541" in text and "+0.6990" in text
    assert "over** the $2.00 target" in text
    assert "**Decision: SnapStart stays disabled by default**" in text
