"""Broken but readable mail (issue 22): what every mail client shows becomes the ticket.

Each `salvage_*.eml` of the corpus is a message of a known client whose MIME structure is
broken (a boundary that never appears, a nested part reusing its parent's boundary, a
multipart without a boundary parameter, a forwarded message/rfc822 with one of those inside)
or whose charset is wrong, unknown or given as an RFC 2231 parameter. Each becomes its ticket
with the text a mail client shows, its attachments where they can be recovered, and a note of
the defects on the mail record; the raw message stays where it was received.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.domain.listing import TicketQuery
from helpdesk.domain.model import Caller, Role
from helpdesk.service import HelpdeskService
from tests.conftest import MANAGER
from tests.integration.mail.conftest import ATTACHMENTS_BUCKET, CORPUS, Mailbox, corpus

FABRICE = Caller(
    id="mail:fabrice@acme.example", role=Role.CLIENT, email="fabrice@acme.example", org_id="acme"
)
FIRST_TEXT = "the first text part"
HTML = "an HTML part as text"
PREAMBLE = "the preamble"
RAW = "the raw body"
NO_DEFECT = None

# name: (the description, the attachments, the defect noted, where the text was salvaged from)
SALVAGE: dict[str, tuple[str, tuple[str, ...], str | None, str | None]] = {
    # A multipart whose boundary never appears in the body
    "boundary_mistyped": (
        "Bonjour,\n\nL'export des factures de novembre s'arrête à 42 %.\n\nFabrice",
        ("journal.pdf",),
        "StartBoundaryNotFoundDefect",
        FIRST_TEXT,
    ),
    "boundary_absent_plain_body": (
        "Bonjour,\n\nMon mot de passe a expiré et le lien de réinitialisation ne marche pas."
        "\n\nMerci,\nFabrice",
        (),
        "StartBoundaryNotFoundDefect",
        RAW,
    ),
    "boundary_mistyped_html_only": (
        "Bonjour,\n\nLe tableau de bord est vide depuis la mise à jour.",
        (),
        "StartBoundaryNotFoundDefect",
        HTML,
    ),
    "boundary_absent_preamble": (
        "Bonjour, voici le contrat signé pour l'avenant n° 3.",
        ("avenant-3.pdf",),
        "StartBoundaryNotFoundDefect",
        PREAMBLE,
    ),
    # A nested part reusing its parent's boundary
    "nested_same_boundary": (
        "La facture F-2026-118 a été envoyée deux fois.",
        ("F-2026-118.pdf",),  # the stdlib loses it: it comes after the inner part's end
        "StartBoundaryNotFoundDefect",
        FIRST_TEXT,
    ),
    "nested_same_boundary_html_first": (
        "L'application est lente entre 8 h et 9 h (texte).",
        (),
        "StartBoundaryNotFoundDefect",
        FIRST_TEXT,
    ),
    "nested_related_same_boundary": (
        "Voici l'erreur affichée :",
        ("erreur.png",),
        "StartBoundaryNotFoundDefect",
        HTML,
    ),
    # A multipart without a boundary parameter
    "alternative_no_boundary": (
        "Merci de donner à Julie l'accès au module de facturation.",
        (),
        "NoBoundaryInMultipartDefect",
        FIRST_TEXT,
    ),
    "mixed_no_boundary": (
        "the boundary was never declared",
        (),
        "NoBoundaryInMultipartDefect",
        FIRST_TEXT,
    ),
    "alternative_no_boundary_plain_body": (
        "L'imprimante du 2e étage n'apparaît plus dans la liste.",
        (),
        "NoBoundaryInMultipartDefect",
        RAW,
    ),
    "alternative_no_boundary_html_only": (
        "Le rapport mensuel\n\nn'est pas arrivé.",
        (),
        "NoBoundaryInMultipartDefect",
        HTML,
    ),
    # A forwarded message/rfc822 inside a mixed part
    "forward_inner_no_boundary": (
        "Je vous transfère cette alerte reçue ce matin.",
        (),
        "NoBoundaryInMultipartDefect",
        FIRST_TEXT,
    ),
    "forward_only": (
        "La commande 7781 est bloquée à l'étape de validation.",
        (),
        "StartBoundaryNotFoundDefect",
        FIRST_TEXT,
    ),
    "forward_with_attachment": (
        "Le relevé de novembre ne se charge pas.",
        ("releve-novembre.pdf",),
        "NoBoundaryInMultipartDefect",
        FIRST_TEXT,
    ),
    # Charsets: mislabelled both ways, unknown, RFC 2231
    "charset_utf8_labelled_cp1252": (
        "Le devis de 1 200 € n\u2019inclut pas la formation.",
        (),
        NO_DEFECT,
        None,
    ),
    "charset_latin1_labelled_utf8": (
        "L'accès à l'écran « Clients » est refusé.",
        (),
        NO_DEFECT,
        None,
    ),
    "charset_unknown_in_broken_multipart": (
        "Le fichier « données.csv » est illisible.",
        (),
        "NoBoundaryInMultipartDefect",
        FIRST_TEXT,
    ),
    "charset_rfc2231": (
        "Le rapport d'été coûte 30 € de plus.",
        ("rapport été.pdf",),
        NO_DEFECT,
        None,
    ),
}


def test_the_corpus_is_every_salvage_file() -> None:
    files = {p.name.removeprefix("salvage_").removesuffix(".eml") for p in CORPUS.glob("salvage_*")}
    assert files == {*SALVAGE, "reply_no_boundary"}
    assert len(files) >= 15


@pytest.mark.parametrize("name", sorted(SALVAGE))
def test_a_broken_but_readable_message_becomes_its_ticket(
    mailbox: Mailbox, service: HelpdeskService, s3: Any, name: str
) -> None:
    description, attachments, defect, source = SALVAGE[name]
    raw = corpus(f"salvage_{name}.eml")
    result = mailbox.deliver(raw, key=f"inbound/{name}")
    assert result.outcome == "ticket_created", result
    assert result.ticket_number is not None
    ticket = service.uow.tickets.get(result.ticket_number)
    assert (ticket.org_id, ticket.requester_email) == ("acme", "fabrice@acme.example")
    assert ticket.description == description
    assert ticket.attachments == attachments
    if attachments:
        listed = s3.list_objects_v2(
            Bucket=ATTACHMENTS_BUCKET, Prefix=f"tickets/{ticket.number}/attachments/"
        )
        stored = [
            s3.get_object(Bucket=ATTACHMENTS_BUCKET, Key=o["Key"]) for o in listed["Contents"]
        ]
        assert len(stored) == len(attachments)
        assert all(o["Body"].read() for o in stored)  # recovered, not empty
    record = mailbox.record(result)
    assert record.s3_key == f"inbound/{name}"  # the raw message stays where it is
    if defect is None:
        assert (record.defects, result.salvaged) == (None, False)
    else:
        assert record.defects is not None and defect in record.defects
        assert record.defects.endswith(f"salvaged: {source}")
        assert result.salvaged


def test_a_broken_reply_lands_as_a_comment_with_the_salvaged_text(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    first = mailbox.deliver(corpus("plain.eml"))
    assert first.ticket_number == 1
    result = mailbox.deliver(corpus("salvage_reply_no_boundary.eml"))
    assert (result.outcome, result.ticket_number, result.salvaged) == ("comment_added", 1, True)
    [comment] = service.comments(FABRICE, 1)
    assert comment.body == "Le compte peut être créé avec l'identifiant FMARTIN."


def test_a_broken_message_from_an_unknown_sender_is_still_quarantined(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    raw = corpus("salvage_alternative_no_boundary.eml").replace(
        b"fabrice@acme.example", b"someone@unknown.example"
    )
    result = mailbox.deliver(raw)
    assert (result.outcome, result.reason) == ("quarantined", "unknown_sender")
    assert mailbox.record(result).defects is not None  # the manager sees what was wrong
    assert service.list_tickets(MANAGER, TicketQuery(), None, 10)[0] == []


def test_a_broken_message_with_nothing_readable_is_quarantined(
    mailbox: Mailbox, service: HelpdeskService
) -> None:
    result = mailbox.deliver(corpus("malformed.eml"))
    assert (result.outcome, result.reason) == ("quarantined", "malformed")
    assert result.detail is not None and "nothing readable" in result.detail
