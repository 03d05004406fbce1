"""Who is told what, in which words (DESIGN.md §8, "Who is told what" and "True texts").

Every row of the table but the two of §10: the recipients (`to`, `to_consultant`, `to_level`),
the subject, the French facts a reader needs, the links a decision needs, and what no mail may
ever say (an API path, an HTTP verb, that the client did not answer, a validity that disagrees
with the date). Expected texts are typed from DESIGN.md and a calendar, not computed by the
code under test.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from helpdesk import side_effects
from helpdesk.changes import MailQueued
from helpdesk.domain import notifications
from helpdesk.domain.attachments import AttachmentRecord, AttachmentStatus
from helpdesk.domain.comments import Comment, new_comment
from helpdesk.domain.model import Caller, Priority, Role, Source, Ticket, TicketType
from helpdesk.domain.notifications import LinkRequest, Notification, NotificationKind
from helpdesk.domain.workflow import (
    Action,
    ActionContext,
    ActionInput,
    Transition,
    decide,
    mail_bounced,
)
from helpdesk.service import HelpdeskService
from tests.unit.builders import (
    CLIENT,
    CREATED,  # Friday 20 November 2026, 10:00 in Paris
    L1,
    L1B,
    L2,
    MANAGER,
    NOW,  # Friday 27 November 2026, 10:00 in Paris
    OWNER,
    PICKED,
    SITUATIONS,
    SYSTEM,
    base_ticket,
    build_ticket,
)
from tests.unit.fakes import InMemoryUnitOfWork

K = NotificationKind
MAIL = "fabrice@acme.example"  # the requester's address (builders.CLIENT)
TITLE = "Création de l'utilisateur Fabrice"
PAGE = "{{app}}/app/tickets/88"  # the ticket's page in the web app
SEED = f"ticket-88-{int(CREATED.timestamp())}"
# builders.quote(): submitted the day after creation (Saturday 21 November, 10:00 in Paris),
# valid 30 days: until Monday 21 December 2026, 10:00 in Paris.
QUOTE_1_UNTIL = "lundi 21 décembre 2026 à 10:00"


def owner(level: int) -> Caller:
    """The assignee builders.build_ticket names (OWNER), acting themself."""
    return Caller(id=OWNER, role=Role.CONSULTANT, level=level, email="owner@consult.example")


def ticket_in(situation_id: str, ticket_type: str = "assistance", **changes: object) -> Ticket:
    situation = next(s for s in SITUATIONS if s.id == situation_id)
    return replace(build_ticket(ticket_type, situation), **changes)  # type: ignore[arg-type]


def run(
    ticket: Ticket,
    caller: Caller,
    action: str,
    *,
    assignee_level: int | None = None,
    auto_close_days: int = 7,
    **body: object,
) -> Transition:
    context = ActionContext(now=NOW, assignee_level=assignee_level, auto_close_days=auto_close_days)
    return decide(ticket, caller, Action(action), ActionInput(**body), context)  # type: ignore[arg-type]


def mails(transition: Transition) -> dict[NotificationKind, Notification]:
    messages = notifications.for_transition(transition)
    by_kind = {m.kind: m for m in messages}
    assert len(by_kind) == len(messages), "one message per kind and change"
    return by_kind


def comment(
    ticket: Ticket,
    caller: Caller,
    body: str,
    *,
    internal: bool = False,
    source: Source = Source.API,
    comment_id: str = "0001795770000000-abc123",
) -> Comment:
    return new_comment(
        ticket,
        caller,
        comment_id=comment_id,
        body=body,
        internal=internal,
        now=NOW,
        source=source,
    )


def text(message: Notification) -> str:
    return "\n".join((message.subject, message.body, message.html))


def to_client(message: Notification) -> None:
    assert (message.to, message.to_consultant, message.to_level) == (MAIL, None, None)


def to_consultant(message: Notification, consultant: str) -> None:
    assert (message.to, message.to_consultant, message.to_level) == ("", consultant, None)
    assert PAGE in message.body and f'href="{PAGE}"' in message.html


def to_level(message: Notification, level: int) -> None:
    assert (message.to, message.to_consultant, message.to_level) == ("", None, level)
    assert PAGE in message.body and f'href="{PAGE}"' in message.html


# ------------------------------------------------------------------ creation


def test_a_new_ticket_is_acknowledged_and_its_level_told() -> None:
    ticket = base_ticket(version=1)
    ack, staff = notifications.for_creation(ticket)

    assert ack.kind is K.CREATED and ack.key == "created"
    to_client(ack)
    assert ack.subject == f"[#88] Demande reçue : {TITLE}"
    assert "#88" in ack.body
    assert "Type : Support - Assistance Utilisateur" in ack.body
    assert "Statut : Ouvert" in ack.body
    assert ack.links == ()

    assert staff.kind is K.STAFF_NEW_TICKET
    to_level(staff, 1)  # assistance: level 1's active consultants
    assert staff.subject == f"[#88] Nouvelle demande : {TITLE}"
    assert "Merci de créer l'utilisateur Fabrice." in staff.body  # the description
    assert "Organisation : acme" in staff.body
    assert "Demandeur : fabrice@acme.example" in staff.body
    assert "vendredi 20 novembre 2026 à 10:00" in staff.body


def test_a_new_incident_tells_level_2() -> None:
    ticket = base_ticket("incident", version=1)
    [_ack, staff] = notifications.for_creation(ticket)
    to_level(staff, 2)
    assert "Type : Support - Incident Applicatif" in staff.body


def test_a_ticket_without_a_requester_address_tells_staff_only() -> None:
    ticket = base_ticket(version=1, requester_email="")
    assert [m.kind for m in notifications.for_creation(ticket)] == [K.STAFF_NEW_TICKET]


def test_bulk_mail_s_ticket_is_not_acknowledged_but_its_level_is_told() -> None:
    ticket = base_ticket(version=1)
    [staff] = notifications.for_creation(ticket, acknowledge=False)
    assert staff.kind is K.STAFF_NEW_TICKET


def test_a_bounce_tells_the_assignee_what_the_mail_server_said() -> None:
    ticket = ticket_in("answer_sent", countdown_suspended=True)
    details = {"recipient": "fabrice@acme.example", "status": "5.1.1", "diagnostic": "550 user"}
    transition = mail_bounced(ticket, NOW, details)
    [staff] = notifications.for_transition(transition)
    assert staff.kind is K.STAFF_MAIL_BOUNCED
    assert staff.to_consultant == ticket.assignee
    assert "fabrice@acme.example" in staff.body and "5.1.1 (550 user)" in staff.body
    assert "suspendue" in staff.body


def test_every_message_carries_the_ticket_thread() -> None:
    threaded = base_ticket(mail_thread="<abc@mail.acme.example>")
    for message in notifications.for_creation(threaded):
        assert (message.thread, message.thread_seed) == ("<abc@mail.acme.example>", SEED)
    for message in notifications.for_creation(base_ticket()):
        assert (message.thread, message.thread_seed) == ("", SEED)


# ------------------------------------------------------------------ take, assign


def test_take_tells_the_client_by_whom_and_the_priority_in_french() -> None:
    found = mails(run(base_ticket(), L1, "take", priority=Priority.HIGH))
    assert set(found) == {K.TAKEN}  # L1 took it for themself: no staff mail
    taken = found[K.TAKEN]
    to_client(taken)
    assert taken.subject == f"[#88] Demande prise en charge : {TITLE}"
    assert "prise en charge par cons-l1-a" in taken.body
    assert "Priorité : haute" in taken.body and "high" not in text(taken)
    assert "Statut : Pris en charge" in taken.body


def test_take_for_someone_else_tells_the_new_assignee() -> None:
    transition = run(
        base_ticket(),
        MANAGER,
        "take",
        assignee=PICKED,
        assignee_level=1,
        priority=Priority.CRITICAL,
    )
    found = mails(transition)
    assert set(found) == {K.TAKEN, K.STAFF_ASSIGNED}
    assert "prise en charge par cons-picked" in found[K.TAKEN].body
    assert "Priorité : critique" in found[K.TAKEN].body
    staff = found[K.STAFF_ASSIGNED]
    to_consultant(staff, PICKED)
    assert staff.subject == f"[#88] Demande attribuée : {TITLE}"
    assert "manager-1 vous a attribué la demande #88" in staff.body
    assert "Priorité : critique" in staff.body


def test_consultants_are_named_by_their_names_when_the_caller_knows_them() -> None:
    names = {PICKED: "Marie <Durand>", MANAGER.id: "Maxime Leroy"}
    transition = run(base_ticket(), MANAGER, "take", assignee=PICKED, assignee_level=1)
    found = {m.kind: m for m in notifications.for_transition(transition, names)}
    assert "prise en charge par Marie <Durand>" in found[K.TAKEN].body
    assert "Marie &lt;Durand&gt;" in found[K.TAKEN].html  # a name is typed text too
    assert "cons-picked" not in found[K.TAKEN].body
    assert "Maxime Leroy vous a attribué" in found[K.STAFF_ASSIGNED].body
    assert "Suivie par : Marie <Durand>" in found[K.STAFF_ASSIGNED].body
    ticket = ticket_in("in_progress")
    note = comment(ticket, L1, "Bonjour")
    [message] = notifications.for_comment(ticket, note, L1, {L1.id: "Léa Martin"})
    assert "(message de Léa Martin)" in message.body


def test_take_tells_the_client_a_corrected_type() -> None:
    transition = run(
        base_ticket(), L1, "take", type=TicketType.INCIDENT, assignee=L2.id, assignee_level=2
    )  # an incident is level 2's: L1 qualifies it and hands it to L2
    found = mails(transition)
    assert set(found) == {K.TAKEN, K.STAFF_ASSIGNED}
    to_consultant(found[K.STAFF_ASSIGNED], L2.id)
    body = found[K.TAKEN].body
    assert "Type : Support - Incident Applicatif" in body
    assert "corrigé" in body and "Support - Assistance Utilisateur" in body
    assert "Priorité : normale" in body


def test_assign_tells_the_client_and_the_new_assignee() -> None:
    transition = run(ticket_in("in_progress"), MANAGER, "assign", assignee=L1B.id, assignee_level=1)
    found = mails(transition)
    assert set(found) == {K.ASSIGNED, K.STAFF_ASSIGNED}
    to_client(found[K.ASSIGNED])
    assert "prise en charge par cons-l1-b" in found[K.ASSIGNED].body
    staff = found[K.STAFF_ASSIGNED]
    to_consultant(staff, L1B.id)
    assert "manager-1 vous a attribué" in staff.body
    assert "suivie jusqu'ici par cons-owner" in staff.body


def test_a_consultant_taking_a_queue_ticket_for_themself_is_not_mailed() -> None:
    queued = ticket_in("taken@queue")  # assistance escalated to level 2, nobody holds it
    found = mails(run(queued, L2, "assign", assignee=L2.id, assignee_level=2))
    assert set(found) == {K.ASSIGNED}
    assert "prise en charge par cons-l2-a" in found[K.ASSIGNED].body


# ------------------------------------------------------------------ escalate, hold


def test_escalate_to_a_named_consultant() -> None:
    transition = run(
        ticket_in("in_progress"),
        owner(1),
        "escalate",
        assignee=L2.id,
        assignee_level=2,
        reason="Droits d'administration requis",
    )
    found = mails(transition)
    assert set(found) == {K.ESCALATED, K.STAFF_ESCALATED}
    client = found[K.ESCALATED]
    to_client(client)
    assert client.subject == f"[#88] Demande transmise au niveau 2 : {TITLE}"
    assert "transmise au support de niveau 2" in client.body
    assert "cons-l2-a la prend en charge" in client.body
    assert "Droits d'administration" not in client.body  # the reason is for staff
    staff = found[K.STAFF_ESCALATED]
    to_consultant(staff, L2.id)
    assert "cons-owner vous a transmis la demande #88" in staff.body
    assert "du niveau 1 au niveau 2" in staff.body
    assert "Droits d'administration requis" in staff.body


def test_escalate_to_the_queue_tells_the_new_level() -> None:
    found = mails(run(ticket_in("taken"), owner(1), "escalate"))
    assert set(found) == {K.ESCALATED, K.STAFF_ESCALATED}
    assert "un consultant de ce niveau va la prendre en charge" in found[K.ESCALATED].body
    staff = found[K.STAFF_ESCALATED]
    to_level(staff, 2)
    assert "file du niveau" in staff.body


def test_hold_tells_the_client_with_the_reason() -> None:
    found = mails(run(ticket_in("in_progress"), owner(1), "hold", reason="Attente de l'éditeur"))
    assert set(found) == {K.ON_HOLD}
    held = found[K.ON_HOLD]
    to_client(held)
    assert held.subject == f"[#88] Demande en attente (Un instant) : {TITLE}"
    assert "« Un instant »" in held.body
    assert "Attente de l'éditeur" in held.body


def test_hold_without_a_reason_does_not_blame_the_client() -> None:
    held = mails(run(ticket_in("in_progress"), owner(1), "hold"))[K.ON_HOLD]
    assert "de votre part ou d'un tiers" in held.body


@pytest.mark.parametrize(("situation", "action"), [("taken", "start"), ("on_hold<taken", "resume")])
def test_start_and_resume_tell_nobody(situation: str, action: str) -> None:
    assert notifications.for_transition(run(ticket_in(situation), owner(1), action)) == []


# ------------------------------------------------------------------ comments


def test_a_public_staff_comment_goes_to_the_client() -> None:
    ticket = ticket_in("in_progress")
    note = comment(ticket, L1, "Pouvez-vous redémarrer le poste ?")
    [message] = notifications.for_comment(ticket, note, L1)
    to_client(message)
    assert message.kind is K.COMMENT
    assert (message.ref, message.key) == (note.id, f"comment_{note.id}")
    assert message.subject == f"[#88] Nouveau message : {TITLE}"
    assert "Pouvez-vous redémarrer le poste ?" in message.body
    assert message.links == ()


def test_an_internal_comment_tells_nobody() -> None:
    ticket = ticket_in("in_progress")
    note = comment(ticket, L1, "Client difficile", internal=True)
    assert notifications.for_comment(ticket, note, L1) == []


def test_a_staff_comment_on_an_answered_ticket_offers_the_links_again() -> None:
    ticket = ticket_in("answer_sent")  # answered, countdown running
    note = comment(ticket, L1, "Précision : le compte est actif.")
    [message] = notifications.for_comment(ticket, note, L1)
    assert message.links == (
        LinkRequest("confirm", answered_at=ticket.answered_at),
        LinkRequest("reopen", answered_at=ticket.answered_at),
    )
    assert "{{link:confirm}}" in message.body and "{{link:reopen}}" in message.body


def test_a_client_comment_goes_to_the_assignee() -> None:
    ticket = ticket_in("in_progress")
    note = comment(ticket, CLIENT, "Ça ne marche toujours pas.")
    [message] = notifications.for_comment(ticket, note, CLIENT)
    assert message.kind is K.STAFF_CLIENT_COMMENT
    to_consultant(message, OWNER)
    assert message.key == f"staff_client_comment_{note.id}"
    assert message.subject == f"[#88] Message du client : {TITLE}"
    assert "Ça ne marche toujours pas." in message.body
    assert "fabrice@acme.example a écrit dans l'application" in message.body


def test_a_client_mail_on_a_queue_ticket_goes_to_the_level() -> None:
    ticket = ticket_in("in_progress@queue")  # level 2, nobody assigned
    paul = Caller(id="mail:paul@acme.test", role=Role.CLIENT, email="paul@acme.test", org_id="acme")
    note = comment(ticket, paul, "Je relance.", source=Source.EMAIL)
    [message] = notifications.for_comment(ticket, note, paul)
    to_level(message, 2)
    assert "paul@acme.test a écrit par mail" in message.body


def test_a_client_mail_while_a_quote_waits_reminds_staff_it_is_not_a_decision() -> None:
    ticket = ticket_in("awaiting_quote_approval", "evolution")
    note = comment(ticket, CLIENT, "Je valide le devis", source=Source.EMAIL)
    [message] = notifications.for_comment(ticket, note, CLIENT)
    assert "Je valide le devis" in message.body
    assert "ne vaut ni acceptation ni refus" in message.body
    assert "1 200,00 €" in message.body


def test_a_client_reply_that_suspends_the_countdown_says_so() -> None:
    ticket = ticket_in("answer_sent", countdown_suspended=True)
    note = comment(ticket, CLIENT, "Ça ne marche toujours pas.", source=Source.EMAIL)
    [message] = notifications.for_comment(ticket, note, CLIENT)
    assert "fermeture automatique de la demande est suspendue" in message.body


# ------------------------------------------------------------------ quotes


def test_a_quote_states_amount_days_description_valid_until_and_links() -> None:
    transition = run(
        ticket_in("in_progress", "evolution"),
        owner(2),
        "submit-quote",
        amount=Decimal("1200.00"),
        days=Decimal("3"),
        description="Export CSV des commandes",
        validity_days=10,
    )
    found = mails(transition)
    assert set(found) == {K.QUOTE_SUBMITTED}
    quote = found[K.QUOTE_SUBMITTED]
    to_client(quote)
    assert quote.subject == f"[#88] Chiffrage à valider : {TITLE}"
    assert "Montant : 1 200,00 €" in quote.body
    assert "Charge estimée : 3 jours" in quote.body
    assert "Export CSV des commandes" in quote.body
    # Submitted Friday 27 November 10:00 (Paris), valid 10 days.
    assert "Valable jusqu'au : lundi 7 décembre 2026 à 10:00" in quote.body
    assert "30 jours" not in text(quote) and "valable 10 jours" not in text(quote).lower()
    assert quote.links == (
        LinkRequest("approve-quote", quote_version=1),
        LinkRequest("refuse-quote", quote_version=1),
    )
    assert "{{link:approve-quote}}" in quote.body and "{{link:refuse-quote}}" in quote.body
    assert 'href="{{link:approve-quote}}"' in quote.html
    assert 'href="{{link:refuse-quote}}"' in quote.html
    assert "ne vaut ni acceptation ni refus" in quote.body  # a reply is not a decision


def test_a_new_quote_after_a_refusal_links_its_own_version() -> None:
    transition = run(
        ticket_in("in_progress+refused_quote", "evolution"),
        owner(2),
        "submit-quote",
        amount=Decimal("950.50"),
    )
    quote = mails(transition)[K.QUOTE_SUBMITTED]
    assert quote.links == (
        LinkRequest("approve-quote", quote_version=2),
        LinkRequest("refuse-quote", quote_version=2),
    )
    assert "version 2" in quote.body and "950,50 €" in quote.body
    assert "Charge estimée" not in quote.body  # no days given


def test_an_approved_quote_tells_client_and_assignee() -> None:
    found = mails(run(ticket_in("awaiting_quote_approval", "evolution"), CLIENT, "approve-quote"))
    assert set(found) == {K.QUOTE_APPROVED, K.ASSIGNEE_QUOTE_APPROVED}
    client = found[K.QUOTE_APPROVED]
    to_client(client)
    assert client.subject == f"[#88] Chiffrage accepté : {TITLE}"
    assert "version 1, 1 200,00 €" in client.body and "accepté" in client.body
    assert "En Cours de Réalisation" in client.body
    staff = found[K.ASSIGNEE_QUOTE_APPROVED]
    to_consultant(staff, OWNER)
    assert "Le client a accepté le chiffrage" in staff.body


def test_a_refused_quote_tells_client_and_assignee_the_reason() -> None:
    transition = run(
        ticket_in("awaiting_quote_approval", "evolution"),
        CLIENT,
        "refuse-quote",
        reason="Trop cher pour ce trimestre",
    )
    found = mails(transition)
    assert set(found) == {K.QUOTE_REFUSED, K.ASSIGNEE_QUOTE_REFUSED}
    assert found[K.QUOTE_REFUSED].subject == f"[#88] Chiffrage refusé : {TITLE}"
    assert "Trop cher pour ce trimestre" in found[K.QUOTE_REFUSED].body
    to_consultant(found[K.ASSIGNEE_QUOTE_REFUSED], OWNER)
    assert "Trop cher pour ce trimestre" in found[K.ASSIGNEE_QUOTE_REFUSED].body


def test_an_expired_quote_never_claims_the_client_did_not_answer() -> None:
    transition = run(
        ticket_in("awaiting_quote_approval", "evolution"), SYSTEM, "expire-quote", quote_version=1
    )
    found = mails(transition)
    assert set(found) == {K.QUOTE_EXPIRED, K.ASSIGNEE_QUOTE_EXPIRED}
    client = found[K.QUOTE_EXPIRED]
    to_client(client)
    assert client.subject == f"[#88] Chiffrage expiré : {TITLE}"
    assert "sans avoir été accepté ni refusé" in client.body
    assert QUOTE_1_UNTIL in client.body
    staff = found[K.ASSIGNEE_QUOTE_EXPIRED]
    to_consultant(staff, OWNER)
    assert "aucune décision" in staff.body
    assert "répondu par mail" in staff.body  # points at the comments, claims nothing
    for message in found.values():
        lowered = text(message).lower()
        assert "sans réponse" not in lowered and "n'a pas répondu" not in lowered
        assert "malgré les relances" not in lowered


def test_a_quote_withdrawn_by_its_assignee_tells_the_client_only() -> None:
    found = mails(
        run(ticket_in("awaiting_quote_approval", "evolution"), owner(2), "withdraw-quote")
    )
    assert set(found) == {K.QUOTE_WITHDRAWN}
    withdrawn = found[K.QUOTE_WITHDRAWN]
    to_client(withdrawn)
    assert withdrawn.subject == f"[#88] Chiffrage retiré : {TITLE}"
    assert "plus de décision" in withdrawn.body
    assert withdrawn.links == ()


def test_a_quote_withdrawn_by_a_manager_tells_the_assignee_too() -> None:
    found = mails(run(ticket_in("awaiting_quote_approval", "evolution"), MANAGER, "withdraw-quote"))
    assert set(found) == {K.QUOTE_WITHDRAWN, K.STAFF_QUOTE_WITHDRAWN}
    staff = found[K.STAFF_QUOTE_WITHDRAWN]
    to_consultant(staff, OWNER)
    assert "manager-1 a retiré le chiffrage" in staff.body


def test_quote_reminders_offer_the_links_and_the_date() -> None:
    ticket = ticket_in("awaiting_quote_approval", "evolution")
    reminder = notifications.quote_reminder(ticket, 2)
    assert reminder is not None
    to_client(reminder)
    assert (reminder.kind, reminder.sequence, reminder.key) == (
        K.QUOTE_REMINDER,
        2,
        "quote_reminder_2",
    )
    assert reminder.subject == f"[#88] Chiffrage à valider (rappel) : {TITLE}"
    assert reminder.links == (
        LinkRequest("approve-quote", quote_version=1),
        LinkRequest("refuse-quote", quote_version=1),
    )
    assert "{{link:approve-quote}}" in reminder.body and "{{link:refuse-quote}}" in reminder.body
    assert QUOTE_1_UNTIL in reminder.body
    assert "1 200,00 €" in reminder.body
    assert "toujours votre décision" not in reminder.body


# ------------------------------------------------------------------ answer, reopen


def test_an_answer_carries_the_message_the_auto_close_date_and_the_links() -> None:
    transition = run(
        ticket_in("in_progress", "incident"),
        owner(2),
        "send-answer",
        message="Le compte est créé.\nMot de passe envoyé à part.",
        auto_close_days=5,
    )
    found = mails(transition)
    assert set(found) == {K.ANSWER_SENT}
    answer = found[K.ANSWER_SENT]
    to_client(answer)
    assert answer.subject == f"[#88] Réponse à votre demande : {TITLE}"
    assert "Le compte est créé.\nMot de passe envoyé à part." in answer.body
    assert "Le compte est créé.<br>" in answer.html
    # Answered Friday 27 November 10:00 in Paris, 5 days: Wednesday 2 December 10:00.
    assert "mercredi 2 décembre 2026 à 10:00" in answer.body
    assert answer.links == (
        LinkRequest("confirm", answered_at=NOW),
        LinkRequest("reopen", answered_at=NOW),
    )
    assert "{{link:confirm}}" in answer.body and "{{link:reopen}}" in answer.body
    assert 'href="{{link:confirm}}"' in answer.html and 'href="{{link:reopen}}"' in answer.html


def test_the_auto_close_reminder_offers_the_links() -> None:
    ticket = ticket_in("answer_sent")  # answered 2 days before NOW, closes 5 days after it
    reminder = notifications.reminder(ticket)
    assert reminder is not None
    to_client(reminder)
    assert reminder.kind is K.AUTO_CLOSE_REMINDER
    assert reminder.subject == f"[#88] Fermeture prochaine : {TITLE}"
    assert reminder.links == (
        LinkRequest("confirm", answered_at=ticket.answered_at),
        LinkRequest("reopen", answered_at=ticket.answered_at),
    )
    assert "{{link:confirm}}" in reminder.body and "{{link:reopen}}" in reminder.body
    assert "mercredi 2 décembre 2026 à 10:00" in reminder.body  # NOW + 5 days
    assert "sans retour de votre part" not in reminder.body


@pytest.mark.parametrize(
    ("ticket_type", "status"),
    [("assistance", "En Cours"), ("evolution", "En Cours de Réalisation")],
)
def test_reopen_acknowledges_and_tells_the_assignee(ticket_type: str, status: str) -> None:
    ticket = ticket_in("answer_sent", ticket_type)
    found = mails(run(ticket, CLIENT, "reopen", reason="Toujours en erreur"))
    assert set(found) == {K.REOPENED, K.STAFF_REOPENED}
    client = found[K.REOPENED]
    to_client(client)
    assert client.subject == f"[#88] Demande rouverte : {TITLE}"
    assert f"« {status} »" in client.body and "Toujours en erreur" in client.body
    staff = found[K.STAFF_REOPENED]
    to_consultant(staff, OWNER)
    assert "Le client a rouvert la demande #88" in staff.body
    assert "Toujours en erreur" in staff.body


# ------------------------------------------------------------------ closure


def closed(transition: Transition) -> Notification:
    found = mails(transition)
    message = found[K.CLOSED]
    to_client(message)
    assert message.subject == f"[#88] Demande fermée : {TITLE}"
    assert "nouvelle demande" in message.body  # a reply to a closed ticket opens a new one
    return message


def test_confirm_closes_with_the_reason_in_words() -> None:
    transition = run(ticket_in("answer_sent"), CLIENT, "confirm")
    assert set(mails(transition)) == {K.CLOSED}
    assert "résolution a été confirmée" in closed(transition).body


def test_a_consultant_close_gives_its_note() -> None:
    transition = run(ticket_in("answer_sent"), owner(1), "close", note="Confirmé par téléphone")
    assert set(mails(transition)) == {K.CLOSED}
    body = closed(transition).body
    assert "Le support a fermé votre demande" in body and "Confirmé par téléphone" in body


def test_an_auto_close_is_true_and_tells_the_assignee() -> None:
    transition = run(ticket_in("answer_sent+due"), SYSTEM, "auto-close")
    found = mails(transition)
    assert set(found) == {K.CLOSED, K.STAFF_AUTO_CLOSED}
    body = closed(transition).body
    assert "fermée automatiquement" in body
    assert "ni confirmée ni rouverte" in body
    assert "sans retour de votre part" not in body
    to_consultant(found[K.STAFF_AUTO_CLOSED], OWNER)
    assert "fermée automatiquement" in found[K.STAFF_AUTO_CLOSED].body


def test_a_client_cancel() -> None:
    body = closed(run(base_ticket(), CLIENT, "cancel")).body
    assert "Vous avez annulé votre demande #88" in body


def test_a_staff_cancel_gives_its_reason() -> None:
    transition = run(base_ticket(), L1, "cancel", reason="Doublon de la demande #87")
    assert set(mails(transition)) == {K.CLOSED}
    body = closed(transition).body
    assert "Votre demande #88 a été annulée le vendredi 27 novembre 2026 à 10:00" in body
    assert "Vous avez annulé" not in body
    assert "Doublon de la demande #87" in body


@pytest.mark.parametrize(
    ("situation", "words"),
    [
        ("in_progress+refused_quote", "après le refus du chiffrage"),
        ("in_progress+expired_quote", "ni accepté ni refusé"),
        ("in_progress+withdrawn_quote", "après le retrait du chiffrage"),
        ("in_progress", "avant tout chiffrage"),
    ],
)
def test_an_abandoned_evolution_says_why_and_that_nothing_is_billed(
    situation: str, words: str
) -> None:
    transition = run(ticket_in(situation, "evolution"), owner(2), "close", note="Projet reporté")
    assert set(mails(transition)) == {K.CLOSED}
    body = closed(transition).body
    assert "abandonnée" in body and words in body
    assert "rien ne vous sera facturé" in body and "Projet reporté" in body


# ------------------------------------------------------------------ every message


def every_message() -> list[tuple[str, Notification]]:
    """One of each message the table composes, from the scenarios above."""
    evolution = "evolution"
    paul = Caller(id="mail:paul@acme.test", role=Role.CLIENT, email="paul@acme.test", org_id="acme")
    transitions = [
        run(base_ticket(), L1, "take", priority=Priority.HIGH),
        run(base_ticket(), MANAGER, "take", assignee=PICKED, assignee_level=1),
        run(ticket_in("in_progress"), MANAGER, "assign", assignee=L1B.id, assignee_level=1),
        run(ticket_in("in_progress"), owner(1), "escalate", assignee=L2.id, assignee_level=2),
        run(ticket_in("taken"), owner(1), "escalate", reason="Hors périmètre"),
        run(ticket_in("in_progress"), owner(1), "hold", reason="Attente éditeur"),
        run(ticket_in("in_progress", evolution), owner(2), "submit-quote", amount=Decimal("1200")),
        run(ticket_in("awaiting_quote_approval", evolution), CLIENT, "approve-quote"),
        run(ticket_in("awaiting_quote_approval", evolution), CLIENT, "refuse-quote", reason="Non"),
        run(
            ticket_in("awaiting_quote_approval", evolution), SYSTEM, "expire-quote", quote_version=1
        ),
        run(ticket_in("awaiting_quote_approval", evolution), MANAGER, "withdraw-quote"),
        run(ticket_in("in_progress", "incident"), owner(2), "send-answer", message="Fait."),
        run(ticket_in("answer_sent"), CLIENT, "reopen", reason="Non"),
        run(ticket_in("answer_sent"), CLIENT, "confirm"),
        run(ticket_in("answer_sent"), owner(1), "close", note="Vu au téléphone"),
        run(ticket_in("answer_sent+due"), SYSTEM, "auto-close"),
        run(base_ticket(), CLIENT, "cancel"),
        run(base_ticket(), L1, "cancel", reason="Spam"),
        run(ticket_in("in_progress+refused_quote", evolution), owner(2), "close", note="Reporté"),
        mail_bounced(ticket_in("answer_sent"), NOW, {"recipient": MAIL, "status": "5.1.1"}),
    ]
    found = [m for t in transitions for m in notifications.for_transition(t)]
    found += notifications.for_creation(base_ticket(version=1))
    ticket = ticket_in("answer_sent")
    found += notifications.for_comment(ticket, comment(ticket, L1, "Bonjour"), L1)
    found += notifications.for_comment(ticket, comment(ticket, paul, "Merci"), paul)
    awaiting = ticket_in("awaiting_quote_approval", evolution)
    found += [
        m
        for m in (notifications.quote_reminder(awaiting, 1), notifications.reminder(ticket))
        if m is not None
    ]
    # Attachments (§11): a client's file to staff, a staff file to the client, by name.
    upload = AttachmentRecord(
        id="1764230400000-abcdef123456",
        ticket_number=ticket.number,
        filename="écran.png",
        content_type="image/png",
        size=2048,
        internal=False,
        source=Source.API,
        uploaded_by=CLIENT.id,
        at=NOW,
        status=AttachmentStatus.AVAILABLE,
    )
    found += notifications.for_attachment(ticket, upload)
    found += notifications.for_attachment(ticket, replace(upload, by_staff=True))
    taken = ticket_in("in_progress")
    found += [
        notifications.sla_alert(taken, "answer", "at_risk", NOW + timedelta(hours=2), 270),
        notifications.sla_alert(base_ticket(), "take", "missed", NOW, -75),
    ]
    return [(m.key, m) for m in found]


def _budget_alerts() -> list[Notification]:
    """Both hour-budget alerts (§10), crossed by one entry: to the alert address and managers."""
    from helpdesk.domain.budget import Consumption, budget_move
    from helpdesk.domain.budget_mail import budget_alerts
    from helpdesk.domain.directory import new_organisation

    contract = {"included_minutes": 600, "alert_emails": ["dsi@acme.example"]}
    org = new_organisation("acme", "Acme", ["acme.example"], contract=contract)
    move = budget_move(600, Consumption("acme", "2026-11", 400), 210)
    return budget_alerts(org, base_ticket(), move)


EVERY_MESSAGE = every_message()


def test_every_row_of_the_table_is_composed() -> None:
    kinds = {m.kind for _key, m in EVERY_MESSAGE} | {m.kind for m in _budget_alerts()}
    assert kinds == set(NotificationKind)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


API_TRACES = re.compile(r"\b(POST|GET|PUT|PATCH|DELETE)\b|/actions/|/links/")
ENGLISH = re.compile(r"\b(low|normal|high|critical|open|taken|in_progress|on_hold|answer_sent)\b")
FALSE_CLAIMS = (
    "sans réponse",
    "sans retour",
    "n'a pas répondu",
    "n'avez pas répondu",
    "jamais répondu",
)


@pytest.mark.parametrize(("key", "message"), EVERY_MESSAGE, ids=[k for k, _m in EVERY_MESSAGE])
def test_no_message_shows_an_api_path_a_verb_or_a_false_claim(
    key: str, message: Notification
) -> None:
    everything = text(message)
    assert not API_TRACES.search(everything), everything
    # The only path a mail shows is the ticket's page in the web app.
    assert "/tickets/" not in everything.replace(PAGE, "")
    assert not ENGLISH.search(everything.replace(MAIL, "")), everything
    lowered = everything.lower()
    assert not [claim for claim in FALSE_CLAIMS if claim in lowered]
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", everything)  # no ISO instants
    assert not re.search(r"\d+\.\d{2} ?(EUR|€)", everything)  # money is French


@pytest.mark.parametrize(("key", "message"), EVERY_MESSAGE, ids=[k for k, _m in EVERY_MESSAGE])
def test_every_message_is_french_threaded_and_has_both_parts(
    key: str, message: Notification
) -> None:
    assert message.subject.startswith("[#88] ")
    assert message.body.startswith("Bonjour,\n")
    assert message.body.endswith("Le support applicatif (message automatique)\n")
    assert (message.thread, message.thread_seed) == ("", SEED)
    parser = _Tags()
    parser.feed(message.html)
    assert parser.tags[:2] == ["html", "body"]
    # Each link of the plain part is a link of the HTML part, and the other way round.
    placeholders = set(re.findall(r"\{\{link:[a-z-]+\}\}", message.body))
    assert {h for h in parser.hrefs if h.startswith("{{link:")} == placeholders
    assert placeholders == {f"{{{{link:{r.action}}}}}" for r in message.links}
    if message.to:
        assert message.to == MAIL and message.to_consultant is None and message.to_level is None
    else:
        assert PAGE in parser.hrefs  # staff mails link to the ticket's page
        assert (message.to_consultant is None) != (message.to_level is None)


def test_every_key_is_unique_per_change() -> None:
    ticket = base_ticket()
    both = notifications.for_creation(ticket)
    assert len({m.key for m in both}) == len(both)


@pytest.mark.parametrize(
    ("sequence", "ref", "key"),
    [
        (None, None, "quote_reminder"),
        (3, None, "quote_reminder_3"),
        (None, "c-1", "quote_reminder_c-1"),
        (3, "c-1", "quote_reminder_3_c-1"),
    ],
)
def test_the_key_is_kind_sequence_ref(sequence: int | None, ref: str | None, key: str) -> None:
    message = Notification(K.QUOTE_REMINDER, 88, MAIL, "s", "b", sequence=sequence, ref=ref)
    assert message.key == key


# ------------------------------------------------------------------ what people typed

HOSTILE = "<script>alert('x')</script> & <b>co</b>"


def test_a_hostile_title_is_escaped_in_every_html_part() -> None:
    ticket = base_ticket(title=HOSTILE)
    messages = [
        *notifications.for_creation(ticket),
        *notifications.for_transition(run(ticket, L1, "take")),
    ]
    for message in messages:
        assert "<script>" not in message.html and "<b>co</b>" not in message.html
        assert "&lt;script&gt;" in message.html and "&amp;" in message.html
        assert HOSTILE in message.subject and HOSTILE in message.body  # plain text as typed


def test_typed_text_is_escaped_in_comments_answers_and_quotes() -> None:
    ticket = ticket_in("in_progress")
    note = comment(ticket, CLIENT, '<img src=x onerror="alert(1)">')
    [staff] = notifications.for_comment(ticket, note, CLIENT)
    assert "<img" not in staff.html and "&lt;img src=x" in staff.html
    answer = notifications.for_transition(
        run(ticket_in("in_progress"), owner(1), "send-answer", message="<a href='evil'>ici</a>")
    )[0]
    assert "<a href='evil'>" not in answer.html and "&lt;a href=" in answer.html
    quoted = notifications.for_transition(
        run(
            ticket_in("in_progress", "evolution"),
            owner(2),
            "submit-quote",
            amount=Decimal("10"),
            description="<iframe>",
        )
    )[0]
    assert "<iframe>" not in quoted.html and "&lt;iframe&gt;" in quoted.html


def test_typed_text_cannot_forge_a_link_or_a_placeholder() -> None:
    ticket = ticket_in("in_progress")
    note = comment(ticket, L1, "Cliquez {{link:confirm}} ou {{app}}/ailleurs")
    [message] = notifications.for_comment(ticket, note, L1)
    assert message.links == ()
    assert "{{link:" not in message.body + message.html
    assert "{{app}}" not in message.body + message.html
    assert "Cliquez" in message.body


# ------------------------------------------------------------------ side effects


def test_a_comment_queues_its_mail_keyed_by_the_comment() -> None:
    ticket = ticket_in("in_progress")
    first = comment(ticket, CLIENT, "Un", comment_id="c-1")
    second = comment(ticket, CLIENT, "Deux", comment_id="c-2")
    queued = [
        *side_effects.of_comment(ticket, first, CLIENT),
        *side_effects.of_comment(ticket, second, CLIENT),
    ]
    assert all(isinstance(c, MailQueued) for c in queued)
    mails_queued = [c for c in queued if isinstance(c, MailQueued)]
    assert [(c.notification.key, c.version, c.at) for c in mails_queued] == [
        ("staff_client_comment_c-1", ticket.version, NOW),
        ("staff_client_comment_c-2", ticket.version, NOW),
    ]
    internal = comment(ticket, L1, "Note", internal=True)
    assert side_effects.of_comment(ticket, internal, L1) == []


def test_a_transition_queues_client_and_staff_mails_with_its_version() -> None:
    transition = run(ticket_in("answer_sent"), CLIENT, "reopen", reason="Non")
    queued = [c for c in side_effects.of_transition(transition) if isinstance(c, MailQueued)]
    assert {(c.notification.kind, c.version) for c in queued} == {
        (K.REOPENED, transition.ticket.version),
        (K.STAFF_REOPENED, transition.ticket.version),
    }


@pytest.fixture
def service() -> tuple[HelpdeskService, InMemoryUnitOfWork]:
    uow = InMemoryUnitOfWork()
    ids = (f"id-{n:04d}" for n in range(1, 10_000))
    svc = HelpdeskService(uow, clock=lambda: NOW, ids=lambda: next(ids))
    svc.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example"])
    for caller in (L1, L1B):
        svc.put_consultant(MANAGER, caller.id, name=caller.id, email=caller.email, level=1)
    return svc, uow


def test_the_service_queues_comment_mails_with_the_comment(
    service: tuple[HelpdeskService, InMemoryUnitOfWork],
) -> None:
    svc, uow = service
    number = svc.create_ticket(
        CLIENT, title=TITLE, description="Merci.", type=TicketType.ASSISTANCE
    ).number
    svc.add_comment(CLIENT, number, body="Précision : c'est urgent.")  # nobody holds it yet
    svc.perform(L1, number, Action.TAKE, ActionInput())
    svc.add_comment(CLIENT, number, body="Merci !")
    svc.add_comment(L1, number, body="Je m'en occupe.")
    svc.add_comment(L1, number, body="Note interne", internal=True)
    queued = [
        (m.kind, m.to or m.to_consultant or f"level {m.to_level}")
        for m in uow.mails
        if m.ticket_number == number
    ]
    assert queued == [
        (K.CREATED, MAIL),
        (K.STAFF_NEW_TICKET, "level 1"),
        (K.STAFF_CLIENT_COMMENT, "level 1"),
        (K.TAKEN, MAIL),
        (K.STAFF_CLIENT_COMMENT, L1.id),
        (K.COMMENT, MAIL),
    ]
    assert "Je m'en occupe." in uow.mails[-1].body


def test_a_client_reply_on_an_answered_ticket_is_told_with_the_countdown_suspended(
    service: tuple[HelpdeskService, InMemoryUnitOfWork],
) -> None:
    svc, uow = service
    number = svc.create_ticket(
        CLIENT, title=TITLE, description="Merci.", type=TicketType.ASSISTANCE
    ).number
    svc.perform(L1, number, Action.TAKE, ActionInput())
    svc.perform(L1, number, Action.START, ActionInput())
    svc.perform(L1, number, Action.SEND_ANSWER, ActionInput(message="C'est fait."))
    svc.add_comment(CLIENT, number, body="Ça ne marche toujours pas.")
    last = uow.mails[-1]
    assert (last.kind, last.to_consultant) == (K.STAFF_CLIENT_COMMENT, L1.id)
    assert "suspendue" in last.body
    assert uow.tickets.get(number).countdown_suspended


def test_the_builders_instants_are_the_ones_the_dates_above_assume() -> None:
    """NOW is 10:00 in Paris (UTC+1 in November), CREATED a week earlier."""
    assert datetime(2026, 11, 27, 9, 0, tzinfo=UTC) == NOW
    assert CREATED + timedelta(days=7) == NOW
