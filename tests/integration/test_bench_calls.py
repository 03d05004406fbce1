"""`make bench`'s requests per route, warm overhead and cost model at smoke size: the code
cannot rot, and a route that makes more AWS requests than its floor without a written reason
fails here."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import calls_per_route, cost_model, warm_overhead
from bench.calls_per_route import Deliveries, IngestCount, RouteCount
from bench.warm_overhead import Overhead
from infra.cfn_template import load_template


@pytest.fixture(scope="module")
def rows() -> list[RouteCount]:
    return calls_per_route.measure_routes()


@pytest.fixture(scope="module")
def deliveries() -> Deliveries:
    return calls_per_route.measure_notifier()


@pytest.fixture(scope="module")
def ingests() -> list[IngestCount]:
    return calls_per_route.measure_mail_ingest()


@pytest.fixture(scope="module")
def overheads() -> list[Overhead]:
    return warm_overhead.measure(smoke=True)


def test_every_route_and_action_is_counted(rows: list[RouteCount]) -> None:
    assert calls_per_route.uncovered_routes(rows) == set()
    assert calls_per_route.uncovered_actions(rows) == set()
    assert all(r.status < 300 for r in rows)


def test_no_route_is_above_its_floor_without_a_reason(rows: list[RouteCount]) -> None:
    unexplained = [(r.label, r.operations) for r in rows if not r.ok]
    assert unexplained == []
    stale = set(calls_per_route.EXPLAINED) - {r.label for r in rows if not r.at_floor}
    assert stale == set(), "explanations of routes now at the floor: remove them"


def test_the_main_requests_are_at_their_floor(rows: list[RouteCount]) -> None:
    by_label = {r.label: r for r in rows}
    assert by_label["GET /tickets/{number}"].operations == "GetItem"
    # The counter and the organisation (its contract starts the clocks, §10): one read.
    assert by_label["POST /tickets (client)"].operations == "BatchGetItem, TransactWriteItems"
    assert by_label["POST /tickets (consultant, org_id)"].at_floor
    assert by_label["GET /tickets/{number}/tasks"].operations == "Query"
    assert by_label["GET /tickets/{number}/time-entries"].operations == "Query"
    actions = [r for r in rows if "/actions/" in r.label]
    assert actions and all(r.writes == 1 and r.reads <= 2 for r in actions)


def test_units_follow_item_sizes(rows: list[RouteCount]) -> None:
    assert [c.sizing_error for r in rows for c in r.calls if c.sizing_error] == []
    by_label = {r.label: r for r in rows}
    read = by_label["GET /tickets/{number}"]
    assert read.read_units == 1 and read.write_units == 0  # one consistent read of < 4 KB
    take = by_label["POST /tickets/{number}/actions/take"]
    (transaction,) = [c for c in take.calls if c.operation == "TransactWriteItems"]
    items = transaction.params["TransactItems"]
    # The ticket, its event, its month task and its outbox mail. Each item twice (a
    # transaction): 1 KB each, the outbox mail too (its text and HTML parts, DESIGN §8,
    # stored compressed: plain, they made it 1,036 bytes, 2 units). Then the ticket's
    # entries in the six indexes that hold it (by_org, all_tickets, queue, all_updated,
    # org_updated, by_assignee) rewritten once each, by_assignee's twice: it moves from the
    # level's unassigned partition to the assignee's (a delete and a put). And its entry in
    # the sparse sla_watch index moves too (§10: the take clock stopped, the next instant to
    # look at is the answer clock's at-risk one): a delete and a put.
    assert len(items) == 4
    assert take.write_units == 2 * (1 + 1 + 1 + 1) + 7 + 2 == 17


def test_the_link_routes_read_the_link_then_the_ticket(rows: list[RouteCount]) -> None:
    by_label = {r.label: r for r in rows}
    inspect, use = by_label["GET /links/{token}"], by_label["POST /links/{token}"]
    # The token's SHA-256 is the link's key, the link names the ticket: 2 reads at least.
    assert (inspect.floor_reads, inspect.floor_writes) == (2, 0)
    assert inspect.operations == "2×GetItem" and inspect.at_floor
    assert inspect.write_units == 0  # GET never writes (mail scanners open links)
    # At its floor (2 reads + 1 write): perform decides on the ticket the link was checked
    # against, and the link is marked used in the action's one transaction.
    assert (use.floor_reads, use.floor_writes) == (2, 1)
    assert use.operations == "2×GetItem, TransactWriteItems"
    assert use.at_floor


def test_report_lists_every_measured_request(rows: list[RouteCount]) -> None:
    text = calls_per_route.report(rows)
    assert text.startswith("## ")
    assert sum(1 for line in text.splitlines() if line.startswith("| `")) == len(rows)
    assert "**ABOVE**" not in text and "not covered: none" in text


def test_the_notifier_sends_each_mail_with_one_claim_and_one_transaction(
    deliveries: Deliveries,
) -> None:
    found = deliveries
    operations = [c.operation for c in found.row.calls]
    assert found.mails > 0
    for name in ("UpdateItem", "SendEmail", "TransactWriteItems"):
        assert operations.count(name) == found.mails
    assert "per mail" in calls_per_route.deliveries_report(found)


def test_the_notifier_requests_per_kind_of_mail(deliveries: Deliveries) -> None:
    def one(label: str) -> str:
        kind = deliveries.kind(label)
        assert kind.mails > 0 and kind.row.total % kind.mails == 0, label
        return calls_per_route.one_mail(kind)

    base = "UpdateItem, sesv2:SendEmail, TransactWriteItems"
    assert one("to the requester (stored address)") == base
    assert one("to the requester, 2 action links") == (
        "UpdateItem, 2×PutItem, sesv2:SendEmail, TransactWriteItems"
    )
    assert one("to a level (every active consultant)") == (
        "UpdateItem, Query, sesv2:SendEmail, TransactWriteItems"
    )
    assert one("to one consultant") == "UpdateItem, GetItem, sesv2:SendEmail, TransactWriteItems"
    assert one("replayed delivery") == "UpdateItem, GetItem"
    assert deliveries.kind("replayed delivery").mails == deliveries.mails
    assert sum(k.mails for k in deliveries.kinds) == deliveries.mails
    assert "| replayed delivery |" in calls_per_route.deliveries_report(deliveries)


def test_the_mail_function_requests_per_outcome(ingests: list[IngestCount]) -> None:
    """One transaction per handled mail and no read after it (the record it made final is
    known), the mail's summary noted in the count's write (issue 21: a new ticket by mail went
    from 10 requests to 8)."""
    by_label = {c.label: c for c in ingests}
    assert [(c.label, c.outcome) for c in ingests] == [
        ("new ticket", "ticket_created"),
        ("comment on its ticket", "comment_added"),
        ("quarantined (unknown sender)", "quarantined"),
        ("duplicate (same Message-ID, other bytes)", "duplicate"),
        ("rate-limited", "rate_limited"),
        ("ignored (auto-reply)", "ignored_auto_reply"),
        ("bounce of our mail", "bounce_recorded"),
        ("replayed delivery (same bytes)", "ticket_created"),
    ]
    # The raw message, the record, the Message-ID, the counter and the record (rank and
    # summary), the domain's organisation, the creation's counter + organisation, the
    # transaction.
    assert [c.operation for c in by_label["new ticket"].calls] == [
        "GetObject",
        "PutItem",
        "GetItem",
        "UpdateItem",
        "UpdateItem",
        "GetItem",
        "BatchGetItem",
        "TransactWriteItems",
    ]
    totals = {c.label: c.total for c in ingests}
    assert totals == {
        "new ticket": 8,
        "comment on its ticket": 8,
        "quarantined (unknown sender)": 7,
        "duplicate (same Message-ID, other bytes)": 5,
        "rate-limited": 6,
        "ignored (auto-reply)": 5,
        "bounce of our mail": 8,
        "replayed delivery (same bytes)": 2,
    }
    for count in ingests[:-1]:
        operations = [c.operation for c in count.calls]
        assert operations.count("TransactWriteItems") == 1, count.label
        assert operations[-1] == "TransactWriteItems", count.label  # nothing read back
    text = calls_per_route.ingest_report(ingests)
    assert text.startswith("## ") and text.count("\n| ") == len(ingests) + 1


def test_warm_overhead_compares_the_handler_with_its_own_calls(
    overheads: list[Overhead],
) -> None:
    get, action = overheads
    assert (get.calls, action.calls) == (1, 2)
    assert all(o.runs > 0 and o.handler_ms > 0 and o.bare_ms > 0 for o in overheads)
    assert all(math.isfinite(o.ratio) for o in overheads)
    assert warm_overhead.report(overheads).count("| `") == 2


def test_cost_model_adds_up_from_the_counts(
    rows: list[RouteCount], overheads: list[Overhead]
) -> None:
    template = load_template()
    model = cost_model.build(rows, overheads, template, api_init_seconds=0.5)
    by_label = {r.label: r for r in rows}
    api_wru = sum(count * by_label[label].write_units for label, count in cost_model.MIX)
    dynamo_writes = next(line for line in model.lines if "write request units" in line.what)
    assert dynamo_writes.quantity > api_wru * cost_model.TICKETS_PER_MONTH
    memory = template["Globals"]["Function"]["MemorySize"]
    assert cost_model.function_memory_mb(template, "functions/api") == int(
        template["Resources"]["ApiFunction"]["Properties"].get("MemorySize", memory)
    )
    assert model.ses_usd > 0 and model.total_usd > 0
    assert all(line.service == "SES" for line in model.lines if line.excluded)
    text = cost_model.report(model)
    assert "excluding SES message fees" in text and "SES (separate)" in text


def test_cost_model_prices_the_mails_in_as_the_mail_function_measured_them(
    rows: list[RouteCount], overheads: list[Overhead], ingests: list[IngestCount]
) -> None:
    template = load_template()

    def writes(model: cost_model.Model) -> float:
        return next(line.quantity for line in model.lines if "write request units" in line.what)

    measured = cost_model.build(rows, overheads, template, 0.5, None, ingests)
    estimated = cost_model.build(rows, overheads, template, 0.5, None, None)
    wru = {i.label: sum(c.write_units for c in i.calls) for i in ingests}
    # 10,000 tickets a month: 2,000 come by mail, 3,000 replies; the estimate was 16 WRU a mail.
    by_mail = 2000 * wru["new ticket"] + 3000 * wru["comment on its ticket"]
    assert writes(measured) - writes(estimated) == pytest.approx(by_mail - 5000 * 16)
    assert "(measured)" in cost_model.report(measured)


def test_bench_main_writes_the_chosen_sections_and_keeps_the_others(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[RouteCount],
    deliveries: Deliveries,
    ingests: list[IngestCount],
) -> None:
    monkeypatch.setattr(calls_per_route, "measure_routes", lambda: rows)  # measured above
    monkeypatch.setattr(calls_per_route, "measure_notifier", lambda: deliveries)
    monkeypatch.setattr(calls_per_route, "measure_mail_ingest", lambda: ingests)
    output = tmp_path / "results.md"
    output.write_text("# Benchmark results\n\n`make bench` earlier\n\n## Cold start\n\nslow\n")
    assert bench_main.main(["calls", "--smoke", "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results")
    assert "## AWS requests per route" in text and "## Cost model" not in text
    assert "## AWS requests per inbound mail" in text
    assert "## Cold start\n\nslow\n\n(From an earlier run: `make bench` earlier)" in text
