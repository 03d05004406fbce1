"""Local-only routes under /_local/ (never in the deployed stack).

A helper is a function `(LocalRequest) -> HttpReply` registered on `LocalRoutes` with a method
and a path pattern (`{name}` matches one segment, a last `{rest+}` the remaining path). Later work adds its helpers
(`POST /_local/schedules/{name}`, `GET /_local/outbox`) with one `routes.add(...)` in
`LocalStack._local_routes` (infra/localstack/stack.py); until then those paths answer 404 like
any unknown /_local/ path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.localstack.apigw import HttpReply, HttpRequest
from infra.localstack.auth import InvalidTokenRequest, TokenIssuer, parse_token_request
from infra.localstack.problems import invalid_input, json_reply, problem

PREFIX = "/_local/"


@dataclass(frozen=True)
class LocalRequest:
    http: HttpRequest
    params: dict[str, str]

    def json(self) -> Any:
        """The body as JSON, or ValueError."""
        return json.loads(self.http.body.decode("utf-8")) if self.http.body else None


Helper = Callable[[LocalRequest], HttpReply]


def _segment(seg: str) -> str:
    if seg.startswith("{") and seg.endswith("+}"):
        return f"(?P<{seg[1:-2]}>.+)"  # `{key+}`: the rest of the path, slashes included
    if seg.startswith("{") and seg.endswith("}"):
        return f"(?P<{seg[1:-1]}>[^/]+)"
    return re.escape(seg)


def _compile(pattern: str) -> re.Pattern[str]:
    """`/_local/schedules/{name}` -> a regex whose group `name` matches one path segment;
    a last `{key+}` matches the rest of the path (`/_local/s3/{bucket}/{key+}`)."""
    return re.compile("^" + "/".join(_segment(seg) for seg in pattern.split("/")) + "$")


class LocalRoutes:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Helper]] = []

    def add(self, method: str, pattern: str, helper: Helper) -> None:
        if not pattern.startswith(PREFIX):
            raise ValueError(f"local helpers live under {PREFIX}: {pattern}")
        self._routes.append((method.upper(), _compile(pattern), helper))

    def dispatch(self, request: HttpRequest) -> HttpReply:
        path_matched = False
        for method, regex, helper in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            path_matched = True
            if method == request.method:
                return helper(LocalRequest(request, match.groupdict()))
        if path_matched:
            return problem(405, f"{request.method} is not allowed on {request.path}.")
        return problem(404, f"No local helper at {request.path}.")


# ------------------------------------------------------------------ the helpers
def health(_request: LocalRequest) -> HttpReply:
    return json_reply(200, {"status": "ok"})


def token_helper(issuer: TokenIssuer) -> Helper:
    def create_token(request: LocalRequest) -> HttpReply:
        try:
            body = request.json()
        except (UnicodeDecodeError, ValueError):
            return invalid_input("body", "The body must be JSON.")
        try:
            token_request = parse_token_request(body)
        except InvalidTokenRequest as exc:
            return invalid_input(exc.field, exc.detail)
        return json_reply(200, {"token": issuer.issue(token_request)})

    return create_token


def openapi_helper(spec_path: Path) -> Helper:
    def openapi(_request: LocalRequest) -> HttpReply:
        if not spec_path.is_file():
            return problem(404, f"{spec_path.name} has not been written yet.")
        return HttpReply(200, [("Content-Type", "application/json")], spec_path.read_bytes())

    return openapi


def default_routes(issuer: TokenIssuer, spec_path: Path) -> LocalRoutes:
    """Health, tokens, the OpenAPI document and Swagger UI."""
    from infra.localstack import docs

    routes = LocalRoutes()
    routes.add("GET", "/_local/health", health)
    routes.add("POST", "/_local/tokens", token_helper(issuer))
    routes.add("GET", "/_local/openapi.json", openapi_helper(spec_path))
    docs.register(routes, spec_path)
    return routes
