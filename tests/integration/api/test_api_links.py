"""Action links through the API handler over moto (DESIGN.md §8).

`GET /links/{token}` shows the decision and never writes; `POST /links/{token}` performs it as
the requester (`via: link`), once; 410 `used`, `expired`, `superseded`; 404 for any token that
is not a link's. Links are issued through the DynamoDB adapter's `issue`, as the notifier does.
Expected values are typed from DESIGN.md, never computed by the code under test.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import pytest

from helpdesk.action_links import LinkActions
from helpdesk.adapters.dynamodb.links import DynamoActionLinks
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.links import LinkGone, LinkState, link_expiry, token_hash
from helpdesk.ports import LinkGrant
from helpdesk.service import HelpdeskService
from tests.conftest import TABLE_NAME, Clock
from tests.integration.api.conftest import Api
from tests.integration.store_support import own_service

EVOLUTION = {"title": "Bouton d'export", "description": "Export CSV", "type": "evolution"}
ASSISTANCE = {"title": "Création de l'utilisateur Fabrice", "type": "assistance"}
REQUESTER = "client-acme"  # tests/conftest.py: the client who opens the tickets
PROBLEM = "application/problem+json"


# ------------------------------------------------------------------ helpers


def ok(reply: Any) -> Any:
    assert reply.status == 200, reply
    return reply.body


def quoted(api: Api, amount: str = "1200.00") -> int:
    """An evolution of acme awaiting the client's decision on quote version 1."""
    reply = api.post("/tickets", "client", body=EVOLUTION)
    assert reply.status == 201, reply
    number = int(reply.body["number"])
    ok(api.act(number, "take", "l2"))
    ok(api.act(number, "start", "l2"))
    ok(api.act(number, "submit-quote", "l2", {"amount": amount}))
    return number


def answered(api: Api) -> int:
    """An assistance ticket of acme, answered by level 1."""
    reply = api.post("/tickets", "client", body=ASSISTANCE)
    assert reply.status == 201, reply
    number = int(reply.body["number"])
    ok(api.act(number, "take", "l1"))
    ok(api.act(number, "start", "l1"))
    ok(api.act(number, "send-answer", "l1", {"message": "C'est fait."}))
    return number


@pytest.fixture
def links(table: Table, clock: Clock) -> DynamoActionLinks:
    """The adapter the notifier issues links with (the tests' clock)."""
    return DynamoActionLinks(table, clock=clock)


def issue(
    links: DynamoActionLinks, service: HelpdeskService, clock: Clock, number: int, action: str
) -> str:
    """A link for the ticket where it is now, as the mail of that moment would carry."""
    ticket = service.uow.tickets.get(number)
    quote = ticket.quote.version if ticket.quote and action.endswith("-quote") else None
    answered_at = ticket.answered_at if action in ("confirm", "reopen") else None
    grant = LinkGrant(number, action, quote, answered_at, link_expiry(clock.now))
    return links.issue(grant)


def everything(dynamodb: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the table, by key (a test's scan: production never scans)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE_NAME):
        for item in page["Items"]:
            found[(item["pk"]["S"], item["sk"]["S"])] = item
    return found


def link_item(dynamodb: Any, token: str) -> dict[str, Any]:
    return everything(dynamodb)[(f"LINK#{token_hash(token)}", "LINK")]


def get_link(api: Api, token: str) -> Any:
    return api.get(f"/links/{token}", "none")


def post_link(api: Api, token: str, body: Any = None) -> Any:
    return api.post(f"/links/{token}", "none", body=body)


def assert_gone(reply: Any, state: str) -> None:
    assert reply.status == 410, reply
    assert reply.content_type == PROBLEM
    assert reply.body["state"] == state
    assert reply.body["status"] == 410


def assert_unknown(reply: Any) -> None:
    assert reply.status == 404, reply
    assert reply.content_type == PROBLEM
    assert reply.body["type"] == "urn:helpdesk:problem:not-found"
    assert "state" not in reply.body


# ------------------------------------------------------------------ GET changes nothing


@pytest.mark.parametrize("action", ["approve-quote", "refuse-quote"])
def test_get_shows_a_quote_decision_and_writes_nothing(
    api: Api,
    links: DynamoActionLinks,
    service: HelpdeskService,
    clock: Clock,
    dynamodb: Any,
    action: str,
) -> None:
    number = quoted(api, "1200.00")
    token = issue(links, service, clock, number, action)
    before = everything(dynamodb)
    for _ in range(3):  # a mail scanner, then the client, then again
        body = ok(get_link(api, token))
        assert body["action"] == action
        assert body["state"] == "valid"
        assert body["expires_at"] == "2026-12-27T09:00:00Z"  # issued 27 Nov 09:00 + 30 days
        assert body["ticket"]["number"] == number
        assert body["ticket"]["title"] == "Bouton d'export"
        assert body["ticket"]["status"] == "awaiting_quote_approval"
        assert body["ticket"]["status_label"] == "En Attente Validation Chiffrage"
        assert body["ticket"]["quote"]["version"] == 1
        assert body["ticket"]["quote"]["amount"] == "1200.00"
        assert body["ticket"]["quote"]["outcome"] == "pending"
        assert set(body["ticket"]) == {"number", "title", "status", "status_label", "quote"}
    assert everything(dynamodb) == before  # no item changed, none added
    ticket = ok(api.get(f"/tickets/{number}", "client"))
    assert ticket["version"] == 4  # create, take, start, submit-quote
    history = ok(api.get(f"/tickets/{number}/history", "client"))["items"]
    assert [e["action"] for e in history] == ["create", "take", "start", "submit-quote"]


@pytest.mark.parametrize("action", ["confirm", "reopen"])
def test_get_shows_an_answer_decision_and_writes_nothing(
    api: Api,
    links: DynamoActionLinks,
    service: HelpdeskService,
    clock: Clock,
    dynamodb: Any,
    action: str,
) -> None:
    number = answered(api)
    token = issue(links, service, clock, number, action)
    before = everything(dynamodb)
    body = ok(get_link(api, token))
    assert body["action"] == action
    assert body["ticket"]["status"] == "answer_sent"
    assert body["ticket"]["status_label"] == "Réponse Envoyée"
    assert body["ticket"]["quote"] is None
    assert everything(dynamodb) == before


# ------------------------------------------------------------------ POST performs, once

# action, body, ticket type, the status after it (DESIGN.md §2)
PERFORMED = [
    ("approve-quote", None, "evolution", "in_realisation"),
    ("refuse-quote", {"reason": "Trop cher"}, "evolution", "in_progress"),
    ("confirm", None, "assistance", "closed"),
    ("reopen", {"reason": "Ça ne marche toujours pas"}, "assistance", "in_progress"),
]


@pytest.mark.parametrize(("action", "body", "kind", "status"), PERFORMED)
def test_post_performs_the_action_as_the_requester_via_link(
    api: Api,
    links: DynamoActionLinks,
    service: HelpdeskService,
    clock: Clock,
    dynamodb: Any,
    action: str,
    body: dict[str, str] | None,
    kind: str,
    status: str,
) -> None:
    number = quoted(api) if kind == "evolution" else answered(api)
    token = issue(links, service, clock, number, action)
    version = ok(api.get(f"/tickets/{number}", "client"))["version"]
    clock.advance(hours=2)
    reply = post_link(api, token, body)
    ticket = ok(reply)
    assert reply.content_type == "application/json"
    assert ticket["status"] == status
    assert ticket["version"] == version + 1
    assert reply.headers["ETag"] == f'"{version + 1}"'
    # the ticket as the client sees it (GET /tickets/{n} for the client)
    assert ticket == ok(api.get(f"/tickets/{number}", "client"))
    event = ok(api.get(f"/tickets/{number}/history", "client"))["items"][-1]
    assert (event["action"], event["actor"], event["version"]) == (action, REQUESTER, version + 1)
    assert event["details"]["via"] == "link"
    if body:
        assert event["details"]["reason"] == body["reason"]
    if action == "confirm":
        assert ticket["closure_reason"] == "confirmed"
    if action == "refuse-quote":
        assert ticket["quote"]["reason"] == "Trop cher"
    stored = link_item(dynamodb, token)
    assert stored["used_at"] == {"S": "2026-11-27T11:00:00Z"}
    # used once: both routes say so from now on, and nothing more is written
    before = everything(dynamodb)
    assert_gone(post_link(api, token, body), "used")
    assert_gone(get_link(api, token), "used")
    assert everything(dynamodb) == before


@pytest.mark.parametrize(
    ("action", "kind"), [("refuse-quote", "evolution"), ("reopen", "assistance")]
)
@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "  \n "}])
def test_a_reason_is_required_to_refuse_or_reopen(
    api: Api,
    links: DynamoActionLinks,
    service: HelpdeskService,
    clock: Clock,
    dynamodb: Any,
    action: str,
    kind: str,
    body: dict[str, str] | None,
) -> None:
    number = quoted(api) if kind == "evolution" else answered(api)
    token = issue(links, service, clock, number, action)
    before = everything(dynamodb)
    reply = post_link(api, token, body)
    assert reply.status == 422, reply
    assert reply.content_type == PROBLEM
    assert reply.body["field"] == "reason"
    assert everything(dynamodb) == before
    assert ok(get_link(api, token))["state"] == "valid"  # still usable, with a reason
    assert ok(post_link(api, token, {"reason": "Non"}))["status"] == "in_progress"


def test_post_body_is_strict(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock, dynamodb: Any
) -> None:
    number = quoted(api)
    token = issue(links, service, clock, number, "refuse-quote")
    before = everything(dynamodb)
    for body in ({"reason": 3}, {"reason": "x", "amount": "1.00"}, ["x"]):
        reply = post_link(api, token, body)
        assert reply.status == 422, (body, reply)
    form = api.call(
        "POST",
        f"/links/{token}",
        "none",
        raw_body="reason=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status == 415
    assert everything(dynamodb) == before


# ------------------------------------------------------------------ 410 expired, superseded


def test_a_link_expires_after_30_days(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock, dynamodb: Any
) -> None:
    number = quoted(api)
    token = issue(links, service, clock, number, "approve-quote")
    clock.advance(days=30, seconds=-1)
    assert ok(get_link(api, token))["state"] == "valid"
    clock.advance(seconds=1)
    before = everything(dynamodb)
    assert_gone(get_link(api, token), "expired")
    assert_gone(post_link(api, token), "expired")
    assert everything(dynamodb) == before
    assert ok(api.get(f"/tickets/{number}", "client"))["status"] == "awaiting_quote_approval"


def test_a_quote_link_is_superseded_by_a_new_quote_version(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock, dynamodb: Any
) -> None:
    number = quoted(api, "12000.00")
    approve_v1 = issue(links, service, clock, number, "approve-quote")
    refuse_v1 = issue(links, service, clock, number, "refuse-quote")
    ok(post_link(api, refuse_v1, {"reason": "Trop cher"}))
    ok(api.act(number, "submit-quote", "l2", {"amount": "1200.00"}))  # version 2, pending
    before = everything(dynamodb)
    assert_gone(get_link(api, approve_v1), "superseded")
    assert_gone(post_link(api, approve_v1), "superseded")
    assert everything(dynamodb) == before
    approve_v2 = issue(links, service, clock, number, "approve-quote")
    ticket = ok(post_link(api, approve_v2))
    assert (ticket["status"], ticket["quote"]["version"]) == ("in_realisation", 2)
    assert ticket["quote"]["outcome"] == "approved"


def test_a_quote_link_is_superseded_once_the_quote_is_withdrawn(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock
) -> None:
    number = quoted(api)
    token = issue(links, service, clock, number, "approve-quote")
    ok(api.act(number, "withdraw-quote", "l2"))
    assert_gone(get_link(api, token), "superseded")
    assert_gone(post_link(api, token), "superseded")
    assert ok(api.get(f"/tickets/{number}", "client"))["quote"]["outcome"] == "withdrawn"


def test_an_answer_link_is_superseded_by_another_answer(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock, dynamodb: Any
) -> None:
    number = answered(api)
    confirm_first = issue(links, service, clock, number, "confirm")
    clock.advance(hours=1)
    ok(api.act(number, "reopen", "client", {"reason": "Toujours en panne"}))
    clock.advance(hours=1)
    ok(api.act(number, "send-answer", "l1", {"message": "Corrigé pour de bon."}))
    # same status as when the first mail left it, another answer: the old link is superseded
    before = everything(dynamodb)
    assert_gone(get_link(api, confirm_first), "superseded")
    assert_gone(post_link(api, confirm_first), "superseded")
    assert everything(dynamodb) == before
    confirm_second = issue(links, service, clock, number, "confirm")
    assert ok(post_link(api, confirm_second))["status"] == "closed"


def test_an_answer_link_is_superseded_once_the_ticket_moved_on(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock
) -> None:
    number = answered(api)
    reopen = issue(links, service, clock, number, "reopen")
    ok(api.act(number, "confirm", "client"))  # closed through the API meanwhile
    assert_gone(get_link(api, reopen), "superseded")
    assert_gone(post_link(api, reopen, {"reason": "Finalement non"}), "superseded")
    assert ok(api.get(f"/tickets/{number}", "client"))["status"] == "closed"


def test_used_is_said_before_expired_and_superseded(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock
) -> None:
    number = quoted(api)
    token = issue(links, service, clock, number, "approve-quote")
    ok(post_link(api, token))
    clock.advance(days=40)
    assert_gone(get_link(api, token), "used")


# ------------------------------------------------------------------ security


def test_a_link_acts_on_its_own_ticket_only(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock, dynamodb: Any
) -> None:
    first, second = quoted(api), quoted(api)
    token = issue(links, service, clock, first, "approve-quote")
    others = {k: v for k, v in everything(dynamodb).items() if k[0] == f"TICKET#{second}"}
    body = ok(get_link(api, token))
    assert body["ticket"]["number"] == first
    ticket = ok(post_link(api, token))
    assert (ticket["number"], ticket["status"]) == (first, "in_realisation")
    after = {k: v for k, v in everything(dynamodb).items() if k[0] == f"TICKET#{second}"}
    assert after == others  # the other ticket, awaiting the same quote version, untouched
    assert ok(api.get(f"/tickets/{second}", "client"))["status"] == "awaiting_quote_approval"


def _one_character_off(token: str) -> list[str]:
    """The token with one character replaced, at the start, the middle and the end."""
    variants = []
    for position in (0, len(token) // 2, len(token) - 1):
        swapped = "A" if token[position] != "A" else "B"
        variants.append(token[:position] + swapped + token[position + 1 :])
    return variants


def test_a_token_tampered_by_one_character_is_unknown(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock, dynamodb: Any
) -> None:
    number = quoted(api)
    token = issue(links, service, clock, number, "approve-quote")
    before = everything(dynamodb)
    for tampered in [*_one_character_off(token), token[:-1], token + "A", token.upper()]:
        assert tampered != token
        assert_unknown(get_link(api, tampered))
        assert_unknown(post_link(api, tampered))
    assert everything(dynamodb) == before
    assert ok(get_link(api, token))["state"] == "valid"  # the real one still works


@pytest.mark.parametrize(
    "token",
    ["x", "A" * 42 + "%21", "A" * 10_000, "%F0%9F%94%91" * 8, "..", "A" * 42 + "=", "null"],
)
def test_a_malformed_token_is_404_never_5xx(api: Api, dynamodb: Any, token: str) -> None:
    before = everything(dynamodb)
    for reply in (get_link(api, token), post_link(api, token, {"reason": "x"})):
        assert reply.status == 404, (token[:50], reply)
        assert reply.content_type == PROBLEM
    assert everything(dynamodb) == before


def test_brute_force_of_1000_random_tokens_finds_nothing_and_writes_nothing(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock, dynamodb: Any
) -> None:
    number = quoted(api)
    issue(links, service, clock, number, "approve-quote")
    issue(links, service, clock, number, "refuse-quote")
    before = everything(dynamodb)
    for attempt in range(1000):
        guess = secrets.token_urlsafe(32)  # what a real token looks like
        reply = get_link(api, guess) if attempt % 2 else post_link(api, guess)
        assert_unknown(reply)
    after = everything(dynamodb)
    assert len(after) == len(before)
    assert after == before
    assert ok(api.get(f"/tickets/{number}", "client"))["status"] == "awaiting_quote_approval"


def test_no_other_route_is_opened_without_a_token(api: Api) -> None:
    token = secrets.token_urlsafe(32)
    for method, path in (
        ("GET", "/tickets/1"),
        ("PUT", f"/links/{token}"),
        ("GET", f"/links/{token}/more"),
        ("GET", "/links"),
    ):
        reply = api.call(method, path, "none")
        assert reply.status == 401, (method, path, reply)


# ------------------------------------------------------------------ concurrency


def _use_job(service: HelpdeskService, token: str) -> Callable[[], Any]:
    """The use, by a service of its own (another Lambda environment)."""
    own = own_service(service)
    return lambda: LinkActions(own).use(token)[0]


def _run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        try:
            results[index] = jobs[index]()
        except Exception as exc:  # collected for the assertions
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


class Meeting:
    """The first two arrivals of a round wait for each other; later ones (a retry) pass."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=10)
        self.lock = threading.Lock()
        self.arrived = 0

    def arrive(self) -> None:
        with self.lock:
            self.arrived += 1
            meets = self.arrived <= 2
        if meets:
            self.barrier.wait()

    def next_round(self) -> None:
        self.arrived = 0


@pytest.mark.parametrize("meet_at", ["read", "commit"])
def test_concurrent_uses_exactly_one_wins(
    api: Api,
    links: DynamoActionLinks,
    service: HelpdeskService,
    clock: Clock,
    dynamodb: Any,
    monkeypatch: pytest.MonkeyPatch,
    meet_at: str,
) -> None:
    """Two uses of one link at once: both read it unused (`read`), or both reach their
    transaction with everything read (`commit`); one performs, the other learns it was used."""
    rounds = []
    for _ in range(5):
        number = quoted(api)
        rounds.append((number, issue(links, service, clock, number, "approve-quote")))
    meeting = Meeting()
    if meet_at == "read":
        original_get = DynamoActionLinks.get

        def get(self: DynamoActionLinks, digest: str) -> Any:
            found = original_get(self, digest)
            meeting.arrive()
            return found

        monkeypatch.setattr(DynamoActionLinks, "get", get)
    else:
        original_transact = Table.transact

        def transact(self: Table, operations: Any) -> None:
            meeting.arrive()
            original_transact(self, operations)

        monkeypatch.setattr(Table, "transact", transact)
    reads = DynamoUnitOfWork(Table(dynamodb, TABLE_NAME)).tickets
    for number, token in rounds:
        meeting.next_round()
        results = _run_together([_use_job(service, token), _use_job(service, token)])
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert isinstance(losers[0], LinkGone) and losers[0].state is LinkState.USED, losers
        history = reads.history(number)
        assert [e.action for e in history].count("approve-quote") == 1
        assert history[-1].details["via"] == "link"
        assert reads.get(number).version == 5  # create, take, start, submit-quote, approve
    monkeypatch.undo()
    assert_gone(post_link(api, rounds[0][1]), "used")  # through the API: 410 used


def test_a_use_that_lands_between_the_link_and_ticket_reads_is_said_used(
    api: Api,
    links: DynamoActionLinks,
    service: HelpdeskService,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The interleaving CI met once: this click reads the link unused, the other click
    commits, then this click reads the ticket, which has moved on by that very link. The
    answer is `used` (used is said before superseded), never `superseded`."""
    number = quoted(api)
    token = issue(links, service, clock, number, "approve-quote")
    original_get = DynamoActionLinks.get
    other_click: list[Any] = []

    def get(self: DynamoActionLinks, digest: str) -> Any:
        found = original_get(self, digest)
        if not other_click:
            other_click.append("started")
            other_click.append(_use_job(service, token)())  # commits in between
        return found

    monkeypatch.setattr(DynamoActionLinks, "get", get)
    with pytest.raises(LinkGone) as gone:
        LinkActions(own_service(service)).use(token)
    monkeypatch.undo()
    assert gone.value.state is LinkState.USED
    assert ok(api.get(f"/tickets/{number}", "client"))["status"] == "in_realisation"
    history = service.uow.tickets.history(number)
    assert [e.action for e in history].count("approve-quote") == 1


# ------------------------------------------------------------------ requests per route


def test_requests_per_link_route(
    api: Api, links: DynamoActionLinks, service: HelpdeskService, clock: Clock, dynamodb: Any
) -> None:
    """GET: the link by its hash, then its ticket (2 GetItem). POST: the same two reads, then
    one TransactWriteItems (`perform` decides on the ticket just read). A used or
    expired link costs one read; an unknown one too; a malformed one none; a superseded one
    three (the link is read again: used by the click that moved the ticket on?)."""
    number = quoted(api)
    token = issue(links, service, clock, number, "approve-quote")
    calls: list[str] = []

    def count(event_name: str, **_kwargs: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    dynamodb.meta.events.register("before-call.dynamodb", count)
    try:
        ok(get_link(api, token))
        assert calls == ["GetItem", "GetItem"]
        calls.clear()
        ok(post_link(api, token))
        assert calls == ["GetItem", "GetItem", "TransactWriteItems"]
        calls.clear()
        assert_gone(get_link(api, token), "used")
        assert calls == ["GetItem"]
        calls.clear()
        stale = issue(links, service, clock, number, "refuse-quote")  # quote approved already
        calls.clear()
        assert_gone(get_link(api, stale), "superseded")
        assert calls == ["GetItem", "GetItem", "GetItem"]  # link, ticket, link again
        calls.clear()
        assert_unknown(get_link(api, secrets.token_urlsafe(32)))
        assert calls == ["GetItem"]
        calls.clear()
        assert_unknown(get_link(api, "not-a-token"))
        assert calls == []
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb", count)
