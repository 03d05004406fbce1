"""The inbound bucket (S3), as the quarantine reads it: a received message's raw bytes, and a
5-minute presigned link to them.

Presigning makes no call. Locally, `EXPORTS_PUBLIC_ENDPOINT` points the links at the local
stack's `/_local/s3/` helper (path-style), as for the billing exports
(helpdesk.adapters.exports_store), so they open from the machine that handed them out.
"""

from __future__ import annotations

from typing import Any

LINK_EXPIRY_SECONDS = 300


class S3RawMailStore:
    def __init__(self, client: Any, presign_client: Any | None = None) -> None:
        self.client = client
        self.presign_client = presign_client or client

    @classmethod
    def from_settings(cls, client: Any | None = None) -> S3RawMailStore:
        from helpdesk.adapters import aws_clients
        from helpdesk.settings import get_settings

        settings = get_settings()
        # SigV4 links (X-Amz-Expires); path-style when they point at the local stack.
        presign = aws_clients.client(
            "s3",
            settings,
            endpoint_url=settings.exports_public_endpoint,
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.exports_public_endpoint else "auto"},
        )
        return cls(client or aws_clients.client("s3", settings), presign)

    def read(self, bucket: str, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def link(self, bucket: str, key: str) -> str:
        url: str = self.presign_client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=LINK_EXPIRY_SECONDS
        )
        return url
