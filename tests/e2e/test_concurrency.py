"""Twenty clients press `start` at once: exactly one wins, nothing is applied twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests.e2e.support import Api, Reply, act, create_ticket

pytestmark = pytest.mark.e2e

ATTEMPTS = 20


@pytest.mark.parametrize("with_if_match", [True, False], ids=["if-match", "no-if-match"])
def test_twenty_concurrent_starts_apply_once(
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
    assert statuses.count(200) == 1, statuses
    losers = (409, 412) if with_if_match else (409,)
    assert all(s in losers for s in statuses if s != 200), statuses
    history = api.get(f"/tickets/{number}/history", l1).json()["items"]
    assert [e["action"] for e in history].count("start") == 1
    assert api.get(f"/tickets/{number}", l1).json()["version"] == 3
