"""`python -m infra.localstack` (`make run`): the whole system on this machine.

Order matters: moto first (DynamoDB serialised: moto does no locking), then the template's
resources, then the functions' environment, and only then the handler import (its module-level
clients and settings read that environment). Ctrl-C or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from types import FrameType

from infra.localstack import REPO_ROOT
from infra.localstack.config import ConfigError, LocalConfig
from infra.localstack.stack import LocalStack

log = logging.getLogger("localstack")


def _wait_for_signal() -> None:
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stop.wait(0.5):
        pass


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials in env..."
    os.chdir(REPO_ROOT)
    try:
        config = LocalConfig.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    stack = LocalStack(config)
    try:
        stack.start()
    except OSError as exc:
        print(f"error: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    try:
        print(stack.banner(time.monotonic() - started), flush=True)
        _wait_for_signal()
    finally:
        stopping = time.monotonic()
        stack.stop()
        log.info("stopped (%.2f s)", time.monotonic() - stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main())
