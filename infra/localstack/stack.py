"""The local stack's lifecycle: moto, resources, seed, the API function, the HTTP front."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
from moto import mock_aws

from infra.cfn_template import load_template
from infra.emf import MetricsRecorder
from infra.localstack import REPO_ROOT
from infra.localstack.apigw import public_routes
from infra.localstack.auth import TokenIssuer
from infra.localstack.config import LocalConfig
from infra.localstack.helpers import LocalRoutes, default_routes
from infra.localstack.lambdas import LambdaFunction
from infra.localstack.mail_out import StreamPoller, outbox_helper
from infra.localstack.metrics import metrics_helper
from infra.localstack.quotes import executions_helper
from infra.localstack.resources import QUOTE_FUNCTION_NAME, aws_environment, create_resources
from infra.localstack.s3_links import s3_link_helper
from infra.localstack.s3_uploads import s3_upload_helper
from infra.localstack.schedules import LocalScheduler, Schedule, schedule_helper, schedules_of
from infra.localstack.seed import DEMO_USERS, seed
from infra.localstack.server import Gateway, LocalHttpServer
from infra.localstack.smtp import s3_put_event, start_smtp
from infra.moto_lambda import install as install_moto_lambda
from infra.moto_lambda import register as register_lambda
from infra.moto_serial import serialise_moto_dynamodb

log = logging.getLogger("localstack")

API_FOLDER = REPO_ROOT / "functions" / "api"
FUNCTIONS_DIR = REPO_ROOT / "functions"
OPENAPI_PATH = REPO_ROOT / "docs" / "openapi.json"
# What the HTTP API's JWT authorizer expects of a Cognito ID token (`iss`; `aud` in auth.py).
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_local"
# A profile or endpoint from the developer's shell would send the handlers' SDK calls elsewhere.
_FOREIGN_AWS_SETTINGS = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")


class LocalStack:
    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self.issuer = TokenIssuer(ISSUER, config.token_ttl_seconds)
        self._mock: Any = None
        self._server: LocalHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._scheduler: LocalScheduler | None = None
        self._poller: StreamPoller | None = None
        self._stop_smtp: Callable[[], None] | None = None
        self._functions: dict[str, LambdaFunction] = {}
        # function() is called from the HTTP front, the scheduler, the stream poller, the SMTP
        # server and moto's Step Functions threads: one instance per function, or two
        # invocations of one function could overlap (see lambdas.py).
        self._functions_lock = threading.Lock()
        self._template = load_template()
        # What the functions' Powertools Metrics print (EMF), for GET /_local/metrics.
        self.metrics = MetricsRecorder()

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self.config.port

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def start(self) -> None:
        """Everything up, in order; the HTTP port is bound last, so health means ready."""
        clock = time.monotonic()
        self._start_aws()
        log.info("moto and the template's resources ready (%.2f s)", time.monotonic() - clock)
        seed(boto3.client("dynamodb", region_name=self.config.region), self.config.tickets_table)
        log.info("demo data seeded (%.2f s)", time.monotonic() - clock)
        # Imported only now: the handler's modules read the environment set by _start_aws.
        api = LambdaFunction(API_FOLDER, "app.lambda_handler", "helpdesk-local-api")
        log.info("API function loaded (%.2f s)", time.monotonic() - clock)
        schedules = schedules_of(self._template)
        self._start_server(
            Gateway(
                self._local_routes(schedules),
                self.issuer,
                api,
                self.config.host,
                0,
                public=public_routes(self._template),
            )
        )
        self._scheduler = LocalScheduler(schedules, self._run_schedule)
        self._scheduler.start()
        notifier = self.function("NotifierFunction")
        self._poller = StreamPoller(self.config.tickets_table, self.config.region, notifier.invoke)
        self._poller.start()
        # Like SES: the message lands in the inbound bucket, then the function is invoked (the
        # SMTP reply waits for it, so a ticket exists once the client's send returns).
        self._stop_smtp = start_smtp(
            self.config.host,
            self.config.smtp_port,
            os.environ["INBOUND_BUCKET"],
            lambda bucket, key: self.function("MailIngestFunction").invoke(
                s3_put_event(bucket, key)
            ),
            domain=self.config.mail_domain,
            prefix=os.environ["INBOUND_PREFIX"],
        )

    def function(self, logical_id: str) -> LambdaFunction:
        """A function of the template, loaded on first use (its CodeUri and Handler).

        Loaded under a lock: concurrent first calls get the same instance.
        """
        with self._functions_lock:
            if logical_id not in self._functions:
                props = self._template["Resources"][logical_id]["Properties"]
                self._functions[logical_id] = LambdaFunction(
                    REPO_ROOT / props["CodeUri"],
                    props["Handler"],
                    f"helpdesk-local-{logical_id}",
                    timeout=int(props.get("Timeout", 15)),
                )
            return self._functions[logical_id]

    def _run_schedule(self, schedule: Schedule, at: Any) -> Any:
        return self.function(schedule.function_id).invoke(schedule.event(at))

    def _start_aws(self) -> None:
        serialise_moto_dynamodb()  # before any request: moto does no locking
        self.metrics.install()  # before any function runs: every EMF document is recorded
        install_moto_lambda()  # Step Functions' Lambda tasks run the real handlers in-process
        # Executions really run (background threads of moto): the quote-approval machine.
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        for name in _FOREIGN_AWS_SETTINGS:  # nothing may leave this process
            os.environ.pop(name, None)
        os.environ.update(aws_environment(self.config))
        os.environ.update(create_resources(self.config))
        # Loaded on first invocation (its modules read the environment set just above).
        register_lambda(
            QUOTE_FUNCTION_NAME, lambda event: self.function("QuoteFunction").invoke(event)
        )

    def _start_server(self, gateway: Gateway) -> None:
        self._server = LocalHttpServer((self.config.host, self.config.port), gateway)
        gateway.port = self.port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()

    def _local_routes(self, schedules: list[Schedule]) -> LocalRoutes:
        """The /_local/ helpers. A new one (outbox...) is one `routes.add(...)` here,
        with a closure over what it needs."""
        routes = default_routes(self.issuer, OPENAPI_PATH)
        routes.add(
            "POST", "/_local/schedules/{name}", schedule_helper(schedules, self._run_schedule)
        )
        routes.add("GET", "/_local/outbox", outbox_helper(self.config.region))
        routes.add("GET", "/_local/s3/{bucket}/{key+}", s3_link_helper(self.config.region))
        # Attachments (§11): the presigned POSTs the API hands out, checked as S3 does; the
        # bucket's Object Created event goes to the check function as EventBridge delivers it.
        routes.add(
            "POST",
            "/_local/s3/{bucket}",
            s3_upload_helper(
                self.config.region,
                lambda event: self.function("AttachmentCheckFunction").invoke(event),
            ),
        )
        routes.add("GET", "/_local/executions", executions_helper(self.config.region))
        routes.add("GET", "/_local/metrics", metrics_helper(self.metrics))
        return routes

    def stop(self) -> None:
        """Stop the schedules and accepting requests, close the port, then drop moto's state."""
        if self._stop_smtp is not None:
            self._stop_smtp()
            self._stop_smtp = None
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self.metrics.uninstall()

    def banner(self, seconds: float) -> str:
        url = self.base_url
        lines = [
            f"# Helpdesk local stack up in {seconds:.1f} s (state in memory; Ctrl-C stops it).",
            f"export HELPDESK_URL={url}",
            f"# API docs (Swagger UI): {url}/_local/docs   health: {url}/_local/health",
            f"# Inbound mail: SMTP on {self.config.host}:{self.config.smtp_port} for "
            f"support@, incident@, evolution@{self.config.mail_domain}",
            "# Demo users (tokens valid 24 h):",
        ]
        for user in DEMO_USERS:
            org = f", org {user.org_id}" if user.org_id else ""
            token = self.issuer.issue(user.token_request())
            lines.append(
                f"export TOKEN_{user.name}={token}  # {user.sub} <{user.email}> ({user.group}{org})"
            )
        return "\n".join(lines)
