"""`GET /orgs/{org_id}/consumption` (DESIGN.md §10): managers, finance and the organisation's
clients; another organisation's client 404, consultants 403; a bad month 422 naming `month`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.domain.timekeeping import TimeKind
from helpdesk.service import HelpdeskService
from tests.conftest import L1, Clock
from tests.integration.api.conftest import Api
from tests.integration.api.test_api_strict_input import _refused
from tests.integration.test_budget import NOW, _taken, budgeted

__all__ = ["budgeted"]  # the fixture, shared with the store tests


def test_consumption_over_http_for_each_role(
    budgeted: HelpdeskService, api: Api, clock: Clock
) -> None:
    number = _taken(budgeted)
    budgeted.log_time(L1, number, minutes=725, kind=TimeKind.ANALYSIS)
    expected = {
        "month": "2026-11", "org_id": "acme", "included_minutes": 600, "consumed_minutes": 725,
        "remaining_minutes": -125, "overage_minutes": 125, "monthly_fee": "1500.00",
    }
    for who in ("manager", "finance", "client"):
        reply = api.get("/orgs/acme/consumption", who, query={"month": "2026-11"})
        assert reply.status == 200, reply
        assert {k: reply.body[k] for k in expected} == expected
        assert reply.body["contract"]["included_minutes"] == 600
    # No month: the current month in Paris (November 30th, 23:30 UTC is December 1st).
    clock.now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    december = api.get("/orgs/acme/consumption", "client").body
    assert (december["month"], december["consumed_minutes"]) == ("2026-12", 0)
    assert december["remaining_minutes"] == 600
    clock.now = NOW + timedelta(hours=1)
    assert api.get("/orgs/acme/consumption", "other_client").status == 404
    assert api.get("/orgs/acme/consumption", "l1").status == 403
    assert api.get("/orgs/nowhere/consumption", "manager").status == 404
    assert api.get("/orgs/acme/consumption", "nobody").status == 401


def test_an_organisation_without_budget_reads_nulls(budgeted: HelpdeskService, api: Api) -> None:
    body = api.get("/orgs/globex/consumption", "manager", query={"month": "2026-11"}).body
    assert (body["included_minutes"], body["remaining_minutes"], body["overage_minutes"]) == (
        None, None, None,
    )
    assert body["consumed_minutes"] == 0


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "november", "2026-11-01", ""])
def test_a_bad_month_is_422_problem_naming_month(
    budgeted: HelpdeskService, api: Api, month: str
) -> None:
    _refused(api.get("/orgs/acme/consumption", "manager", query={"month": month}), 422, "month")
