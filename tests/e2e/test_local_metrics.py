"""GET /_local/metrics: the EMF metrics the functions emitted since the stack started
(DESIGN §12), what CloudWatch would make of their logs in AWS."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.support import Api, act, create_ticket

pytestmark = pytest.mark.e2e

SERVICE = {"service": "helpdesk"}  # template.yaml's POWERTOOLS_SERVICE_NAME


def metric(api: Api, name: str, dimensions: dict[str, str]) -> dict[str, Any] | None:
    reply = api.get("/_local/metrics")
    assert reply.status == 200, reply.body
    for item in reply.json()["items"]:
        if item["name"] == name and item["dimensions"] == dimensions:
            assert item["namespace"] == "Helpdesk"
            found: dict[str, Any] = item
            return found
    return None


def total(api: Api, name: str, dimensions: dict[str, str]) -> float:
    item = metric(api, name, dimensions)
    return float(item["sum"]) if item else 0.0


def wait_for_total(api: Api, name: str, at_least: float, timeout: float = 20.0) -> float:
    deadline = time.monotonic() + timeout
    while (found := total(api, name, SERVICE)) < at_least and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def test_a_ticket_created_and_cancelled_shows_in_the_metrics(
    api: Api, tokens: dict[str, str]
) -> None:
    created, closed = total(api, "TicketsCreated", SERVICE), total(api, "TicketsClosed", SERVICE)
    client = tokens["CLIENT_ACME"]
    ticket = create_ticket(api, client)
    item = metric(api, "TicketsCreated", SERVICE)
    assert item is not None and item["unit"] == "Count"
    assert item["sum"] == created + 1
    assert act(api, client, ticket["number"], "cancel").status == 200
    assert total(api, "TicketsClosed", SERVICE) == closed + 1


def test_the_acknowledgement_sent_shows_with_the_age_of_its_outbox_item(
    api: Api, tokens: dict[str, str]
) -> None:
    """The notifier (run by the stack's stream poller) counts the mail and the item's age."""
    sent = total(api, "Mail_sent", SERVICE)
    create_ticket(api, tokens["CLIENT_ACME"])
    assert wait_for_total(api, "Mail_sent", sent + 1) >= sent + 1
    age = metric(api, "OutboxOldestAge", SERVICE)
    assert age is not None and age["unit"] == "Seconds" and age["count"] >= 1
