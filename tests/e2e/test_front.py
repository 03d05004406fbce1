"""The local API Gateway front in-process: authorizer checks, v2 events, crash handling."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from infra.localstack.apigw import HttpRequest, build_event, parse_reply
from infra.localstack.auth import InvalidToken, TokenIssuer, TokenRequest, gateway_claims
from infra.localstack.helpers import LocalRoutes
from infra.localstack.server import Gateway, LocalHttpServer
from tests.e2e.support import Api

pytestmark = pytest.mark.e2e

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test"
CLIENT = TokenRequest("fabrice", "fabrice@acme.test", ("clients",), "acme")


def test_token_round_trip_and_gateway_claims() -> None:
    issuer = TokenIssuer(ISSUER, 60)
    claims = issuer.verify(issuer.issue(CLIENT))
    assert claims["cognito:groups"] == ["clients"]
    passed = gateway_claims(claims)
    assert passed["cognito:groups"] == "[clients]"
    assert passed["custom:org_id"] == "acme"
    assert passed["exp"] == str(claims["exp"])


def test_expired_token_is_refused() -> None:
    issuer = TokenIssuer(ISSUER, 60)
    token = issuer.issue(CLIENT, now=1_000_000)
    assert issuer.verify(token, now=1_000_059)["sub"] == "fabrice"
    with pytest.raises(InvalidToken, match="expired"):
        issuer.verify(token, now=1_000_060)


def test_token_signed_by_another_secret_is_refused() -> None:
    with pytest.raises(InvalidToken, match="signature"):
        TokenIssuer(ISSUER, 60).verify(TokenIssuer(ISSUER, 60).issue(CLIENT))


def test_wrong_issuer_or_audience_is_refused() -> None:
    secret = b"k" * 32
    issuer = TokenIssuer(ISSUER, 60, secret=secret)
    with pytest.raises(InvalidToken, match="issuer"):
        issuer.verify(TokenIssuer("https://elsewhere", 60, secret=secret).issue(CLIENT))
    other_audience = TokenIssuer(ISSUER, 60, audience="another-client", secret=secret)
    with pytest.raises(InvalidToken, match="audience"):
        issuer.verify(other_audience.issue(CLIENT))


def test_event_is_an_http_api_v2_payload() -> None:
    request = HttpRequest(
        method="POST",
        target="/tickets?status=open&status=taken&limit=5",
        headers=[
            ("Content-Type", "application/json"),
            ("X-Tag", "a"),
            ("X-Tag", "b"),
            ("Cookie", "a=1; b=2"),
            ("User-Agent", "curl/8"),
        ],
        body=b'{"title": "x"}',
        source_ip="127.0.0.1",
    )
    event = build_event(request, {"sub": "fabrice"}, "127.0.0.1", 3000)
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0",
        "$default",
        "/tickets",
    )
    assert event["rawQueryString"] == "status=open&status=taken&limit=5"
    assert event["queryStringParameters"] == {"status": "open,taken", "limit": "5"}
    assert event["headers"]["x-tag"] == "a,b"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["body"] == '{"title": "x"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["http"]["userAgent"] == "curl/8"
    assert context["authorizer"]["jwt"]["claims"] == {"sub": "fabrice"}
    assert context["stage"] == "$default"


def test_binary_body_is_base64() -> None:
    request = HttpRequest("PUT", "/x", [], b"\xff\x00", "127.0.0.1")
    event = build_event(request, {}, "127.0.0.1", 3000)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"


def test_reply_conversion() -> None:
    reply = parse_reply(
        {
            "statusCode": 201,
            "headers": {"ETag": '"1"'},
            "cookies": ["s=1"],
            "body": base64.b64encode(b"\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (reply.status, reply.body) == (201, b"\x01")
    assert ("Set-Cookie", "s=1") in reply.headers
    bare = parse_reply({"hello": "world"})
    assert (bare.status, json.loads(bare.body)) == (200, {"hello": "world"})


class CrashingFunction:
    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, event: dict[str, Any]) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("boom")
        return {"statusCode": 200, "body": "ok"}


@pytest.fixture
def crashing_server() -> Iterator[tuple[Api, TokenIssuer, CrashingFunction]]:
    issuer = TokenIssuer(ISSUER, 60)
    function = CrashingFunction()
    gateway = Gateway(LocalRoutes(), issuer, function, "127.0.0.1", 0)
    server = LocalHttpServer(("127.0.0.1", 0), gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Api(f"http://127.0.0.1:{server.server_address[1]}"), issuer, function
    finally:
        server.shutdown()
        server.server_close()


def test_a_crashing_handler_is_a_500_problem_and_the_server_keeps_serving(
    crashing_server: tuple[Api, TokenIssuer, CrashingFunction],
) -> None:
    api, issuer, function = crashing_server
    token = issuer.issue(CLIENT)
    crashed = api.get("/tickets", token)
    assert crashed.status == 500
    assert crashed.content_type.startswith("application/problem+json")
    assert api.get("/tickets", token).status == 200
    assert api.get("/tickets").status == 401
    assert function.calls == 2  # the 401 never reached the function
