"""Browser tests of the web app (DESIGN §9): Playwright for Python driving Debian's chromium
against the local stack (`python -m infra.localstack`, started as the e2e tests do), which
serves web/dist at /app/.

`make test` builds web/dist first (`make web-build`) and stops when no browser is installed
(`make browser-check`); here a missing build or browser fails the run with the command that
fixes it: these tests are never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import api, stack, tokens  # noqa: F401  (session fixtures, reused)
from tests.e2e.support import REPO_ROOT, StackProcess

DIST = REPO_ROOT / "web" / "dist"
AXE_JS = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
FIGURES_PATH = REPO_ROOT / "tmp" / "web-figures.json"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = "install Debian's chromium: apt-get install -y chromium"

# What the tests measured, written to tmp/web-figures.json and printed at the end.
FIGURES: dict[str, Any] = {"axe": {}, "first_paint_ms": [], "first_load_js_gzip_bytes": None}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.web)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES["axe"] and not FIGURES["first_paint_ms"]:
        return
    FIGURES_PATH.parent.mkdir(exist_ok=True)
    FIGURES_PATH.write_text(json.dumps(FIGURES, indent=2, ensure_ascii=False), encoding="utf-8")
    pages = FIGURES["axe"]
    serious = sum(p["serious_or_critical"] for p in pages.values())
    minor = sum(p["other"] for p in pages.values())
    terminalreporter.write_line(
        f"web: axe-core checked {len(pages)} pages: {serious} serious/critical violations, "
        f"{minor} moderate/minor"
    )
    paints = FIGURES["first_paint_ms"]
    if paints:
        terminalreporter.write_line(
            "web: ticket list first meaningful paint (ms): " + ", ".join(f"{p:.0f}" for p in paints)
        )
    if FIGURES["first_load_js_gzip_bytes"]:
        kb = FIGURES["first_load_js_gzip_bytes"] / 1000
        terminalreporter.write_line(f"web: first load of /app/: {kb:.1f} kB of JavaScript (gzip)")
    terminalreporter.write_line(f"web: figures in {FIGURES_PATH.relative_to(REPO_ROOT)}")


def _browser_executable() -> str | None:
    """Debian's chromium, else Playwright's own browser (None), else fail with the fix."""
    if Path(DEBIAN_CHROMIUM).exists():
        return DEBIAN_CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    cache = Path.home() / ".cache" / "ms-playwright"
    if any(cache.glob("chromium-*")):
        return None
    pytest.fail(f"No browser for the web tests: {INSTALL_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def app_url(stack: StackProcess) -> str:  # noqa: F811
    if not (DIST / "index.html").is_file():
        pytest.fail("web/dist is not built: run `make web-build`", pytrace=False)
    return f"{stack.base_url}/app"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: run `make venv`", pytrace=False)
    executable = _browser_executable()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


class Browsing:
    """Opens pages as a demo user; checks pages with axe-core; saves screenshots."""

    def __init__(self, browser: Any, app_url: str) -> None:
        self.browser = browser
        self.app_url = app_url
        self.contexts: list[Any] = []

    def page(self, user: str | None = None, width: int = 1280, height: int = 900) -> Any:
        context = self.browser.new_context(
            viewport={"width": width, "height": height},
            locale="fr-FR",
            timezone_id="Europe/Paris",
            bypass_csp=True,  # to inject axe-core
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        if user is not None:
            self.login(page, user)
        return page

    def login(self, page: Any, user: str) -> None:
        page.goto(f"{self.app_url}/login")
        page.get_by_role("button", name=f"en tant que {user} ").click()
        page.get_by_role("button", name="Se déconnecter").wait_for()

    def goto(self, page: Any, path: str) -> None:
        page.goto(f"{self.app_url}{path}")

    def axe(self, page: Any, name: str) -> list[dict[str, Any]]:
        """Runs axe-core on the page; records and returns the serious/critical violations."""
        page.wait_for_load_state("networkidle")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE_JS))
        result = page.evaluate("async () => await axe.run(document)")
        violations = result["violations"]
        bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
        FIGURES["axe"][name] = {
            "url": page.url.split("/app", 1)[-1],
            "serious_or_critical": len(bad),
            "other": len(violations) - len(bad),
            "rules": sorted({v["id"] for v in violations}),
        }
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in bad
        ]

    def screenshot(self, page: Any, name: str) -> None:
        """docs/screenshots/<name>.png, written when missing or with UPDATE_SCREENSHOTS=1."""
        target = SCREENSHOTS / f"{name}.png"
        if target.exists() and os.environ.get("UPDATE_SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(target), full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def web(browser: Any, app_url: str) -> Iterator[Browsing]:
    browsing = Browsing(browser, app_url)
    yield browsing
    browsing.close()


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
