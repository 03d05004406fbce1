"""Swagger UI at /_local/docs, offline: the assets Powertools ships in its wheel.

Powertools' `enable_swagger` inlines (or links) `swagger-ui-bundle.min.js` and
`swagger-ui.min.css` from `aws_lambda_powertools/event_handler/openapi/swagger_ui/`; here the
page links them from /_local/docs/ so the browser caches 1.5 MB once. No CDN is needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

from infra.localstack.apigw import HttpReply
from infra.localstack.problems import json_reply, problem

if TYPE_CHECKING:
    from infra.localstack.helpers import Helper, LocalRequest, LocalRoutes

ASSETS_DIR = Path(swagger_ui.__file__).resolve().parent
ASSETS = {
    "swagger-ui-bundle.min.js": "application/javascript; charset=utf-8",
    "swagger-ui.min.css": "text/css; charset=utf-8",
}
BASE = "/_local/docs"


def _spec(spec_path: Path) -> dict[str, object] | None:
    if not spec_path.is_file():
        return None
    spec: dict[str, object] = json.loads(spec_path.read_text(encoding="utf-8"))
    # "Try it out" calls this local server.
    spec["servers"] = [{"url": "/", "description": "local stack"}]
    return spec


def page_helper(spec_path: Path) -> Helper:
    def page(request: LocalRequest) -> HttpReply:
        spec = _spec(spec_path)
        if spec is None:
            return problem(404, f"{spec_path.name} has not been written yet.")
        if "format=json" in request.http.query:
            return json_reply(200, spec)
        html = generate_swagger_html(
            spec=json.dumps(spec),
            swagger_js=f"{BASE}/swagger-ui-bundle.min.js",
            swagger_css=f"{BASE}/swagger-ui.min.css",
            swagger_base_url=BASE,
            oauth2_config=None,
            persist_authorization=True,
        )
        return HttpReply(200, [("Content-Type", "text/html; charset=utf-8")], html.encode())

    return page


def asset(request: LocalRequest) -> HttpReply:
    name = request.params["asset"]
    if name not in ASSETS:
        return problem(404, f"No asset {name}.")
    headers = [("Content-Type", ASSETS[name]), ("Cache-Control", "max-age=86400")]
    return HttpReply(200, headers, (ASSETS_DIR / name).read_bytes())


def register(routes: LocalRoutes, spec_path: Path) -> None:
    routes.add("GET", BASE, page_helper(spec_path))
    routes.add("GET", BASE + "/{asset}", asset)
