"""Lambda SnapStart runtime hooks (template.yaml parameter `SnapStart`, docs/operations.md).

With SnapStart, Lambda runs a function's init once, when a version is published, snapshots the
process, and starts every new execution environment of that version from the snapshot. So:

- before the snapshot, whatever a first request would otherwise build is built now (the
  `warm` callables: the API builds its service, i.e. imports boto3, loads the service models
  and makes its clients), so a restored environment does not pay for it;
- after each restore, what must differ between environments is made again. Python's `random`
  was seeded once at init: every environment restored from one snapshot would draw the same
  numbers (the retry jitter of adapters/dynamodb/toolkit.py included, which exists to spread
  retries apart), so it is reseeded from the OS. `uuid.uuid4` and `secrets` read os.urandom on
  each call and need nothing.

What may stay in the snapshot: the AWS clients. Building one opens no connection (no AWS
request is made before the snapshot: nothing stale sits in their pools, and botocore's retry
modes retry a closed connection anyway), and a SnapStart function gets its credentials from the
container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), which botocore turns
into refreshable credentials, fetched again with the environment's token when they expire.
Powertools keeps no per-environment state made at init: the Logger's keys are cleared on each
invocation (`clear_state=True`), Metrics are flushed by each invocation, the cold-start flag is
still set in the snapshot (the first invocation of a restored environment reports cold_start),
and the idempotency records live in DynamoDB.

`snapshot_restore_py` exists only in Lambda's Python runtimes (3.12+); elsewhere (tests, the
local stack) `register` does nothing. On Lambda without SnapStart the hooks are registered and
never run.
"""

from __future__ import annotations

import importlib
import logging
import random
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["register"]

RUNTIME_HOOKS_MODULE = "snapshot_restore_py"

_log = logging.getLogger(__name__)


def _hooks_module() -> Any | None:
    try:
        return importlib.import_module(RUNTIME_HOOKS_MODULE)
    except ImportError:
        return None


def register(
    *warm: Callable[[], object], after_restore: Iterable[Callable[[], object]] = ()
) -> bool:
    """Register the before-snapshot hook (call each of `warm`) and the after-restore hook
    (reseed `random`, then call each of `after_restore`). True when the runtime has hooks."""
    hooks = _hooks_module()
    if hooks is None:
        return False
    restore_steps = tuple(after_restore)

    def before_snapshot() -> None:
        for step in warm:
            step()

    def on_restore() -> None:
        random.seed()  # from os.urandom: each restored environment draws its own numbers
        for step in restore_steps:
            step()
        _log.debug("restored from a SnapStart snapshot: random reseeded")

    hooks.register_before_snapshot(before_snapshot)
    hooks.register_after_restore(on_restore)
    return True
