"""Listing reads: `GET /tickets` reads what it lists, not the table (issue #15).

At each size (1k, 10k, 100k tickets) the table holds the same results: IMPRIMANTE tickets whose
title has the word "imprimante" (IMPRIMANTE_ACME of them in organisation acme; no other title
has a word starting with "impr"), ACTIVE tickets not closed (LEA_ACTIVE held by consultant
`lea`, UNASSIGNED held by nobody, the others by other consultants), LEA_CLOSED closed tickets
held by `lea`; every other ticket is closed, held by other consultants or nobody, spread over
five organisations. Each ticket has its title's word items, as the store writes them.

Each query goes through `HelpdeskService.list_tickets` on a `DynamoUnitOfWork` over moto, page
after page (limit 25). Botocore hooks on the client sum `ScannedCount` over every Query reply
(what DynamoDB bills as items read) and, separately, the items of every BatchGetItem reply.
The items read must not grow with the table. Time is moto's: it goes through the whole table
for an index Query (DynamoDB does not), so it grows with the table even when the reads do not.

Tickets go straight into moto's backend in the shape the store writes them (as
bench/batch_scaling.py does).
"""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.batch_scaling import _aws_environment, _unchecked_item_sizes

SIZES, SMOKE_SIZES = (1_000, 10_000, 100_000), (100, 400)
LIMIT = 25
IMPRIMANTE = 30  # tickets 3, 6, ..., 90: "Imprimante hors ligne"
IMPRIMANTE_ACME = 6  # those in acme (organisation = ORGS[number % 5]): 15, 30, ..., 90
ACTIVE = 50  # tickets 1..50 are not closed
LEA_ACTIVE = 15  # 1..15 held by lea
UNASSIGNED = 10  # 16..25 held by nobody (open)
LEA_CLOSED = 12  # 51..62 closed, held by lea
ORGS = ("acme", "globex", "initech", "umbrella", "hooli")
OTHERS = ("marc", "sofia", "yann", None)  # who holds the other tickets (None: nobody)
TITLES = (  # no word starts with "impr"
    "Accès VPN refusé",
    "Messagerie lente",
    "Compte bloqué",
    "Écran noir au démarrage",
    "Mot de passe oublié",
    "Facture en double",
)
WORD = "imprimante"
REGION = "eu-west-1"
TABLE = "helpdesk-listing"
CREATED = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Listing:
    """One query of the benchmark: who asks, the query string, the results expected."""

    name: str
    caller: str  # key of CALLERS
    params: dict[str, str]
    one_page: bool = False  # only the first page is read (the rest is the whole table)


LISTINGS = (
    Listing("q=imprimante (staff)", "staff", {"q": WORD}),
    Listing("q=imprimante (client of acme)", "client", {"q": WORD}),
    Listing("assignee=me (lea)", "lea", {"assignee": "me"}),
    Listing("assignee=me&status=active (lea)", "lea", {"assignee": "me", "status": "active"}),
    Listing(
        "assignee=none&status=open&level=1",
        "staff",
        {"assignee": "none", "status": "open", "level": "1"},
    ),
    Listing("status=active&sort=priority", "staff", {"status": "active", "sort": "priority"}),
    Listing("status=active&assignee=none", "staff", {"status": "active", "assignee": "none"}),
    Listing("default (sort=updated), first page", "staff", {}, one_page=True),
    Listing("sort=number, first page", "staff", {"sort": "number"}, one_page=True),
)


@dataclass(frozen=True)
class Reads:
    queried: int  # ScannedCount summed over the Query replies
    batch: int  # items of the BatchGetItem replies

    @property
    def total(self) -> int:
        return self.queried + self.batch

    def __str__(self) -> str:
        return f"{self.queried} + {self.batch}" if self.batch else str(self.queried)


@dataclass(frozen=True)
class ListingRun:
    listing: str
    tickets: int
    results: int  # tickets listed over the pages read
    pages: int
    first_page: Reads
    all_pages: Reads | None  # None: only the first page was read
    seconds: float  # every page read


@dataclass(frozen=True)
class ListingReads:
    runs: tuple[ListingRun, ...]

    def runs_of(self, listing: str) -> list[ListingRun]:
        return [r for r in self.runs if r.listing == listing]

    def flat(self, listing: str) -> bool:
        runs = self.runs_of(listing)
        return len({(r.results, r.first_page, r.all_pages) for r in runs}) == 1

    def reads_flat(self) -> bool:
        return all(self.flat(listing.name) for listing in LISTINGS)


class Counter:
    """Sums `ScannedCount` of the Query replies and the items of the BatchGetItem replies
    (`after-call` botocore hooks on the client)."""

    def __init__(self, client: Any) -> None:
        self.queried = 0
        self.batch = 0
        client.meta.events.register("after-call.dynamodb.Query", self._query)
        client.meta.events.register("after-call.dynamodb.BatchGetItem", self._batch_get)

    def _query(self, parsed: dict[str, Any], **_: Any) -> None:
        self.queried += int(parsed.get("ScannedCount", 0))

    def _batch_get(self, parsed: dict[str, Any], **_: Any) -> None:
        self.batch += sum(len(items) for items in parsed.get("Responses", {}).values())

    def now(self) -> Reads:
        return Reads(self.queried, self.batch)

    def reset(self) -> None:
        self.queried = self.batch = 0


def ticket(number: int) -> Any:
    """Ticket `number` of the benchmark's table (the layout in the module docstring)."""
    from helpdesk.domain.model import ClosureReason, Priority, Status, Ticket, TicketType

    priorities = tuple(Priority)
    org = ORGS[number % len(ORGS)]
    created = CREATED + timedelta(minutes=number)
    title = "Imprimante hors ligne" if _imprimante(number) else TITLES[number % len(TITLES)]
    base = Ticket(
        number=number,
        title=title,
        description="",
        type=TicketType.ASSISTANCE,
        org_id=org,
        requester=f"client-{org}",
        requester_email=f"fabrice@{org}.example",
        created_at=created,
        updated_at=created + timedelta(hours=number % 7),
        support_level=1 + number % 3,
        priority=priorities[number % len(priorities)],
    )
    taken = replace(base, taken_at=created + timedelta(minutes=5))
    if number <= LEA_ACTIVE:
        status = Status.TAKEN if number % 2 else Status.IN_PROGRESS
        return replace(taken, status=status, assignee="lea")
    if number <= LEA_ACTIVE + UNASSIGNED:
        return base
    if number <= ACTIVE:
        return replace(taken, status=Status.IN_PROGRESS, assignee=OTHERS[number % 3])
    closed = replace(
        taken,
        status=Status.CLOSED,
        closure_reason=ClosureReason.CONFIRMED,
        closed_at=created + timedelta(days=2),
    )
    if number <= ACTIVE + LEA_CLOSED:
        return replace(closed, assignee="lea")
    return replace(closed, assignee=OTHERS[number % len(OTHERS)])


def _imprimante(number: int) -> bool:
    return number % 3 == 0 and number <= 3 * IMPRIMANTE


def seed_tickets(count: int) -> None:
    """`count` tickets and their title's word items, straight into moto's backend."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from helpdesk.adapters.dynamodb import items as it
    from helpdesk.adapters.dynamodb.toolkit import marshal
    from helpdesk.domain.search import title_words

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    with _unchecked_item_sizes():
        for number in range(1, count + 1):
            seeded = ticket(number)
            backend.put_item(TABLE, marshal(it.ticket_to_item(seeded)))
            for item in it.word_items(seeded, title_words(seeded.title)):
                backend.put_item(TABLE, marshal(item))


def callers() -> dict[str, Any]:
    from helpdesk.domain.model import Caller, Role

    return {
        "staff": Caller(id="marc", role=Role.CONSULTANT, level=2),
        "lea": Caller(id="lea", role=Role.CONSULTANT, level=1),
        "client": Caller(id="client-acme", role=Role.CLIENT, org_id="acme"),
    }


def ticket_query(params: dict[str, str]) -> Any:
    """The TicketQuery the route builds from these query-string parameters
    (helpdesk.entrypoints.http.tickets.list_tickets)."""
    from helpdesk.domain.listing import NONE, Sort, TicketQuery, parse_statuses
    from helpdesk.domain.search import parse_query

    assignee = params.get("assignee")
    return TicketQuery(
        statuses=parse_statuses(params["status"]) if "status" in params else None,
        level=int(params["level"]) if "level" in params else None,
        assignee=None if assignee == NONE else assignee,
        unassigned=assignee == NONE,
        search=parse_query(params["q"]) if "q" in params else None,
        sort=Sort.parse(params.get("sort")),
    )


def run_size(count: int, template: Any) -> list[ListingRun]:
    import boto3
    from moto import mock_aws

    from helpdesk.adapters.dynamodb.toolkit import Table
    from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
    from helpdesk.service import HelpdeskService
    from infra.cfn_template import create_table_from_template

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(client, template, "TicketsTable", TABLE)
        seed_tickets(count)
        service = HelpdeskService(DynamoUnitOfWork(Table(client, TABLE)))
        counter = Counter(client)
        who = callers()
        runs = []
        for listing in LISTINGS:
            query = ticket_query(listing.params)
            counter.reset()
            gc.collect()
            started = time.perf_counter()
            cursor: str | None = None
            results = pages = 0
            first: Reads | None = None
            while True:
                tickets, cursor = service.list_tickets(who[listing.caller], query, cursor, LIMIT)
                results += len(tickets)
                pages += 1
                if first is None:
                    first = counter.now()
                if listing.one_page or cursor is None:
                    break
            seconds = time.perf_counter() - started
            assert first is not None
            every = None if listing.one_page else counter.now()
            runs.append(ListingRun(listing.name, count, results, pages, first, every, seconds))
        return runs


def measure(smoke: bool = False) -> ListingReads:
    from infra.cfn_template import load_template
    from infra.moto_serial import serialise_moto_dynamodb

    serialise_moto_dynamodb()
    template = load_template()
    runs: list[ListingRun] = []
    with _aws_environment():
        for size in SMOKE_SIZES if smoke else SIZES:
            _progress(f"listings over {size:,} tickets")
            runs += run_size(size, template)
    return ListingReads(tuple(runs))


def _progress(step: str) -> None:
    print(f"listing reads: {step}", file=sys.stderr, flush=True)


def section(smoke: bool = False) -> str:
    return render(measure(smoke))


def render(found: ListingReads) -> str:
    lines = [
        "## Listing reads",
        "",
        f"`GET /tickets` through `HelpdeskService.list_tickets`, pages of {LIMIT}. At every "
        f"size the table holds the same results: {IMPRIMANTE} tickets titled with "
        f'"{WORD}" ({IMPRIMANTE_ACME} in acme), {ACTIVE} active tickets ({LEA_ACTIVE} held by '
        f"lea, {UNASSIGNED} by nobody), {LEA_CLOSED} closed tickets held by lea; every other "
        "ticket is closed, and every ticket has its title's word items. Items read = "
        "`ScannedCount` summed over every Query reply, `+` the items of the BatchGetItem "
        "replies (botocore hooks). Time is moto's, which goes through the whole table for an "
        "index Query (DynamoDB does not): only the items read carry over to AWS.",
        "",
        "| query | tickets | results | pages | read, first page | read, all pages | time s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for listing in LISTINGS:
        for r in found.runs_of(listing.name):
            every = "-" if r.all_pages is None else str(r.all_pages)
            lines.append(
                f"| {r.listing} | {r.tickets:,} | {r.results} | {r.pages} | {r.first_page} "
                f"| {every} | {r.seconds:.3f} |"
            )
    lines += [
        "",
        "The web app's views: `Mes tickets` is `assignee=me&status=active`, `File d'attente` "
        "`assignee=none&status=open&level=<n>`. Where reads exceed the results (flat with the "
        "table all the same):",
        "",
        "- `by_assignee` keeps a consultant's closed tickets apart (`ASSIGNEE#<id>#closed`) "
        "and the queue per level (`ASSIGNEE#-#<level>`): `Mes tickets` and `File d'attente` "
        "read what they list; `assignee=me` over every status reads both of the "
        "consultant's partitions, sorted in memory.",
        "- Index-ordered listings read a page's worth per request (more rounds only when "
        "filters drop items).",
        "- Listings sorted in memory (`q` words, `status=active` from `queue`, "
        "`sort=priority`) read every candidate again for each page.",
    ]
    lines.append("")
    not_flat = [listing.name for listing in LISTINGS if not found.flat(listing.name)]
    lines.append(
        "Reads flat across sizes: "
        + ("yes." if not not_flat else "**NO**: " + ", ".join(f"`{n}`" for n in not_flat) + ".")
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(section(smoke="--smoke" in sys.argv))
