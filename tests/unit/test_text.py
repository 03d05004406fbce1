"""What a title and a longer text may hold (DESIGN.md §7 "Strict input"), in the pure domain."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk.domain.comments import new_comment
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.model import Caller, Role, TicketType
from helpdesk.domain.text import check_text, check_title, clean_text, clean_title
from helpdesk.domain.tickets import draft_ticket

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CLIENT = Caller(id="client-acme", role=Role.CLIENT, org_id="acme", email="fabrice@acme.example")

# DESIGN.md §7: titles refuse control characters (NUL, BEL, ESC...) and bidirectional
# overrides and isolates; written out here, not taken from the module under test.
REFUSED_IN_TITLES = [
    "\x00",
    "\x07",
    "\x1b",
    "\t",
    "\n",
    "\r",
    "\x7f",
    "\x85",
    "\x9f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
REFUSED_IN_TEXTS = ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85"]


@pytest.mark.parametrize("char", REFUSED_IN_TITLES)
def test_a_title_refuses_control_characters_and_bidi_overrides(char: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_title(f"Facture{char}impayée", "title")
    assert refused.value.field == "title"
    assert f"U+{ord(char):04X}" in refused.value.detail


@pytest.mark.parametrize(
    "title", ["Création de l'utilisateur", "Zürich — 30 €", "עברית", "مرحبا", "\u200f#88"]
)
def test_a_title_keeps_every_printable_script(title: str) -> None:
    assert check_title(title, "title") == title


@pytest.mark.parametrize("char", REFUSED_IN_TEXTS)
def test_a_text_refuses_control_characters_other_than_tabs_and_line_breaks(char: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_text(f"ligne 1{char}ligne 2", "description")
    assert refused.value.field == "description"


def test_a_text_keeps_tabs_line_breaks_and_bidi_text() -> None:
    text = "Étapes :\n\t1. ouvrir\r\n\t2. fermer\u202e"
    assert check_text(text, "body") == text


def test_draft_ticket_refuses_a_title_with_a_control_character_before_folding_spaces() -> None:
    # \x1f is whitespace to str.split(): checked before the title's spaces are folded.
    for title in ("Facture\x1fimpayée", "Facture\x00", "\u202eeérutcaF"):
        with pytest.raises(InvalidInput) as refused:
            draft_ticket(
                CLIENT,
                title=title,
                description="",
                type=TicketType.ASSISTANCE,
                org_id=None,
                now=NOW,
            )
        assert refused.value.field == "title"


def test_draft_ticket_refuses_a_description_with_a_control_character() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft_ticket(
            CLIENT,
            title="Facture",
            description="voir\x07ci-joint",
            type=TicketType.ASSISTANCE,
            org_id=None,
            now=NOW,
        )
    assert refused.value.field == "description"
    kept = draft_ticket(
        CLIENT,
        title="Facture",
        description="a\n\tb",
        type=TicketType.ASSISTANCE,
        org_id=None,
        now=NOW,
    )
    assert kept.description == "a\n\tb"


def test_the_title_limit_message_states_200() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft_ticket(
            CLIENT,
            title="x" * 1_000_000,
            description="",
            type=TicketType.ASSISTANCE,
            org_id=None,
            now=NOW,
        )
    assert "200" in refused.value.detail


def test_new_comment_refuses_a_control_character_and_keeps_line_breaks() -> None:
    ticket, _ = draft_ticket(
        CLIENT, title="Facture", description="", type=TicketType.ASSISTANCE, org_id=None, now=NOW
    ).numbered(1)
    with pytest.raises(InvalidInput) as refused:
        new_comment(ticket, CLIENT, comment_id="c1", body="ok\x1b[31m", internal=False, now=NOW)
    assert refused.value.field == "body"
    kept = new_comment(
        ticket, CLIENT, comment_id="c1", body="merci\r\n\tFabrice", internal=False, now=NOW
    )
    assert kept.body == "merci\r\n\tFabrice"


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("Facture\x07 impayée", "Facture impayée"),
        ("Facture\x00impayée", "Facture impayée"),
        ("Facture\tde\r\nnovembre", "Facture de novembre"),
        ("\u202eeérutcaF\u202c", "eérutcaF"),
        ("\x1b[31mRouge", "[31mRouge"),
        ("\x00\x07", ""),
    ],
)
def test_clean_title_removes_what_check_title_refuses(subject: str, title: str) -> None:
    assert clean_title(subject) == title
    assert check_title(clean_title(subject), "title") == title


def test_clean_text_keeps_tabs_and_line_breaks_only() -> None:
    assert clean_text("a\x00b\x0c\tc\r\nd\x7f") == "ab\tc\r\nd"
