"""Local stand-in for Cognito and the HTTP API JWT authorizer.

Tokens are HS256 JWTs signed with a random per-process secret (stdlib hmac). `verify` checks
what the API Gateway JWT authorizer checks on a Cognito token: `kid` and signature, `exp`,
`nbf`, `iat`, `iss`, and `aud` (or `client_id` when there is no `aud`, as on an access
token). Like API Gateway it does not look at `token_use` or the groups: the handler decides.
`gateway_claims` renders the claims as API Gateway hands them to the handler: every value a
string, an array as "[a b]".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from helpdesk.domain.model import GROUP_ROLES

AUDIENCE = "helpdesk-local-client"
KEY_ID = "local"
_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")


class InvalidToken(Exception):
    """The bearer token is missing, malformed, badly signed, expired or not for this API."""


class InvalidTokenRequest(ValueError):
    """A body of POST /_local/tokens that cannot become a token; `field` names the culprit."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class TokenRequest:
    sub: str
    email: str
    groups: tuple[str, ...]
    org_id: str | None = None
    # Claims set over the standard ones (None drops one): tokens Cognito could issue that the
    # helper's fields cannot express (no group, an unknown group, expired, another audience).
    claims: Mapping[str, Any] = field(default_factory=dict)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("token is not base64url") from exc


def _json_part(text: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(text))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidToken("token part is not JSON") from exc
    if not isinstance(value, dict):
        raise InvalidToken("token part is not a JSON object")
    return value


class TokenIssuer:
    """Signs and verifies the local tokens (one random secret per process)."""

    def __init__(
        self,
        issuer: str,
        ttl_seconds: int,
        audience: str = AUDIENCE,
        secret: bytes | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    def _sign(self, signing_input: bytes) -> str:
        return _b64encode(hmac.new(self._secret, signing_input, hashlib.sha256).digest())

    def issue(self, request: TokenRequest, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "sub": request.sub,
            "email": request.email,
            "email_verified": True,
            "cognito:groups": list(request.groups),
            "iss": self.issuer,
            "aud": self.audience,
            "token_use": "id",
            "auth_time": issued,
            "iat": issued,
            "exp": issued + self.ttl_seconds,
        }
        if request.org_id is not None:
            claims["custom:org_id"] = request.org_id
        for name, value in request.claims.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        header = {"alg": "HS256", "typ": "JWT", "kid": KEY_ID}
        signing_input = ".".join(
            _b64encode(json.dumps(part, separators=(",", ":")).encode())
            for part in (header, claims)
        )
        return f"{signing_input}.{self._sign(signing_input.encode())}"

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        """The token's claims, or InvalidToken."""
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("not a JWT")
        header, claims = _json_part(parts[0]), _json_part(parts[1])
        if header.get("alg") != "HS256":
            raise InvalidToken("unexpected signing algorithm")
        if header.get("kid") != KEY_ID:
            raise InvalidToken("unknown signing key")
        expected = self._sign(f"{parts[0]}.{parts[1]}".encode())
        if not hmac.compare_digest(expected, parts[2]):
            raise InvalidToken("bad signature")
        self._check_claims(claims, time.time() if now is None else now)
        return claims

    def _check_claims(self, claims: Mapping[str, Any], now: float) -> None:
        exp, nbf, iat = claims.get("exp"), claims.get("nbf", 0), claims.get("iat", 0)
        if not _is_time(exp) or exp <= now:
            raise InvalidToken("token expired")
        if not _is_time(nbf) or nbf > now:
            raise InvalidToken("token not yet valid")
        if not _is_time(iat) or iat > now:
            raise InvalidToken("token issued in the future")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong issuer")
        # API Gateway reads `client_id` only when there is no `aud`.
        audience = claims["aud"] if "aud" in claims else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise InvalidToken("wrong audience")


def _is_time(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or InvalidToken."""
    if not authorization:
        raise InvalidToken("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization is not a Bearer token")
    return token.strip()


def _claim_string(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as the HTTP API JWT authorizer passes them: strings, arrays as "[a b]"."""
    return {name: _claim_string(value) for name, value in claims.items()}


# ----------------------------------------------------------- POST /_local/tokens body
_TOKEN_FIELDS = frozenset({"sub", "email", "groups", "org_id", "claims"})


def _required_text(body: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidTokenRequest(name, f"'{name}' is required and must be a valid {name}.")
    return value


def _groups(value: Any) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidTokenRequest("groups", "'groups' must be a non-empty list of group names.")
    for group in value:
        if group not in GROUP_ROLES:
            known = ", ".join(sorted(GROUP_ROLES))
            raise InvalidTokenRequest("groups", f"unknown group {group!r}; known: {known}.")
    return tuple(value)


def parse_token_request(body: Any) -> TokenRequest:
    """Validate the body of POST /_local/tokens."""
    if not isinstance(body, dict):
        raise InvalidTokenRequest("body", "the body must be a JSON object.")
    unknown = sorted(set(body) - _TOKEN_FIELDS)
    if unknown:
        raise InvalidTokenRequest(unknown[0], f"unknown field '{unknown[0]}'.")
    sub = _required_text(body, "sub", _IDENT)
    email = _required_text(body, "email", _EMAIL)
    groups = _groups(body.get("groups"))
    org_id = body.get("org_id")
    if org_id is not None and (not isinstance(org_id, str) or not _IDENT.match(org_id)):
        raise InvalidTokenRequest("org_id", "'org_id' must be an organisation id.")
    if "clients" in groups and org_id is None:
        raise InvalidTokenRequest("org_id", "a client ('clients' group) needs an 'org_id'.")
    claims = body.get("claims", {})
    if not isinstance(claims, dict):
        raise InvalidTokenRequest("claims", "'claims' must be an object: claim name -> value.")
    return TokenRequest(sub=sub, email=email, groups=groups, org_id=org_id, claims=claims)
