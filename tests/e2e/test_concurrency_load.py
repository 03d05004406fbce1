"""Concurrency at full size over HTTP: the `make reliability` measurements, asserted."""

from __future__ import annotations

import pytest

from tests.e2e.support import Api
from tests.reliability.concurrency import (
    CONFLICT_ATTEMPTS,
    TIME_LOGGERS,
    concurrent_creations,
    concurrent_time_logging,
    resolved_round,
    working_round,
)

pytestmark = pytest.mark.e2e

# `make reliability` creates 500 tickets; moto serialises every DynamoDB call, so 500 took
# about 50 s here: the suite checks 200, which still keeps 32 threads busy together.
CREATIONS = 200


@pytest.mark.parametrize("with_if_match", [True, False], ids=["if-match", "no-if-match"])
def test_start_hold_escalate_apply_once_per_version(
    api: Api, tokens: dict[str, str], with_if_match: bool
) -> None:
    result = working_round(api, tokens, with_if_match, CONFLICT_ATTEMPTS)

    assert result.unexpected == []
    assert result.applied + result.refused == CONFLICT_ATTEMPTS
    assert len(set(result.applied_versions)) == result.applied
    assert result.history_added == result.version_added == result.applied
    if with_if_match:
        assert result.applied == 1, result.winners
    else:
        # start may be followed by hold or escalate, each on its own version; never more.
        assert 1 <= result.applied <= 2, result.winners


@pytest.mark.parametrize("with_if_match", [True, False], ids=["if-match", "no-if-match"])
def test_confirm_reopen_auto_close_exactly_one_applies(
    api: Api, tokens: dict[str, str], with_if_match: bool
) -> None:
    result = resolved_round(api, tokens, with_if_match, CONFLICT_ATTEMPTS)

    assert result.unexpected == []
    assert result.applied == 1, result.winners
    assert result.refused == CONFLICT_ATTEMPTS - 1
    assert result.history_added == result.version_added == 1


def test_concurrent_creations_get_distinct_contiguous_numbers(
    api: Api, tokens: dict[str, str]
) -> None:
    run = concurrent_creations(api, tokens["CLIENT_ACME"], CREATIONS)

    assert run.failures == []
    assert run.distinct == CREATIONS
    assert max(run.numbers) - min(run.numbers) + 1 == CREATIONS


def test_time_logged_concurrently_adds_up_on_the_month_task(
    api: Api, tokens: dict[str, str]
) -> None:
    run = concurrent_time_logging(api, tokens, TIME_LOGGERS)

    assert run.failures == []
    assert run.entries_stored == TIME_LOGGERS
    assert run.task_minutes == run.entries_minutes == run.sent_minutes
