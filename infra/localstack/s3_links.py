"""`GET /_local/s3/{bucket}/{key+}`: presigned links (exports, attachments), served here.

In AWS a presigned GET goes to S3. Locally the API signs its links against
`EXPORTS_PUBLIC_ENDPOINT` (`http://127.0.0.1:<port>/_local/s3`, path-style), so a link handed
to finance opens here: this helper checks that the link is a presigned one that has not
expired (`X-Amz-Date` + `X-Amz-Expires`, as S3 does), then serves the object (the exact
`versionId`, when the link names one) from the embedded moto S3.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote

import boto3
from botocore.exceptions import ClientError

from infra.localstack.apigw import HttpReply
from infra.localstack.helpers import Helper, LocalRequest
from infra.localstack.problems import problem

EXPORTS_BUCKET = "helpdesk-local-exports"
LINKS_PATH = "/_local/s3"
MAX_EXPIRY_SECONDS = 7 * 24 * 3600  # SigV4's limit


def s3_link_helper(
    region: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Helper:
    def download(request: LocalRequest) -> HttpReply:
        query = {k: v[0] for k, v in parse_qs(request.http.query).items()}
        if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "X-Amz-Signature" not in query:
            return problem(403, "Not a presigned link.")
        try:
            signed = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            expires = int(query["X-Amz-Expires"])
        except (KeyError, ValueError):
            return problem(403, "The link's X-Amz-Date or X-Amz-Expires is missing or invalid.")
        if not 0 < expires <= MAX_EXPIRY_SECONDS:
            return problem(403, "The link's X-Amz-Expires is out of range.")
        if clock() > signed + timedelta(seconds=expires):
            return problem(403, "Request has expired: this link is no longer valid.")
        kwargs = {"Bucket": unquote(request.params["bucket"]), "Key": unquote(request.params["key"])}
        if query.get("versionId"):
            kwargs["VersionId"] = query["versionId"]
        try:
            reply = boto3.client("s3", region_name=region).get_object(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            return problem(404, f"No such object ({code}).")
        # The link's `response-content-type` and `response-content-disposition` override the
        # stored ones, as S3 does (attachments download as files, with their checked type).
        content_type = query.get("response-content-type") or reply.get("ContentType")
        headers = [("Content-Type", content_type or "application/octet-stream")]
        if query.get("response-content-disposition"):
            headers.append(("Content-Disposition", query["response-content-disposition"]))
        headers.append(("X-Content-Type-Options", "nosniff"))
        if reply.get("VersionId"):
            headers.append(("x-amz-version-id", reply["VersionId"]))
        return HttpReply(200, headers, reply["Body"].read())

    return download
