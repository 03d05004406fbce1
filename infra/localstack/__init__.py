"""The whole system on this machine: `python -m infra.localstack` (`make run`).

Embedded moto holding the resources of template.yaml, an HTTP front that plays API Gateway
(HTTP API, payload v2, Cognito JWT authorizer) in front of the real API handler, seeded demo
data, and local-only helpers under `/_local/`. State lives in memory: each start is fresh.

- `config`: ports and names, from the environment.
- `resources`: the template's resources, created in moto (one registry to extend).
- `auth`: locally signed tokens that the front checks as the Cognito authorizer would.
- `apigw`: HTTP request -> HTTP API v2 event, Lambda reply -> HTTP response.
- `lambdas`: the handlers, imported in-process and invoked with a fake Lambda context.
- `helpers`: the `/_local/` routes (a registry: a new helper is one registered function).
- `seed`: demo organisations, roster and users.
- `docs`: Swagger UI at /_local/docs from the assets bundled in Powertools (offline).
- `server`: the threaded HTTP front; `stack`: the lifecycle; `__main__`: the entry point.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# What the Lambda layer puts on sys.path in AWS (`import helpdesk...`).
LAYER_PATH = REPO_ROOT / "layers" / "domain"

if str(LAYER_PATH) not in sys.path:
    sys.path.insert(0, str(LAYER_PATH))
