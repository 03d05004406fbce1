"""The attachments bucket (S3), DESIGN.md §11.

Every file is at `tickets/<number>/attachments/<id>` (helpdesk.domain.attachments.object_key):
never a name an uploader chose. The API hands out presigned POSTs bound to that key, the exact
size and the declared type (S3 enforces the policy; the local stack's /_local/s3 does too), and
presigned GETs (5 minutes) of the version that was checked, answered as a download
(`response-content-disposition: attachment`) of the checked type. The check reads an object in
chunks of CHUNK_BYTES, never whole. A rejected file is deleted (a delete marker: the bucket is
versioned, its lifecycle rule expires the noncurrent bytes after 30 days).

Locally, `EXPORTS_PUBLIC_ENDPOINT` (the local stack's `/_local/s3`) is where the forms and links
point, signed by a separate client with path-style addressing, as the exports' links are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.ports_attachments import FileMissing, StoredFile, UploadForm

CHUNK_BYTES = 64 * 1024
SCAN_TAG = "GuardDutyMalwareScanStatus"
_MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "InvalidArgument")


class S3AttachmentFiles:
    def __init__(self, client: Any, bucket: str, presign_client: Any | None = None) -> None:
        if not bucket:
            raise ValueError("ATTACHMENTS_BUCKET is not set")
        self.client = client
        self.bucket = bucket
        self.presign_client = presign_client or client

    @classmethod
    def from_settings(cls) -> S3AttachmentFiles:
        from helpdesk.adapters import aws_clients
        from helpdesk.settings import get_settings

        settings = get_settings()
        client = aws_clients.client("s3", settings)
        public = settings.exports_public_endpoint
        presign = aws_clients.client(
            "s3",
            settings,
            endpoint_url=public,
            signature_version="s3v4",
            s3={"addressing_style": "path" if public else "auto"},
        )
        return cls(client, settings.attachments_bucket, presign)

    def upload_form(self, key: str, content_type: str, size: int, expires_in: int) -> UploadForm:
        form = self.presign_client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=expires_in,
        )
        return UploadForm(url=form["url"], fields={k: str(v) for k, v in form["fields"].items()})

    def _versioned(self, key: str, version_id: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id and version_id != "null":
            kwargs["VersionId"] = version_id
        return kwargs

    def open(self, key: str, version_id: str | None = None) -> StoredFile:
        try:
            reply = self.client.get_object(**self._versioned(key, version_id))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise FileMissing(key) from exc
            raise
        body = reply["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk_size=CHUNK_BYTES)
            finally:
                body.close()

        return StoredFile(reply.get("VersionId"), chunks())

    def scan_status(self, key: str, version_id: str | None = None) -> str | None:
        try:
            reply = self.client.get_object_tagging(**self._versioned(key, version_id))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        for tag in reply.get("TagSet", []):
            if tag.get("Key") == SCAN_TAG:
                return str(tag.get("Value"))
        return None

    def link(self, key: str, version_id: str | None, disposition: str, content_type: str) -> str:
        from helpdesk.domain.attachments import LINK_EXPIRY_SECONDS

        params = {
            **self._versioned(key, version_id),
            "ResponseContentDisposition": disposition,
            "ResponseContentType": content_type,
        }
        url: str = self.presign_client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=LINK_EXPIRY_SECONDS
        )
        return url

    def put(self, key: str, data: bytes, content_type: str) -> str | None:
        reply = self.client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
        )
        version: str | None = reply.get("VersionId")
        return version

    def discard(self, key: str, version_id: str | None) -> None:
        # The current object only (a delete marker): the checked bytes stay a noncurrent
        # version for the lifecycle rule, and an operator, to look at.
        self.client.delete_object(Bucket=self.bucket, Key=key)
