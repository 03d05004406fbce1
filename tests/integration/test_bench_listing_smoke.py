"""The listing-reads benchmark at smoke size, so that it cannot rot, and what it proves there:
`GET /tickets` reads the same items over 100 tickets as over 400 (issue #15).

No timing is asserted (a shared, noisy machine). The expected reads are worked out by hand
from the layout of bench/listing_reads.py (30 "imprimante" tickets, 6 of them in acme; 50
active: 15 held by lea, 10 by nobody; 12 closed held by lea; pages of 25).
"""

from __future__ import annotations

import pytest

from bench import listing_reads
from bench.listing_reads import Reads

pytestmark = pytest.mark.slow

# listing: (results, pages, read on the first page, read over every page or None)
EXPECTED: dict[str, tuple[int, int, Reads, Reads | None]] = {
    # words: the 30 word items "imprimante#<number>", then the 30 tickets in one BatchGetItem;
    # sorted in memory, so the second page reads them all again.
    "q=imprimante (staff)": (30, 2, Reads(30, 30), Reads(60, 60)),
    # org_words: acme's 6 word items, then its 6 tickets.
    "q=imprimante (client of acme)": (6, 1, Reads(6, 6), Reads(6, 6)),
    # by_assignee ASSIGNEE#lea (her 15 active) and ASSIGNEE#lea#closed (her 12 closed), sorted
    # in memory: every page reads both again.
    "assignee=me (lea)": (27, 2, Reads(27, 0), Reads(54, 0)),
    # ASSIGNEE#lea alone holds her active tickets: her closed history is never read.
    "assignee=me&status=active (lea)": (15, 1, Reads(15, 0), Reads(15, 0)),
    # by_assignee ASSIGNEE#-#1: the level's unassigned (open) tickets only, 18, 21 and 24
    # (level = 1 + number % 3).
    "assignee=none&status=open&level=1": (3, 1, Reads(3, 0), Reads(3, 0)),
    # queue QUEUE#1..3: the 50 active tickets, sorted in memory, read again for page 2.
    "status=active&sort=priority": (50, 2, Reads(50, 0), Reads(100, 0)),
    # by_assignee ASSIGNEE#-#1..3: the 10 active tickets nobody holds (closed ones are not
    # there), sorted in memory.
    "status=active&assignee=none": (10, 1, Reads(10, 0), Reads(10, 0)),
    # all_updated / all_tickets: one request of Limit 25 for a page of 25.
    "default (sort=updated), first page": (25, 1, Reads(25, 0), None),
    "sort=number, first page": (25, 1, Reads(25, 0), None),
}


@pytest.fixture(scope="module")
def found() -> listing_reads.ListingReads:
    return listing_reads.measure(smoke=True)


def test_every_listing_is_measured_at_every_smoke_size(
    found: listing_reads.ListingReads,
) -> None:
    assert [listing.name for listing in listing_reads.LISTINGS] == list(EXPECTED)
    for name in EXPECTED:
        assert [r.tickets for r in found.runs_of(name)] == [100, 400], name


@pytest.mark.parametrize("name", list(EXPECTED))
def test_reads_follow_the_results_not_the_table(
    found: listing_reads.ListingReads, name: str
) -> None:
    results, pages, first, every = EXPECTED[name]
    runs = found.runs_of(name)
    assert [(r.results, r.pages, r.first_page, r.all_pages) for r in runs] == [
        (results, pages, first, every)
    ] * 2
    assert found.flat(name)


def test_listing_section_reports_every_run(found: listing_reads.ListingReads) -> None:
    section = listing_reads.render(found)
    assert section.startswith("## Listing reads\n")
    assert "Reads flat across sizes: yes." in section
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 2 * len(EXPECTED)
    assert "| q=imprimante (staff) | 400 | 30 | 2 | 30 + 30 | 60 + 60 |" in section
    assert "| default (sort=updated), first page | 100 | 25 | 1 | 25 | - |" in section
