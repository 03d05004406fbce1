"""Authorisation extras over HTTP against the local stack (issue 8, part 5).

Callers who must be refused, each trying reads and writes: tokens the front must reject (401:
forged, unsigned, expired, not for this API), tokens it passes but the application must refuse
(403: no group, an unknown group, a staff token with an organisation, a client without one), and
real users acting outside their role (a client doing a consultant's action, a level-1
consultant on a level-2 ticket, finance reading a ticket, another organisation's client).
Every case checks the status and the problem body, and that nothing was written: the tickets'
version, status, history and comments, and the ticket counter.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from infra.localstack.auth import AUDIENCE
from infra.localstack.stack import ISSUER
from tests.e2e.support import Api, Reply, act, create_ticket
from tests.reliability import Figure, StackContext

AREA = "authz"


@dataclass(frozen=True)
class Attempt:
    """One request of a case: `{acme}`/`{level2}` in the path name the probe tickets."""

    method: str
    path: str
    body: Any = None


@dataclass(frozen=True)
class Case:
    name: str
    token: str
    expected: int
    attempts: tuple[Attempt, ...]


@dataclass
class CaseResult:
    name: str
    expected: int
    statuses: list[int] = field(default_factory=list)
    not_problems: int = 0  # refusals that were not application/problem+json with `status`
    writes: list[str] = field(default_factory=list)

    @property
    def refused_as_expected(self) -> bool:
        return all(s == self.expected for s in self.statuses) and not self.not_problems

    @property
    def ok(self) -> bool:
        return self.refused_as_expected and not self.writes


@dataclass(frozen=True)
class Probes:
    """The tickets the cases aim at: Acme's open assistance, and an incident taken at level 2."""

    acme: int
    level2: int


# ------------------------------------------------------------------ tokens
def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return claims


def mint(api: Api, groups: list[str], org_id: str | None = None, **claims: Any) -> str:
    """A token signed by the local stack; `claims` are set over the standard ones (None drops
    one; `__` in a name stands for `:`, as in `cognito__groups`)."""
    body: dict[str, Any] = {"sub": "probe", "email": "probe@helpdesk.test", "groups": groups}
    if org_id is not None:
        body["org_id"] = org_id
    if claims:
        body["claims"] = {name.replace("__", ":"): value for name, value in claims.items()}
    reply = api.post("/_local/tokens", body=body)
    if reply.status != 200:
        raise AssertionError(f"minting a token: {reply.status} {reply.body!r}")
    token: str = reply.json()["token"]
    return token


def forged_tokens(tokens: dict[str, str]) -> dict[str, str]:
    """Tokens that were never signed by the stack, built from a real client's token."""
    client = tokens["CLIENT_ACME"]
    header, payload, signature = client.split(".")
    manager_claims = {**_claims_of(client), "cognito:groups": ["managers"]}
    manager_claims.pop("custom:org_id")
    unsigned_header = _b64({"alg": "none", "typ": "JWT"})
    return {
        "forged claims, real signature": f"{header}.{_b64(manager_claims)}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "unsigned (alg none)": f"{unsigned_header}.{_b64(manager_claims)}.",
        "alg none, kid local": f"{_b64({'alg': 'none', 'kid': 'local'})}.{payload}.",
        "HS512 header": f"{_b64({'alg': 'HS512', 'kid': 'local'})}.{payload}.{signature}",
    }


def rejected_by_the_front(api: Api) -> dict[str, str]:
    """Well signed, but not a token API Gateway's JWT authorizer would accept."""
    now = int(time.time())
    manager = ["managers"]
    return {
        "expired": mint(api, manager, exp=now - 60, iat=now - 3600),
        "not yet valid (nbf)": mint(api, manager, nbf=now + 3600),
        "issued in the future (iat)": mint(api, manager, iat=now + 3600),
        "wrong issuer": mint(api, manager, iss=ISSUER.replace("_local", "_elsewhere")),
        "wrong audience": mint(api, manager, aud="another-app-client"),
        "wrong audience, right client_id": mint(api, manager, aud="another", client_id=AUDIENCE),
        "no aud, wrong client_id": mint(api, manager, aud=None, client_id="another-app-client"),
        "no exp": mint(api, manager, exp=None),
    }


def refused_by_the_application(api: Api) -> dict[str, str]:
    """Tokens the front passes (Cognito could issue them) that name no usable caller."""
    return {
        "no group": mint(api, ["managers"], cognito__groups=None),
        "unknown group": mint(api, ["managers"], cognito__groups=["admins"]),
        "consultant with an org claim": mint(api, ["consultants-l1"], org_id="acme"),
        "manager with an org claim": mint(api, ["managers"], org_id="acme"),
        "finance with an org claim": mint(api, ["finance"], org_id="acme"),
        "client without an org claim": mint(api, ["clients"], org_id="acme", custom__org_id=None),
    }


# ------------------------------------------------------------------ cases
CREATE = Attempt(
    "POST",
    "/tickets",
    {"title": "Intrus", "description": "x", "type": "assistance", "org_id": "acme"},
)
EVERY_KIND = (
    CREATE,
    Attempt("GET", "/tickets"),
    Attempt("GET", "/tickets/{acme}"),
    Attempt("POST", "/tickets/{acme}/actions/take", {"assignee": "lea"}),
    Attempt("POST", "/tickets/{acme}/actions/cancel", {}),
    Attempt("POST", "/tickets/{acme}/comments", {"body": "Intrusion"}),
    Attempt("POST", "/tickets/{level2}/time-entries", {"minutes": 30, "kind": "analysis"}),
    Attempt("PUT", "/consultants/intruder", {"name": "X", "email": "x@x.test", "level": 3}),
    # DESIGN §7: the roster and the organisations are read by staff only.
    Attempt("GET", "/consultants"),
    Attempt("GET", "/orgs"),
)
CONSULTANT_ACTIONS = tuple(
    Attempt("POST", f"/tickets/{{acme}}/actions/{action}", body)
    for action, body in (
        ("take", {"assignee": "lea"}),
        ("start", {}),
        ("hold", {"reason": "x"}),
        ("escalate", {}),
        ("send-answer", {"message": "x"}),
        ("close", {"note": "x"}),
        # DESIGN §2/§7: handing over and taking a quote back are staff actions.
        ("assign", {"assignee": "lea"}),
        ("withdraw-quote", {}),
    )
)
LEVEL2_ACTIONS = tuple(
    Attempt("POST", f"/tickets/{{level2}}/actions/{action}", body)
    for action, body in (
        ("start", {}),
        ("hold", {"reason": "x"}),
        ("escalate", {}),
        ("send-answer", {"message": "x"}),
        # DESIGN §7: only the holder (or a consultant of the level on a queue ticket) assigns.
        ("assign", {"assignee": "lea"}),
        ("cancel", {"reason": "spam"}),
    )
)
STAFF_READS = (Attempt("GET", "/consultants"), Attempt("GET", "/orgs"))
FINANCE_READS = (
    Attempt("GET", "/tickets"),
    Attempt("GET", "/tickets/{acme}"),
    Attempt("GET", "/tickets/{acme}/history"),
    Attempt("GET", "/tickets/{acme}/comments"),
    Attempt("GET", "/tickets/{acme}/quotes"),
    Attempt("GET", "/tickets/{level2}/time-entries"),
    Attempt("GET", "/tickets/{level2}/tasks"),
    Attempt("POST", "/tickets/{acme}/comments", {"body": "x"}),
    Attempt("POST", "/tickets/{acme}/actions/cancel", {}),
    *STAFF_READS,
)
OTHER_ORG = (
    Attempt("GET", "/tickets/{acme}"),
    Attempt("GET", "/tickets/{acme}/history"),
    Attempt("POST", "/tickets/{acme}/comments", {"body": "x"}),
    Attempt("POST", "/tickets/{acme}/actions/cancel", {}),
)


def build_cases(api: Api, tokens: dict[str, str]) -> list[Case]:
    cases = [Case(name, token, 401, EVERY_KIND) for name, token in forged_tokens(tokens).items()]
    cases += [Case(n, t, 401, EVERY_KIND) for n, t in rejected_by_the_front(api).items()]
    cases += [Case(n, t, 403, EVERY_KIND) for n, t in refused_by_the_application(api).items()]
    l1_take = Attempt("POST", "/tickets/{level2}/actions/take", {"assignee": "lea"})
    cases += [
        Case("client doing a consultant's action", tokens["CLIENT_ACME"], 403, CONSULTANT_ACTIONS),
        Case("client logging time", tokens["CLIENT_ACME"], 403, EVERY_KIND[6:7]),
        Case("client reading the roster and organisations", tokens["CLIENT_ACME"], 403, STAFF_READS),
        # DESIGN §2: a consultant may do these, just not on this ticket now: 409.
        Case("level 1 on a level-2 ticket", tokens["L1"], 409, (*LEVEL2_ACTIONS, l1_take)),
        Case("finance reading a ticket", tokens["FINANCE"], 403, FINANCE_READS),
        Case("another organisation's client", tokens["CLIENT_GLOBEX"], 404, OTHER_ORG),
    ]
    return cases


# ------------------------------------------------------------------ running them
def prepare_probes(api: Api, tokens: dict[str, str]) -> Probes:
    acme = create_ticket(api, tokens["CLIENT_ACME"], title="Cible des refus")["number"]
    level2 = create_ticket(api, tokens["CLIENT_ACME"], "incident", title="Incident niveau 2")
    taken = act(api, tokens["L2"], level2["number"], "take", {"assignee": "marie"})
    if taken.status != 200:
        raise AssertionError(f"take at level 2: {taken.status} {taken.body!r}")
    return Probes(acme, level2["number"])


def ticket_state(api: Api, manager: str, number: int) -> tuple[Any, ...]:
    ticket = api.get(f"/tickets/{number}", manager).json()
    history = api.get(f"/tickets/{number}/history", manager).json()["items"]
    comments = api.get(f"/tickets/{number}/comments", manager).json()["items"]
    entries = api.get(f"/tickets/{number}/time-entries", manager).json()["items"]
    return ticket["version"], ticket["status"], len(history), len(comments), len(entries)


def _is_problem(reply: Reply, status: int) -> bool:
    if not reply.content_type.startswith("application/problem+json"):
        return False
    body = reply.json()
    return isinstance(body, dict) and body.get("status") == status


def probe_states(api: Api, probes: Probes, manager: str) -> dict[int, tuple[Any, ...]]:
    return {n: ticket_state(api, manager, n) for n in (probes.acme, probes.level2)}


def run_case(
    api: Api, case: Case, probes: Probes, manager: str, before: dict[int, tuple[Any, ...]]
) -> CaseResult:
    """The case's attempts; `before` is the probes' state, which no refused call may change."""
    result = CaseResult(case.name, case.expected)
    numbers = {"acme": probes.acme, "level2": probes.level2}
    for attempt in case.attempts:
        path = attempt.path.format(**numbers)
        reply = api.request(attempt.method, path, case.token, attempt.body)
        result.statuses.append(reply.status)
        result.not_problems += not _is_problem(reply, reply.status)
    for number, state in before.items():
        if ticket_state(api, manager, number) != state:
            result.writes.append(f"ticket #{number} changed")
    return result


def run_cases(api: Api, tokens: dict[str, str]) -> tuple[list[CaseResult], int]:
    """Every case's result, and how many tickets were created while they ran (must be 0)."""
    probes = prepare_probes(api, tokens)
    cases = build_cases(api, tokens)
    manager = tokens["MANAGER"]
    first = create_ticket(api, manager, org_id="acme", title="Avant les refus")["number"]
    # Compared after every case, so that a write is pinned on the case that made it.
    before = probe_states(api, probes, manager)
    results = [run_case(api, case, probes, manager, before) for case in cases]
    last = create_ticket(api, manager, org_id="acme", title="Après les refus")["number"]
    return results, last - first - 1


def measure(context: StackContext) -> list[Figure]:
    results, tickets_created = run_cases(context.api, context.tokens)
    wrong = [r for r in results if not r.refused_as_expected]
    writes = [w for r in results for w in r.writes]
    detail = "; ".join(f"{r.name}: {sorted(set(r.statuses))}" for r in wrong[:4])
    return [
        Figure(
            AREA, "cases", len(results), detail=f"{sum(len(r.statuses) for r in results)} requests"
        ),
        Figure(AREA, "refused as expected", len(results) - len(wrong), not wrong, detail),
        Figure(
            AREA,
            "writes observed",
            len(writes) + tickets_created,
            not writes and tickets_created == 0,
            "; ".join(writes[:4]) or f"{tickets_created} tickets created meanwhile",
        ),
    ]
