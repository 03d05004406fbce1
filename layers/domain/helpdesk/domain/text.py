"""Text people type: what a title and a longer text may hold (DESIGN.md §7 "Strict input").

A title is one line shown in lists and mail subjects: no control character (NUL, BEL, ESC,
every Unicode `Cc`) and no bidirectional override or isolate (U+202A-U+202E, U+2066-U+2069),
which would make `#88 Facture` read as something else. A longer text (description, comment)
keeps tabs and line breaks and refuses every other control character.

`check_*` refuse (InvalidInput naming the field); `clean_*` remove, for text nobody can be
asked to correct (a mail's subject and body).
"""

from __future__ import annotations

import re
import unicodedata

from helpdesk.domain.errors import InvalidInput

__all__ = [
    "BIDI_CONTROLS",
    "EMAIL_ADDRESS",
    "TEXT_CONTROLS_KEPT",
    "check_email",
    "check_text",
    "check_title",
    "clean_text",
    "clean_title",
]

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
TEXT_CONTROLS_KEPT = frozenset("\t\n\r")  # \r: a CRLF line break is a line break
EMAIL_ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")


def _refused_in_title(char: str) -> bool:
    return char in BIDI_CONTROLS or unicodedata.category(char) == "Cc"


def _refused_in_text(char: str) -> bool:
    return char not in TEXT_CONTROLS_KEPT and unicodedata.category(char) == "Cc"


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def check_title(value: str, field: str = "title") -> str:
    """`value` unchanged, or InvalidInput naming `field` for its first refused character."""
    for position, char in enumerate(value):
        if _refused_in_title(char):
            raise InvalidInput(
                field,
                f"'{field}' may not contain control characters or bidirectional overrides "
                f"({_describe(char)} at position {position}).",
            )
    return value


def check_text(value: str, field: str) -> str:
    """`value` unchanged, or InvalidInput naming `field` for its first control character
    other than tab, line feed and carriage return."""
    for position, char in enumerate(value):
        if _refused_in_text(char):
            raise InvalidInput(
                field,
                f"'{field}' may not contain control characters other than tabs and line "
                f"breaks ({_describe(char)} at position {position}).",
            )
    return value


def clean_title(value: str) -> str:
    """A title without what check_title refuses: control characters become spaces (a tab or
    a folded line between two words keeps them apart), bidi controls go."""
    kept = (
        "" if char in BIDI_CONTROLS else " " if _refused_in_title(char) else char for char in value
    )
    return " ".join("".join(kept).split())


def clean_text(value: str) -> str:
    """A text without what check_text refuses."""
    return "".join(char for char in value if not _refused_in_text(char))


def check_email(value: str, field: str) -> str:
    """An email address, stripped and lower-cased, or InvalidInput naming `field`."""
    address = value.strip().lower()
    if not EMAIL_ADDRESS.match(address):
        raise InvalidInput(field, f"'{field}' is not an email address.")
    return address
