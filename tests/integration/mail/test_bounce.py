"""Delivery reports about our own mail (issue 22): recorded on the ticket, never ignored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from helpdesk.adapters.dynamodb import keys
from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.domain.model import Status
from helpdesk.domain.workflow import Action, ActionInput
from helpdesk.jobs import AutoCloseJob
from helpdesk.mail_ingest import MailConfig
from helpdesk.service import HelpdeskService
from tests.conftest import L1, MANAGER
from tests.integration.mail.conftest import Mailbox, corpus, mail_ingestion


def opened(mailbox: Mailbox) -> int:
    result = mailbox.deliver(corpus("plain.eml"))
    assert result.outcome == "ticket_created" and result.ticket_number == 1
    return result.ticket_number


def staff_mails(table: Table, number: int) -> list[str]:
    outbox = table.partition(keys.ticket_pk(number), "OUTBOX#")
    return [str(item["kind"]) for item in outbox if str(item["kind"]).startswith("staff_")]


def test_a_bounce_of_our_acknowledgement_is_recorded_on_its_ticket(
    mailbox: Mailbox,
    service: HelpdeskService,
    table: Table,
    sent_message: Callable[[str, int], None],
) -> None:
    number = opened(mailbox)
    sent_message("ack-1@helpdesk.localhost", number)
    result = mailbox.deliver(corpus("bounce_ours.eml"))
    assert (result.outcome, result.reason, result.ticket_number) == (
        "bounce_recorded",
        "delivery_failed",
        number,
    )
    event = service.history(MANAGER, number)[-1]
    assert (event.action, event.actor) == ("mail-bounced", "system")
    assert event.details == {
        "recipient": "fabrice@acme.example",
        "status": "5.2.2",
        "diagnostic": "552 5.2.2 <fabrice@acme.example>: Mailbox full",
    }
    # The level is told (nobody holds the ticket yet); the client is not written to again.
    assert staff_mails(table, number) == ["staff_new_ticket", "staff_mail_bounced"]
    again = mailbox.deliver(corpus("bounce_ours.eml"))
    assert (again.outcome, again.replayed) == ("bounce_recorded", True)
    assert [e.action for e in service.history(MANAGER, number)].count("mail-bounced") == 1


def test_a_bounce_of_our_answer_holds_the_auto_close_until_a_consultant_acts(
    mailbox: Mailbox,
    service: HelpdeskService,
    table: Table,
    sent_message: Callable[[str, int], None],
) -> None:
    number = opened(mailbox)
    for action, params in (("take", {}), ("start", {}), ("send-answer", {"message": "Fait."})):
        service.perform(L1, number, Action(action), ActionInput(**params))  # type: ignore[arg-type]
    answered = service.uow.tickets.get(number)
    assert answered.countdown_running and answered.auto_close_at is not None
    sent_message("taken-1@helpdesk.localhost", number)
    result = mailbox.deliver(corpus("bounce_ours_rfc822.eml"))
    assert (result.outcome, result.ticket_number) == ("bounce_recorded", number)
    stored = service.uow.tickets.get(number)
    assert stored.countdown_suspended
    assert staff_mails(table, number)[-1] == "staff_mail_bounced"
    report = AutoCloseJob(service.uow).run(answered.auto_close_at + timedelta(days=1))
    assert report.closed == 0
    assert service.uow.tickets.get(number).status is Status.ANSWER_SENT


def test_a_flood_of_delivery_reports_is_rate_limited(
    service: HelpdeskService,
    table: Table,
    s3: Any,
    mail_config: MailConfig,
    sent_message: Callable[[str, int], None],
) -> None:
    config = MailConfig(mail_config.routing, rate_limit=2)
    mailbox = Mailbox(mail_ingestion(table, config, s3, service.clock), s3)
    number = opened(mailbox)
    sent_message("ack-1@helpdesk.localhost", number)
    raw = corpus("bounce_ours.eml")
    outcomes = [
        mailbox.deliver(raw.replace(b"bounce-ours-1@", f"flood-{i}@".encode())).outcome
        for i in range(4)
    ]
    assert outcomes == ["bounce_recorded"] * 2 + ["rate_limited"] * 2
    assert [e.action for e in service.history(MANAGER, number)].count("mail-bounced") == 2


def test_a_delivery_report_about_other_mail_stays_ignored(
    mailbox: Mailbox, service: HelpdeskService, sent_message: Callable[[str, int], None]
) -> None:
    number = opened(mailbox)
    sent_message("ack-1@helpdesk.localhost", number)
    assert mailbox.deliver(corpus("bounce.eml")).outcome == "ignored_auto_reply"  # no id
    unknown = corpus("bounce_ours.eml").replace(b"<ack-1@", b"<elsewhere-1@")
    assert mailbox.deliver(unknown).outcome == "ignored_auto_reply"
    assert "mail-bounced" not in [e.action for e in service.history(MANAGER, number)]
