"""Who is told what, by mail, and in which words (pure: composes the messages; DESIGN.md §8).

A message is composed when the change that causes it is committed, and stored with it in the
same transaction (the outbox), so that no notification is lost and none blocks a transition.
A message to staff names a consultant (`to_consultant`) or a level (`to_level`: its active
consultants); the notifier looks the addresses up in the roster when it sends, so a roster
change before sending is honoured.

Every text is French and true in every case: a mail never claims the client did not answer
(they may have replied by mail, and a reply is a comment, not a decision), never shows an API
path or an HTTP verb (people act through links and pages), and states dates in Paris time.
The decisions a mail asks for are links: `{{link:<action>}}` placeholders the notifier turns
into single-use links (one per `LinkRequest`), and `{{app}}` the web app's address. Every
value a person typed is escaped in the HTML part, and cannot form a placeholder.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from helpdesk.domain import french
from helpdesk.domain.attachments import AttachmentRecord, AttachmentStatus, human_size
from helpdesk.domain.comments import Comment
from helpdesk.domain.model import (
    Caller,
    ClosureReason,
    Quote,
    QuoteOutcome,
    Role,
    Source,
    Ticket,
)
from helpdesk.domain.workflow import Transition


class NotificationKind(StrEnum):
    # To the client (the requester)
    CREATED = "created"  # the acknowledgement; the root of the ticket's mail thread
    TAKEN = "taken"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    ON_HOLD = "on_hold"
    COMMENT = "comment"  # a staff comment that is not internal (keyed by the comment)
    QUOTE_SUBMITTED = "quote_submitted"
    QUOTE_REMINDER = "quote_reminder"  # numbered: quote_reminder_<n>
    QUOTE_APPROVED = "quote_approved"
    QUOTE_REFUSED = "quote_refused"
    QUOTE_EXPIRED = "quote_expired"
    QUOTE_WITHDRAWN = "quote_withdrawn"
    ANSWER_SENT = "answer_sent"
    AUTO_CLOSE_REMINDER = "auto_close_reminder"
    REOPENED = "reopened"
    CLOSED = "closed"
    ATTACHMENT = "attachment"  # a file staff attached, not internal (keyed by the attachment)
    # To staff: a consultant, or the active consultants of a level
    STAFF_NEW_TICKET = "staff_new_ticket"
    STAFF_ASSIGNED = "staff_assigned"
    STAFF_ESCALATED = "staff_escalated"
    STAFF_CLIENT_COMMENT = "staff_client_comment"  # keyed by the comment
    ASSIGNEE_QUOTE_APPROVED = "assignee_quote_approved"
    ASSIGNEE_QUOTE_REFUSED = "assignee_quote_refused"
    ASSIGNEE_QUOTE_EXPIRED = "assignee_quote_expired"
    STAFF_QUOTE_WITHDRAWN = "staff_quote_withdrawn"
    STAFF_REOPENED = "staff_reopened"
    STAFF_AUTO_CLOSED = "staff_auto_closed"
    STAFF_MAIL_BOUNCED = "staff_mail_bounced"  # a mail to the client could not be delivered
    STAFF_CLIENT_ATTACHMENT = "staff_client_attachment"  # keyed by the attachment
    # Service levels (§10): the assignee (or the level) and the managers; keyed by the clock
    STAFF_SLA_AT_RISK = "staff_sla_at_risk"
    STAFF_SLA_MISSED = "staff_sla_missed"
    # Hour budgets (§10): keyed by threshold, month and recipient (helpdesk.domain.budget_mail)
    BUDGET_ALERT = "budget_alert"  # to an address of the contract's `alert_emails`
    STAFF_BUDGET_ALERT = "staff_budget_alert"  # to the managers


# The client's decisions a mail offers as links.
APPROVE_QUOTE = "approve-quote"
REFUSE_QUOTE = "refuse-quote"
CONFIRM = "confirm"
REOPEN = "reopen"


@dataclass(frozen=True)
class LinkRequest:
    """One action link the notifier issues for a mail, valid while the ticket is where the
    mail leaves it: the quote version it shows (approve, refuse) or the answer (confirm,
    reopen)."""

    action: str  # approve-quote | refuse-quote | confirm | reopen
    quote_version: int | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class Notification:
    kind: NotificationKind
    ticket_number: int
    to: str  # an address; "" when `to_consultant` or `to_level` names the recipients
    subject: str
    body: str  # the plain-text part; may hold `{{link:<action>}}` and `{{app}}`
    html: str = ""  # the HTML part, same placeholders
    to_consultant: str | None = None  # a roster id, resolved to its email at send time
    to_level: int | None = None  # every active consultant of this level, at send time
    sequence: int | None = None  # the reminder's number, for the kinds sent more than once
    ref: str | None = None  # e.g. a comment id: kinds sent more than once per ticket version
    links: tuple[LinkRequest, ...] = ()
    thread: str = ""  # the Message-ID of the mail that created the ticket, or ""
    thread_seed: str = ""  # the thread root's local part when `thread` is ""
    to_managers: bool = False  # every active manager of the roster too, at send time (§8)

    @property
    def key(self) -> str:
        """Unique among the messages of one ticket version (the outbox item's key)."""
        parts = [self.kind.value]
        if self.sequence is not None:
            parts.append(str(self.sequence))
        if self.ref is not None:
            parts.append(self.ref)
        return "_".join(parts)


# ------------------------------------------------------------------ the document of a mail


@dataclass(frozen=True)
class _Para:
    """A paragraph (its line breaks kept)."""

    text: str


@dataclass(frozen=True)
class _Facts:
    """`Label : value` lines."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Quoted:
    """Text a person wrote (a comment, an answer, a description), set apart."""

    text: str


@dataclass(frozen=True)
class _Links:
    """`Label : url` lines; links in the HTML part. The urls are placeholders, never typed."""

    rows: tuple[tuple[str, str], ...]


_Block = _Para | _Facts | _Quoted | _Links

SIGNATURE = "Le support applicatif (message automatique)"


Names = Mapping[str, str]  # roster id -> the consultant's name, when the caller knows it


def who(names: Names, roster_id: str) -> str:
    """A person as a mail names them: their name when known, else their id."""
    return typed(names.get(roster_id) or roster_id)


def typed(text: str) -> str:
    """A value a person typed, made unable to form a `{{...}}` placeholder (a zero-width
    space between the braces: the reader sees the same text)."""
    return text.replace("{{", "{\u200b{").replace("}}", "}\u200b}")


def _plain(blocks: Sequence[_Block]) -> str:
    parts: list[str] = ["Bonjour,"]
    for block in blocks:
        match block:
            case _Para(text) | _Quoted(text):
                parts.append(text)
            case _Facts(rows) | _Links(rows):
                parts.append("\n".join(f"{label} : {value}" for label, value in rows))
    return "\n\n".join(parts) + f"\n\n-- \n{SIGNATURE}\n"


def _lines(text: str) -> str:
    return "<br>\n".join(html.escape(line, quote=False) for line in text.split("\n"))


def _html(blocks: Sequence[_Block]) -> str:
    parts: list[str] = ["<p>Bonjour,</p>"]
    for block in blocks:
        match block:
            case _Para(text):
                parts.append(f"<p>{_lines(text)}</p>")
            case _Quoted(text):
                parts.append(
                    '<blockquote style="border-left:3px solid #ccc;margin:0 0 1em;'
                    f'padding-left:1em">{_lines(text)}</blockquote>'
                )
            case _Facts(rows):
                items = "".join(
                    f"<li>{html.escape(label, quote=False)} : <strong>{_lines(value)}</strong></li>"
                    for label, value in rows
                )
                parts.append(f"<ul>{items}</ul>")
            case _Links(rows):
                anchors = "".join(
                    f'<p><a href="{html.escape(url)}">{html.escape(label, quote=False)}</a></p>'
                    for label, url in rows
                )
                parts.append(anchors)
    parts.append(f"<p>-- <br>\n{html.escape(SIGNATURE, quote=False)}</p>")
    body = "\n".join(parts)
    # No head: the MIME part declares the charset, and the subject is the mail's own.
    return f'<!DOCTYPE html>\n<html lang="fr"><body>\n{body}\n</body></html>\n'


# ------------------------------------------------------------------ composing


@dataclass(frozen=True)
class _Staff:
    """Staff recipients: one consultant, or the active consultants of a level."""

    consultant: str | None = None
    level: int | None = None


def _holder(ticket: Ticket) -> _Staff:
    """The assignee, or the consultants of the ticket's level when nobody holds it."""
    if ticket.assignee:
        return _Staff(consultant=ticket.assignee)
    return _Staff(level=ticket.support_level)


def thread_seed(ticket: Ticket) -> str:
    """The local part of the thread's root Message-ID when no mail created the ticket."""
    return f"ticket-{ticket.number}-{int(ticket.created_at.timestamp())}"


def app_page(ticket: Ticket) -> str:
    """The ticket's page in the web app (the notifier replaces `{{app}}`)."""
    return f"{{{{app}}}}/app/tickets/{ticket.number}"


def _subject(ticket: Ticket, text: str) -> str:
    return f"[#{ticket.number}] {text} : {typed(ticket.title)}"


def _compose(
    ticket: Ticket,
    kind: NotificationKind,
    subject_text: str,
    blocks: Sequence[_Block],
    *,
    to: str = "",
    staff: _Staff | None = None,
    sequence: int | None = None,
    ref: str | None = None,
    links: tuple[LinkRequest, ...] = (),
) -> Notification:
    subject = _subject(ticket, subject_text)
    return Notification(
        kind=kind,
        ticket_number=ticket.number,
        to=to,
        subject=subject,
        body=_plain(blocks),
        html=_html(blocks),
        to_consultant=staff.consultant if staff else None,
        to_level=staff.level if staff else None,
        sequence=sequence,
        ref=ref,
        links=links,
        thread=ticket.mail_thread,
        thread_seed=thread_seed(ticket),
    )


def _client(
    ticket: Ticket,
    kind: NotificationKind,
    subject_text: str,
    blocks: Sequence[_Block],
    *,
    sequence: int | None = None,
    ref: str | None = None,
    links: tuple[LinkRequest, ...] = (),
) -> Notification | None:
    """A message to the requester (None when the ticket has no requester address)."""
    if not ticket.requester_email:
        return None
    if ticket.closure_reason is not None:
        footer = _Para(
            "Si vous répondez à ce message, une nouvelle demande sera ouverte, liée à "
            f"celle-ci (#{ticket.number})."
        )
    else:
        footer = _Para(
            "Pour compléter votre demande, répondez à ce message en gardant "
            f"[#{ticket.number}] dans l'objet."
        )
    return _compose(
        ticket,
        kind,
        subject_text,
        [*blocks, footer],
        to=ticket.requester_email,
        sequence=sequence,
        ref=ref,
        links=links,
    )


def _staff(
    ticket: Ticket,
    kind: NotificationKind,
    subject_text: str,
    blocks: Sequence[_Block],
    staff: _Staff,
    *,
    ref: str | None = None,
) -> Notification:
    """A message to staff, with the link to the ticket's page in the web app."""
    page = _Links((("Voir la demande dans l'application", app_page(ticket)),))
    return _compose(ticket, kind, subject_text, [*blocks, page], staff=staff, ref=ref)


def _ticket_facts(ticket: Ticket) -> _Facts:
    """What a client reads about their ticket."""
    return _Facts(
        (
            ("Titre", typed(ticket.title)),
            ("Type", french.ticket_type(ticket.type)),
            ("Priorité", french.priority(ticket.priority)),
            ("Statut", french.status(ticket.status)),
        )
    )


def _staff_facts(ticket: Ticket, names: Names) -> _Facts:
    """What a consultant reads about a ticket."""
    rows = [
        ("Titre", typed(ticket.title)),
        ("Organisation", typed(ticket.org_id)),
        ("Demandeur", typed(ticket.requester_email or ticket.requester)),
        ("Type", french.ticket_type(ticket.type)),
        ("Priorité", french.priority(ticket.priority)),
        ("Niveau", french.level(ticket.support_level)),
        ("Statut", french.status(ticket.status)),
        (
            "Suivie par",
            who(names, ticket.assignee) if ticket.assignee else "personne (file du niveau)",
        ),
    ]
    return _Facts(tuple(rows))


def _quote_line(quote: Quote) -> str:
    return f"version {quote.version}, {french.money(quote.amount)}"


def _detail(transition: Transition, name: str) -> str:
    return typed(transition.event.details.get(name, "").strip())


# ------------------------------------------------------------------ creation


def acknowledgement(ticket: Ticket) -> Notification | None:
    """The requester's acknowledgement: the first mail of the ticket's thread."""
    return _client(
        ticket,
        NotificationKind.CREATED,
        "Demande reçue",
        [
            _Para(f"Votre demande a bien été enregistrée sous le numéro #{ticket.number}."),
            _Facts(
                (
                    ("Titre", typed(ticket.title)),
                    ("Type", french.ticket_type(ticket.type)),
                    ("Statut", french.status(ticket.status)),
                )
            ),
            _Para(f"Elle est transmise au support de {french.level(ticket.support_level)}."),
        ],
    )


def new_ticket_for_staff(ticket: Ticket) -> Notification:
    """The consultants of the ticket's level learn that a ticket awaits them."""
    names: Names = {}
    received = "par mail" if ticket.source is Source.EMAIL else "dans l'application"
    blocks: list[_Block] = [
        _Para(
            f"Une nouvelle demande (#{ticket.number}) attend d'être prise en charge par le "
            f"{french.level(ticket.support_level)} ; elle a été reçue {received} le "
            f"{french.date_time(ticket.created_at)}."
        ),
        _staff_facts(ticket, names),
    ]
    if ticket.description:
        blocks += [_Para("Description :"), _Quoted(typed(ticket.description))]
    return _staff(
        ticket,
        NotificationKind.STAFF_NEW_TICKET,
        "Nouvelle demande",
        blocks,
        _Staff(level=ticket.support_level),
    )


def for_creation(ticket: Ticket, acknowledge: bool = True) -> list[Notification]:
    """The requester's acknowledgement and the level's consultants' notice. `acknowledge`
    False: no acknowledgement (bulk or list mail is never answered automatically, RFC 3834)."""
    ack = acknowledgement(ticket) if acknowledge else None
    return [m for m in (ack, new_ticket_for_staff(ticket)) if m is not None]


# ------------------------------------------------------------------ transitions


def for_transition(transition: Transition, names: Names | None = None) -> list[Notification]:
    """Every message this change causes, to the client and to staff. `names`: the display
    names of roster ids the caller knows (a consultant is named by id otherwise)."""
    names = names or {}
    compose = _BY_ACTION.get(transition.event.action)
    messages = list(compose(transition, names)) if compose is not None else []
    ticket = transition.ticket
    if ticket.closure_reason is not None and transition.before.closure_reason is None:
        messages += _closure(transition, names)
    return [m for m in messages if m is not None]


_Messages = list[Notification | None]


def _take(transition: Transition, names: Names) -> _Messages:
    ticket, before = transition.ticket, transition.before
    assignee = who(names, ticket.assignee or "")
    blocks: list[_Block] = [
        _Para(f"Votre demande #{ticket.number} est prise en charge par {assignee}."),
        _ticket_facts(ticket),
    ]
    if ticket.type is not before.type:
        blocks.append(
            _Para(
                f"Le type de la demande a été corrigé : {french.ticket_type(ticket.type)} "
                f"(au lieu de {french.ticket_type(before.type)})."
            )
        )
    client = _client(ticket, NotificationKind.TAKEN, "Demande prise en charge", blocks)
    return [client, _assigned_to_staff(transition, names)]


def _assign(transition: Transition, names: Names) -> _Messages:
    ticket = transition.ticket
    client = _client(
        ticket,
        NotificationKind.ASSIGNED,
        "Demande prise en charge",
        [
            _Para(
                f"Votre demande #{ticket.number} est désormais prise en charge par "
                f"{who(names, ticket.assignee or '')}."
            ),
            _ticket_facts(ticket),
        ],
    )
    return [client, _assigned_to_staff(transition, names)]


def _assigned_to_staff(transition: Transition, names: Names) -> Notification | None:
    """The new assignee, when someone else gave them the ticket."""
    ticket, actor = transition.ticket, transition.event.actor
    if not ticket.assignee or ticket.assignee == actor:
        return None
    blocks: list[_Block] = [
        _Para(f"{who(names, actor)} vous a attribué la demande #{ticket.number}."),
        _staff_facts(ticket, names),
    ]
    previous = transition.before.assignee
    if previous and previous != ticket.assignee:
        blocks.append(_Para(f"Elle était suivie jusqu'ici par {who(names, previous)}."))
    return _staff(
        ticket,
        NotificationKind.STAFF_ASSIGNED,
        "Demande attribuée",
        blocks,
        _Staff(consultant=ticket.assignee),
    )


def _escalate(transition: Transition, names: Names) -> _Messages:
    ticket, actor = transition.ticket, transition.event.actor
    level = french.level(ticket.support_level)
    was = french.level(transition.before.support_level)
    if ticket.assignee:
        whom = f"{who(names, ticket.assignee)} la prend en charge."
    else:
        whom = "un consultant de ce niveau va la prendre en charge."
    client = _client(
        ticket,
        NotificationKind.ESCALATED,
        f"Demande transmise au {level}",
        [
            _Para(f"Votre demande #{ticket.number} a été transmise au support de {level} ; {whom}"),
            _ticket_facts(ticket),
        ],
    )
    reason = _detail(transition, "reason")
    why: list[_Block] = [_Para(f"Raison de l'escalade : {reason}")] if reason else []
    staff: Notification | None = None
    if ticket.assignee and ticket.assignee != actor:
        staff = _staff(
            ticket,
            NotificationKind.STAFF_ESCALATED,
            f"Demande escaladée au {level}",
            [
                _Para(
                    f"{who(names, actor)} vous a transmis la demande #{ticket.number} "
                    f"(escalade du {was} au {level})."
                ),
                *why,
                _staff_facts(ticket, names),
            ],
            _Staff(consultant=ticket.assignee),
        )
    elif not ticket.assignee:
        staff = _staff(
            ticket,
            NotificationKind.STAFF_ESCALATED,
            f"Demande escaladée au {level}",
            [
                _Para(
                    f"{who(names, actor)} a escaladé la demande #{ticket.number} du {was} au {level} : "
                    "elle attend dans la file du niveau, personne ne la suit encore."
                ),
                *why,
                _staff_facts(ticket, names),
            ],
            _Staff(level=ticket.support_level),
        )
    return [client, staff]


def _hold(transition: Transition, names: Names) -> _Messages:
    ticket = transition.ticket
    reason = _detail(transition, "reason")
    if reason:
        why = _Para(f"Raison indiquée : {reason}")
    else:
        why = _Para(
            "Le consultant attend un élément (de votre part ou d'un tiers) pour poursuivre."
        )
    client = _client(
        ticket,
        NotificationKind.ON_HOLD,
        "Demande en attente (Un instant)",
        [
            _Para(
                f"Votre demande #{ticket.number} est mise en attente "
                f"(statut « {french.status(ticket.status)} »)."
            ),
            why,
            _Para("Le travail reprendra dès que possible."),
        ],
    )
    return [client]


def _quote_links(quote: Quote) -> tuple[_Links, tuple[LinkRequest, ...]]:
    rows = (
        ("Accepter le chiffrage", "{{link:approve-quote}}"),
        ("Refuser le chiffrage (une raison vous sera demandée)", "{{link:refuse-quote}}"),
    )
    requests = (
        LinkRequest(APPROVE_QUOTE, quote_version=quote.version),
        LinkRequest(REFUSE_QUOTE, quote_version=quote.version),
    )
    return _Links(rows), requests


REPLY_IS_NOT_A_DECISION = (
    "Une réponse à ce message est transmise au consultant, mais elle ne vaut ni acceptation "
    "ni refus : pour décider, utilisez l'un des liens ci-dessus."
)


def _submit_quote(transition: Transition, names: Names) -> _Messages:
    ticket, quote = transition.ticket, transition.ticket.quote
    if quote is None:
        return []
    rows = [("Montant", french.money(quote.amount))]
    if quote.days is not None:
        rows.append(("Charge estimée", french.days(quote.days)))
    rows.append(("Valable jusqu'au", french.date_time(quote.valid_until)))
    blocks: list[_Block] = [
        _Para(
            f"Un chiffrage de votre demande #{ticket.number} vous est proposé "
            f"(version {quote.version})."
        ),
        _Facts(tuple(rows)),
    ]
    if quote.description:
        blocks += [_Para("Détail du chiffrage :"), _Quoted(typed(quote.description))]
    links, requests = _quote_links(quote)
    blocks += [
        _Para("Pour l'accepter ou le refuser :"),
        links,
        _Para(
            f"Sans décision d'ici le {french.date_time(quote.valid_until)}, ce chiffrage expirera."
        ),
        _Para(REPLY_IS_NOT_A_DECISION),
    ]
    client = _client(
        ticket, NotificationKind.QUOTE_SUBMITTED, "Chiffrage à valider", blocks, links=requests
    )
    return [client]


def _approve_quote(transition: Transition, names: Names) -> _Messages:
    ticket, quote = transition.ticket, transition.ticket.quote
    if quote is None:
        return []
    status = french.status(ticket.status)
    when = f" le {french.date_time(quote.decided_at)}" if quote.decided_at else ""
    client = _client(
        ticket,
        NotificationKind.QUOTE_APPROVED,
        "Chiffrage accepté",
        [
            _Para(
                f"Le chiffrage de votre demande #{ticket.number} ({_quote_line(quote)}) a été "
                f"accepté{when}."
            ),
            _Para(f"La réalisation commence (statut « {status} »)."),
        ],
    )
    staff = _staff(
        ticket,
        NotificationKind.ASSIGNEE_QUOTE_APPROVED,
        "Chiffrage accepté",
        [
            _Para(
                f"Le client a accepté le chiffrage de la demande #{ticket.number} "
                f"({_quote_line(quote)}){when}."
            ),
            _Para(f"La réalisation commence : statut « {status} »."),
            _staff_facts(ticket, names),
        ],
        _holder(ticket),
    )
    return [client, staff]


def _refuse_quote(transition: Transition, names: Names) -> _Messages:
    ticket, quote = transition.ticket, transition.ticket.quote
    if quote is None:
        return []
    reason = typed(quote.reason or "")
    why: list[_Block] = [_Para(f"Raison indiquée : {reason}")] if reason else []
    client = _client(
        ticket,
        NotificationKind.QUOTE_REFUSED,
        "Chiffrage refusé",
        [
            _Para(
                f"Le chiffrage de votre demande #{ticket.number} ({_quote_line(quote)}) a été "
                "refusé."
            ),
            *why,
            _Para(
                "Le consultant reprend l'analyse avec vous ; un nouveau chiffrage pourra vous "
                "être proposé."
            ),
        ],
    )
    staff = _staff(
        ticket,
        NotificationKind.ASSIGNEE_QUOTE_REFUSED,
        "Chiffrage refusé",
        [
            _Para(
                f"Le client a refusé le chiffrage de la demande #{ticket.number} "
                f"({_quote_line(quote)})."
            ),
            *why,
            _Para(
                f"L'analyse reprend (statut « {french.status(ticket.status)} ») : vous pouvez "
                "proposer un nouveau chiffrage, ou abandonner l'évolution."
            ),
            _staff_facts(ticket, names),
        ],
        _holder(ticket),
    )
    return [client, staff]


def _expire_quote(transition: Transition, names: Names) -> _Messages:
    ticket, quote = transition.ticket, transition.ticket.quote
    if quote is None:
        return []
    until = french.date_time(quote.valid_until)
    client = _client(
        ticket,
        NotificationKind.QUOTE_EXPIRED,
        "Chiffrage expiré",
        [
            _Para(
                f"Le chiffrage de votre demande #{ticket.number} ({_quote_line(quote)}) est "
                f"arrivé à échéance le {until} sans avoir été accepté ni refusé."
            ),
            _Para(
                "Le consultant reprend l'analyse avec vous ; un nouveau chiffrage pourra vous "
                "être proposé."
            ),
        ],
    )
    staff = _staff(
        ticket,
        NotificationKind.ASSIGNEE_QUOTE_EXPIRED,
        "Chiffrage expiré",
        [
            _Para(
                f"Le chiffrage de la demande #{ticket.number} ({_quote_line(quote)}) a expiré "
                f"le {until} : aucune décision (acceptation ou refus) n'a été enregistrée."
            ),
            _Para(
                "Si le client a répondu par mail, sa réponse figure dans les commentaires de "
                "la demande : un message ne vaut pas décision."
            ),
            _Para(f"La demande revient au statut « {french.status(ticket.status)} »."),
            _staff_facts(ticket, names),
        ],
        _holder(ticket),
    )
    return [client, staff]


def _withdraw_quote(transition: Transition, names: Names) -> _Messages:
    ticket, quote, actor = transition.ticket, transition.ticket.quote, transition.event.actor
    if quote is None:
        return []
    client = _client(
        ticket,
        NotificationKind.QUOTE_WITHDRAWN,
        "Chiffrage retiré",
        [
            _Para(
                f"Le support a retiré le chiffrage de votre demande #{ticket.number} "
                f"({_quote_line(quote)}) : il n'attend plus de décision de votre part, et les "
                "liens du message de chiffrage ne sont plus valables."
            ),
            _Para("Un chiffrage corrigé pourra vous être proposé."),
        ],
    )
    staff: Notification | None = None
    if ticket.assignee != actor:
        staff = _staff(
            ticket,
            NotificationKind.STAFF_QUOTE_WITHDRAWN,
            "Chiffrage retiré",
            [
                _Para(
                    f"{who(names, actor)} a retiré le chiffrage de la demande #{ticket.number} "
                    f"({_quote_line(quote)})."
                ),
                _Para(f"La demande revient au statut « {french.status(ticket.status)} »."),
                _staff_facts(ticket, names),
            ],
            _holder(ticket),
        )
    return [client, staff]


def _answer_links(ticket: Ticket) -> tuple[_Links, tuple[LinkRequest, ...]]:
    rows = (
        ("Confirmer que la demande est résolue", "{{link:confirm}}"),
        ("Rouvrir la demande (une raison vous sera demandée)", "{{link:reopen}}"),
    )
    requests = (
        LinkRequest(CONFIRM, answered_at=ticket.answered_at),
        LinkRequest(REOPEN, answered_at=ticket.answered_at),
    )
    return _Links(rows), requests


def _countdown(ticket: Ticket) -> list[_Block]:
    """The auto-close date, and what stops it."""
    if ticket.auto_close_at is None:
        return []
    return [
        _Para(
            "Sans confirmation, réouverture ou message de votre part, la demande sera fermée "
            f"automatiquement le {french.date_time(ticket.auto_close_at)}."
        ),
        _Para(
            "Si vous répondez à ce message, la fermeture automatique est suspendue jusqu'à ce "
            "que le support vous réponde."
        ),
    ]


def _send_answer(transition: Transition, names: Names) -> _Messages:
    ticket = transition.ticket
    links, requests = _answer_links(ticket)
    message = _detail(transition, "message")
    client = _client(
        ticket,
        NotificationKind.ANSWER_SENT,
        "Réponse à votre demande",
        [
            _Para(f"Le support a répondu à votre demande #{ticket.number} :"),
            _Quoted(message),
            _Para("Si la réponse vous convient, confirmez-le ; sinon, rouvrez la demande :"),
            links,
            *_countdown(ticket),
        ],
        links=requests,
    )
    return [client]


def _reopen(transition: Transition, names: Names) -> _Messages:
    ticket = transition.ticket
    reason = _detail(transition, "reason")
    why: list[_Block] = [_Para(f"Raison indiquée : {reason}")] if reason else []
    status = french.status(ticket.status)
    resumes = f" ; {who(names, ticket.assignee)} reprend le travail" if ticket.assignee else ""
    client = _client(
        ticket,
        NotificationKind.REOPENED,
        "Demande rouverte",
        [
            _Para(f"Votre demande #{ticket.number} est rouverte (statut « {status} »){resumes}."),
            *why,
        ],
    )
    answered = transition.before.answered_at
    after = f" envoyée le {french.date_time(answered)}" if answered else ""
    staff = _staff(
        ticket,
        NotificationKind.STAFF_REOPENED,
        "Demande rouverte",
        [
            _Para(
                f"Le client a rouvert la demande #{ticket.number} : la réponse{after} ne règle "
                f"pas sa demande. Elle revient au statut « {status} »."
            ),
            *why,
            _staff_facts(ticket, names),
        ],
        _holder(ticket),
    )
    return [client, staff]


def _abandon_context(ticket: Ticket) -> str:
    quote = ticket.quote
    if quote is None:
        return "avant tout chiffrage"
    if quote.outcome is QuoteOutcome.REFUSED:
        return f"après le refus du chiffrage ({_quote_line(quote)})"
    if quote.outcome is QuoteOutcome.EXPIRED:
        return (
            f"après l'expiration du chiffrage ({_quote_line(quote)}), qui n'avait été ni "
            "accepté ni refusé"
        )
    return f"après le retrait du chiffrage ({_quote_line(quote)})"


def _closure(transition: Transition, names: Names) -> _Messages:
    ticket, before, actor = transition.ticket, transition.before, transition.event.actor
    reason = ticket.closure_reason
    closed = french.date_time(ticket.closed_at or ticket.updated_at)
    answered = before.answered_at
    answer = f"la réponse envoyée le {french.date_time(answered)}" if answered else "la réponse"
    lines: list[_Block]
    if reason is ClosureReason.CONFIRMED:
        lines = [
            _Para(
                f"Votre demande #{ticket.number} est fermée : sa résolution a été confirmée le "
                f"{closed}. Merci."
            )
        ]
    elif reason is ClosureReason.CLOSED_BY_CONSULTANT:
        note = _detail(transition, "note")
        lines = [_Para(f"Le support a fermé votre demande #{ticket.number} le {closed}.")]
        if note:
            lines.append(_Para(f"Note du consultant : {note}"))
    elif reason is ClosureReason.AUTO_CLOSED:
        lines = [
            _Para(
                f"Votre demande #{ticket.number} a été fermée automatiquement le {closed} : "
                f"{answer} n'a été ni confirmée ni rouverte dans le délai prévu."
            )
        ]
    elif reason is ClosureReason.CANCELLED:
        if actor == ticket.requester:
            cancelled = f"Vous avez annulé votre demande #{ticket.number}"
        else:
            cancelled = f"Votre demande #{ticket.number} a été annulée"
        lines = [_Para(f"{cancelled} le {closed}, avant sa prise en charge.")]
        why = _detail(transition, "reason")
        if why:
            lines.append(_Para(f"Raison indiquée : {why}"))
    else:  # abandoned
        note = _detail(transition, "note")
        lines = [
            _Para(
                f"L'évolution demandée (#{ticket.number}) a été abandonnée le {closed}, "
                f"{_abandon_context(ticket)} ; rien ne vous sera facturé pour cette demande."
            )
        ]
        if note:
            lines.append(_Para(f"Note du consultant : {note}"))
    client = _client(ticket, NotificationKind.CLOSED, "Demande fermée", lines)
    staff: Notification | None = None
    if reason is ClosureReason.AUTO_CLOSED:
        staff = _staff(
            ticket,
            NotificationKind.STAFF_AUTO_CLOSED,
            "Demande fermée automatiquement",
            [
                _Para(
                    f"La demande #{ticket.number} a été fermée automatiquement le {closed} : "
                    f"{answer} n'a été ni confirmée ni rouverte par le client dans le délai."
                ),
                _staff_facts(ticket, names),
            ],
            _holder(ticket),
        )
    return [client, staff]


def _mail_bounced(transition: Transition, names: Names) -> _Messages:
    """The assignee (or the level) learns that the client did not receive our mail."""
    ticket = transition.ticket
    recipient = typed(_detail(transition, "recipient") or "le client")
    status = _detail(transition, "status")
    diagnostic = _detail(transition, "diagnostic")
    blocks: list[_Block] = [
        _Para(
            f"Un message envoyé à {recipient} au sujet de la demande #{ticket.number} n'a pas "
            "pu être distribué : le client ne l'a pas reçu."
        )
    ]
    if status or diagnostic:
        reported = " ".join(x for x in (status, f"({diagnostic})" if diagnostic else "") if x)
        blocks.append(_Para(f"Rapport du serveur de messagerie : {typed(reported)}"))
    if ticket.countdown_suspended:
        blocks.append(
            _Para(
                "La fermeture automatique de la demande est suspendue jusqu'à votre prochaine "
                "action."
            )
        )
    blocks.append(_staff_facts(ticket, names))
    return [
        _staff(
            ticket,
            NotificationKind.STAFF_MAIL_BOUNCED,
            "Message non distribué",
            blocks,
            _holder(ticket),
        )
    ]


_BY_ACTION = {
    "mail-bounced": _mail_bounced,
    "take": _take,
    "assign": _assign,
    "escalate": _escalate,
    "hold": _hold,
    "submit-quote": _submit_quote,
    "approve-quote": _approve_quote,
    "refuse-quote": _refuse_quote,
    "expire-quote": _expire_quote,
    "withdraw-quote": _withdraw_quote,
    "send-answer": _send_answer,
    "reopen": _reopen,
}


# ------------------------------------------------------------------ comments


def for_comment(
    ticket: Ticket, comment: Comment, caller: Caller, names: Names | None = None
) -> list[Notification]:
    """A staff comment that is not internal goes to the client; a client's comment (API or
    mail) goes to the assignee, or to the level's consultants when nobody holds the ticket.
    Keyed by the comment: a comment may leave the ticket's version unchanged."""
    names = names or {}
    if comment.internal:
        return []
    if caller.is_staff:
        message = _staff_comment(ticket, comment, names)
        return [message] if message is not None else []
    if caller.role is Role.CLIENT:
        return [_client_comment(ticket, comment, caller, names)]
    return []


def _staff_comment(ticket: Ticket, comment: Comment, names: Names) -> Notification | None:
    blocks: list[_Block] = [
        _Para(
            f"Le support vous a écrit au sujet de votre demande #{ticket.number} "
            f"(message de {who(names, comment.author)}) :"
        ),
        _Quoted(typed(comment.body)),
    ]
    links: tuple[LinkRequest, ...] = ()
    if ticket.countdown_running:
        answer_links, links = _answer_links(ticket)
        blocks += [
            _Para("Si la réponse vous convient, confirmez-le ; sinon, rouvrez la demande :"),
            answer_links,
            *_countdown(ticket),
        ]
    return _client(
        ticket, NotificationKind.COMMENT, "Nouveau message", blocks, ref=comment.id, links=links
    )


def _client_comment(ticket: Ticket, comment: Comment, caller: Caller, names: Names) -> Notification:
    author = typed(caller.email or comment.author)
    way = "par mail" if comment.source is Source.EMAIL else "dans l'application"
    blocks: list[_Block] = [
        _Para(f"{author} a écrit {way} au sujet de la demande #{ticket.number} :"),
        _Quoted(typed(comment.body)),
    ]
    quote = ticket.quote
    if quote is not None and quote.outcome is QuoteOutcome.PENDING:
        blocks.append(
            _Para(
                f"Le chiffrage {_quote_line(quote)} attend toujours une décision : un message "
                "ne vaut ni acceptation ni refus ; seul le client décide, par les liens de son "
                "mail de chiffrage ou dans l'application."
            )
        )
    if ticket.countdown_suspended:
        blocks.append(
            _Para(
                "La fermeture automatique de la demande est suspendue jusqu'à votre prochaine "
                "action."
            )
        )
    blocks.append(_staff_facts(ticket, names))
    return _staff(
        ticket,
        NotificationKind.STAFF_CLIENT_COMMENT,
        "Message du client",
        blocks,
        _holder(ticket),
        ref=comment.id,
    )


# ------------------------------------------------------------------ attachments (§11)


def for_attachment(ticket: Ticket, record: AttachmentRecord) -> list[Notification]:
    """A file that became available, by name: a client's goes to the assignee (or the level's
    consultants), a staff file that is not internal to the client. Files that came with a mail
    are named in the mail's own comment or ticket; internal files tell nobody. Keyed by the
    attachment: it leaves the ticket's version unchanged."""
    if record.status is not AttachmentStatus.AVAILABLE or record.source is Source.EMAIL:
        return []
    if record.internal:
        return []
    described = f"« {typed(record.filename)} » ({human_size(record.size)})"
    if record.by_staff:
        blocks: list[_Block] = [
            _Para(f"Le support a joint un fichier à votre demande #{ticket.number} : {described}."),
            _Para("Vous le trouverez dans l'application, avec la demande."),
        ]
        message = _client(
            ticket, NotificationKind.ATTACHMENT, "Nouvelle pièce jointe", blocks, ref=record.id
        )
        return [message] if message is not None else []
    blocks = [
        _Para(f"Le client a joint un fichier à la demande #{ticket.number} : {described}."),
        _staff_facts(ticket, {}),
    ]
    return [
        _staff(
            ticket,
            NotificationKind.STAFF_CLIENT_ATTACHMENT,
            "Pièce jointe du client",
            blocks,
            _holder(ticket),
            ref=record.id,
        )
    ]


# ------------------------------------------------------------------ reminders


def quote_reminder(ticket: Ticket, reminder_number: int) -> Notification | None:
    """The client is reminded that a quote awaits a decision, with the links again."""
    quote = ticket.quote
    if quote is None:
        return None
    until = french.date_time(quote.valid_until)
    links, requests = _quote_links(quote)
    return _client(
        ticket,
        NotificationKind.QUOTE_REMINDER,
        "Chiffrage à valider (rappel)",
        [
            _Para(
                f"Le chiffrage de votre demande #{ticket.number} ({_quote_line(quote)}) attend "
                f"une décision ; il est valable jusqu'au {until}."
            ),
            _Para("Pour l'accepter ou le refuser :"),
            links,
            _Para(f"Sans décision d'ici le {until}, ce chiffrage expirera."),
            _Para(REPLY_IS_NOT_A_DECISION),
        ],
        sequence=reminder_number,
        links=requests,
    )


def reminder(ticket: Ticket) -> Notification | None:
    """The client is reminded that the answered ticket closes soon, with the links again."""
    links, requests = _answer_links(ticket)
    return _client(
        ticket,
        NotificationKind.AUTO_CLOSE_REMINDER,
        "Fermeture prochaine",
        [
            _Para(
                f"Votre demande #{ticket.number} a reçu une réponse"
                + (f" le {french.date_time(ticket.answered_at)}" if ticket.answered_at else "")
                + "."
            ),
            _Para("Si la réponse vous convient, confirmez-le ; sinon, rouvrez la demande :"),
            links,
            *_countdown(ticket),
        ],
        links=requests,
    )


auto_close_reminder = reminder


# ------------------------------------------------------------------ service levels (§10)


def sla_alert(
    ticket: Ticket, clock: str, mark: str, due_at: datetime | None, remaining_minutes: int
) -> Notification:
    """A clock of the ticket is at risk (75 % of its target used) or missed: the assignee (or
    the level's consultants while nobody holds it) and the managers are told, once each."""
    missed = mark == "missed"
    what = french.sla_clock(clock)
    if missed:
        subject = f"Délai de {what} dépassé"
        lead = f"Le délai de {what} promis pour la demande #{ticket.number} est dépassé."
    else:
        subject = f"Délai de {what} bientôt atteint"
        lead = (
            f"Les trois quarts du délai de {what} promis pour la demande #{ticket.number} "
            "sont écoulés."
        )
    rows: list[tuple[str, str]] = []
    if due_at is not None:
        rows.append(("Échéance", french.date_time(due_at)))
    label = "Retard (heures ouvrées)" if remaining_minutes < 0 else "Reste (heures ouvrées)"
    rows.append((label, french.business_minutes(abs(remaining_minutes))))
    blocks: list[_Block] = [_Para(lead), _Facts(tuple(rows)), _staff_facts(ticket, {})]
    kind = NotificationKind.STAFF_SLA_MISSED if missed else NotificationKind.STAFF_SLA_AT_RISK
    message = _staff(ticket, kind, subject, blocks, _holder(ticket), ref=clock)
    return replace(message, to_managers=True)
