"""HTTP API (payload v2) events as API Gateway hands them to the function, and a fake context."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

# Token claims per kind of caller, as the Cognito JWT authorizer passes them on (API Gateway
# flattens the `cognito:groups` array to "[a b]"). Subjects match tests/conftest.py's roster.
CLAIMS: dict[str, dict[str, str] | None] = {
    "client": {
        "sub": "client-acme",
        "email": "fabrice@acme.example",
        "cognito:groups": "[clients]",
        "custom:org_id": "acme",
    },
    "other_client": {
        "sub": "client-globex",
        "email": "x@globex.example",
        "cognito:groups": "[clients]",
        "custom:org_id": "globex",
    },
    "l1": {"sub": "cons-l1", "email": "l1@consult.example", "cognito:groups": "[consultants-l1]"},
    "l1b": {
        "sub": "cons-l1b",
        "email": "l1b@consult.example",
        "cognito:groups": "[consultants-l1]",
    },
    "l2": {"sub": "cons-l2", "email": "l2@consult.example", "cognito:groups": "[consultants-l2]"},
    "l3": {"sub": "cons-l3", "email": "l3@consult.example", "cognito:groups": "[consultants-l3]"},
    "manager": {
        "sub": "manager-1",
        "email": "boss@consult.example",
        "cognito:groups": "[managers]",
    },
    "finance": {
        "sub": "finance-1",
        "email": "finance@consult.example",
        "cognito:groups": "[finance]",
    },
    "none": None,
}


def http_event(
    method: str,
    path: str,
    *,
    claims: dict[str, Any] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2 event for `$default` (headers lowercased)."""
    all_headers = {"content-type": "application/json", "host": "api.example"}
    if claims is not None:
        all_headers["authorization"] = "Bearer test-token"
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "pytest",
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": "$default",
        "stage": "$default",
        "time": "27/Nov/2026:09:00:00 +0000",
        "timeEpoch": 1795770000000,
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if text is not None:
        event["body"] = text
    return event


@dataclass
class FakeLambdaContext:
    function_name: str = "helpdesk-api"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:helpdesk-api"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    log_group_name: str = "/aws/lambda/helpdesk-api"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r})"
