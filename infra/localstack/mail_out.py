"""Outbound mail, locally: the table's stream drives the notifier function (as the template's
event source mapping does), SES is moto's, and `GET /_local/outbox` lists what was sent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from infra.localstack.apigw import HttpReply
from infra.localstack.background import Periodic
from infra.localstack.helpers import Helper, LocalRequest
from infra.localstack.problems import json_reply
from infra.moto_streams import matches_outbox_filter, stream_records

log = logging.getLogger("localstack.mail")
BATCH_SIZE = 10
MAX_ATTEMPTS = 10


class StreamPoller(Periodic):
    """Feeds new outbox records to the notifier in batches; retries the failed ones."""

    name = "stream-poller"

    def __init__(
        self,
        table_name: str,
        region: str,
        invoke: Callable[[dict[str, Any]], Any],
        interval: float = 0.2,
    ) -> None:
        super().__init__(interval)
        self.table_name = table_name
        self.region = region
        self.invoke = invoke
        self._position = 0
        self._retry: list[tuple[int, dict[str, Any]]] = []

    def tick(self) -> None:
        self.poll()

    def poll(self) -> int:
        """Deliver what is new (and what failed before); returns the records handed over."""
        records = stream_records(self.table_name, self.region, after=self._position)
        self._position += len(records)
        pending = self._retry + [(0, r) for r in records if matches_outbox_filter(r)]
        self._retry = []
        for start in range(0, len(pending), BATCH_SIZE):
            self._deliver(pending[start : start + BATCH_SIZE])
        return len(pending)

    def _deliver(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        try:
            reply = self.invoke({"Records": [record for _, record in batch]})
            failed = {f["itemIdentifier"] for f in (reply or {}).get("batchItemFailures", [])}
        except Exception:
            log.exception("notifier invocation failed; the batch will be retried")
            failed = {record["dynamodb"]["SequenceNumber"] for _, record in batch}
        for attempts, record in batch:
            if record["dynamodb"]["SequenceNumber"] not in failed:
                continue
            if attempts + 1 < MAX_ATTEMPTS:
                self._retry.append((attempts + 1, record))
            else:
                log.error("outbox record dropped after %d attempts: %s", MAX_ATTEMPTS, record)


def sent_messages(region: str) -> list[dict[str, Any]]:
    """What SES (moto) accepted, oldest first: to, subject, body (the plain-text part), html
    (the HTML part, "" when none), the threading headers (message_id, in_reply_to, references;
    "" when absent) and every header."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
    listed = []
    for sent in list(backend.sent_messages):
        raw = getattr(sent, "raw_data", None)
        if raw is None:
            continue
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        message = message_from_bytes(data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        listed.append(
            {
                "to": message["To"],
                "subject": message["Subject"],
                "body": body.get_content() if body is not None else "",
                "html": html.get_content() if html is not None else "",
                "message_id": str(message["Message-ID"] or ""),
                "in_reply_to": str(message["In-Reply-To"] or ""),
                "references": str(message["References"] or ""),
                "headers": {name: str(value) for name, value in message.items()},
            }
        )
    return listed


def outbox_helper(region: str) -> Helper:
    def outbox(_request: LocalRequest) -> HttpReply:
        return json_reply(200, {"items": sent_messages(region), "next_cursor": None})

    return outbox
