"""The exports bucket (S3): the month's files under `exports/YYYY/MM/`, and links to them.

The bucket is versioned: writing a key again (a regeneration after an unlock) keeps the
previous version. Links are presigned GETs of one exact version; presigning makes no call.
Locally, `EXPORTS_PUBLIC_ENDPOINT` points the links at the local stack's `/_local/s3/` helper
(a separate client used only to sign, with path-style addressing), so they download from the
machine that handed them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

LINK_EXPIRY_SECONDS = 300


@dataclass(frozen=True)
class StoredObject:
    key: str
    version_id: str | None
    sha256: str | None  # from the object's metadata, as the export wrote it
    export_id: str | None


class ExportsStore:
    def __init__(self, client: Any, bucket: str, presign_client: Any | None = None) -> None:
        if not bucket:
            raise ValueError("EXPORTS_BUCKET is not set")
        self.client = client
        self.bucket = bucket
        self.presign_client = presign_client or client

    @classmethod
    def from_settings(cls) -> ExportsStore:
        from helpdesk.adapters import aws_clients
        from helpdesk.settings import get_settings

        settings = get_settings()
        client = aws_clients.client("s3", settings)
        # SigV4 links (X-Amz-Expires); path-style when they point at the local stack.
        presign = aws_clients.client(
            "s3",
            settings,
            endpoint_url=settings.exports_public_endpoint,
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.exports_public_endpoint else "auto"},
        )
        return cls(client, settings.exports_bucket, presign)

    def put(
        self, key: str, body: bytes, *, content_type: str, sha256: str, export_id: str
    ) -> StoredObject:
        reply = self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ChecksumAlgorithm="SHA256",  # also what an Object Lock bucket requires of a PUT
            Metadata={"sha256": sha256, "export-id": export_id},
        )
        return StoredObject(key, reply.get("VersionId"), sha256, export_id)

    def head(self, key: str) -> StoredObject | None:
        try:
            reply = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        metadata = reply.get("Metadata") or {}
        return StoredObject(
            key, reply.get("VersionId"), metadata.get("sha256"), metadata.get("export-id")
        )

    def get(self, key: str, version_id: str | None = None) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id and version_id != "null":
            kwargs["VersionId"] = version_id
        body: bytes = self.client.get_object(**kwargs)["Body"].read()
        return body

    def link(self, key: str, version_id: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id and version_id != "null":
            params["VersionId"] = version_id
        url: str = self.presign_client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=LINK_EXPIRY_SECONDS
        )
        return url
