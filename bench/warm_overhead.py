"""Warm handler overhead: the API handler's time per invocation against the bare boto3 calls
it makes, in-process against moto, in the same run.

- GET: `GET /tickets/{number}` as a client, then the one GetItem it made, replayed with the
  raw client.
- action: `hold` on tickets already in progress (each ticket once: an action changes what it
  acts on); its calls (GetItem + TransactWriteItems) are recorded and replayed on a twin ticket
  in the same state, so the replayed transaction's conditions hold as the handler's did.

Both sides pay moto's own work, so the ratio is the handler's overhead (event parsing,
validation, authorisation, domain, serialisation, Powertools) over the AWS calls; on AWS the
calls cost network time on top, which makes the real ratio smaller.
"""

from __future__ import annotations

import base64
import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.calls_per_route import ApiHarness, Call, CallCounter, api_over_moto

BYTES = "__bytes__"  # a binary value in the JSON text of a replayed request

FULL_RUNS = 200  # GET; the action's runs are a quarter (each needs two fresh tickets)
SMOKE_RUNS = 12
WARM_UP = 5


@dataclass(frozen=True)
class Overhead:
    what: str
    runs: int
    calls: int
    handler_ms: float
    bare_ms: float

    @property
    def ratio(self) -> float:
        return self.handler_ms / self.bare_ms if self.bare_ms else float("inf")


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _bytes_out(value: Any) -> dict[str, str]:
    if isinstance(value, bytes):
        return {BYTES: base64.b64encode(value).decode()}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _bytes_in(value: dict[str, Any]) -> Any:
    return base64.b64decode(value[BYTES]) if set(value) == {BYTES} else value


def replay(client: Any, calls: list[Call], renumber: tuple[int, int] | None = None) -> None:
    """The recorded DynamoDB requests again, as bare client calls (optionally on another
    ticket: its keys and padded index keys substituted)."""
    from botocore import xform_name

    for call in calls:
        params = call.params
        if renumber is not None:
            text = json.dumps(params, default=_bytes_out)  # binary attributes (outbox texts)
            old, new = renumber
            text = text.replace(f'"TICKET#{old}"', f'"TICKET#{new}"')
            text = text.replace(f"{old:010d}", f"{new:010d}")
            params = json.loads(text, object_hook=_bytes_in)
        getattr(client, xform_name(call.operation))(**params)


def _median_pair(handler: list[float], bare: list[float]) -> tuple[float, float]:
    return statistics.median(handler), statistics.median(bare)


def measure_get(api: ApiHarness, counter: CallCounter, runs: int) -> Overhead:
    number = api.create("Warm GET")
    path = f"/tickets/{number}"
    for _ in range(WARM_UP):
        assert api.call("GET", path, "client").status == 200
    counter.take()
    api.call("GET", path, "client")
    calls = counter.take()
    gc.collect()
    handler: list[float] = []
    bare: list[float] = []
    for i in range(runs):  # interleaved, alternating which goes first: same machine weather
        sides: list[tuple[list[float], Callable[[], Any]]] = [
            (handler, partial(api.call, "GET", path, "client")),
            (bare, partial(replay, api.client, calls)),
        ]
        for times, action in sides if i % 2 else reversed(sides):
            times.append(_timed(action))
        counter.take()
    handler_ms, bare_ms = _median_pair(handler, bare)
    return Overhead("GET /tickets/{number}", runs, len(calls), handler_ms, bare_ms)


def _in_progress(api: ApiHarness, count: int) -> list[int]:
    numbers = []
    for i in range(count):
        number = api.create(f"Warm action {i}")
        assert api.act(number, "take", "l1").status == 200
        assert api.act(number, "start", "l1").status == 200
        numbers.append(number)
    return numbers


def measure_action(api: ApiHarness, counter: CallCounter, runs: int) -> Overhead:
    acted = _in_progress(api, runs + WARM_UP)
    twins = _in_progress(api, runs + WARM_UP)
    body = {"reason": "waiting for the client"}
    handler: list[float] = []
    bare: list[float] = []
    calls_made = 0
    counter.take()
    gc.collect()
    for i, (number, twin) in enumerate(zip(acted, twins, strict=True)):
        handler_ms = _timed(partial(api.act, number, "hold", "l1", body))
        calls = counter.take()
        bare_ms = _timed(partial(replay, api.client, calls, (number, twin)))
        counter.take()
        calls_made = len(calls)
        if i >= WARM_UP:
            handler.append(handler_ms)
            bare.append(bare_ms)
    handler_ms, bare_ms = _median_pair(handler, bare)
    return Overhead("POST /tickets/{number}/actions/hold", runs, calls_made, handler_ms, bare_ms)


def measure(smoke: bool = False) -> list[Overhead]:
    runs = SMOKE_RUNS if smoke else FULL_RUNS
    with api_over_moto() as (api, counter):
        counter.sizing = False
        try:
            return [measure_get(api, counter, runs), measure_action(api, counter, runs // 4 or 1)]
        finally:
            counter.sizing = True


def report(results: list[Overhead]) -> str:
    lines = [
        "## Warm handler overhead",
        "",
        "The API handler invoked in-process against moto (warm: module loaded, clients built), "
        "against the same DynamoDB requests replayed with the raw boto3 client, same run; "
        "medians. The bare side is what any implementation pays for those requests (in moto); "
        "the difference is the handler's own work.",
        "",
        "| request | runs | AWS requests | handler ms | bare calls ms | handler − bare ms | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| `{r.what}` | {r.runs} | {r.calls} | {r.handler_ms:.2f} | {r.bare_ms:.2f} "
            f"| {r.handler_ms - r.bare_ms:.2f} | {r.ratio:.2f}× |"
        )
    return "\n".join(lines)


def section(smoke: bool = False) -> str:
    return report(measure(smoke))
