"""Concurrency over HTTP against the local stack (issue 8, part 1).

Three kinds of load, each measured by what the stack stored afterwards, not by timings:
- conflicting actions on one ticket (start vs hold vs escalate on a taken ticket; confirm vs
  reopen vs the auto-close job on an answered one), with and without `If-Match`: every applied
  action has its own version, the losers get 409 or 412 only, and the ticket's history and
  version grew by exactly the number of actions applied;
- many concurrent ticket creations: the numbers handed out are distinct and contiguous;
- many consultants logging time on one ticket at once: the month's task adds up every entry.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Barrier
from typing import Any

from tests.e2e.support import Api, Reply, act, create_ticket
from tests.reliability import Figure, StackContext

AREA = "concurrency"
CONFLICT_ATTEMPTS = 50
CREATIONS = 500
CREATION_WORKERS = 32
TIME_LOGGERS = 20
REFUSALS = (409, 412)


@dataclass
class ConflictRound:
    """What happened to one ticket under `requests` concurrent conflicting attempts."""

    label: str
    requests: int = 0
    applied: int = 0  # API actions answered 200 plus auto-close runs that closed the ticket
    refused: int = 0  # 409 or 412, or an auto-close run that found nothing to do
    unexpected: list[str] = field(default_factory=list)  # 5xx, other statuses
    applied_versions: list[int] = field(default_factory=list)  # of the API replies only
    winners: list[str] = field(default_factory=list)  # the actions applied
    history_added: int = 0
    version_added: int = 0
    single_winner_required: bool = False

    @property
    def server_errors(self) -> int:
        return sum(entry.startswith("5") for entry in self.unexpected)

    @property
    def consistent(self) -> bool:
        """One applied action per version, and nothing applied that left no trace."""
        versions_distinct = len(set(self.applied_versions)) == len(self.applied_versions)
        return (
            self.applied >= 1
            and (self.applied == 1 or not self.single_winner_required)
            and versions_distinct
            and self.history_added == self.applied
            and self.version_added == self.applied
        )

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unexpected


@dataclass(frozen=True)
class CreationRun:
    requests: int
    numbers: list[int]
    failures: list[str]

    @property
    def distinct(self) -> int:
        return len(set(self.numbers))

    @property
    def gaps(self) -> int:
        """Numbers missing between the smallest and the largest handed out."""
        if not self.numbers:
            return 0
        return max(self.numbers) - min(self.numbers) + 1 - self.distinct

    @property
    def ok(self) -> bool:
        return not self.failures and self.distinct == self.requests and self.gaps == 0


@dataclass(frozen=True)
class TimeLoggingRun:
    consultants: int
    created: int
    failures: list[str]
    entries_stored: int
    entries_minutes: int
    task_minutes: int
    tasks: int
    sent_minutes: int

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.created == self.consultants == self.entries_stored
            and self.task_minutes == self.entries_minutes == self.sent_minutes
        )


# ------------------------------------------------------------------ shared helpers
def _all_at_once(count: int, attempt: Callable[[int], Reply]) -> list[Reply]:
    """`attempt(i)` for i in range(count), released together by a barrier."""
    barrier = Barrier(count)

    def run(index: int) -> Reply:
        barrier.wait()
        return attempt(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _ok(reply: Reply, expected: int, what: str) -> Any:
    if reply.status != expected:
        raise AssertionError(f"{what}: {reply.status} {reply.body[:300]!r}")
    return reply.json()


def _items(api: Api, path: str, token: str) -> list[Any]:
    """Every item of a paginated list."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        query = f"?cursor={cursor}" if cursor else ""
        page = _ok(api.get(path + query, token), 200, f"GET {path}")
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def _state(api: Api, number: int, token: str) -> tuple[int, int]:
    """(version, history length) of a ticket."""
    ticket = _ok(api.get(f"/tickets/{number}", token), 200, "GET ticket")
    return ticket["version"], len(_items(api, f"/tickets/{number}/history", token))


def _record(result: ConflictRound, name: str, reply: Reply) -> None:
    if reply.status == 200:
        result.applied += 1
        result.applied_versions.append(reply.json()["version"])
        result.winners.append(name)
    elif reply.status in REFUSALS:
        result.refused += 1
    else:
        result.unexpected.append(f"{reply.status} {name}")


# ------------------------------------------------------------------ conflicting actions
def taken_ticket(api: Api, tokens: dict[str, str]) -> int:
    """An assistance ticket of Acme, taken by lea (level 1)."""
    number: int = create_ticket(api, tokens["CLIENT_ACME"])["number"]
    _ok(act(api, tokens["L1"], number, "take", {"assignee": "lea"}), 200, "take")
    return number


def answered_ticket(api: Api, tokens: dict[str, str]) -> tuple[int, str]:
    """A ticket in answer_sent and its auto-close time."""
    number = taken_ticket(api, tokens)
    _ok(act(api, tokens["L1"], number, "start"), 200, "start")
    answered = _ok(
        act(api, tokens["L1"], number, "send-answer", {"message": "Redémarrée."}), 200, "answer"
    )
    return number, str(answered["auto_close_at"])


def _if_match(api: Api, number: int, token: str, with_if_match: bool) -> dict[str, str]:
    if not with_if_match:
        return {}
    return {"If-Match": api.get(f"/tickets/{number}", token).headers["etag"]}


def working_round(
    api: Api, tokens: dict[str, str], with_if_match: bool, attempts: int = CONFLICT_ATTEMPTS
) -> ConflictRound:
    """start vs hold vs escalate by the assignee on a taken ticket.

    Without If-Match two can apply in turn (start, then hold or escalate), each on its own
    version; with it, exactly one.
    """
    l1 = tokens["L1"]
    number = taken_ticket(api, tokens)
    headers = _if_match(api, number, l1, with_if_match)
    version, history = _state(api, number, l1)
    actions: tuple[tuple[str, dict[str, str] | None], ...] = (
        ("start", None),
        ("hold", {"reason": "En attente du client."}),
        ("escalate", {}),
    )

    def attempt(index: int) -> Reply:
        name, body = actions[index % len(actions)]
        return act(api, l1, number, name, body, headers=dict(headers))

    replies = _all_at_once(attempts, attempt)
    label = f"start|hold|escalate {'with' if with_if_match else 'without'} If-Match"
    result = ConflictRound(label, requests=attempts, single_winner_required=with_if_match)
    for index, reply in enumerate(replies):
        _record(result, actions[index % len(actions)][0], reply)
    version_after, history_after = _state(api, number, l1)
    result.version_added, result.history_added = version_after - version, history_after - history
    return result


def resolved_round(
    api: Api, tokens: dict[str, str], with_if_match: bool, attempts: int = CONFLICT_ATTEMPTS
) -> ConflictRound:
    """confirm vs reopen by the client vs the auto-close job run at the ticket's due time.

    Any winner leaves nothing for the others: exactly one applies, If-Match or not.
    """
    client = tokens["CLIENT_ACME"]
    number, due = answered_ticket(api, tokens)
    headers = _if_match(api, number, client, with_if_match)
    version, history = _state(api, number, client)
    run_at = (datetime.fromisoformat(due) + timedelta(minutes=1)).isoformat()

    def attempt(index: int) -> Reply:
        kind = index % 3
        if kind == 0:
            return act(api, client, number, "confirm", {}, headers=dict(headers))
        if kind == 1:
            body = {"reason": "Toujours bloquée."}
            return act(api, client, number, "reopen", body, headers=dict(headers))
        return api.post("/_local/schedules/auto-close", body={"at": run_at})

    replies = _all_at_once(attempts, attempt)
    label = f"confirm|reopen|auto-close {'with' if with_if_match else 'without'} If-Match"
    result = ConflictRound(label, requests=attempts, single_winner_required=True)
    for index, reply in enumerate(replies):
        name = ("confirm", "reopen", "auto-close")[index % 3]
        if name != "auto-close" or reply.status != 200:
            _record(result, name, reply)
            continue
        closed = number in reply.json()["closed_tickets"]
        result.applied += closed
        result.refused += not closed
        result.winners.extend(["auto-close"] if closed else [])
    version_after, history_after = _state(api, number, client)
    result.version_added, result.history_added = version_after - version, history_after - history
    return result


# ------------------------------------------------------------------ creations
def concurrent_creations(
    api: Api, token: str, count: int = CREATIONS, workers: int = CREATION_WORKERS
) -> CreationRun:
    body = {"title": "Charge", "description": "Création concurrente.", "type": "incident"}

    def create(_: int) -> Reply:
        return api.post("/tickets", token, body)

    with ThreadPoolExecutor(workers) as pool:
        replies = list(pool.map(create, range(count)))
    numbers = [r.json()["number"] for r in replies if r.status == 201]
    failures = [f"{r.status} {r.body[:120]!r}" for r in replies if r.status != 201]
    return CreationRun(count, numbers, failures)


# ------------------------------------------------------------------ time logging
def consultant_tokens(api: Api, count: int) -> list[str]:
    """Tokens of `count` distinct consultants of every level, minted by the local helper."""
    tokens: list[str] = []
    for index in range(1, count + 1):
        body = {
            "sub": f"load-consultant-{index:02d}",
            "email": f"load-consultant-{index:02d}@helpdesk.test",
            "groups": [f"consultants-l{1 + index % 3}"],
        }
        tokens.append(_ok(api.post("/_local/tokens", body=body), 200, "mint")["token"])
    return tokens


def concurrent_time_logging(
    api: Api, tokens: dict[str, str], consultants: int = TIME_LOGGERS
) -> TimeLoggingRun:
    number = taken_ticket(api, tokens)
    loggers = consultant_tokens(api, consultants)
    minutes = [5 + index for index in range(consultants)]

    def log(index: int) -> Reply:
        body = {"minutes": minutes[index], "kind": "analysis", "comment": f"part {index}"}
        return api.post(f"/tickets/{number}/time-entries", loggers[index], body)

    replies = _all_at_once(consultants, log)
    failures = [f"{r.status} {r.body[:120]!r}" for r in replies if r.status != 201]
    l1 = tokens["L1"]
    entries = _items(api, f"/tickets/{number}/time-entries", l1)
    tasks = _items(api, f"/tickets/{number}/tasks", l1)
    return TimeLoggingRun(
        consultants=consultants,
        created=sum(r.status == 201 for r in replies),
        failures=failures,
        entries_stored=len(entries),
        entries_minutes=sum(e["minutes"] for e in entries),
        task_minutes=sum(t["minutes"] for t in tasks),
        tasks=len(tasks),
        sent_minutes=sum(minutes),
    )


# ------------------------------------------------------------------ figures
def conflict_rounds(
    api: Api, tokens: dict[str, str], attempts: int = CONFLICT_ATTEMPTS
) -> list[ConflictRound]:
    return [
        make_round(api, tokens, with_if_match, attempts)
        for make_round in (working_round, resolved_round)
        for with_if_match in (True, False)
    ]


def round_figures(result: ConflictRound) -> list[Figure]:
    versions = ",".join(str(v) for v in sorted(result.applied_versions)) or "-"
    trace = f"history +{result.history_added}, version +{result.version_added}"
    return [
        Figure(AREA, f"{result.label}: requests", result.requests),
        Figure(
            AREA,
            f"{result.label}: applied",
            result.applied,
            result.consistent,
            f"won: {'+'.join(result.winners)}; API versions {versions}; {trace}",
        ),
        Figure(AREA, f"{result.label}: refused 409/412", result.refused),
        Figure(
            AREA,
            f"{result.label}: 5xx or other status",
            len(result.unexpected),
            not result.unexpected,
            "; ".join(result.unexpected[:5]),
        ),
    ]


def creation_figures(run: CreationRun) -> list[Figure]:
    span = f"#{min(run.numbers)}..#{max(run.numbers)}" if run.numbers else "none"
    return [
        Figure(AREA, "creations: requests", run.requests, detail=f"{CREATION_WORKERS} threads"),
        Figure(AREA, "creations: distinct numbers", run.distinct, run.ok, span),
        Figure(AREA, "creations: gaps", run.gaps, run.gaps == 0),
        Figure(
            AREA,
            "creations: not 201",
            len(run.failures),
            not run.failures,
            "; ".join(run.failures[:3]),
        ),
    ]


def time_figures(run: TimeLoggingRun) -> list[Figure]:
    return [
        Figure(
            AREA,
            "time logging: entries stored",
            run.entries_stored,
            run.entries_stored == run.consultants == run.created,
            f"{run.consultants} consultants at once; {len(run.failures)} not 201",
        ),
        Figure(
            AREA,
            "time logging: task minutes",
            run.task_minutes,
            run.ok,
            f"entries sum {run.entries_minutes}, sent {run.sent_minutes}, {run.tasks} task(s)",
        ),
    ]


def measure(
    context: StackContext,
    attempts: int = CONFLICT_ATTEMPTS,
    creations: int = CREATIONS,
    consultants: int = TIME_LOGGERS,
) -> list[Figure]:
    api, tokens = context.api, context.tokens
    figures: list[Figure] = []
    for result in conflict_rounds(api, tokens, attempts):
        figures.extend(round_figures(result))
    figures.extend(creation_figures(concurrent_creations(api, tokens["CLIENT_ACME"], creations)))
    figures.extend(time_figures(concurrent_time_logging(api, tokens, consultants)))
    return figures
