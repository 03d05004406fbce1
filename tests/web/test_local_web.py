"""infra/localstack/web.py: web/dist at /app/ with the SPA fallback and a generated config.json
(no stack, no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.localstack import web
from infra.localstack.apigw import HttpReply, HttpRequest


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>app</html>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("no")
    return tmp_path


def get(
    path: str, dist: Path, method: str = "GET", host: str | None = "127.0.0.1:3000"
) -> HttpReply:
    headers = [("Host", host)] if host else []
    request = HttpRequest(method, path, headers, b"", "127.0.0.1")
    return web.serve(request, web.base_url(host, "127.0.0.1", 3000), dist)


def header(reply: HttpReply, name: str) -> str:
    return next(v for k, v in reply.headers if k.lower() == name.lower())


def test_routes_of_the_app_are_its_index(dist: Path) -> None:
    for path in ("/app/", "/app/tickets", "/app/tickets/12", "/app/l/abc_DEF-1", "/app/login"):
        reply = get(path, dist)
        assert (reply.status, reply.body) == (200, b"<html>app</html>"), path
        assert header(reply, "Content-Type").startswith("text/html")
        assert header(reply, "Cache-Control") == "no-cache"


def test_files_are_served_and_assets_are_immutable(dist: Path) -> None:
    reply = get("/app/assets/index-abc.js", dist)
    assert reply.status == 200
    assert header(reply, "Content-Type").startswith("text/javascript")
    assert "immutable" in header(reply, "Cache-Control")
    assert get("/app/assets/missing-123.js", dist).status == 404
    assert get("/app", dist).status == 302


def test_nothing_outside_dist_and_only_reads(dist: Path) -> None:
    assert get("/app/../secret.txt", dist).status == 404
    assert get("/app/%2e%2e/secret.txt", dist).status == 404
    assert get("/app/tickets", dist, method="POST").status == 405


def test_config_json_points_at_this_port_with_the_demo_users(dist: Path) -> None:
    config = json.loads(get("/app/config.json", dist, host="localhost:4000").body)
    assert config["apiUrl"] == "http://localhost:4000"
    assert config["authMode"] == "local"
    assert [u["sub"] for u in config["demoUsers"]][:3] == ["fabrice", "gina", "lea"]
    assert json.loads(get("/app/config.json", dist, host="evil/../x").body)["apiUrl"] == (
        "http://127.0.0.1:3000"
    )


def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    reply = get("/app/tickets", tmp_path)
    assert reply.status == 503
    assert b"make run" in reply.body
