"""A browser's `multipart/form-data` body: S3's presigned POST form (its fields, then `file`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping


def form_data(fields: Mapping[str, str], data: bytes) -> tuple[str, bytes]:
    """(the Content-Type with its boundary, the body)."""
    boundary = uuid.uuid4().hex
    body = b""
    for name, value in fields.items():
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body
