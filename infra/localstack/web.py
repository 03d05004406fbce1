"""`GET /app/...`: the web app (web/dist, built by `make run`) on the API's port.

- `/app/config.json` is generated here: the app's runtime configuration (DESIGN §9), with the
  API's URL as the browser reached this port (same origin: no CORS locally), `authMode`
  `local` and the demo users of the login page.
- a file of web/dist is served as is (hashed assets are immutable);
- any other `/app/...` path is the single-page app's index.html (its router shows the page);
- `/app` redirects to `/app/`.
Only GET and HEAD; the files never leave web/dist (no `..`, no symlink out of it).
"""

from __future__ import annotations

import json
import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote

from infra.localstack import REPO_ROOT
from infra.localstack.apigw import HttpReply, HttpRequest
from infra.localstack.problems import problem
from infra.localstack.seed import DEMO_USERS

APP_PREFIX = "/app"
DIST_DIR = REPO_ROOT / "web" / "dist"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
_SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
]


_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def base_url(host_header: str | None, host: str, port: int) -> str:
    """The API's URL as the browser reached it (its Host header when well formed)."""
    if host_header and _HOST.match(host_header):
        return f"http://{host_header}"
    return f"http://{host}:{port}"


def is_app_path(path: str) -> bool:
    return path == APP_PREFIX or path.startswith(APP_PREFIX + "/")


def app_config(base_url: str) -> dict[str, object]:
    return {
        "apiUrl": base_url,
        "authMode": "local",
        "demoUsers": [
            {"sub": u.sub, "email": u.email, "groups": [u.group], "org_id": u.org_id}
            for u in DEMO_USERS
        ],
    }


def _file(path: Path, cache: str) -> HttpReply:
    content_type = _TYPES.get(path.suffix) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    headers = [("Content-Type", content_type), ("Cache-Control", cache), *_SECURITY_HEADERS]
    return HttpReply(200, headers, path.read_bytes())


def serve(request: HttpRequest, base_url: str, dist: Path = DIST_DIR) -> HttpReply:
    if request.method not in ("GET", "HEAD"):
        return problem(405, f"{request.method} is not allowed on {request.path}.")
    path = unquote(request.path)
    if path == APP_PREFIX:
        return HttpReply(302, [("Location", APP_PREFIX + "/")])
    rest = path[len(APP_PREFIX) + 1 :]
    if rest == "config.json":
        body = json.dumps(app_config(base_url)).encode("utf-8")
        return HttpReply(
            200, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body
        )
    index = dist / "index.html"
    if not index.is_file():
        return problem(
            503, "The web app is not built: run `make run` (or `make web-build`) to build web/dist."
        )
    root = dist.resolve()
    if rest:
        candidate = (dist / rest).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            immutable = candidate.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return _file(candidate, cache)
        if "." in rest.rsplit("/", 1)[-1]:
            # A missing file (an old asset, a typo) is a 404, not the app's page.
            return problem(404, f"No file at {request.path}.")
    return _file(index, "no-cache")
