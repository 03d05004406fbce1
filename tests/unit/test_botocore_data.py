"""#21: every botocore session of a process shares one data loader (`share_botocore_data`), so
a traced function parses botocore's JSON once, not once per session (the X-Ray SDK builds two
sessions of its own at import). Fresh interpreters: the patch is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys
import botocore.loaders, botocore.session
parsed = []
load_file = botocore.loaders.JSONFileLoader.load_file
def counting(self, path):
    parsed.append(path.rsplit("/", 1)[-1])
    return load_file(self, path)
botocore.loaders.JSONFileLoader.load_file = counting
if sys.argv[1] == "shared":
    from helpdesk.adapters.aws_clients import share_botocore_data
    share_botocore_data()
    share_botocore_data()  # idempotent: one cache, not a cache of a cache
sessions = [botocore.session.get_session() for _ in range(3)]
for session in sessions:
    session.create_client("dynamodb", region_name="eu-west-1",
                          aws_access_key_id="x", aws_secret_access_key="y")
loaders = {id(session.get_component("data_loader")) for session in sessions}
print(json.dumps({"endpoints": parsed.count("endpoints"), "loaders": len(loaders)}))
"""


def _three_sessions(mode: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PYTHONPATH": ":".join(sys.path), "PATH": "/usr/bin:/bin"},
    )
    seen: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_three_sessions_parse_botocore_endpoints_once_when_shared() -> None:
    assert _three_sessions("shared") == {"endpoints": 1, "loaders": 1}


def test_without_sharing_each_session_parses_them_again() -> None:
    """What the function paid before: the measurement above is not botocore's own caching."""
    assert _three_sessions("own") == {"endpoints": 3, "loaders": 3}
