"""API Gateway HTTP API (payload format 2.0) in both directions.

`build_event` turns an HTTP request into the event the Lambda integration receives;
`parse_reply` turns the Lambda's reply into status, headers and body, as API Gateway does.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query, as on the request line
    headers: list[tuple[str, str]]  # as received, repeated names included
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0] or "/"

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        values = [v for k, v in self.headers if k.lower() == wanted]
        return ",".join(values) if values else None


@dataclass
class HttpReply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated names joined with ',' (the v2 payload's single-value maps)."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _cookies(request: HttpRequest) -> list[str]:
    cookies: list[str] = []
    for name, value in request.headers:
        if name.lower() == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
    return cookies


def _body(request: HttpRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(request.body).decode("ascii"), True


def _headers(request: HttpRequest, host: str, port: int) -> dict[str, str]:
    headers = _joined(
        (k.lower(), v) for k, v in request.headers if k.lower() not in ("cookie", "connection")
    )
    headers.setdefault("host", f"{host}:{port}")
    headers["x-forwarded-for"] = request.source_ip
    headers["x-forwarded-port"] = str(port)
    headers["x-forwarded-proto"] = "http"
    return headers


def _request_context(
    request: HttpRequest, host: str, claims: Mapping[str, str] | None, route_key: str
) -> dict[str, Any]:
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(time.time() * 1000),
    }
    if claims is not None:  # a route without authorizer has no `authorizer` at all
        context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    return context


def build_event(
    request: HttpRequest, claims: Mapping[str, str] | None, host: str, port: int
) -> dict[str, Any]:
    """The HTTP API v2 event of the template's `ANY /{proxy+}` route for this request
    (`claims` None: a route without authorizer, see `public_routes`)."""
    body, is_base64 = _body(request)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": _headers(request, host, port),
        "requestContext": _request_context(request, host, claims, "$default"),
        "isBase64Encoded": is_base64,
    }
    cookies = _cookies(request)
    if cookies:
        event["cookies"] = cookies
    query = _joined(parse_qsl(request.query, keep_blank_values=True))
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return event


def _reply_headers(reply: Mapping[str, Any]) -> list[tuple[str, str]]:
    headers = [(str(k), str(v)) for k, v in (reply.get("headers") or {}).items()]
    for name, values in (reply.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("Set-Cookie", str(c)) for c in reply.get("cookies") or [])
    return headers


def parse_reply(reply: Any) -> HttpReply:
    """A Lambda reply as API Gateway serves it (v2: a bare value is a 200 JSON body)."""
    if not isinstance(reply, dict) or "statusCode" not in reply:
        body = json.dumps(reply).encode()
        return HttpReply(200, [("Content-Type", "application/json")], body)
    raw = reply.get("body")
    if raw is None:
        body = b""
    elif reply.get("isBase64Encoded"):
        body = base64.b64decode(str(raw))
    else:
        body = str(raw).encode("utf-8")
    return HttpReply(int(reply["statusCode"]), _reply_headers(reply), body)


# ------------------------------------------------- routes without an authorizer
@dataclass(frozen=True)
class PublicRoute:
    """A route of the template whose HttpApi event says `Auth: Authorizer: NONE`: API
    Gateway calls the function without a token (the action links, DESIGN.md §8)."""

    method: str
    path: str  # as in the template: /links/{token}

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        for segment in self.path.split("/"):
            if segment.startswith("{") and segment.endswith("+}"):
                parts.append(".+")
            elif segment.startswith("{") and segment.endswith("}"):
                parts.append("[^/]+")
            else:
                parts.append(re.escape(segment))
        return re.compile("/".join(parts))

    def matches(self, request: HttpRequest) -> bool:
        method_ok = self.method == "ANY" or request.method.upper() == self.method
        return method_ok and self.pattern.fullmatch(request.path) is not None


def public_routes(template: Mapping[str, Any]) -> tuple[PublicRoute, ...]:
    """Every HttpApi event of the template's functions that has no authorizer."""
    routes: list[PublicRoute] = []
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            props = event.get("Properties") or {}
            authorizer = (props.get("Auth") or {}).get("Authorizer")
            if event.get("Type") == "HttpApi" and authorizer == "NONE":
                routes.append(PublicRoute(str(props["Method"]).upper(), str(props["Path"])))
    return tuple(routes)
