"""Faults under the adapters: DynamoDB throttling and 5xx are retried by the clients of
helpdesk.adapters.aws_clients; what outlives the retries is a 503 for the API and a failed run
for a schedule, whose rerun completes it with nothing duplicated or lost.

The injection and the scenarios live in tests/reliability/faults.py (`make reliability`
reports the same figures, at full size).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from helpdesk.adapters import aws_clients
from helpdesk.domain.model import TicketType
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.jobs import TaskRolloverJob
from helpdesk.settings import Settings
from tests.reliability import faults
from tests.reliability.faults import (
    DYNAMODB_FAULTS,
    MAX_ATTEMPTS,
    MID_RUNS,
    FaultInjector,
    create_through_faults,
    fail_mid_run_then_rerun,
    faulty_service,
    instant_backoff,
    read_while_throttled,
)
from tests.reliability.replays import CLIENT, L2, world

DEFAULT_ATTEMPTS = Settings.model_validate({"TABLE_NAME": "default"}).aws_max_attempts


@pytest.mark.parametrize("fault", list(DYNAMODB_FAULTS))
def test_standard_mode_gets_through_all_but_the_last_attempt_failing(fault: str) -> None:
    outcome = create_through_faults("standard", fault, MAX_ATTEMPTS - 1)
    assert outcome.succeeded, outcome.error
    assert (outcome.injected, outcome.attempts, outcome.retries) == (
        MAX_ATTEMPTS - 1,
        MAX_ATTEMPTS,
        MAX_ATTEMPTS - 1,
    )
    assert outcome.tickets == 1


@pytest.mark.parametrize(
    ("fault", "failures"),
    # One throttle only: after it the adaptive mode really slows the client down (seconds).
    [("ThrottlingException", 1), ("InternalServerError", MAX_ATTEMPTS - 1)],
)
def test_adaptive_mode_retries_too(fault: str, failures: int) -> None:
    outcome = create_through_faults("adaptive", fault, failures)
    assert outcome.succeeded, outcome.error
    assert (outcome.attempts, outcome.tickets) == (failures + 1, 1)


def test_past_the_last_attempt_the_error_surfaces_as_transient_and_nothing_is_written() -> None:
    outcome = create_through_faults("standard", "ProvisionedThroughputExceededException", 99)
    assert not outcome.succeeded and outcome.error is not None
    assert outcome.attempts == MAX_ATTEMPTS
    assert outcome.error.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert aws_clients.is_transient(outcome.error)
    assert outcome.tickets == 0


def test_the_api_answers_503_with_retry_after_when_throttled_past_its_retries() -> None:
    outcome = read_while_throttled()
    assert outcome.status == 503
    assert outcome.content_type == "application/problem+json"
    assert outcome.retry_after == str(aws_clients.RETRY_AFTER_SECONDS)
    assert outcome.problem_type == "urn:helpdesk:problem:service-unavailable"
    assert outcome.attempts == MAX_ATTEMPTS


# The failed run publishes no metrics, and Powertools warns about it.
NO_METRICS = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@NO_METRICS
@pytest.mark.parametrize("job", list(MID_RUNS))
def test_a_run_failing_midway_is_completed_by_its_rerun_exactly_once(job: str) -> None:
    outcome = fail_mid_run_then_rerun(job)
    assert outcome.first_run_failed
    assert outcome.injected == DEFAULT_ATTEMPTS  # every attempt of one call, then the error
    assert outcome.differences == []  # the same final state as an undisturbed run


def test_a_write_applied_but_answered_500_is_not_applied_twice() -> None:
    """The reply is lost after DynamoDB wrote: the retry meets its own write (a conditional
    put in the unit of work's transaction: ConditionalCheckFailed) and the rollover counts the
    task as existing, not twice."""
    with world() as w, instant_backoff():
        for title in ("Serveur lent", "Sauvegarde"):
            number = w.service.create_ticket(
                CLIENT, title=title, description="", type=TicketType.INCIDENT
            ).number
            w.service.perform(L2, number, Action.TAKE, ActionInput())
        injector = FaultInjector(
            DYNAMODB_FAULTS["InternalServerError"],
            frozenset({"TransactWriteItems"}),
            lambda call, attempt: call == 1 and attempt == 1,
            applied=True,
        )
        uow = faulty_service(w, "standard", injector).uow
        report = TaskRolloverJob(uow).run(datetime(2026, 10, 31, 23, 5, tzinfo=UTC))
        tasks = [len(uow.tickets.with_tasks(number)[1]) for number in (1, 2)]
    assert (injector.injected, injector.retries) == (1, 1)
    assert report.tasks_created + report.tasks_existing == 2
    assert tasks == [2, 2]  # October's and November's, each once


def test_clients_take_their_retries_and_timeouts_from_the_settings() -> None:
    settings = Settings.model_validate(
        {
            "TABLE_NAME": "t-1",
            "AWS_RETRY_MODE": "adaptive",
            "AWS_MAX_ATTEMPTS": "3",
            "AWS_CONNECT_TIMEOUT": "1.5",
            "AWS_READ_TIMEOUT": "4",
        }
    )
    config = aws_clients.client("dynamodb", settings).meta.config
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (1.5, 4)
    presign = aws_clients.client("s3", settings, signature_version="s3v4").meta.config
    assert presign.signature_version == "s3v4" and presign.retries["total_max_attempts"] == 3


@pytest.mark.parametrize(
    ("response", "transient"),
    [
        ({"Error": {"Code": "ThrottlingException"}}, True),
        ({"Error": {"Code": "Anything"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, True),
        (
            {
                "Error": {"Code": "TransactionCanceledException"},
                "CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError"}],
            },
            True,
        ),
        (
            {
                "Error": {"Code": "TransactionCanceledException"},
                "CancellationReasons": [{"Code": "ConditionalCheckFailed"}],
            },
            False,
        ),
        ({"Error": {"Code": "ValidationException"}}, False),
    ],
)
def test_what_counts_as_transient(response: dict[str, object], transient: bool) -> None:
    error = ClientError(response, "TransactWriteItems")
    assert aws_clients.is_transient(error) is transient
    wrapped = RuntimeError("the persistence layer failed")
    wrapped.__cause__ = error
    assert aws_clients.is_transient(wrapped) is transient


@NO_METRICS
def test_the_report_figures_meet_their_requirements() -> None:
    figures = faults.measure(
        None, modes=("standard",), faults=("ThrottlingException",), jobs=("task-rollover",)
    )
    assert all(f.ok for f in figures), [f for f in figures if not f.ok]
    by_name = {f.what: f.value for f in figures}
    assert by_name["duplicates or losses after the rerun"] == 0
    assert by_name["retries observed"] == MAX_ATTEMPTS - 1
