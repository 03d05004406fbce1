"""web/src/api/schema.d.ts is generated from docs/openapi.json; it fails here when stale
(like tests/integration/api/test_api_openapi.py for the document itself)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.e2e.support import REPO_ROOT

WEB = REPO_ROOT / "web"
SCHEMA = WEB / "src" / "api" / "schema.d.ts"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


def test_generated_types_match_the_openapi_document() -> None:
    if shutil.which("node") is None:
        pytest.fail("Node 20.19+ is needed for web/ (apt-get install nodejs npm)", pytrace=False)
    if not GENERATOR.exists():
        pytest.fail("web/node_modules is missing: run `make web-deps`", pytrace=False)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "schema.d.ts"
        subprocess.run(
            [str(GENERATOR), "../docs/openapi.json", "-o", str(fresh)],
            cwd=WEB,
            check=True,
            capture_output=True,
        )
        assert SCHEMA.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
            "web/src/api/schema.d.ts is stale: run `cd web && npm run gen:types`"
        )
