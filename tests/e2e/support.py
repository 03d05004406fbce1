"""A small HTTP client for the local stack (stdlib only) and the process that runs it."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lowercased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Api:
    """`api.post("/tickets", token, {...})` -> Reply. One connection per request."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        payload: bytes | None = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, reply_headers, response.read())
        finally:
            connection.close()

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> Reply:
        return self.request("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, token, body, **kwargs)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class StackProcess:
    """`python -m infra.localstack` as a subprocess, its output captured in a file."""

    def __init__(self, output: IO[str], port: int, smtp_port: int | None = None) -> None:
        self.output = output
        self.port = port
        self.smtp_port = smtp_port if smtp_port is not None else free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PORT": str(port),
            "SMTP_PORT": str(self.smtp_port),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.localstack"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def text(self) -> str:
        self.output.flush()
        return Path(self.output.name).read_text(encoding="utf-8", errors="replace")

    def _healthy(self) -> bool:
        try:
            reply = Api(self.base_url).get("/_local/health")
        except OSError:
            return False
        return reply.status == 200 and "export TOKEN_FINANCE=" in self.text()

    def wait_until_up(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> float:
        """Seconds it took to be healthy (and to print its tokens), or RuntimeError."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited ({self.process.returncode})")
            if self._healthy():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"the local stack was not healthy within {timeout:.0f} s")

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode

    def exported(self) -> dict[str, str]:
        """`export NAME=value  # comment` lines of its output, as a dict."""
        exports: dict[str, str] = {}
        for line in self.text().splitlines():
            if line.startswith("export "):
                name, _, rest = line[len("export ") :].partition("=")
                exports[name] = rest.split()[0]
        return exports

    def tokens(self) -> dict[str, str]:
        """The demo users' tokens as printed at start: CLIENT_ACME, L1, MANAGER..."""
        return {
            name.removeprefix("TOKEN_"): value
            for name, value in self.exported().items()
            if name.startswith("TOKEN_")
        }


def create_ticket(api: Api, token: str, ticket_type: str = "assistance", **fields: Any) -> Any:
    body = {
        "title": "Imprimante bloquée",
        "description": "Elle ne répond plus.",
        "type": ticket_type,
    }
    reply = api.post("/tickets", token, {**body, **fields})
    assert reply.status == 201, reply.body
    return reply.json()


def act(api: Api, token: str, number: int, action: str, body: Any = None, **kwargs: Any) -> Reply:
    return api.post(f"/tickets/{number}/actions/{action}", token, body, **kwargs)
