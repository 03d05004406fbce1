"""The notifier at send time (DESIGN.md §8): threading, action links, recipients by level.

Each test queues a Notification through the DynamoDB unit of work (the outbox item as the
change commits it), delivers it through the notifier over moto (SES, the table), and reads the
mail SES accepted back with the email package.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.links import DynamoActionLinks
from helpdesk.adapters.dynamodb.outbox import DynamoOutboxClaims
from helpdesk.adapters.dynamodb.repositories import DynamoDirectoryRepository
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.adapters.ses import SesMailer
from helpdesk.changes import MailQueued
from helpdesk.domain.notifications import LinkRequest, Notification, NotificationKind
from helpdesk.domain.outbox import Channel
from helpdesk.notifier import Notifier, UnknownPlaceholder
from helpdesk.ports import LinkGrant
from helpdesk.service import HelpdeskService
from tests.conftest import CLIENT, L1, L1B, L2, MANAGER, REGION, Clock
from tests.integration.store_support import outbox_items

DOMAIN = "helpdesk.localhost"
APP = "https://support.example.test"
NUMBER = 7
SEED = "ticket-7-1764234000"
ROOT = f"<{SEED}@{DOMAIN}>"  # the thread's root of a ticket no mail created
MAIL_ROOT = "<CAF+x1@mail.acme.example>"  # the Message-ID of the mail that created a ticket


class RecordingLinks:
    """ActionLinks that records the grants and hands out numbered tokens."""

    def __init__(self) -> None:
        self.grants: list[LinkGrant] = []

    def issue(self, grant: LinkGrant) -> str:
        self.grants.append(grant)
        return f"tok{len(self.grants)}-{'x' * 20}"


@pytest.fixture
def ses(dynamodb: Any) -> Any:
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=DOMAIN)
    return boto3.client("sesv2", region_name=REGION)


@pytest.fixture
def links() -> RecordingLinks:
    return RecordingLinks()


@pytest.fixture
def notifier(table: Table, ses: Any, clock: Clock, links: RecordingLinks) -> Notifier:
    return Notifier(
        DynamoOutboxClaims(table, Channel.MAIL),
        DynamoDirectoryRepository(table),
        SesMailer(ses, f"support@{DOMAIN}"),
        DOMAIN,
        clock=clock,
        links=links,
        app_url=APP,
    )


def sent_mail() -> list[EmailMessage]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    parsed = []
    for m in backend.sent_messages:
        message = message_from_bytes(m.raw_data.encode(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        parsed.append(message)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def queue(table: Table, clock: Clock, notification: Notification, version: int = 1) -> str:
    """The outbox item's sort key, once committed."""
    uow = DynamoUnitOfWork(table)
    uow.add(MailQueued(notification, version, clock.now))
    uow.commit()
    return keys.outbox_sk(version, notification.key)


def message(kind: NotificationKind, **fields: Any) -> Notification:
    defaults: dict[str, Any] = {
        "to": CLIENT.email,
        "subject": f"[#{NUMBER}] Objet accentué : Écran figé",
        "body": "Bonjour,\n",
        "html": "<p>Bonjour,</p>",
        "thread_seed": SEED,
    }
    return Notification(kind, NUMBER, **{**defaults, **fields})


def deliver(notifier: Notifier, sk: str) -> str:
    return notifier.deliver(keys.ticket_pk(NUMBER), sk).outcome


# ------------------------------------------------------------------ the outbox item
def test_the_outbox_item_keeps_every_field_the_notifier_needs(table: Table, clock: Clock) -> None:
    answered = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)
    notification = message(
        NotificationKind.ANSWER_SENT,
        to="",
        to_level=2,
        ref="c-42",
        links=(
            LinkRequest("confirm", answered_at=answered),
            LinkRequest("approve-quote", quote_version=3),
        ),
        thread=MAIL_ROOT,
        html="<p>{{link:confirm}}</p>",
    )
    sk = queue(table, clock, notification, version=5)
    assert sk == "OUTBOX#" + keys.pad(5) + "#answer_sent_c-42"
    [item] = outbox_items(table.client, NUMBER)
    assert item["sk"] == sk
    assert item["kind"] == "answer_sent_c-42"
    assert item["to_level"] == 2 and "to" not in item
    assert item["html"] == "<p>{{link:confirm}}</p>"
    assert item["ref"] == "c-42"
    assert item["links"] == [
        {"action": "confirm", "answered_at": "2026-11-26T16:30:00Z"},
        {"action": "approve-quote", "quote_version": 3},
    ]
    assert item["thread"] == MAIL_ROOT
    assert item["thread_seed"] == SEED
    assert item["delivery"] == "pending"


def test_an_item_stored_before_the_parts_were_packed_is_still_sent(
    table: Table, notifier: Notifier
) -> None:
    # As the outbox stored a mail before #21: the text and HTML parts plain, `body` and `html`.
    sk = keys.outbox_sk(3, "taken")
    old = {
        "pk": keys.ticket_pk(NUMBER),
        "sk": sk,
        "entity": "outbox",
        "channel": "mail",
        "kind": "taken",
        "ticket_number": NUMBER,
        "subject": f"[#{NUMBER}] Prise en charge",
        "body": "Votre demande est prise en charge : {{app}}/app/tickets/7\n",
        "html": "<p>Votre demande est prise en charge.</p>",
        "created_at": "2026-11-27T09:00:00Z",
        "delivery": "pending",
        "to": CLIENT.email,
        "thread_seed": SEED,
    }
    table.write(table.put(old))
    assert [deliver(notifier, sk) for _ in range(2)] == ["sent", "already_sent"]
    [mail] = sent_mail()
    text, html = parts(mail)
    assert text == f"Votre demande est prise en charge : {APP}/app/tickets/7\n"
    assert html.strip() == "<p>Votre demande est prise en charge.</p>"
    assert mail["To"] == CLIENT.email and mail["In-Reply-To"] == ROOT


def test_the_parts_are_stored_packed_and_read_back_whole(
    table: Table, clock: Clock, notifier: Notifier
) -> None:
    body = "Bonjour,\n\nVotre demande « Écran figé » est prise en charge.\n" * 8
    html = "<p>Bonjour,</p><p>Votre demande « Écran figé » est prise en charge.</p>" * 8
    sk = queue(table, clock, message(NotificationKind.TAKEN, body=body, html=html))
    raw = table.get({"pk": keys.ticket_pk(NUMBER), "sk": sk})
    assert raw is not None and "body" not in raw and "html" not in raw
    assert len(bytes(raw["texts"].value)) < len((body + html).encode()) // 4  # they repeat
    assert deliver(notifier, sk) == "sent"
    assert parts(sent_mail()[0]) == (body, html + "\n")


# ------------------------------------------------------------------ threading
def test_the_acknowledgement_of_an_api_ticket_is_the_root_of_its_thread(
    table: Table, clock: Clock, notifier: Notifier
) -> None:
    sk = queue(table, clock, message(NotificationKind.CREATED))
    assert [deliver(notifier, sk) for _ in range(3)] == ["sent", "already_sent", "already_sent"]
    assert notifier.deliver(keys.ticket_pk(NUMBER), sk).message_id == ROOT
    [mail] = sent_mail()
    assert mail["Message-ID"] == ROOT
    assert mail["In-Reply-To"] is None and mail["References"] is None
    record = table.get(keys.message_id_key(ROOT))  # a reply to it finds the ticket
    assert record is not None and int(record["ticket_number"]) == NUMBER


def test_the_acknowledgement_of_a_mail_ticket_answers_that_mail(
    table: Table, clock: Clock, notifier: Notifier
) -> None:
    sk = queue(table, clock, message(NotificationKind.CREATED, thread=MAIL_ROOT))
    assert deliver(notifier, sk) == "sent"
    [mail] = sent_mail()
    assert mail["In-Reply-To"] == MAIL_ROOT
    assert mail["References"] == MAIL_ROOT
    assert mail["Message-ID"] not in (MAIL_ROOT, ROOT)
    assert mail["Message-ID"].endswith(f"@{DOMAIN}>")
    assert table.get(keys.message_id_key(mail["Message-ID"])) is not None


def test_a_mail_ticket_stored_without_angle_brackets_still_threads(
    table: Table, clock: Clock, notifier: Notifier
) -> None:
    sk = queue(table, clock, message(NotificationKind.TAKEN, thread="CAF+x1@mail.acme.example"))
    deliver(notifier, sk)
    [mail] = sent_mail()
    assert mail["In-Reply-To"] == MAIL_ROOT


def test_every_later_mail_has_a_fresh_id_and_refers_to_the_root(
    service: HelpdeskService, table: Table, clock: Clock, notifier: Notifier
) -> None:
    # `service`: the seeded roster, where `to_consultant` finds L1's address.
    later = [
        message(NotificationKind.TAKEN),
        message(NotificationKind.CLOSED),
        message(NotificationKind.ASSIGNEE_QUOTE_APPROVED, to="", to_consultant=L1.id),
    ]
    for version, notification in enumerate(later, start=2):
        deliver(notifier, queue(table, clock, notification, version))
    mails = sent_mail()
    assert len(mails) == 3
    assert [m["In-Reply-To"] for m in mails] == [ROOT] * 3
    assert [m["References"] for m in mails] == [ROOT] * 3
    ids = [m["Message-ID"] for m in mails]
    assert len(set(ids)) == 3 and ROOT not in ids
    assert [m["To"] for m in mails] == [CLIENT.email, CLIENT.email, L1.email]
    # Every mail is text + HTML, and keeps the headers that stop auto-responders.
    for mail in mails:
        assert mail.get_content_type() == "multipart/alternative"
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["X-Auto-Response-Suppress"] == "All"
        assert mail["Subject"] == f"[#{NUMBER}] Objet accentué : Écran figé"


# ------------------------------------------------------------------ action links
QUOTE_TEXT = (
    "Accepter : {{link:approve-quote}}\nRefuser : {{link:refuse-quote}}\n"
    "Votre demande : {{app}}/app/tickets/7\n"
)
QUOTE_HTML = (
    '<p><a href="{{link:approve-quote}}">Accepter</a> '
    '<a href="{{link:refuse-quote}}">Refuser</a></p>'
)


def test_each_link_request_is_issued_and_its_placeholder_replaced(
    table: Table, clock: Clock, notifier: Notifier, links: RecordingLinks
) -> None:
    notification = message(
        NotificationKind.QUOTE_SUBMITTED,
        body=QUOTE_TEXT,
        html=QUOTE_HTML,
        links=(
            LinkRequest("approve-quote", quote_version=2),
            LinkRequest("refuse-quote", quote_version=2),
        ),
    )
    assert deliver(notifier, queue(table, clock, notification)) == "sent"
    expires = datetime(2026, 12, 27, 9, 0, tzinfo=UTC)  # the clock's 27 Nov 09:00 + 30 days
    assert links.grants == [
        LinkGrant(NUMBER, "approve-quote", 2, None, expires),
        LinkGrant(NUMBER, "refuse-quote", 2, None, expires),
    ]
    [mail] = sent_mail()
    text, html = parts(mail)
    approve = f"{APP}/app/l/tok1-{'x' * 20}"
    refuse = f"{APP}/app/l/tok2-{'x' * 20}"
    assert text == (
        f"Accepter : {approve}\nRefuser : {refuse}\n"
        "Votre demande : https://support.example.test/app/tickets/7\n"
    )
    assert f'href="{approve}"' in html and f'href="{refuse}"' in html
    assert "{{" not in text and "{{" not in html


def test_answer_links_carry_the_answer_the_mail_shows(
    table: Table, clock: Clock, notifier: Notifier, links: RecordingLinks
) -> None:
    answered = datetime(2026, 11, 26, 16, 30, 12, tzinfo=UTC)
    notification = message(
        NotificationKind.ANSWER_SENT,
        body="{{link:confirm}} {{link:reopen}}\n",
        html="<a href='{{link:confirm}}'>ok</a><a href='{{link:reopen}}'>non</a>",
        links=(LinkRequest("confirm", answered_at=answered), LinkRequest("reopen", None, answered)),
    )
    deliver(notifier, queue(table, clock, notification))
    assert [(g.action, g.quote_version, g.answered_at) for g in links.grants] == [
        ("confirm", None, answered),
        ("reopen", None, answered),
    ]
    text, html = parts(sent_mail()[0])
    assert "{{" not in text + html and text.count(f"{APP}/app/l/") == 2


def test_links_are_issued_after_the_claim_and_a_retry_issues_new_ones(
    table: Table,
    clock: Clock,
    notifier: Notifier,
    links: RecordingLinks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notification = message(
        NotificationKind.QUOTE_REMINDER,
        sequence=1,
        body=QUOTE_TEXT,
        html=QUOTE_HTML,
        links=(
            LinkRequest("approve-quote", quote_version=1),
            LinkRequest("refuse-quote", quote_version=1),
        ),
    )
    sk = queue(table, clock, notification)

    def unavailable(to: str, raw: bytes) -> None:
        raise ConnectionError("SES unavailable")

    monkeypatch.setattr(notifier.mailer, "send", unavailable)
    with pytest.raises(ConnectionError):
        deliver(notifier, sk)
    assert outbox_items(table.client, NUMBER)[0]["delivery"] == "pending"  # released
    assert len(links.grants) == 2
    monkeypatch.undo()
    assert [deliver(notifier, sk) for _ in range(3)] == ["sent", "already_sent", "already_sent"]
    assert len(links.grants) == 4  # two new tokens; the replays issued none
    text, _ = parts(sent_mail()[0])
    assert "tok3-" in text and "tok4-" in text and "tok1-" not in text


def test_a_placeholder_without_a_value_sends_nothing_and_issues_nothing(
    table: Table, clock: Clock, notifier: Notifier, links: RecordingLinks
) -> None:
    notification = message(
        NotificationKind.ANSWER_SENT,
        body="{{link:confirm}} {{link:reopen}}\n",
        links=(LinkRequest("confirm", answered_at=clock.now),),
    )
    sk = queue(table, clock, notification)
    with pytest.raises(UnknownPlaceholder):
        deliver(notifier, sk)
    assert links.grants == [] and sent_mail() == []
    assert outbox_items(table.client, NUMBER)[0]["delivery"] == "pending"


# ------------------------------------------------------------------ recipients by level
def test_a_level_mail_goes_to_every_active_consultant_of_that_level_at_once(
    service: HelpdeskService, table: Table, clock: Clock, notifier: Notifier
) -> None:
    # The roster now: L1 and L1B active at level 1, one inactive, a level-2 and a manager.
    service.put_consultant(
        MANAGER, "cons-l1c", name="Gone", email="gone@consult.example", level=1, active=False
    )
    service.put_consultant(
        MANAGER, "mgr-2", name="M", email="m2@consult.example", level=None, role="manager"
    )
    sk = queue(
        table,
        clock,
        message(NotificationKind.CREATED, to="", to_level=1, body="{{app}}/app/tickets/7\n"),
    )
    assert deliver(notifier, sk) == "sent"
    [mail] = sent_mail()
    assert sorted(a.addr_spec for a in mail["To"].addresses) == sorted([L1.email, L1B.email])
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    # SES is given both addresses (moto adds the To header's to the Destination's).
    assert set(backend.sent_messages[0].destinations) == {L1.email, L1B.email}
    # A staff mail about the creation is not the thread's root (the requester's ack is).
    assert mail["Message-ID"] != ROOT and mail["In-Reply-To"] == ROOT
    text, _ = parts(mail)
    assert text == f"{APP}/app/tickets/7\n"


def test_a_level_with_no_active_consultant_is_no_recipient(
    service: HelpdeskService, table: Table, clock: Clock, notifier: Notifier
) -> None:
    service.put_consultant(MANAGER, L2.id, name="L2", email=L2.email, level=2, active=False)
    service.put_consultant(
        MANAGER, "cons-l2b", name="L2B", email="l2b@consult.example", level=2, active=False
    )
    sk = queue(table, clock, message(NotificationKind.CREATED, to="", to_level=2))
    assert [deliver(notifier, sk) for _ in range(2)] == ["no_recipient", "no_recipient"]
    assert sent_mail() == []


def test_links_expire_thirty_days_after_the_send_not_the_queueing(
    table: Table, clock: Clock, notifier: Notifier, links: RecordingLinks
) -> None:
    sk = queue(
        table,
        clock,
        message(
            NotificationKind.QUOTE_SUBMITTED,
            body="{{link:approve-quote}}",
            html="",
            links=(LinkRequest("approve-quote", quote_version=1),),
        ),
    )
    clock.advance(hours=5)
    deliver(notifier, sk)
    assert [g.expires_at for g in links.grants] == [clock.now + timedelta(days=30)]


# ------------------------------------------------------------------ requests per mail
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # The claim, the send, then one transaction (sent + the Message-ID record).
        ({}, ["UpdateItem", "SendEmail", "TransactWriteItems"]),
        # + one PutItem per link (ActionLinks.issue), after the claim, before the send.
        (
            {
                "body": "{{link:approve-quote}} {{link:refuse-quote}}",
                "links": (
                    LinkRequest("approve-quote", quote_version=1),
                    LinkRequest("refuse-quote", quote_version=1),
                ),
            },
            ["UpdateItem", "PutItem", "PutItem", "SendEmail", "TransactWriteItems"],
        ),
        # + one Query of the roster's partition (every consultant of every level: one page).
        ({"to": "", "to_level": 1}, ["UpdateItem", "Query", "SendEmail", "TransactWriteItems"]),
        # + one GetItem of the consultant.
        (
            {"to": "", "to_consultant": L1.id},
            ["UpdateItem", "GetItem", "SendEmail", "TransactWriteItems"],
        ),
    ],
    ids=["client mail", "two links", "to a level", "to a consultant"],
)
def test_the_aws_requests_of_one_mail(
    service: HelpdeskService,
    table: Table,
    ses: Any,
    clock: Clock,
    fields: dict[str, Any],
    expected: list[str],
) -> None:
    notifier = Notifier(
        DynamoOutboxClaims(table, Channel.MAIL),
        DynamoDirectoryRepository(table),
        SesMailer(ses, f"support@{DOMAIN}"),
        DOMAIN,
        clock=clock,
        links=DynamoActionLinks(table, clock),
        app_url=APP,
    )
    sk = queue(table, clock, message(NotificationKind.TAKEN, **fields))
    calls: list[str] = []
    for client in (table.client, ses):
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    assert deliver(notifier, sk) == "sent"
    assert calls == expected
    calls.clear()
    assert deliver(notifier, sk) == "already_sent"
    assert calls == ["UpdateItem", "GetItem"]  # a replay: the failed claim, the read of why


# ------------------------------------------------------- SES configuration set (DESIGN §12)
def test_every_send_names_the_configuration_set(
    service: HelpdeskService, table: Table, ses: Any, clock: Clock
) -> None:
    """SES counts the bounces and complaints of the set's mail in its reputation metrics
    (template.yaml alarms on them); moto accepts the name as SES does."""
    ses.create_configuration_set(
        ConfigurationSetName="helpdesk-test-mail",
        ReputationOptions={"ReputationMetricsEnabled": True},
    )
    notifier = Notifier(
        DynamoOutboxClaims(table, Channel.MAIL),
        DynamoDirectoryRepository(table),
        SesMailer(ses, f"support@{DOMAIN}", "helpdesk-test-mail"),
        DOMAIN,
        clock=clock,
        links=RecordingLinks(),
        app_url=APP,
    )
    sent: list[dict[str, Any]] = []
    ses.meta.events.register(
        "before-parameter-build.sesv2.SendEmail", lambda params, **_: sent.append(dict(params))
    )
    assert deliver(notifier, queue(table, clock, message(NotificationKind.TAKEN))) == "sent"
    assert [p.get("ConfigurationSetName") for p in sent] == ["helpdesk-test-mail"]
    assert len(sent_mail()) == 1


def test_the_deployed_notifier_takes_the_set_from_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from helpdesk import bootstrap
    from helpdesk.settings import get_settings

    monkeypatch.setenv("TABLE_NAME", "helpdesk-test")
    monkeypatch.setenv("SES_CONFIGURATION_SET", "helpdesk-prod-mail")
    get_settings.cache_clear()
    bootstrap.notifier.cache_clear()
    try:
        mailer = bootstrap.notifier().mailer
        assert isinstance(mailer, SesMailer)
        assert mailer.configuration_set == "helpdesk-prod-mail"
    finally:
        get_settings.cache_clear()
        bootstrap.notifier.cache_clear()
