"""Who is calling: the Caller from the JWT claims API Gateway's authorizer passed on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpdesk.domain.errors import Forbidden
from helpdesk.domain.model import GROUP_ROLES, Caller, Role

# Most privileged first; finance counts only when it is the token's only known group.
GROUP_PRECEDENCE = ("managers", "consultants-l3", "consultants-l2", "consultants-l1", "clients")


class Unauthenticated(Exception):
    """No usable token (401)."""

    title = "Unauthenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def claims_of(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """`requestContext.authorizer.jwt.claims` of an HTTP API v2 event, or None."""
    node: Any = event
    for name in ("requestContext", "authorizer", "jwt", "claims"):
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
    return node if isinstance(node, Mapping) and node else None


def parse_groups(value: Any) -> list[str]:
    """`cognito:groups` as a list: API Gateway flattens a JWT array to "[a b]"."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    parts = text.replace(",", " ").split()
    return [p.strip().strip('"').strip("'") for p in parts if p.strip().strip('"').strip("'")]


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    """The caller of a request; Unauthenticated (401) or Forbidden (403) when unusable."""
    if not claims:
        raise Unauthenticated("A bearer token is required.")
    sub = str(claims.get("sub") or "").strip()
    if not sub:
        raise Unauthenticated("The token carries no subject.")
    groups = set(parse_groups(claims.get("cognito:groups")))
    known = [g for g in GROUP_PRECEDENCE if g in groups]
    if known:
        group = known[0]
    elif "finance" in groups:
        group = "finance"
    else:
        raise Forbidden("The token belongs to no group of this application.")
    role, level = GROUP_ROLES[group]
    org_id = str(claims.get("custom:org_id") or "").strip() or None
    if role is Role.CLIENT and org_id is None:
        raise Forbidden("A client token must carry its organisation (custom:org_id).")
    if role is not Role.CLIENT and org_id is not None:
        raise Forbidden("A staff or finance token must not carry an organisation.")
    email = str(claims.get("email") or "").strip()
    return Caller(id=sub, role=role, email=email, level=level, org_id=org_id)


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    return caller_from_claims(claims_of(event))
