"""`If-Match` as RFC 9110 reads it (DESIGN.md §7): `*`, or a list of entity tags; the versions
it names, or 400 for a value that is not such a list."""

from __future__ import annotations

import pytest

from helpdesk.entrypoints.http.actions import parse_if_match
from helpdesk.entrypoints.http.errors import InvalidHeader


@pytest.mark.parametrize(
    ("value", "versions"),
    [
        (None, None),
        ("*", None),
        (' "3"', frozenset({3})),
        ('W/"3"', frozenset({3})),
        ('"2", "3"', frozenset({2, 3})),
        ('"2","3"', frozenset({2, 3})),
        ('"2" ,\t"3"', frozenset({2, 3})),
        ('"3",', frozenset({3})),  # an empty list element is ignored
        ('"a,b", "4"', frozenset({4})),  # a comma inside a tag does not split it
        ('"abc"', frozenset()),  # an entity tag, but no version: matches nothing (412)
        ('"007"', frozenset({7})),
    ],
)
def test_the_versions_an_if_match_names(value: str | None, versions: frozenset[int]) -> None:
    assert parse_if_match(value) == versions


@pytest.mark.parametrize(
    "value",
    ["garbage", "3", "", " ", ",", "W/3", 'w/"3"', '"3" "4"', '"3', '"3"\n', '"a b"', '*, "3"'],
)
def test_a_value_that_is_not_an_entity_tag_list_is_invalid_header(value: str) -> None:
    with pytest.raises(InvalidHeader) as refused:
        parse_if_match(value)
    assert refused.value.header == "If-Match"
