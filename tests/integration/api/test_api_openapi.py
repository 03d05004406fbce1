"""docs/openapi.json is the resolver's spec; it fails here when it is stale."""

from __future__ import annotations

import json

from infra.openapi_export import OPENAPI_PATH, render


def test_openapi_document_is_up_to_date() -> None:
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run `python -m infra.openapi_export`"
    )


def test_openapi_document_lists_the_routes() -> None:
    spec = json.loads(render())
    assert spec["info"]["title"] == "Helpdesk API"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(spec["paths"]) >= {
        "/tickets",
        "/tickets/{number}",
        "/tickets/{number}/actions/{action}",
        "/tickets/{number}/history",
        "/tickets/{number}/comments",
        "/tickets/{number}/quotes",
        "/tickets/{number}/time-entries",
        "/tickets/{number}/tasks",
        "/orgs/{org_id}",
        "/consultants/{id}",
        "/consultants",
    }
