"""Attachments over moto: the API handler (tests/integration/api), the attachments bucket, the
check function's handler, and S3's browser upload as the local stack emulates it
(infra/localstack/s3_uploads.py: the policy checked as S3 checks it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config

from helpdesk.adapters.attachments import S3AttachmentFiles
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.attachments import AttachmentService
from helpdesk.bootstrap_attachments import attachment_service_over
from helpdesk.service import HelpdeskService
from infra.localstack.apigw import HttpRequest
from infra.localstack.helpers import LocalRequest
from infra.localstack.s3_uploads import s3_upload_helper
from tests.integration.api import conftest as api_fixtures
from tests.integration.api.conftest import Api
from tests.integration.api.events import FakeLambdaContext
from tests.support.aws import REGION
from tests.support.functions import load_function
from tests.support.multipart import form_data

BUCKET = "helpdesk-test-attachments"

# The API handler's fixtures (tests/integration/api/conftest.py), used here as they are.
api = api_fixtures.api
idempotency_table = api_fixtures.idempotency_table


@dataclass
class Uploaded:
    status: int
    body: bytes
    events: list[dict[str, Any]]


class Attachments:
    """The API (announce, list, read), the browser's POST and the bucket's events."""

    def __init__(self, api: Api, s3: Any, check: ModuleType, service: AttachmentService) -> None:
        self.api = api
        self.s3 = s3
        self.check = check
        self.service = service
        self.events: list[dict[str, Any]] = []

    def announce(self, number: int, who: str = "client", **body: Any) -> Any:
        payload = {"filename": "capture.png", "content_type": "image/png", "size": 10, **body}
        return self.api.post(f"/tickets/{number}/attachments", who, body=payload)

    def post_form(
        self, url_fields: dict[str, Any], data: bytes, *, override: dict[str, str] | None = None
    ) -> Uploaded:
        """POST the form and the file as a browser does (multipart/form-data)."""
        fields = {**url_fields["fields"], **(override or {})}
        content_type, body = form_data(fields, data)
        request = HttpRequest(
            "POST",
            f"/_local/s3/{BUCKET}",
            [("Content-Type", content_type)],
            body,
            "127.0.0.1",
        )
        events: list[dict[str, Any]] = []

        def delivered(event: dict[str, Any]) -> Any:
            events.append(event)
            self.events.append(event)
            return self.deliver(event)

        helper = s3_upload_helper(REGION, delivered)
        reply = helper(LocalRequest(request, {"bucket": BUCKET}))
        return Uploaded(reply.status, reply.body, events)

    def deliver(self, event: dict[str, Any]) -> Any:
        """The check function's handler, as EventBridge invokes it."""
        return self.check.lambda_handler(json.loads(json.dumps(event)), FakeLambdaContext())

    def upload(self, number: int, data: bytes, who: str = "client", **body: Any) -> str:
        """Announce, POST the bytes; the attachment's id."""
        body.setdefault("size", len(data))
        announced = self.announce(number, who, **body)
        assert announced.status == 201, announced.body
        uploaded = self.post_form(announced.body["upload"], data)
        assert uploaded.status == 204, uploaded.body
        return str(announced.body["id"])

    def get(self, number: int, attachment_id: str, who: str = "client") -> Any:
        return self.api.get(f"/tickets/{number}/attachments/{attachment_id}", who)

    def listed(self, number: int, who: str = "client") -> list[dict[str, Any]]:
        reply = self.api.get(f"/tickets/{number}/attachments", who)
        assert reply.status == 200, reply.body
        return list(reply.body["items"])


@pytest.fixture
def s3(dynamodb: Any) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


@pytest.fixture
def attachment_service(
    service: HelpdeskService, table: Table, s3: Any, clock: Any
) -> AttachmentService:
    presign = boto3.client("s3", region_name=REGION, config=Config(signature_version="s3v4"))
    built = attachment_service_over(
        table, S3AttachmentFiles(s3, BUCKET, presign), service.get_ticket
    )
    built.clock = clock
    return built


@pytest.fixture
def attachments(
    api: Api,
    s3: Any,
    attachment_service: AttachmentService,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Attachments]:
    monkeypatch.setenv("ATTACHMENTS_BUCKET", BUCKET)
    check = load_function("attachments")
    monkeypatch.setattr(check, "service", lambda: attachment_service)
    api.module.attachments.set_attachments(attachment_service)
    yield Attachments(api, s3, check, attachment_service)
    api.module.attachments.set_attachments(None)
