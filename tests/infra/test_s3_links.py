"""The local stack's `/_local/s3/{bucket}/{key+}`: presigned export links served locally."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from infra.localstack.apigw import HttpRequest
from infra.localstack.helpers import LocalRoutes
from infra.localstack.s3_links import s3_link_helper

REGION = "eu-west-1"
ENDPOINT = "http://127.0.0.1:3000/_local/s3"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket="exports-b", CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_object(Bucket="exports-b", Key="exports/2026/10/billing-2026-10.csv", Body=b"a,b\r\n")
        yield client


def _get(routes: LocalRoutes, url: str) -> Any:
    parts = urlsplit(url)
    return routes.dispatch(HttpRequest("GET", f"{parts.path}?{parts.query}", [], b"", "127.0.0.1"))


def test_a_presigned_link_downloads_until_it_expires(s3: Any) -> None:
    signer = boto3.client("s3", region_name=REGION, endpoint_url=ENDPOINT,
                          config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url = signer.generate_presigned_url(
        "get_object", Params={"Bucket": "exports-b", "Key": "exports/2026/10/billing-2026-10.csv"},
        ExpiresIn=300,
    )
    assert url.startswith(f"{ENDPOINT}/exports-b/exports/2026/10/billing-2026-10.csv?")
    now = [datetime.now(UTC)]
    routes = LocalRoutes()
    routes.add("GET", "/_local/s3/{bucket}/{key+}", s3_link_helper(REGION, lambda: now[0]))
    reply = _get(routes, url)
    assert (reply.status, reply.body) == (200, b"a,b\r\n")
    now[0] += timedelta(seconds=301)
    assert _get(routes, url).status == 403
    assert _get(routes, url.split("?")[0] + "?x=1").status == 403  # not presigned
    now[0] -= timedelta(seconds=301)
    assert _get(routes, url.replace("billing-2026-10.csv", "nope.csv")).status == 404
