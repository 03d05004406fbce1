"""The reliability and security suite's figures (`make reliability`).

Each module of this package measures one area and returns `Figure`s; `python -m
tests.reliability` runs them all against one local stack and prints one table, so runs can be
compared. The pytest files under tests/ call the same functions (often at a smaller size) and
assert on the figures, so the report cannot rot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.e2e.support import Api


@dataclass(frozen=True)
class Figure:
    """One measured line: `area | what | value`, `ok` when it meets its requirement."""

    area: str
    what: str
    value: int | float | str
    ok: bool = True
    detail: str = ""


@dataclass(frozen=True)
class StackContext:
    """A running local stack: its HTTP client, the demo users' tokens, its SMTP port."""

    api: Api
    tokens: dict[str, str]
    smtp_port: int
    base_url: str = field(default="")


def render(figures: list[Figure]) -> str:
    """A fixed-width table, one line per figure, a last line counting failures."""
    header = ("area", "figure", "value", "ok", "detail")
    rows = [(f.area, f.what, _format(f.value), "yes" if f.ok else "NO", f.detail) for f in figures]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    failed = sum(not f.ok for f in figures)
    lines.append(f"\n{len(figures)} figures, {failed} not meeting their requirement")
    return "\n".join(lines)


def _format(value: int | float | str) -> str:
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3g}" if value < 100 else f"{value:,.0f}"
