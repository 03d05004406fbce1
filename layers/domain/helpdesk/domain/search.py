"""Finding tickets by the words of their title (DESIGN.md §7, `q`).

`#88` or `88` finds ticket 88; otherwise every word of the query must be the start of a word
of the title, case and accents ignored (`creat util` finds "Création de l'utilisateur").
The store keeps one index item per distinct title word (helpdesk.adapters.dynamodb), written
with the ticket in the same transaction, so a search reads the items of the words searched,
never the whole table.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from helpdesk.domain.errors import InvalidInput

MAX_INDEXED_WORDS = 40  # distinct words of a title that are indexed (a title has 200 chars)
MAX_WORD = 40  # characters of a word kept in the index; longer ones match on their start
MAX_QUERY = 200
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"[^\W_]+")
_NUMBER = re.compile(r"#?\s*(\d{1,10})")


def normalise(text: str) -> str:
    """Lower case, accents and other combining marks removed (É -> e, œ stays œ)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The words of a text, normalised, in order (apostrophes and dashes separate words)."""
    return _WORD.findall(normalise(text))


def title_words(title: str) -> tuple[str, ...]:
    """The index words of a title: distinct, in order, each cut to MAX_WORD characters."""
    seen: dict[str, None] = {}
    for word in words(title):
        seen.setdefault(word[:MAX_WORD], None)
        if len(seen) == MAX_INDEXED_WORDS:
            break
    return tuple(seen)


@dataclass(frozen=True)
class SearchQuery:
    """What a search asks for: a ticket number, or words of titles."""

    number: int | None = None  # `#88` or `88`
    words: tuple[str, ...] = ()  # normalised, each the start of a title word

    @property
    def index_words(self) -> tuple[str, ...]:
        """What to look up in the index: each word cut as the index keeps them, longest
        first (the rarest, usually), without words that are the start of another."""
        cut = {w[:MAX_WORD] for w in self.words}
        kept = [w for w in cut if not any(o != w and o.startswith(w) for o in cut)]
        return tuple(sorted(kept, key=lambda w: (-len(w), w)))

    def matches(self, title: str) -> bool:
        if self.number is not None:
            return False
        title_index = words(title)
        return all(any(t.startswith(w) for t in title_index) for w in self.words)


def parse_query(q: str) -> SearchQuery:
    """`q` as given in `GET /tickets?q=...`; InvalidInput (field `q`) when unusable."""
    text = q.strip()
    if not text:
        raise InvalidInput("q", "'q' is empty: give a ticket number or words of its title.")
    if len(text) > MAX_QUERY:
        raise InvalidInput("q", f"'q' is longer than {MAX_QUERY} characters.")
    number = _NUMBER.fullmatch(text)
    if number is not None:
        value = int(number.group(1))
        if value < 1:
            raise InvalidInput("q", "'q' names no ticket: numbers start at 1.")
        return SearchQuery(number=value)
    found = tuple(dict.fromkeys(words(text)))
    if not found:
        raise InvalidInput("q", "'q' holds no word to search (letters or digits).")
    if len(found) > MAX_QUERY_WORDS:
        raise InvalidInput("q", f"'q' has more than {MAX_QUERY_WORDS} words.")
    return SearchQuery(words=found)
