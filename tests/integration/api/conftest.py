"""Fixtures of the HTTP API tests: the handler over moto, with the idempotency table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from helpdesk import bootstrap_mail
from helpdesk.adapters.attachments import S3AttachmentFiles
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.bootstrap_attachments import attachment_service_over
from helpdesk.service import HelpdeskService
from helpdesk.settings import get_settings
from infra.cfn_template import create_table_from_template
from tests.conftest import TABLE_NAME, seed_directory
from tests.integration.api.events import CLAIMS, FakeLambdaContext, Reply, http_event
from tests.integration.billing_support import REGION, create_bucket, exports_store

IDEMPOTENCY_TABLE = "helpdesk-idempotency-test"


class Api:
    """Calls the function's handler as API Gateway would."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def call(
        self,
        method: str,
        path: str,
        who: str = "manager",
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
    ) -> Reply:
        claims = CLAIMS.get(who)
        event = http_event(
            method,
            path,
            claims=claims,
            body=body,
            headers=headers,
            query=query,
            raw_body=raw_body,
        )
        result = self.module.lambda_handler(event, FakeLambdaContext())
        text = result.get("body")
        payload = json.loads(text) if text else None
        return Reply(result["statusCode"], dict(result.get("headers") or {}), payload)

    def get(self, path: str, who: str = "manager", **kwargs: Any) -> Reply:
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: str = "manager", **kwargs: Any) -> Reply:
        return self.call("POST", path, who, **kwargs)

    def put(self, path: str, who: str = "manager", **kwargs: Any) -> Reply:
        return self.call("PUT", path, who, **kwargs)

    def act(self, number: int, action: str, who: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.post(f"/tickets/{number}/actions/{action}", who, body=body or {}, **kwargs)


def seed(service: HelpdeskService) -> None:
    """The directory tests/conftest.py's `service` fixture seeds (after a wipe)."""
    seed_directory(service)


@pytest.fixture
def idempotency_table(dynamodb: Any, template: dict[str, Any]) -> str:
    create_table_from_template(dynamodb, template, "IdempotencyTable", IDEMPOTENCY_TABLE)
    return IDEMPOTENCY_TABLE


@pytest.fixture
def api(
    service: HelpdeskService,
    idempotency_table: str,
    table: Table,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Api]:
    """The handler, using the seeded service of tests/conftest.py (its clock included)."""
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", idempotency_table)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    get_settings.cache_clear()
    from functions.api import app as module

    module.set_service(service)
    module.reset_idempotency()
    s3 = boto3.client("s3", region_name=REGION)
    module.billing.set_exports(exports_store(s3, create_bucket(s3)))
    # Attachments (§11) to a bucket of their own; tests/integration/attachments sets its own.
    attachments_bucket = create_bucket(s3, "helpdesk-api-test-attachments")
    module.attachments.set_attachments(
        attachment_service_over(
            table,
            S3AttachmentFiles(s3, attachments_bucket, exports_store(s3).presign_client),
            service.get_ticket,
        )
    )
    bootstrap_mail.use_quarantine(None)  # built again, over this test's table
    yield Api(module)
    bootstrap_mail.use_quarantine(None)
    module.billing.set_exports(None)
    module.attachments.set_attachments(None)
    module.set_service(None)
    module.reset_idempotency()
    get_settings.cache_clear()
