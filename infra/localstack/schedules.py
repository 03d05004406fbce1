"""EventBridge Scheduler, locally: the template's ScheduleV2 events fired on their cadence,
and `POST /_local/schedules/{name}` to run one now "as of" any time.

moto accepts schedules but never fires them (shared notes), so the local stack reads each
schedule of template.yaml (cron expression, time zone, input) and calls the target function
in-process with the input the Scheduler would send, `<aws.scheduler.scheduled-time>` replaced
by the scheduled instant.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from helpdesk.domain.calendar import iso, parse_instant
from helpdesk.domain.errors import InvalidInput
from helpdesk.jobs import check_run_time
from infra.cfn_template import Template
from infra.localstack.apigw import HttpReply
from infra.localstack.background import Periodic
from infra.localstack.helpers import Helper, LocalRequest
from infra.localstack.problems import invalid_input, json_reply, problem

log = logging.getLogger("localstack.schedules")
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass(frozen=True)
class Cron:
    """The subset of EventBridge cron used here: minutes, hours, day of month (`*` or a number;
    minutes also `<first>/<step>`, e.g. `0/15`); month `*`, day of week `?`, year `*`."""

    minute: int | None
    hour: int | None
    day: int | None
    minute_step: int = 60  # with `minute`: every `minute_step` minutes from it

    @classmethod
    def parse(cls, expression: str) -> Cron:
        if not (expression.startswith("cron(") and expression.endswith(")")):
            raise ValueError(f"not a cron expression: {expression}")
        fields = expression[5:-1].split()
        if len(fields) != 6 or fields[3:] != ["*", "?", "*"]:
            raise ValueError(f"unsupported cron expression locally: {expression}")

        def number(text: str) -> int | None:
            return None if text == "*" else int(text)

        first, _, step = fields[0].partition("/")
        return cls(number(first), number(fields[1]), number(fields[2]), int(step or 60))

    def matches(self, local: datetime) -> bool:
        minute = self.minute
        if minute is not None and local.minute >= minute:
            minute += (local.minute - minute) // self.minute_step * self.minute_step
        return all(
            want is None or want == have
            for want, have in (
                (minute, local.minute),
                (self.hour, local.hour),
                (self.day, local.day),
            )
        )

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first whole minute strictly after `moment` that matches, in UTC."""
        candidate = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(60 * 24 * 32):
            if self.matches(candidate.astimezone(zone)):
                return candidate
            candidate += timedelta(minutes=1)
        raise ValueError("no matching minute within a month")


@dataclass(frozen=True)
class Schedule:
    name: str  # the job name: the helper path and the input's "job"
    cron: Cron
    zone: ZoneInfo
    input: str
    function_id: str

    def event(self, at: datetime) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.input.replace(SCHEDULED_TIME, iso(at)))
        return payload


def schedules_of(template: Template) -> list[Schedule]:
    """Every ScheduleV2 event of every function of the template."""
    found: list[Schedule] = []
    for function_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "ScheduleV2":
                continue
            props = event["Properties"]
            schedule_input = props["Input"]
            job = json.loads(schedule_input.replace(SCHEDULED_TIME, "x"))["job"]
            found.append(
                Schedule(
                    name=job,
                    cron=Cron.parse(props["ScheduleExpression"]),
                    zone=ZoneInfo(props.get("ScheduleExpressionTimezone", "UTC")),
                    input=schedule_input,
                    function_id=function_id,
                )
            )
    return found


Invoke = Callable[[Schedule, datetime], Any]


def _check_at(body: dict[str, Any]) -> datetime | HttpReply:
    """The run time asked (now when absent), or a 422 naming `at`: not a string, not an ISO
    8601 time with its offset, or outside the years every job accepts (2000-2999: the jobs
    refuse it themselves, in AWS too; answered here before the function is called)."""
    if "at" not in body:
        return datetime.now(UTC)
    if not isinstance(body["at"], str):
        return invalid_input("at", "'at' must be an ISO 8601 time string with its offset.")
    try:
        return check_run_time(parse_instant(body["at"]))
    except (ValueError, OverflowError):
        return invalid_input("at", "'at' must be an ISO 8601 time with its offset.")
    except InvalidInput as exc:
        return invalid_input(exc.field, exc.detail)


def schedule_helper(schedules: list[Schedule], invoke: Invoke) -> Helper:
    """`POST /_local/schedules/{name}` with `{"at": "<ISO 8601>"}`: run that job now, as if
    scheduled at that time; answers with what it did once it is done."""
    by_name = {s.name: s for s in schedules}

    def run(request: LocalRequest) -> HttpReply:
        schedule = by_name.get(request.params["name"])
        if schedule is None:
            names = ", ".join(sorted(by_name))
            return problem(404, f"No schedule '{request.params['name']}'; there are: {names}.")
        try:
            body = request.json() or {}
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: too deep
            return invalid_input("body", "The body must be JSON.")
        if not isinstance(body, dict):
            return invalid_input("body", 'The body must be {"at": "<ISO 8601 time>"}.')
        problem_reply = _check_at(body)
        if isinstance(problem_reply, HttpReply):
            return problem_reply
        return json_reply(200, invoke(schedule, problem_reply))

    return run


class LocalScheduler(Periodic):
    """Fires each schedule at its next matching minute, on a background thread."""

    name = "local-scheduler"

    def __init__(
        self,
        schedules: list[Schedule],
        invoke: Invoke,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval=15)
        self.schedules = schedules
        self.invoke = invoke
        self.clock = clock
        self._last = clock()

    def next_runs(self, after: datetime) -> list[tuple[datetime, Schedule]]:
        return sorted(
            ((s.cron.next_after(after, s.zone), s) for s in self.schedules),
            key=lambda pair: pair[0],
        )

    def tick(self) -> None:
        """Fire every run due since the last tick, each with its own scheduled time."""
        now = self.clock()
        for due, schedule in self.next_runs(self._last):
            if due > now:
                break
            self._fire(schedule, due)
        self._last = now

    def _fire(self, schedule: Schedule, due: datetime) -> None:
        try:
            log.info(
                "schedule %s fired as of %s: %s",
                schedule.name,
                iso(due),
                self.invoke(schedule, due),
            )
        except Exception:  # a failed run is logged; the next cadence tries again
            log.exception("schedule %s failed as of %s", schedule.name, iso(due))
