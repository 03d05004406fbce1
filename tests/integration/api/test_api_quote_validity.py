"""Quote validity over HTTP (DESIGN.md §8): an organisation's `quote_validity_days` (default
30, 1 to 365, a JSON integer) round-trips through PUT/GET /orgs/{id}; submit-quote takes it
unless the body names `validity_days`; GET /tickets/{n}/quotes gives `valid_until`.

The clock of tests/conftest.py is Friday 27 November 2026, 09:00 UTC: the expected dates are
typed from it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.test_api_strict_input import _items, _quoted_evolution, _refused

ACME = {
    "name": "Acme",
    "email_domains": ["acme.example"],
    "auto_close_days": 7,
    "hourly_rate": "90.00",
}


def test_an_organisation_round_trips_its_quote_validity(api: Api) -> None:
    put = api.put("/orgs/initech", "manager", body={"name": "Initech", "quote_validity_days": 10})
    assert put.status == 200, put
    assert put.body["quote_validity_days"] == 10
    got = api.get("/orgs/initech", "manager")
    assert got.status == 200
    assert got.body == put.body
    listed = {o["org_id"]: o for o in api.get("/orgs", "l1").body["items"]}
    assert listed["initech"]["quote_validity_days"] == 10
    # PUT replaces the organisation: without the field, the default again.
    again = api.put("/orgs/initech", "manager", body={"name": "Initech"})
    assert again.body["quote_validity_days"] == 30
    assert api.get("/orgs/initech", "manager").body["quote_validity_days"] == 30
    for days in (1, 365):
        edge = api.put(
            "/orgs/initech", "manager", body={"name": "Initech", "quote_validity_days": days}
        )
        assert (edge.status, edge.body["quote_validity_days"]) == (200, days)


@pytest.mark.parametrize("days", [0, 366, -1, "30", True, False, 30.0, 30.5, None])
def test_a_bad_quote_validity_is_422_and_writes_nothing(api: Api, dynamodb: Any, days: Any) -> None:
    assert api.put("/orgs/initech", "manager", body={"name": "Initech"}).status == 200
    before = _items(dynamodb)
    reply = api.put(
        "/orgs/initech", "manager", body={"name": "Initech", "quote_validity_days": days}
    )
    _refused(reply, 422, "quote_validity_days")
    assert _items(dynamodb) == before
    assert api.get("/orgs/initech", "manager").body["quote_validity_days"] == 30


def _quote(api: Api, number: int) -> dict[str, Any]:
    quotes = api.get(f"/tickets/{number}/quotes", "client")
    assert quotes.status == 200, quotes
    latest: dict[str, Any] = quotes.body["items"][-1]
    return latest


def test_quotes_are_valid_the_organisation_days_unless_submit_quote_names_them(
    api: Api,
) -> None:
    # acme was saved without the field: 30 days.
    default = _quoted_evolution(api)
    quoted = api.act(default, "submit-quote", "l2", {"amount": "1200.00"})
    assert quoted.status == 200, quoted
    assert quoted.body["quote"]["validity_days"] == 30
    assert quoted.body["quote"]["valid_until"] == "2026-12-27T09:00:00Z"
    quote = _quote(api, default)
    assert (quote["submitted_at"], quote["validity_days"], quote["valid_until"]) == (
        "2026-11-27T09:00:00Z",
        30,
        "2026-12-27T09:00:00Z",
    )

    assert api.put("/orgs/acme", "manager", body={**ACME, "quote_validity_days": 10}).status == 200
    tens = _quoted_evolution(api)
    assert api.act(tens, "submit-quote", "l2", {"amount": "900.00"}).status == 200
    quote = _quote(api, tens)
    assert (quote["validity_days"], quote["valid_until"]) == (10, "2026-12-07T09:00:00Z")

    # An explicit validity still wins over the organisation's.
    explicit = _quoted_evolution(api)
    reply = api.act(explicit, "submit-quote", "l2", {"amount": "900.00", "validity_days": 45})
    assert reply.status == 200, reply
    quote = _quote(api, explicit)
    assert (quote["validity_days"], quote["valid_until"]) == (45, "2027-01-11T09:00:00Z")
    # The quote submitted before the change keeps its own validity.
    assert _quote(api, default)["valid_until"] == "2026-12-27T09:00:00Z"


@pytest.mark.parametrize("days", [0, 366])
def test_an_explicit_validity_outside_1_to_365_is_422(api: Api, dynamodb: Any, days: int) -> None:
    number = _quoted_evolution(api)
    before = _items(dynamodb)
    reply = api.act(number, "submit-quote", "l2", {"amount": "900.00", "validity_days": days})
    _refused(reply, 422, "validity_days")
    assert _items(dynamodb) == before
