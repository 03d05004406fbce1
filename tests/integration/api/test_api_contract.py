"""An organisation's contract over HTTP (DESIGN.md §10): `contract` in PUT /orgs/{id}, every
field optional with §10's defaults, read back whole by GET; a bad field is 422 naming it and
writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.test_api_strict_input import _items, _refused
from tests.unit.test_contract import DEFAULT_JSON

DEFAULTS = DEFAULT_JSON  # §10's defaults, typed in tests/unit/test_contract.py


def test_an_organisation_without_contract_reads_the_defaults(api: Api) -> None:
    put = api.put("/orgs/initech", "manager", body={"name": "Initech"})
    assert put.status == 200, put
    assert put.body["contract"] == DEFAULTS
    assert api.get("/orgs/initech", "manager").body["contract"] == DEFAULTS


def test_a_contract_round_trips_with_the_defaults_filled_in(api: Api) -> None:
    contract = {
        "business_hours": {"days": [5, 1, 2, 3, 4], "start": "08:00"},
        "holidays": "FR-ALSACE-MOSELLE",
        "sla": {"critical": {"take_minutes": 30}},
        "included_minutes": 1200,
        "monthly_fee": "1500.00",
        "alert_emails": ["DSI@initech.example"],
    }
    put = api.put("/orgs/initech", "manager", body={"name": "Initech", "contract": contract})
    assert put.status == 200, put
    expected = {
        **DEFAULTS,
        "business_hours": {"days": [1, 2, 3, 4, 5], "start": "08:00", "end": "18:00"},
        "holidays": "FR-ALSACE-MOSELLE",
        "sla": {**DEFAULTS["sla"], "critical": {"take_minutes": 30, "answer_minutes": 240}},
        "included_minutes": 1200,
        "monthly_fee": "1500.00",
        "alert_emails": ["dsi@initech.example"],
    }
    assert put.body["contract"] == expected
    assert api.get("/orgs/initech", "manager").body["contract"] == expected
    listed = {o["org_id"]: o for o in api.get("/orgs", "manager").body["items"]}
    assert listed["initech"]["contract"] == expected
    # PUT replaces the organisation: without `contract`, the defaults again.
    assert (
        api.put("/orgs/initech", "manager", body={"name": "Initech"}).body["contract"] == DEFAULTS
    )


@pytest.mark.parametrize(
    ("contract", "field"),
    [
        ({"business_hours": {"days": []}}, "contract.business_hours.days"),
        ({"business_hours": {"days": [1, 1]}}, "contract.business_hours.days"),
        ({"business_hours": {"start": "18:00", "end": "09:00"}}, "contract.business_hours.end"),
        ({"sla": {"high": {"take_minutes": 0}}}, "contract.sla.high.take_minutes"),
        ({"included_minutes": -1}, "contract.included_minutes"),
        ({"monthly_fee": "12.345"}, "contract.monthly_fee"),
        ({"alert_emails": ["nobody"]}, "contract.alert_emails"),
    ],
)
def test_a_bad_contract_is_422_naming_the_field_and_writes_nothing(
    api: Api, dynamodb: Any, contract: dict[str, Any], field: str
) -> None:
    assert api.put("/orgs/initech", "manager", body={"name": "Initech"}).status == 200
    before = _items(dynamodb)
    reply = api.put("/orgs/initech", "manager", body={"name": "Initech", "contract": contract})
    _refused(reply, 422, field)
    assert _items(dynamodb) == before


@pytest.mark.parametrize(
    "contract",
    [
        {"holidays": "DE"},
        {"included_minutes": "600"},
        {"monthly_fee": 1500},
        {"sla": {"urgent": {"take_minutes": 5}}},
        {"business_hours": {"days": [True]}},
        {"unknown": 1},
    ],
)
def test_a_contract_of_the_wrong_shape_is_422(api: Api, contract: dict[str, Any]) -> None:
    reply = api.put("/orgs/initech", "manager", body={"name": "Initech", "contract": contract})
    assert reply.status == 422, reply
    assert str(reply.body.get("field", "")).startswith("contract"), reply.body
