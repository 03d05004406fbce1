"""The local stack's schedules come from template.yaml and fire on the Scheduler's cadence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra.localstack.schedules import Cron, LocalScheduler, Schedule, schedules_of

PARIS = ZoneInfo("Europe/Paris")


def test_template_schedules_are_found_with_their_input(template: dict[str, Any]) -> None:
    schedules = {s.name: s for s in schedules_of(template)}
    assert set(schedules) == {"auto-close", "task-rollover", "billing-export", "sla-watch"}
    watch = schedules["sla-watch"]
    assert watch.zone == PARIS and watch.function_id == "JobsFunction"
    # Every 15 minutes: the next run after 10:07 Paris is 10:15, after 10:45 it is 11:00.
    assert watch.cron.next_after(datetime(2026, 11, 27, 9, 7, tzinfo=UTC), PARIS) == datetime(
        2026, 11, 27, 9, 15, tzinfo=UTC
    )
    assert watch.cron.next_after(datetime(2026, 11, 27, 9, 45, tzinfo=UTC), PARIS) == datetime(
        2026, 11, 27, 10, 0, tzinfo=UTC
    )
    export = schedules["billing-export"]
    assert export.zone == PARIS and export.cron == Cron.parse("cron(0 2 1 * ? *)")
    assert export.event(datetime(2026, 11, 1, 1, tzinfo=UTC)) == {
        "job": "billing-export",
        "at": "2026-11-01T01:00:00Z",
    }
    rollover = schedules["task-rollover"]
    assert rollover.zone == PARIS and rollover.function_id == "JobsFunction"
    at = datetime(2026, 1, 31, 23, 5, tzinfo=UTC)
    assert rollover.event(at) == {"job": "task-rollover", "at": "2026-01-31T23:05:00Z"}


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # Hourly at minute 0, Paris time (= UTC hours here).
        ("cron(0 * * * ? *)", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # 1st of the month 00:05 Paris: 23:05 UTC the day before in winter...
        ("cron(5 0 1 * ? *)", datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 1, 31, 23, 5, tzinfo=UTC)),
        # ...and 22:05 UTC in summer.
        ("cron(5 0 1 * ? *)", datetime(2026, 6, 15, tzinfo=UTC), datetime(2026, 6, 30, 22, 5, tzinfo=UTC)),
    ],
)
def test_cron_next_run_in_paris(expression: str, after: datetime, expected: datetime) -> None:
    assert Cron.parse(expression).next_after(after, PARIS) == expected


@pytest.mark.parametrize("expression", ["rate(1 hour)", "cron(0 * * 1 ? *)", "cron(0 * *)"])
def test_unsupported_cron_is_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="cron expression"):
        Cron.parse(expression)


def test_scheduler_fires_each_due_run_once_with_its_scheduled_time() -> None:
    fired: list[tuple[str, datetime]] = []
    hourly = Schedule("auto-close", Cron.parse("cron(0 * * * ? *)"), PARIS, "{}", "JobsFunction")
    scheduler = LocalScheduler([hourly], lambda s, at: fired.append((s.name, at)))
    start = datetime(2026, 5, 1, 9, 59, 30, tzinfo=UTC)
    runs = scheduler.next_runs(start)
    assert runs[0][0] == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    scheduler._fire(hourly, runs[0][0])
    assert fired == [("auto-close", datetime(2026, 5, 1, 10, 0, tzinfo=UTC))]


def test_ticks_fire_a_run_once_when_its_minute_has_come() -> None:
    fired: list[datetime] = []
    now = [datetime(2026, 5, 1, 9, 59, 30, tzinfo=UTC)]
    hourly = Schedule("auto-close", Cron.parse("cron(0 * * * ? *)"), PARIS, "{}", "JobsFunction")
    scheduler = LocalScheduler([hourly], lambda s, at: fired.append(at), clock=lambda: now[0])
    scheduler.tick()
    assert fired == []
    now[0] = datetime(2026, 5, 1, 10, 0, 10, tzinfo=UTC)
    scheduler.tick()
    now[0] = datetime(2026, 5, 1, 10, 0, 25, tzinfo=UTC)
    scheduler.tick()
    assert fired == [datetime(2026, 5, 1, 10, 0, tzinfo=UTC)]
