"""Schedule times outside the years 2000-2999 (DESIGN.md §7): 422 naming `at` from the local
helper (the job is never called), a bad event for the jobs function in AWS (refused before
anything is read or written)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.model import Status
from helpdesk.service import HelpdeskService
from infra.localstack.apigw import HttpRequest
from infra.localstack.helpers import LocalRequest
from infra.localstack.schedules import Cron, Schedule, schedule_helper
from tests.conftest import TABLE_NAME, Clock
from tests.integration.test_jobs import _context, answered_ticket
from tests.support.functions import load_function

# Found by hand against `make run`: a 500, or "Janvier 1970" tasks.
OUT_OF_RANGE = [
    "9999-12-31T23:59:59Z",
    "1969-12-31T23:00:00Z",
    "1999-12-31T22:59:59Z",  # 1999 in UTC, even though it is 2000 in Paris an hour later
    "3000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",  # no UTC instant at all
    "9999-12-31T23:59:59-01:00",
]
NOT_A_TIME = ["demain", "2026-11-27", "2026-11-27T10:00:00", 1795770000, None, ["2026"]]


def _helper(calls: list[tuple[str, datetime]]) -> Any:
    schedules = [
        Schedule(
            name=name,
            cron=Cron.parse("cron(0 * * * ? *)"),
            zone=ZoneInfo("Europe/Paris"),
            input=json.dumps({"job": name, "at": "<aws.scheduler.scheduled-time>"}),
            function_id="JobsFunction",
        )
        for name in ("auto-close", "task-rollover", "billing-export")
    ]
    return schedule_helper(schedules, lambda schedule, at: calls.append((schedule.name, at)))


def _post(helper: Any, name: str, body: Any) -> tuple[int, dict[str, Any]]:
    http = HttpRequest(
        "POST",
        f"/_local/schedules/{name}",
        [("content-type", "application/json")],
        json.dumps(body).encode(),
        "127.0.0.1",
    )
    reply = helper(LocalRequest(http, {"name": name}))
    assert ("Content-Type", "application/problem+json") in reply.headers or reply.status == 200
    return reply.status, json.loads(reply.body)


@pytest.mark.parametrize("name", ["auto-close", "task-rollover", "billing-export"])
@pytest.mark.parametrize("at", OUT_OF_RANGE + NOT_A_TIME)
def test_the_local_helper_refuses_times_outside_2000_2999_with_422(name: str, at: Any) -> None:
    calls: list[tuple[str, datetime]] = []
    status, body = _post(_helper(calls), name, {"at": at})
    assert status == 422
    assert body["type"] == "urn:helpdesk:problem:invalid-input"
    assert body["field"] == "at"
    assert calls == []  # the job never ran


@pytest.mark.parametrize("at", ["2000-01-01T00:00:00Z", "2999-12-31T23:59:59Z"])
def test_the_local_helper_runs_the_first_and_last_instants_of_the_range(at: str) -> None:
    calls: list[tuple[str, datetime]] = []
    status, _ = _post(_helper(calls), "auto-close", {"at": at})
    assert status == 200
    assert [name for name, _ in calls] == ["auto-close"]


@pytest.mark.parametrize("job", ["auto-close", "task-rollover", "billing-export"])
@pytest.mark.parametrize("at", OUT_OF_RANGE)
def test_the_jobs_function_treats_such_a_time_as_a_bad_event_and_writes_nothing(
    service: HelpdeskService,
    uow: DynamoUnitOfWork,
    clock: Clock,
    dynamodb: Any,
    monkeypatch: pytest.MonkeyPatch,
    job: str,
    at: str,
) -> None:
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    jobs = load_function("jobs")
    monkeypatch.setattr(jobs, "default_uow", lambda: uow)
    # An answered ticket long due: a run "as of" 9999 would close it; the tasks of an
    # in-progress ticket: a rollover "as of" 1969 would name them "Janvier 1970".
    answered_ticket(service, clock, datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    before = sorted(dynamodb.scan(TableName=TABLE_NAME)["Items"], key=str)
    with pytest.raises(jobs.BadScheduleEvent) as bad:
        jobs.lambda_handler({"job": job, "at": at}, _context())
    assert sorted(dynamodb.scan(TableName=TABLE_NAME)["Items"], key=str) == before
    assert "2000" in str(bad.value) or "not a schedule event" in str(bad.value)
    assert service.uow.tickets.get(1).status is Status.ANSWER_SENT
