"""Every request body model refuses coercion (DESIGN.md §7), today's and the ones added later:
each integer, boolean, decimal and date field of every `Body` subclass is probed with a value
pydantic's lax mode would coerce."""

from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import ValidationError

from functions.api import app as _api
from helpdesk.entrypoints.http.schemas import Body

_api.include_all_routes()  # every router imported, so every body model defined

# Values lax mode turns into the field's type; strict input refuses each (DESIGN.md §7).
PROBES: dict[type, list[Any]] = {
    int: [True, "30", 30.0],
    bool: [1, "yes", "true"],
    Decimal: ["1e6", True, "NaN"],  # money is also never a number: test_api_strict_input
    dt.date: [20261127, "2026-11-27T00:00:00"],
}


def _models(base: type[Body]) -> list[type[Body]]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *_models(sub)]
    return found


def _base_type(annotation: Any) -> Any:
    """`Annotated[int, ...] | None` → int."""
    if get_origin(annotation) is Annotated:
        return _base_type(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else None
    return annotation


CASES = [
    (model, field.alias or name, probe)
    for model in _models(Body)
    for name, field in model.model_fields.items()
    for probe in PROBES.get(_base_type(field.annotation), [])
]


def test_the_probe_reaches_the_known_models() -> None:
    names = {model.__name__ for model, _, _ in CASES}
    assert {"TimeEntryIn", "CommentIn", "ActionIn", "OrgIn", "ConsultantIn"} <= names


@pytest.mark.parametrize(
    ("model", "field", "probe"), CASES, ids=[f"{m.__name__}.{f}={p!r}" for m, f, p in CASES]
)
def test_no_request_field_is_coerced(model: type[Body], field: str, probe: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({field: probe})
    assert any(e["loc"][:1] == (field,) for e in refused.value.errors()), (
        f"{model.__name__}.{field} accepted {probe!r}"
    )
