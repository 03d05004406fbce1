"""The HTTP front: API Gateway's job (JWT authorizer, v2 events) plus the /_local/ helpers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from infra.localstack import web
from infra.localstack.apigw import (
    HttpReply,
    HttpRequest,
    PublicRoute,
    build_event,
    parse_reply,
)
from infra.localstack.auth import InvalidToken, TokenIssuer, bearer_token, gateway_claims
from infra.localstack.helpers import PREFIX, LocalRoutes
from infra.localstack.problems import problem, unauthorized
from infra.localstack.s3_uploads import MAX_UPLOAD_BYTES

UPLOADS_PATH = "/_local/s3/"

log = logging.getLogger("localstack.http")

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit


class Function(Protocol):
    """What the front needs of a Lambda function (infra.localstack.lambdas.LambdaFunction)."""

    def invoke(self, event: dict[str, Any]) -> Any: ...


class Gateway:
    """Routes one request: a local helper, or the authorizer then the API function."""

    def __init__(
        self,
        routes: LocalRoutes,
        issuer: TokenIssuer,
        api: Function,
        host: str,
        port: int,
        public: Sequence[PublicRoute] = (),
    ) -> None:
        self.routes = routes
        self.issuer = issuer
        self.api = api
        self.host = host
        self.port = port
        self.public = tuple(public)  # routes without authorizer (apigw.public_routes)

    def handle(self, request: HttpRequest) -> HttpReply:
        if request.path.startswith(PREFIX) or request.path == PREFIX.rstrip("/"):
            return self._local(request)
        if web.is_app_path(request.path):  # the web app (DESIGN §9), no token needed
            return web.serve(request, web.base_url(request.header("host"), self.host, self.port))
        if any(route.matches(request) for route in self.public):
            return self._invoke(request, None)  # `Auth: Authorizer: NONE`: no token looked at
        try:
            claims = self.issuer.verify(bearer_token(request.header("authorization")))
        except InvalidToken as exc:
            # API Gateway answers 401 itself: the function is never called.
            return unauthorized(f"A valid bearer token is required ({exc}).")
        return self._invoke(request, gateway_claims(claims))

    def _local(self, request: HttpRequest) -> HttpReply:
        try:
            return self.routes.dispatch(request)
        except Exception:
            log.exception("local helper failed: %s %s", request.method, request.path)
            return problem(500, "The local helper failed; see the server log.")

    def _invoke(self, request: HttpRequest, claims: dict[str, str] | None) -> HttpReply:
        event = build_event(request, claims, self.host, self.port)
        try:
            return parse_reply(self.api.invoke(event))
        except Exception:
            # A crashed invocation is API Gateway's 500; the server keeps serving.
            log.exception("API handler failed: %s %s", request.method, request.target)
            return problem(500, "The API function failed; see the server log.")


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection frees its thread after a minute
    server: LocalHttpServer

    def _read_body(self) -> bytes | HttpReply:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return problem(411, "Send a Content-Length (chunked bodies are not supported).")
        length_header = self.headers.get("Content-Length") or "0"
        if not length_header.isdigit():
            return problem(400, "Content-Length is not a number.")
        length = int(length_header)
        # S3's browser uploads (/_local/s3/<bucket>, infra/localstack/s3_uploads.py) take a
        # 10 MiB file; everything else is bound by Lambda's payload limit.
        limit = MAX_UPLOAD_BYTES if self.path.startswith(UPLOADS_PATH) else MAX_BODY_BYTES
        if length > limit:
            return problem(413, f"The body exceeds {limit} bytes.")
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        if isinstance(body, HttpReply):
            self.close_connection = True
            self._send(body)
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        self._send(self.server.gateway.handle(request))

    def _send(self, reply: HttpReply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def __getattr__(self, name: str) -> Any:
        # API Gateway's `ANY /{proxy+}` route passes any other method (TRACE, QUERY...) to the
        # function, which answers 404 for a route it does not have; http.server would say 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        super().__init__(address, RequestHandler)
        self.gateway = gateway
