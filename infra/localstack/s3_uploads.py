"""`POST /_local/s3/{bucket}`: S3's browser upload (a presigned POST), served from this machine.

moto accepts any POST whatever its policy says (/work/shared/notes: it answered 204 to 16
bytes against a content-length-range of 10-10). Locally the API signs its upload forms against
`EXPORTS_PUBLIC_ENDPOINT` (this port's `/_local/s3`), so the web app and the tests POST here;
this helper does what S3 does with such a form (the AWS documentation, "Browser-based uploads
using POST"):

- the body is `multipart/form-data`: the form's fields, then `file` (the last field);
- `policy` (base64 JSON) has not expired, and its SigV4 signature (`x-amz-signature`, over the
  base64 policy, with the key the credential names) is right;
- every condition holds: exact matches (`{"key": ...}`, `{"Content-Type": ...}`,
  `["eq", "$f", v]`), `["starts-with", "$f", prefix]`, and `content-length-range` on the file's
  size (S3: 400 EntityTooLarge / EntityTooSmall); every field of the form (but `policy`,
  `x-amz-signature`, `file` and `x-ignore-*`) is named by a condition;
- then the object is stored in the embedded S3 with the form's Content-Type, and the bucket's
  `Object Created` event (EventBridge's shape, as the template's rule delivers it) is handed to
  `on_created` before the reply: `204 No Content`, as S3 answers without
  `success_action_status`.
Refusals are S3's XML errors (403 AccessDenied, 400 EntityTooLarge...).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from xml.sax.saxutils import escape

import boto3
from botocore.exceptions import ClientError

from infra.localstack.apigw import HttpReply
from infra.localstack.helpers import Helper, LocalRequest

log = logging.getLogger("localstack.s3")

OnCreated = Callable[[dict[str, Any]], Any]
MAX_UPLOAD_BYTES = 11 * 1024 * 1024  # 10 MiB and the form around it
_NOT_CHECKED = {"policy", "x-amz-signature", "file"}


class UploadRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Upload:
    fields: dict[str, str]  # names as sent (S3 compares field names case-insensitively)
    file: bytes


def s3_error(status: int, code: str, message: str) -> HttpReply:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()
    return HttpReply(status, [("Content-Type", "application/xml")], body)


def parse_form(content_type: str, body: bytes) -> Upload:
    """The multipart form's fields and file."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise UploadRefused(
            412,
            "PreconditionFailed",
            "Bucket POST must be of the enclosure-type multipart/form-data",
        )
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    if not message.is_multipart():
        raise UploadRefused(400, "MalformedPOSTRequest", "The body is not multipart/form-data.")
    fields: dict[str, str] = {}
    file: bytes | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "file":
            file = data
            break  # S3 ignores what follows the file
        fields[name] = data.decode("utf-8", "replace")
    if file is None:
        raise UploadRefused(
            400, "InvalidArgument", "POST requires exactly one file upload per request."
        )
    return Upload(fields, file)


def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_upload(upload: Upload, bucket: str, now: datetime, secret: str) -> dict[str, Any]:
    """The policy of a form, checked as S3 does; UploadRefused otherwise. Returns the policy."""
    fields = {k.lower(): v for k, v in upload.fields.items()}
    encoded = fields.get("policy", "")
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise UploadRefused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from exc
    credential = fields.get("x-amz-credential", "")
    parts = credential.split("/")
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or len(parts) != 5:
        raise UploadRefused(
            400, "InvalidArgument", "x-amz-algorithm and x-amz-credential are required."
        )
    expected = hmac.new(
        _signing_key(secret, parts[1], parts[2], parts[3]), encoded.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        raise UploadRefused(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        expiration = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise UploadRefused(400, "InvalidPolicyDocument", "Invalid Policy: no expiration.") from exc
    if now > expiration:
        raise UploadRefused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**fields, "bucket": bucket}
    named: set[str] = set()
    for condition in policy.get("conditions", []):
        _check(condition, values, len(upload.file), named)
    for name in fields:
        if name not in _NOT_CHECKED and not name.startswith("x-ignore-") and name not in named:
            raise UploadRefused(
                403,
                "AccessDenied",
                f"Invalid according to Policy: Extra input fields: {name}",
            )
    return dict(policy)


def _check(condition: Any, values: dict[str, str], size: int, named: set[str]) -> None:
    def failed() -> UploadRefused:
        return UploadRefused(
            403,
            "AccessDenied",
            f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
        )

    if isinstance(condition, dict):
        for name, value in condition.items():
            named.add(name.lower())
            if values.get(name.lower()) != str(value):
                raise failed()
        return
    if not isinstance(condition, list) or len(condition) != 3:
        raise UploadRefused(
            400, "InvalidPolicyDocument", "Invalid Policy: a condition is malformed."
        )
    operator = str(condition[0]).lower()
    if operator == "content-length-range":
        low, high = int(condition[1]), int(condition[2])
        if size > high:
            raise UploadRefused(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )
        if size < low:
            raise UploadRefused(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )
        return
    name = str(condition[1]).lstrip("$").lower()
    named.add(name)
    value = values.get(name, "")
    if operator == "eq" and value != str(condition[2]):
        raise failed()
    if operator == "starts-with" and not value.startswith(str(condition[2])):
        raise failed()
    if operator not in ("eq", "starts-with"):
        raise UploadRefused(400, "InvalidPolicyDocument", f"Invalid Policy: {operator}.")


def object_created_event(
    bucket: str, key: str, size: int, version_id: str | None
) -> dict[str, Any]:
    """The `Object Created` event S3 sends to EventBridge (bucket notifications on)."""
    return {
        "version": "0",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "version-id": version_id},
            "reason": "PostObject",
        },
    }


def s3_upload_helper(
    region: str,
    on_created: OnCreated,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Helper:
    def upload(request: LocalRequest) -> HttpReply:
        bucket = request.params["bucket"]
        try:
            form = parse_form(request.http.header("content-type") or "", request.http.body)
            secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "local")
            check_upload(form, bucket, clock(), secret)
        except UploadRefused as refused:
            return s3_error(refused.status, refused.code, refused.message)
        fields = {k.lower(): v for k, v in form.fields.items()}
        key = fields.get("key", "")
        if not key:
            return s3_error(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
        extra: dict[str, Any] = {}
        if fields.get("content-type"):
            extra["ContentType"] = fields["content-type"]
        try:
            reply = boto3.client("s3", region_name=region).put_object(
                Bucket=bucket, Key=key, Body=form.file, **extra
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            return s3_error(404, code or "NoSuchBucket", "The specified bucket does not exist")
        event = object_created_event(bucket, key, len(form.file), reply.get("VersionId"))
        try:
            on_created(event)
        except Exception:  # in AWS the event is asynchronous: the upload stands regardless
            log.exception("the Object Created event of %s failed", key)
        # The bucket's CORS rule allows the web app's POST (template.yaml); here any origin.
        headers = [("ETag", reply.get("ETag", "")), ("Access-Control-Allow-Origin", "*")]
        return HttpReply(204, headers)

    return upload
