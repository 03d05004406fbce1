"""`authMode: cognito` (AWS): code + PKCE against Cognito's managed login, then its own logout
endpoint. config.json, Cognito and the API are answered here (no AWS)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.web.conftest import Browsing

COGNITO = "https://helpdesk-dev-123.auth.eu-west-1.amazoncognito.test"
API = "https://api.helpdesk.test"
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def id_token(nonce: str | None) -> str:
    claims = {
        "sub": "fabrice",
        "email": "fabrice@acme.test",
        "cognito:groups": ["clients"],
        "custom:org_id": "acme",
        "iss": ISSUER,
        "aud": "web-client-id",
        "exp": 4_102_444_800,
        "iat": 1_700_000_000,
    }
    if nonce:
        claims["nonce"] = nonce
    return f"{_b64({'alg': 'RS256', 'kid': 'k'})}.{_b64(claims)}.c2lnbmF0dXJl"


def test_code_flow_with_pkce_and_cognito_logout(web: Browsing) -> None:
    page = web.page()
    app_origin = web.app_url.rsplit("/app", 1)[0]
    config = {
        "apiUrl": API,
        "authMode": "cognito",
        "cognitoDomain": COGNITO,
        "cognitoIssuer": ISSUER,
        "clientId": "web-client-id",
        "redirectUri": f"{web.app_url}/callback",
        "logoutUri": f"{web.app_url}/",
    }
    seen: dict[str, Any] = {}

    page.route("**/app/config.json", lambda route: route.fulfill(json=config))

    def authorize(route: Any) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        seen["authorize"] = query
        target = f"{config['redirectUri']}?code=the-code&state={query['state'][0]}"
        route.fulfill(status=302, headers={"Location": target})

    def token(route: Any) -> None:
        seen["token"] = parse_qs(route.request.post_data or "")
        nonce = seen["authorize"].get("nonce", [None])[0]
        route.fulfill(
            json={
                "id_token": id_token(nonce),
                "access_token": id_token(None),
                "token_type": "Bearer",
                "expires_in": 3600,
            },
            headers={"Access-Control-Allow-Origin": app_origin},
        )

    def api(route: Any) -> None:
        seen.setdefault("api", []).append(route.request.headers.get("authorization"))
        route.fulfill(
            json={"items": [], "next_cursor": None},
            headers={"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*"},
        )

    def logout(route: Any) -> None:
        seen["logout"] = parse_qs(urlsplit(route.request.url).query)
        route.fulfill(body="signed out", content_type="text/plain")

    page.route(f"{COGNITO}/oauth2/authorize*", authorize)
    page.route(f"{COGNITO}/oauth2/token", token)
    page.route(f"{COGNITO}/logout*", logout)
    page.route(f"{API}/**", api)

    web.goto(page, "/login")
    expect(page.get_by_role("button", name="en tant que")).to_have_count(0)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/app/tickets$"))

    query = seen["authorize"]
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["web-client-id"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [config["redirectUri"]]
    assert seen["token"]["grant_type"] == ["authorization_code"]
    assert seen["token"]["code"] == ["the-code"]
    assert len(seen["token"]["code_verifier"][0]) >= 43
    assert seen["api"] and all(h and h.startswith("Bearer ") for h in seen["api"])
    expect(page.get_by_text("fabrice (client, acme)")).to_be_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("signed out")).to_be_visible()
    assert seen["logout"] == {"client_id": ["web-client-id"], "logout_uri": [config["logoutUri"]]}
