"""What the store asks of DynamoDB: never a Scan, and one read plus one transaction per action."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpdesk.domain.model import TicketType
from helpdesk.domain.timekeeping import TimeKind
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L2

REPO = Path(__file__).resolve().parents[2]
SCAN_PATTERNS = (
    re.compile(r"\.scan\s*\("),
    re.compile(r"[\"']Scan[\"']"),
    re.compile(r"paginator\(\s*[\"']scan[\"']"),
    re.compile(r"dynamodb:scan\b", re.IGNORECASE),
)
SOURCE_SUFFIXES = {".py", ".json", ".yaml", ".yml", ".asl"}


def production_sources() -> Iterator[Path]:
    """Every source file of layers/, functions/ and infra/, tests and build output excluded."""
    for top in ("layers", "functions", "infra"):
        for path in sorted((REPO / top).rglob("*")):
            parts = set(path.relative_to(REPO).parts)
            if (
                path.is_file()
                and path.suffix in SOURCE_SUFFIXES
                and not parts & {"tests", "__pycache__", ".aws-sam"}
                and not path.name.startswith("test_")
            ):
                yield path


def test_no_production_code_path_scans_the_table() -> None:
    sources = list(production_sources())
    # The walk found the DynamoDB adapter (its gateway and its unit of work).
    assert {"toolkit.py", "unit_of_work.py"} <= {p.name for p in sources}
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(pattern.search(line) for pattern in SCAN_PATTERNS)
    ]
    assert offenders == []


@contextmanager
def counting_requests(client: Any) -> Iterator[list[str]]:
    """The DynamoDB operations the client sends while inside, by name."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-call.dynamodb.*", record, unique_id="count-requests")
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", unique_id="count-requests")


def test_a_plain_action_is_one_read_and_one_transaction(
    service: HelpdeskService, dynamodb: Any
) -> None:
    n = service.create_ticket(CLIENT, title="t", description="", type=TicketType.ASSISTANCE).number
    service.perform(L1, n, Action.TAKE, ActionInput())
    with counting_requests(dynamodb) as calls:
        service.perform(L1, n, Action.START, ActionInput())
    assert calls == ["GetItem", "TransactWriteItems"]
    # Naming an assignee reads the ticket and the consultant in one batch.
    m = service.create_ticket(CLIENT, title="t", description="", type=TicketType.INCIDENT).number
    with counting_requests(dynamodb) as calls:
        service.perform(L2, m, Action.TAKE, ActionInput(assignee=L2.id))
    assert calls == ["BatchGetItem", "TransactWriteItems"]


def test_creating_a_ticket_and_logging_time_cost_a_read_and_a_transaction(
    service: HelpdeskService, dynamodb: Any
) -> None:
    with counting_requests(dynamodb) as calls:
        n = service.create_ticket(
            CLIENT, title="t", description="", type=TicketType.ASSISTANCE
        ).number
    # One read: the counter and the organisation (its contract starts the clocks, §10).
    assert calls == ["BatchGetItem", "TransactWriteItems"]
    service.perform(L1, n, Action.TAKE, ActionInput())
    with counting_requests(dynamodb) as calls:
        service.log_time(L1, n, minutes=10, kind=TimeKind.ANALYSIS)
    # The ticket, then its organisation (whether a budget counts these minutes, §10), then
    # one transaction (the entry, the task, the month's consumption counter).
    assert calls == ["GetItem", "GetItem", "TransactWriteItems"]
