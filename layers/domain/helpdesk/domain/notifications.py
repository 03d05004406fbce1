"""What the client is told by email, and when (pure: composes the messages).

A message is composed when the change that causes it is committed, and stored with it in the
same transaction (the outbox), so that no notification is lost and none blocks a transition.
A message to a consultant names the consultant (`to_consultant`); the notifier looks the address
up in the roster when it sends, so a roster change before sending is honoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from helpdesk.domain.calendar import PARIS
from helpdesk.domain.model import ClosureReason, Ticket
from helpdesk.domain.workflow import Transition

CLOSURE_TEXT = {
    ClosureReason.CONFIRMED: "vous avez confirmé que la demande est traitée",
    ClosureReason.CLOSED_BY_CONSULTANT: "le consultant l'a fermé après votre confirmation",
    ClosureReason.AUTO_CLOSED: "sans retour de votre part dans le délai prévu",
    ClosureReason.CANCELLED: "vous avez annulé la demande",
    ClosureReason.ABANDONED: "l'évolution a été abandonnée après refus du chiffrage",
}


class NotificationKind(StrEnum):
    # To the client
    CREATED = "created"
    TAKEN = "taken"
    QUOTE_SUBMITTED = "quote_submitted"
    QUOTE_REMINDER = "quote_reminder"  # numbered: quote_reminder_<n>
    QUOTE_EXPIRED = "quote_expired"
    QUOTE_WITHDRAWN = "quote_withdrawn"
    ANSWER_SENT = "answer_sent"
    CLOSED = "closed"
    AUTO_CLOSE_REMINDER = "auto_close_reminder"
    # To the assignee
    ASSIGNEE_QUOTE_APPROVED = "assignee_quote_approved"
    ASSIGNEE_QUOTE_REFUSED = "assignee_quote_refused"
    ASSIGNEE_QUOTE_EXPIRED = "assignee_quote_expired"


@dataclass(frozen=True)
class Notification:
    kind: NotificationKind
    ticket_number: int
    to: str  # an address; "" when `to_consultant` names the recipient
    subject: str
    body: str
    to_consultant: str | None = None  # a roster id, resolved to its email at send time
    sequence: int | None = None  # the reminder's number, for the kinds sent more than once

    @property
    def key(self) -> str:
        """Unique among the messages of one ticket version (the outbox item's key)."""
        return self.kind.value if self.sequence is None else f"{self.kind.value}_{self.sequence}"


def _paris(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def _subject(ticket: Ticket, text: str) -> str:
    return f"[#{ticket.number}] {text} : {ticket.title}"


def _sign(lines: list[str]) -> str:
    return "\n".join([*lines, "", "-- ", "Le support applicatif (message automatique)"]) + "\n"


def acknowledgement(ticket: Ticket) -> Notification | None:
    if not ticket.requester_email:
        return None
    body = _sign(
        [
            "Bonjour,",
            "",
            f"Votre demande a bien été enregistrée sous le numéro #{ticket.number}.",
            f"Type : {ticket.type.label}",
            f"Statut : {ticket.status.label}",
            "",
            f"Pour compléter la demande, répondez à ce message en gardant [#{ticket.number}] "
            "dans l'objet.",
        ]
    )
    return Notification(
        NotificationKind.CREATED,
        ticket.number,
        ticket.requester_email,
        _subject(ticket, "Demande reçue"),
        body,
    )


def for_transition(transition: Transition) -> list[Notification]:
    """The messages this change causes: to the client, and to the assignee for a quote decided."""
    return [m for m in (_for_client(transition), _for_assignee(transition)) if m is not None]


def _for_client(transition: Transition) -> Notification | None:
    """The message the client gets for this change, if any."""
    ticket = transition.ticket
    if not ticket.requester_email:
        return None
    action = transition.event.action
    if action == "take":
        return _message(
            ticket,
            NotificationKind.TAKEN,
            "Demande prise en charge",
            [
                f"Votre demande #{ticket.number} est prise en charge ({ticket.status.label}).",
                f"Priorité : {ticket.priority.value}.",
            ],
        )
    if action == "submit-quote" and ticket.quote is not None:
        quote = ticket.quote
        days = f" pour {quote.days} jour(s)" if quote.days is not None else ""
        return _message(
            ticket,
            NotificationKind.QUOTE_SUBMITTED,
            "Chiffrage à valider",
            [
                f"Le chiffrage de votre demande #{ticket.number} (version {quote.version}) "
                f"s'élève à {quote.amount:.2f} EUR{days}.",
                quote.description,
                f"Pour l'accepter : POST /tickets/{ticket.number}/actions/approve-quote ; "
                f"pour le refuser : POST /tickets/{ticket.number}/actions/refuse-quote "
                "avec la raison.",
                f"Ce chiffrage est valable {quote.validity_days} jours.",
            ],
        )
    if action == "expire-quote" and ticket.quote is not None:
        return _message(
            ticket,
            NotificationKind.QUOTE_EXPIRED,
            "Chiffrage expiré",
            [
                f"Sans réponse de votre part, le chiffrage de votre demande #{ticket.number} "
                f"(version {ticket.quote.version}) a expiré.",
                "Le consultant reprend l'analyse avec vous ; un nouveau chiffrage pourra suivre.",
            ],
        )
    if action == "withdraw-quote" and ticket.quote is not None:
        return _message(
            ticket,
            NotificationKind.QUOTE_WITHDRAWN,
            "Chiffrage retiré",
            [
                f"Le consultant a retiré le chiffrage de votre demande #{ticket.number} "
                f"(version {ticket.quote.version}) ; vous n'avez rien à valider.",
                "Un chiffrage corrigé vous sera proposé.",
            ],
        )
    if action == "send-answer":
        return _message(
            ticket,
            NotificationKind.ANSWER_SENT,
            "Réponse à votre demande",
            [
                transition.event.details.get("message", ""),
                "",
                f"Si la réponse vous convient, confirmez : POST /tickets/{ticket.number}/actions/"
                "confirm ; sinon rouvrez la demande avec la raison : "
                f"POST /tickets/{ticket.number}/actions/reopen.",
                f"Sans retour de votre part, la demande sera fermée le {_paris(ticket.auto_close_at)}.",
            ],
        )
    if ticket.closure_reason is not None and transition.before.closure_reason is None:
        return _message(
            ticket,
            NotificationKind.CLOSED,
            "Demande fermée",
            [
                f"Votre demande #{ticket.number} est fermée : "
                f"{CLOSURE_TEXT[ticket.closure_reason]}.",
            ],
        )
    return None


def _for_assignee(transition: Transition) -> Notification | None:
    """The assignee is told of a quote decision: approved, refused (why) or expired."""
    ticket = transition.ticket
    action = transition.event.action
    quote = ticket.quote
    if ticket.assignee is None or quote is None:
        return None
    version = f"version {quote.version}, {quote.amount:.2f} EUR"
    if action == "approve-quote":
        kind, subject = NotificationKind.ASSIGNEE_QUOTE_APPROVED, "Chiffrage accepté"
        lines = [
            f"Le client a accepté le chiffrage de la demande #{ticket.number} ({version}).",
            f"La réalisation commence : statut {ticket.status.label}.",
        ]
    elif action == "refuse-quote":
        kind, subject = NotificationKind.ASSIGNEE_QUOTE_REFUSED, "Chiffrage refusé"
        lines = [
            f"Le client a refusé le chiffrage de la demande #{ticket.number} ({version}).",
            f"Raison : {quote.reason or '-'}",
            f"L'analyse reprend avec le client : statut {ticket.status.label}.",
        ]
    elif action == "expire-quote":
        kind, subject = NotificationKind.ASSIGNEE_QUOTE_EXPIRED, "Chiffrage expiré"
        lines = [
            f"Le chiffrage de la demande #{ticket.number} ({version}) a expiré sans réponse "
            "du client malgré les relances.",
            f"Le ticket revient au statut {ticket.status.label}.",
        ]
    else:
        return None
    body = _sign(["Bonjour,", "", *lines])
    return Notification(
        kind, ticket.number, "", _subject(ticket, subject), body, to_consultant=ticket.assignee
    )


def quote_reminder(ticket: Ticket, reminder_number: int) -> Notification | None:
    """The client is reminded that a quote awaits a decision."""
    quote = ticket.quote
    if not ticket.requester_email or quote is None:
        return None
    return _message(
        ticket,
        NotificationKind.QUOTE_REMINDER,
        "Chiffrage à valider (rappel)",
        [
            f"Le chiffrage de votre demande #{ticket.number} (version {quote.version}, "
            f"{quote.amount:.2f} EUR) attend toujours votre décision.",
            f"Pour l'accepter : POST /tickets/{ticket.number}/actions/approve-quote ; "
            f"pour le refuser : POST /tickets/{ticket.number}/actions/refuse-quote "
            "avec la raison.",
        ],
        sequence=reminder_number,
    )


def reminder(ticket: Ticket) -> Notification | None:
    if not ticket.requester_email:
        return None
    return _message(
        ticket,
        NotificationKind.AUTO_CLOSE_REMINDER,
        "Fermeture prochaine",
        [
            f"Votre demande #{ticket.number} sera fermée automatiquement le "
            f"{_paris(ticket.auto_close_at)} sans retour de votre part.",
            "Répondez à ce message ou rouvrez la demande si elle n'est pas résolue.",
        ],
    )


def _message(
    ticket: Ticket,
    kind: NotificationKind,
    subject: str,
    lines: list[str],
    sequence: int | None = None,
) -> Notification:
    body = _sign(["Bonjour,", "", *[line for line in lines if line is not None]])
    return Notification(
        kind,
        ticket.number,
        ticket.requester_email,
        _subject(ticket, subject),
        body,
        sequence=sequence,
    )
