"""Money: exact decimals, two places, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from helpdesk.domain.errors import InvalidInput

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")


def parse_money(
    value: Decimal | str | int, field_name: str, *, zero_allowed: bool = False
) -> Decimal:
    """A positive amount (or zero, if allowed) with at most two decimals, as an exact
    Decimal."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(field_name, f"'{field_name}' must be a decimal amount.") from exc
    if not amount.is_finite() or amount < 0 or (amount == 0 and not zero_allowed):
        least = "zero or more" if zero_allowed else "greater than zero"
        raise InvalidInput(field_name, f"'{field_name}' must be {least}.")
    # Size first: quantizing a huge value overflows the context and raises InvalidOperation.
    if amount >= MAX_AMOUNT:
        raise InvalidInput(field_name, f"'{field_name}' is too large.")
    if amount != amount.quantize(CENT):
        raise InvalidInput(field_name, f"'{field_name}' has more than two decimals.")
    return amount.quantize(CENT)
