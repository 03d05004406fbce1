"""helpdesk.snapstart: the SnapStart runtime hooks, with a fake `snapshot_restore_py` (the real
one exists only in Lambda's Python runtimes)."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable

import pytest

from helpdesk import snapstart


class FakeRuntimeHooks(types.ModuleType):
    """What snapshot_restore_py offers: register_before_snapshot / register_after_restore."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[Callable[[], object]] = []
        self.after: list[Callable[[], object]] = []

    def register_before_snapshot(self, func: Callable[[], object]) -> None:
        self.before.append(func)

    def register_after_restore(self, func: Callable[[], object]) -> None:
        self.after.append(func)

    def snapshot(self) -> None:  # as Lambda does: in reverse order of registration
        for hook in reversed(self.before):
            hook()

    def restore(self) -> None:
        for hook in self.after:
            hook()


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> FakeRuntimeHooks:
    fake = FakeRuntimeHooks()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    return fake


def test_without_the_runtime_module_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import raises ImportError
    called: list[str] = []
    assert snapstart.register(lambda: called.append("warm")) is False
    assert called == []


def test_hooks_are_registered_and_warm_runs_before_the_snapshot_only(
    runtime: FakeRuntimeHooks,
) -> None:
    called: list[str] = []
    registered = snapstart.register(
        lambda: called.append("service"),
        lambda: called.append("routers"),
        after_restore=[lambda: called.append("restored")],
    )
    assert registered is True
    assert (len(runtime.before), len(runtime.after)) == (1, 1)
    assert called == []  # registering runs nothing

    runtime.snapshot()
    assert called == ["service", "routers"]
    runtime.restore()
    assert called == ["service", "routers", "restored"]


def test_restore_reseeds_random(runtime: FakeRuntimeHooks) -> None:
    """Two environments restored from one snapshot must not draw the same numbers."""
    snapstart.register()
    random.seed(1234)  # the state the snapshot would hold
    state_in_snapshot = random.getstate()
    draws = []
    for _ in range(2):  # two environments restored from that snapshot
        random.setstate(state_in_snapshot)
        runtime.restore()
        draws.append([random.random() for _ in range(4)])
    random.setstate(state_in_snapshot)
    without_restore = [random.random() for _ in range(4)]
    assert draws[0] != draws[1]
    assert without_restore not in draws
