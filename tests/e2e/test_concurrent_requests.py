"""Twenty concurrent `start` requests over HTTP: one 200, the rest 409 or 412, never a 5xx.

What this proves is the HTTP side: the local front accepts twenty requests at once, and the
API answers the losers with the documented conflict statuses (409 without If-Match, 409 or
412 with it). It does not prove that the conditional write decides a race: the local stack
runs one invocation of a function at a time (infra/localstack/lambdas.py), so these requests
reach DynamoDB one after another and each loser is refused by the status or version it reads.
The race itself, twenty environments writing one version at once, is decided by the
conditional write in tests/integration/test_store_concurrency.py
(test_twenty_environments_start_one_taken_ticket_once).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests.e2e.support import Api, Reply, act, create_ticket

pytestmark = pytest.mark.e2e

ATTEMPTS = 20


@pytest.mark.parametrize("with_if_match", [True, False], ids=["if-match", "no-if-match"])
def test_concurrent_start_requests_answer_one_200_and_conflicts(
    api: Api, tokens: dict[str, str], with_if_match: bool
) -> None:
    l1 = tokens["L1"]
    number = create_ticket(api, tokens["CLIENT_ACME"])["number"]
    taken = act(api, l1, number, "take", {"assignee": "lea"})
    assert taken.status == 200, taken.body
    headers = {"If-Match": taken.headers["etag"]} if with_if_match else {}
    barrier = Barrier(ATTEMPTS)

    def start(_: int) -> Reply:
        barrier.wait()
        return act(api, l1, number, "start", headers=headers)

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        replies = list(pool.map(start, range(ATTEMPTS)))

    statuses = sorted(r.status for r in replies)
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses.count(200) == 1, statuses
    losers = (409, 412) if with_if_match else (409,)
    assert all(s in losers for s in statuses if s != 200), statuses
    history = api.get(f"/tickets/{number}/history", l1).json()["items"]
    assert [e["action"] for e in history].count("start") == 1
    assert api.get(f"/tickets/{number}", l1).json()["version"] == 3
