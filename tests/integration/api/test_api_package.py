"""The HTTP API's modules load under one name: `helpdesk.entrypoints.http`, from the layer.

functions/api/app.py used to put its own folder on sys.path, so the routers loaded both as
`api_routes.*` and as `functions.api.api_routes.*`: two `Unauthenticated` classes (an `except`
on one missed the other), two service singletons.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_the_handler_and_the_layer_share_one_unauthenticated_class() -> None:
    import helpdesk.entrypoints.http.context as context
    import helpdesk.entrypoints.http.deps as deps
    import helpdesk.entrypoints.http.errors as errors
    from functions.api import app as app_module

    assert app_module.errors is errors
    assert app_module.errors.Unauthenticated is context.Unauthenticated
    assert errors.Unauthenticated is context.Unauthenticated
    assert app_module.get_service is deps.get_service
    assert app_module.set_service is deps.set_service
    assert "api_routes" not in sys.modules


def test_importing_the_handler_leaves_sys_path_alone() -> None:
    """In a fresh interpreter: no top-level `api_routes`, sys.path unchanged."""
    script = """
import json, sys
before = list(sys.path)
import functions.api.app
print(json.dumps({
    "path_unchanged": sys.path == before,
    "top_level": sorted(m for m in sys.modules if m.split(".")[0] in ("api_routes", "app")),
    "http": sorted(m for m in sys.modules if m.startswith("helpdesk.entrypoints.http.")),
}))
"""
    seen = _last_json_line(script)
    assert seen["path_unchanged"] is True
    assert seen["top_level"] == []
    assert "helpdesk.entrypoints.http.errors" in seen["http"]


ROUTE_MODULES_SCRIPT = """
import json, sys
import functions.api.app as handler
loaded = lambda: sorted(m.rsplit(".", 1)[1] for m in sys.modules
                        if m.startswith("helpdesk.entrypoints.http.")
                        and m.rsplit(".", 1)[1] in set(handler.ROUTER_OF_SEGMENT.values()))
seen = {"at_import": loaded()}
for path in sys.argv[1:]:
    handler.include_routes_for(path)
    seen[path] = loaded()
print(json.dumps(seen))
"""


def _route_modules_after(*paths: str) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = _last_json_line(ROUTE_MODULES_SCRIPT, *paths)
    return seen


def _last_json_line(script: str, *args: str) -> Any:
    """The last line `script` prints, as JSON, run in a fresh interpreter at the repository's
    root with the layer on the path."""
    env = {
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'layers' / 'domain'}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "TABLE_NAME": "helpdesk-package-test",  # the settings; nothing is called
        "EXPORTS_BUCKET": "helpdesk-package-test-exports",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_cold_start_imports_the_router_of_its_route_only() -> None:
    """#21: a ticket read imports the tickets router; billing then adds billing; a path of no
    group includes every router (its 404 is then the one it always was)."""
    seen = _route_modules_after("/tickets/12", "/billing/exports/2026-10", "/nowhere")
    assert seen["at_import"] == []
    assert seen["/tickets/12"] == ["tickets"]
    assert seen["/billing/exports/2026-10"] == ["billing", "tickets"]
    assert seen["/nowhere"] == [
        "actions",
        "attachments",
        "billing",
        "conversation",
        "directory",
        "links",
        "quarantine",
        "tickets",
        "time",
    ]


def test_each_route_is_included_by_the_segment_that_names_it() -> None:
    """Every route of the API (all routers included) is served by the router module its path's
    segment maps to: a new router or path must be added to ROUTER_OF_SEGMENT."""
    from functions.api import app as handler

    resolver = handler.include_all_routes()
    for route in resolver._static_routes + resolver._dynamic_routes:
        parts = route.path.strip("/").split("/")
        segment = parts[2] if parts[0] == "tickets" and len(parts) > 2 else parts[0]
        module = route.func.__module__.rsplit(".", 1)[1]
        assert handler.ROUTER_OF_SEGMENT.get(segment) == module, (route.method, route.path)


READ_PATH_SCRIPT = """
import json, sys
import functions.api.app as handler
from helpdesk import bootstrap, bootstrap_billing
handler.include_routes_for(sys.argv[1])
bootstrap.service()  # the service a read uses, with its unit of work
if sys.argv[1].startswith("/billing"):
    bootstrap_billing.billing_exporter()  # GET /billing/exports/{month}: the manifest
print(json.dumps(sorted(m for m in sys.modules if m.startswith("helpdesk."))))
"""
WRITE_SIDE = {
    "helpdesk.changes",
    "helpdesk.adapters.dynamodb.commit_plan",
    "helpdesk.side_effects",
    "helpdesk.domain.notifications",
    "helpdesk.domain.mail",
    "helpdesk.adapters.dynamodb.mail",
}


def test_a_ticket_read_builds_nothing_of_the_write_side() -> None:
    """#21: what only a write needs (the changes, their DynamoDB planning, the side effects,
    the mail texts and the mail parser) is imported by the writes, not by a read's cold start."""
    loaded = set(_last_json_line(READ_PATH_SCRIPT, "/tickets/12"))
    assert "helpdesk.service" in loaded and "helpdesk.adapters.dynamodb.unit_of_work" in loaded
    assert loaded & WRITE_SIDE == set()


def test_reading_a_billing_export_imports_neither_the_jobs_nor_the_generation() -> None:
    """#21: the manifest of an export is read without the scheduled jobs, the client reports
    a generation renders, or the write side."""
    loaded = set(_last_json_line(READ_PATH_SCRIPT, "/billing/exports/2026-10"))
    assert "helpdesk.billing_export" in loaded
    generation = {"helpdesk.jobs", "helpdesk.billing_job", "helpdesk.domain.client_report"}
    assert loaded & (WRITE_SIDE | generation) == set()
