"""The mail_ingest Lambda: invoked by the SES receipt rule and by S3 notifications."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from helpdesk.service import HelpdeskService, TicketFilters
from helpdesk.settings import get_settings
from infra.localstack.lambdas import FakeLambdaContext
from infra.localstack.smtp import s3_put_event
from tests.conftest import MANAGER, TABLE_NAME
from tests.integration.mail.conftest import ATTACHMENTS_BUCKET, INBOUND_BUCKET, corpus
from tests.support.functions import load_function


@pytest.fixture
def function(
    service: HelpdeskService, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    for name, value in {
        "TABLE_NAME": TABLE_NAME,
        "INBOUND_BUCKET": INBOUND_BUCKET,
        "INBOUND_PREFIX": "inbound/",
        "ATTACHMENTS_BUCKET": ATTACHMENTS_BUCKET,
        "MAIL_DOMAIN": "helpdesk.localhost",
    }.items():
        monkeypatch.setenv(name, value)
    module = load_function("mail_ingest")

    def reset() -> None:
        get_settings.cache_clear()
        module.ingestion.cache_clear()
        module.s3_client.cache_clear()

    reset()
    yield module
    reset()


def ses_event(message_id: str, recipients: list[str]) -> dict[str, Any]:
    """What the receipt rule's Lambda action sends (the body is in S3, not in the event)."""
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "messageId": message_id,
                        "source": "fabrice@acme.example",
                        "destination": recipients,
                        "commonHeaders": {"subject": "ignored: read from the raw message"},
                    },
                    "receipt": {
                        "recipients": recipients,
                        "action": {"type": "Lambda", "invocationType": "Event"},
                    },
                },
            }
        ]
    }


def invoke(function: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = function.lambda_handler(event, FakeLambdaContext("mail-ingest"))
    return result


def count(service: HelpdeskService) -> int:
    return len(service.list_tickets(MANAGER, TicketFilters(), None, 100)[0])


def test_an_ses_event_replayed_three_times_gives_one_ticket(
    function: ModuleType, service: HelpdeskService, s3: Any
) -> None:
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/ses-0001", Body=corpus("plain.eml"))
    event = ses_event("ses-0001", ["support@helpdesk.localhost"])
    replies = [invoke(function, event) for _ in range(3)]
    outcomes = [(r["results"][0]["outcome"], r["results"][0]["replayed"]) for r in replies]
    assert outcomes == [
        ("ticket_created", False),
        ("ticket_created", True),
        ("ticket_created", True),
    ]
    assert count(service) == 1
    assert replies[0]["results"][0]["key"] == "inbound/ses-0001"


def test_the_envelope_recipient_of_the_ses_event_chooses_the_type(
    function: ModuleType, service: HelpdeskService, s3: Any
) -> None:
    """A Bcc to incident@ is in the envelope only."""
    raw = corpus("plain.eml").replace(b"To: Support <support@", b"To: Someone <someone@")
    raw = raw.replace(b"Delivered-To: support@helpdesk.localhost\r\n", b"")
    s3.put_object(Bucket=INBOUND_BUCKET, Key="inbound/ses-0002", Body=raw)
    reply = invoke(function, ses_event("ses-0002", ["incident@helpdesk.localhost"]))
    number = reply["results"][0]["ticket_number"]
    assert service.store.get_ticket(number).type.value == "incident"


def test_an_s3_event_with_an_url_encoded_key(
    function: ModuleType, service: HelpdeskService, s3: Any
) -> None:
    key = "inbound/a message+with spaces"
    s3.put_object(Bucket=INBOUND_BUCKET, Key=key, Body=corpus("attachments.eml"))
    event = s3_put_event(INBOUND_BUCKET, key)
    assert event["Records"][0]["s3"]["object"]["key"] == "inbound%2Fa+message%2Bwith+spaces"
    replies = [invoke(function, event) for _ in range(3)]
    assert {r["results"][0]["ticket_number"] for r in replies} == {1}
    assert count(service) == 1
    stored = s3.list_objects_v2(Bucket=ATTACHMENTS_BUCKET, Prefix="attachments/1/")
    assert stored["KeyCount"] == 2


def test_an_event_naming_no_message_is_refused(function: ModuleType) -> None:
    with pytest.raises(function.BadMailEvent):
        invoke(function, {"Records": [{"something": {}}]})
    with pytest.raises(function.BadMailEvent):
        invoke(function, {"detail-type": "Scheduled Event"})
