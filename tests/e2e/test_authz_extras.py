"""Refused callers over HTTP: the right status, a problem body, and nothing written.

The cases live in tests/reliability/authz.py (`make reliability` reports the same run).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from infra.localstack.auth import AUDIENCE, InvalidToken, TokenIssuer, TokenRequest
from tests.e2e.support import Api
from tests.reliability.authz import CaseResult, mint, run_cases

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def authz_run(api: Api, tokens: dict[str, str]) -> tuple[list[CaseResult], int]:
    return run_cases(api, tokens)


def test_every_case_is_refused_with_its_status(
    authz_run: tuple[list[CaseResult], int],
) -> None:
    results, _ = authz_run
    wrong = [
        f"{r.name}: expected {r.expected}, got {r.statuses} ({r.not_problems} not problems)"
        for r in results
        if not r.refused_as_expected
    ]
    assert not wrong, "\n".join(wrong)


def test_refused_calls_write_nothing(authz_run: tuple[list[CaseResult], int]) -> None:
    results, tickets_created = authz_run
    assert [w for r in results for w in r.writes] == []
    assert tickets_created == 0


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("unsigned (alg none)", 401),
        ("tampered signature", 401),
        ("expired", 401),
        ("wrong audience", 401),
        ("wrong issuer", 401),
        ("no group", 403),
        ("unknown group", 403),
        ("consultant with an org claim", 403),
        ("client doing a consultant's action", 403),
        ("level 1 on a level-2 ticket", 409),
        ("finance reading a ticket", 403),
        ("another organisation's client", 404),
    ],
)
def test_the_cases_of_the_issue_are_run(
    authz_run: tuple[list[CaseResult], int], case: str, status: int
) -> None:
    results = {r.name: r for r in authz_run[0]}
    assert results[case].expected == status
    assert results[case].statuses, f"{case} sent no request"


def test_an_access_token_shape_passes_the_front_like_api_gateway(api: Api) -> None:
    """No `aud` but the app client's `client_id` (a Cognito access token): API Gateway accepts
    it, and a manager's needs no email to list tickets."""
    token = mint(api, ["managers"], aud=None, client_id=AUDIENCE, token_use="access", email=None)
    assert api.get("/tickets?limit=1", token).status == 200


def test_the_token_helper_wants_claims_as_an_object(api: Api) -> None:
    body = {"sub": "x", "email": "x@b.test", "groups": ["managers"], "claims": ["exp"]}
    reply = api.post("/_local/tokens", body=body)
    assert reply.status == 422
    assert reply.json()["field"] == "claims"


# ------------------------------------------------------------ the verifier, in-process
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test"
SECRET = b"s" * 32
NOW = 2_000_000_000


def _issue(**claims: object) -> str:
    request = TokenRequest("maxime", "maxime@helpdesk.test", ("managers",), claims=claims)
    return TokenIssuer(ISSUER, 600, secret=SECRET).issue(request, now=NOW)


def _verify(token: str) -> dict[str, object]:
    return TokenIssuer(ISSUER, 600, secret=SECRET).verify(token, now=NOW + 1)


def test_verifier_reads_client_id_only_without_aud() -> None:
    assert _verify(_issue(aud=None, client_id=AUDIENCE))["sub"] == "maxime"
    with pytest.raises(InvalidToken, match="audience"):
        _verify(_issue(aud="another", client_id=AUDIENCE))
    with pytest.raises(InvalidToken, match="audience"):
        _verify(_issue(aud=None))


def test_verifier_refuses_a_token_issued_in_the_future() -> None:
    with pytest.raises(InvalidToken, match="future"):
        _verify(_issue(iat=NOW + 60))


def test_verifier_refuses_an_unknown_key_id_even_when_well_signed() -> None:
    _, payload, _ = _issue().split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"other"}').rstrip(b"=").decode()
    signing_input = f"{header}.{payload}".encode()
    digest = hmac.new(SECRET, signing_input, hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="key"):
        _verify(f"{header}.{payload}.{signature}")
