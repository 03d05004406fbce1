"""The action-link routes (DESIGN.md §8) in template.yaml, after the SAM transform, and in the
local front: no JWT authorizer on exactly those two routes, and their own throttling."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.entrypoints.http import links as link_routes
from infra.cfn_template import resource_properties, to_cloudformation
from infra.localstack.apigw import HttpRequest, public_routes
from infra.localstack.auth import TokenIssuer
from infra.localstack.helpers import LocalRoutes
from infra.localstack.server import Gateway

LINK_ROUTES = {("GET", "/links/{token}"), ("POST", "/links/{token}")}


def http_api_events(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every HttpApi event of every function, by function.event."""
    found = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event_name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] == "HttpApi":
                found[f"{name}.{event_name}"] = event["Properties"]
    return found


def test_only_the_link_routes_go_without_authorizer(template: dict[str, Any]) -> None:
    open_routes = {
        (props["Method"], props["Path"])
        for props in http_api_events(template).values()
        if (props.get("Auth") or {}).get("Authorizer") == "NONE"
    }
    assert open_routes == LINK_ROUTES
    for props in http_api_events(template).values():
        assert props["ApiId"] == {"Ref": "HttpApi"}
        auth = props.get("Auth")
        # every other route keeps the default JWT authorizer
        assert auth is None or auth == {"Authorizer": "NONE"}, props


def test_link_routes_are_throttled_below_the_default(template: dict[str, Any]) -> None:
    api = resource_properties(template, "HttpApi")
    default = api["DefaultRouteSettings"]
    settings = api["RouteSettings"]
    assert set(settings) == {f"{method} {path}" for method, path in LINK_ROUTES}
    for route in settings.values():
        assert 0 < route["ThrottlingRateLimit"] < default["ThrottlingRateLimit"]
        assert 0 < route["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"]


def test_after_the_sam_transform(template: dict[str, Any]) -> None:
    cfn = to_cloudformation(template)
    body = cfn["Resources"]["HttpApi"]["Properties"]["Body"]
    for method in ("get", "post"):
        operation = body["paths"]["/links/{token}"][method]
        # SAM's way of saying "no authorizer" in the imported OpenAPI body
        assert operation["security"] == [{"NONE": []}]
        assert operation["x-amazon-apigateway-integration"]["payloadFormatVersion"] == "2.0"
    proxy = body["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]
    assert proxy["security"] == [{"CognitoJwt": []}]
    [stage] = [r for r in cfn["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    route_settings = stage["Properties"]["RouteSettings"]
    assert set(route_settings) == {"GET /links/{token}", "POST /links/{token}"}
    assert all("ThrottlingRateLimit" in s for s in route_settings.values())


def test_the_function_and_the_local_front_know_the_same_open_routes(
    template: dict[str, Any],
) -> None:
    local = {(route.method, route.path) for route in public_routes(template)}
    assert local == LINK_ROUTES
    assert set(link_routes.PUBLIC_ROUTES) == LINK_ROUTES


# ------------------------------------------------------------------ the local front


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return {"statusCode": 200, "body": "{}"}


@pytest.fixture
def gateway(template: dict[str, Any]) -> tuple[Gateway, Recorder]:
    recorder = Recorder()
    issuer = TokenIssuer("http://local/issuer", 60)
    front = Gateway(LocalRoutes(), issuer, recorder, "127.0.0.1", 0, public_routes(template))
    return front, recorder


def _request(method: str, path: str) -> HttpRequest:
    return HttpRequest(method, path, [("Content-Type", "application/json")], b"", "127.0.0.1")


def test_the_local_front_calls_the_function_for_links_without_a_token(
    gateway: tuple[Gateway, Recorder],
) -> None:
    front, recorder = gateway
    token = "A" * 43
    for method in ("GET", "POST"):
        assert front.handle(_request(method, f"/links/{token}")).status == 200
    assert len(recorder.events) == 2
    for event in recorder.events:
        assert "authorizer" not in event["requestContext"]  # as API Gateway: no authorizer
        assert link_routes.is_public(event)
    for method, path in (
        ("PUT", f"/links/{token}"),
        ("GET", f"/links/{token}/x"),
        ("GET", "/links/"),
        ("GET", "/tickets/1"),
    ):
        assert front.handle(_request(method, path)).status == 401, (method, path)
    assert len(recorder.events) == 2  # a 401 never reaches the function


def test_the_handler_treats_as_public_exactly_the_link_routes() -> None:
    def event(method: str, path: str) -> dict[str, Any]:
        return {"rawPath": path, "requestContext": {"http": {"method": method, "path": path}}}

    assert link_routes.is_public(event("GET", "/links/abc"))
    assert link_routes.is_public(event("POST", "/links/abc"))
    assert not link_routes.is_public(event("PUT", "/links/abc"))
    assert not link_routes.is_public(event("GET", "/links/abc/def"))
    assert not link_routes.is_public(event("GET", "/links/"))
    assert not link_routes.is_public(event("GET", "/tickets/1"))
    assert not link_routes.is_public(event("GET", "/x/links/abc"))
    assert not link_routes.is_public({})
