"""The attachments bucket (S3): each attachment of an inbound mail, by ticket and content.

Keys are `attachments/<ticket number>/<sha256 of the content>/<file name>` (chosen by the
ingestion): putting the same key again writes the same bytes, so a retried ingestion stores
nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class S3AttachmentStore:
    def __init__(self, client: Any, bucket: str) -> None:
        if not bucket:
            raise ValueError("ATTACHMENTS_BUCKET is not set")
        self.client = client
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata=dict(metadata),
        )
