"""The OpenAPI document and Swagger UI, served offline by the local stack."""

from __future__ import annotations

import json

import pytest

from tests.e2e.support import REPO_ROOT, Api

pytestmark = pytest.mark.e2e

OPENAPI = REPO_ROOT / "docs" / "openapi.json"


def test_openapi_document_is_docs_openapi_json(api: Api) -> None:
    reply = api.get("/_local/openapi.json")
    assert reply.status == 200
    assert reply.json() == json.loads(OPENAPI.read_text(encoding="utf-8"))
    assert "/tickets" in reply.json()["paths"]


def test_swagger_ui_needs_no_internet(api: Api) -> None:
    page = api.get("/_local/docs")
    assert page.status == 200 and page.content_type.startswith("text/html")
    html = page.body.decode()
    assert "/_local/docs/swagger-ui-bundle.min.js" in html
    assert "https://" not in html.split("spec:")[0]  # no CDN before the inlined spec
    for asset, kind in (("swagger-ui-bundle.min.js", "javascript"), ("swagger-ui.min.css", "css")):
        reply = api.get(f"/_local/docs/{asset}")
        assert reply.status == 200 and kind in reply.content_type
        assert len(reply.body) > 10_000
    assert api.get("/_local/docs/other.js").status == 404
