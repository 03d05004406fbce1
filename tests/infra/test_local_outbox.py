"""`GET /_local/outbox` (DESIGN.md §5): each mail SES accepted with its threading headers and
both parts, as infra.localstack.mail_out lists it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from helpdesk.domain.mail_out import render
from infra.localstack.helpers import LocalRequest
from infra.localstack.mail_out import outbox_helper, sent_messages
from tests.support.aws import REGION

DOMAIN = "helpdesk.localhost"
ROOT = f"<ticket-3-1764234000@{DOMAIN}>"


@pytest.fixture
def ses() -> Iterator[Any]:
    with mock_aws():
        boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=DOMAIN)
        yield boto3.client("sesv2", region_name=REGION)


def send(ses: Any, raw: bytes, to: str = "paul@acme.test") -> None:
    ses.send_email(
        FromEmailAddress=f"support@{DOMAIN}",
        Destination={"ToAddresses": [to]},
        Content={"Raw": {"Data": raw}},
    )


def test_each_mail_is_listed_with_its_thread_and_both_parts(ses: Any) -> None:
    send(
        ses,
        render(
            sender=f"support@{DOMAIN}",
            to="paul@acme.test",
            subject="[#3] Demande reçue : Écran figé",
            body="Bonjour Paul,\n",
            message_id=ROOT,
        ),
    )
    send(
        ses,
        render(
            sender=f"support@{DOMAIN}",
            to="paul@acme.test",
            subject="[#3] Chiffrage à valider : Écran figé",
            body="Accepter : http://127.0.0.1:3000/app/l/abc\n",
            html='<p><a href="http://127.0.0.1:3000/app/l/abc">Accepter</a> 1 200,00 €</p>',
            message_id=f"<second@{DOMAIN}>",
            in_reply_to=ROOT,
        ),
    )
    first, second = sent_messages(REGION)
    assert first["to"] == "paul@acme.test"
    assert first["subject"] == "[#3] Demande reçue : Écran figé"
    assert first["body"] == "Bonjour Paul,\n"
    assert first["html"] == ""
    assert (first["message_id"], first["in_reply_to"], first["references"]) == (ROOT, "", "")
    assert second["message_id"] == f"<second@{DOMAIN}>"
    assert second["in_reply_to"] == ROOT and second["references"] == ROOT
    assert second["body"] == "Accepter : http://127.0.0.1:3000/app/l/abc\n"
    assert second["html"].strip() == (
        '<p><a href="http://127.0.0.1:3000/app/l/abc">Accepter</a> 1 200,00 €</p>'
    )
    headers = second["headers"]
    assert headers["Message-ID"] == f"<second@{DOMAIN}>"
    assert headers["In-Reply-To"] == ROOT and headers["References"] == ROOT


def test_the_helper_answers_the_listing_as_json(ses: Any) -> None:
    send(
        ses,
        render(
            sender=f"support@{DOMAIN}",
            to="paul@acme.test",
            subject="[#3] Demande prise en charge",
            body="ok\n",
            html="<p>ok</p>",
            message_id=f"<x@{DOMAIN}>",
            in_reply_to=ROOT,
        ),
    )
    reply = outbox_helper(REGION)(LocalRequest.__new__(LocalRequest))  # reads no request
    assert reply.status == 200
    listed = json.loads(reply.body)
    assert listed["next_cursor"] is None
    [item] = listed["items"]
    assert {"to", "subject", "body", "html", "message_id", "in_reply_to", "references"} <= set(item)
    assert item["html"].strip() == "<p>ok</p>" and item["in_reply_to"] == ROOT
