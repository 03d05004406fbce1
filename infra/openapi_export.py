"""Write the HTTP API's OpenAPI document (from the function's resolver) to docs/openapi.json.

    python -m infra.openapi_export          # write it
    python -m infra.openapi_export --check  # exit 1 when docs/openapi.json is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OPENAPI_PATH = REPO_ROOT / "docs" / "openapi.json"

DESCRIPTION = (
    "Support tickets for application-support contracts. JSON in and out; errors are "
    "RFC 9457 `application/problem+json`. See DESIGN.md §4."
)


def render() -> str:
    """The document as it must be stored: sorted keys, indent 2, trailing newline."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from functions.api.app import include_all_routes

    schema = include_all_routes().get_openapi_json_schema(
        title="Helpdesk API",
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearerAuth": []}],
    )
    document = _without_no_content_bodies(_with_media_type_problems(json.loads(schema)))
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _with_media_type_problems(document: dict[str, Any]) -> dict[str, Any]:
    """The 415 the function answers before routing (helpdesk.entrypoints.http.errors.body_problem)."""
    from helpdesk.entrypoints.http.errors import JSON_BODY_METHODS, UNSUPPORTED_MEDIA_TYPE

    answer = {
        "description": "The body is not declared application/json",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    for item in document["paths"].values():
        for method, operation in item.items():
            if method.upper() in JSON_BODY_METHODS:
                operation["responses"][str(UNSUPPORTED_MEDIA_TYPE)] = answer
    return document


def _without_no_content_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """A 204 has no body: Powertools documents the route's `Response[None]` as JSON null."""
    for item in document["paths"].values():
        for operation in item.values():
            answer = operation.get("responses", {}).get("204")
            if answer is not None:
                answer.pop("content", None)
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
        if current != text:
            print(f"{OPENAPI_PATH} is stale: run python -m infra.openapi_export", file=sys.stderr)
            return 1
        print(f"{OPENAPI_PATH} is up to date")
        return 0
    OPENAPI_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
