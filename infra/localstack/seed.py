"""Demo data, written through the real service (HelpdeskService over DynamoStore)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpdesk.adapters.dynamo import DynamoStore
from helpdesk.domain.directory import new_consultant, new_organisation
from helpdesk.domain.model import Caller, Role
from helpdesk.service import HelpdeskService
from infra.localstack.auth import TokenRequest


@dataclass(frozen=True)
class DemoUser:
    name: str  # TOKEN_<name> in the printed exports
    sub: str
    email: str
    group: str
    org_id: str | None = None
    display_name: str = ""
    level: int | None = None  # consultants: their roster level

    def token_request(self) -> TokenRequest:
        return TokenRequest(self.sub, self.email, (self.group,), self.org_id)


ORGANISATIONS = (
    new_organisation("acme", "Acme Industries", ["acme.test"], 7, "90.00"),
    new_organisation("globex", "Globex Corporation", ["globex.test"], 3),
)

CONSULTANTS = (
    DemoUser("L1", "lea", "lea@helpdesk.test", "consultants-l1", None, "Léa Martin", 1),
    DemoUser("L1B", "louis", "louis@helpdesk.test", "consultants-l1", None, "Louis Petit", 1),
    DemoUser("L2", "marie", "marie@helpdesk.test", "consultants-l2", None, "Marie Durand", 2),
    DemoUser("L2B", "marc", "marc@helpdesk.test", "consultants-l2", None, "Marc Leroy", 2),
    DemoUser("L3", "sophie", "sophie@helpdesk.test", "consultants-l3", None, "Sophie Bernard", 3),
)

DEMO_USERS = (
    DemoUser("CLIENT_ACME", "fabrice", "fabrice@acme.test", "clients", "acme"),
    DemoUser("CLIENT_GLOBEX", "gina", "gina@globex.test", "clients", "globex"),
    *CONSULTANTS,
    DemoUser("MANAGER", "maxime", "maxime@helpdesk.test", "managers"),
    DemoUser("FINANCE", "fanny", "fanny@helpdesk.test", "finance"),
)

SEED_CALLER = Caller(id="maxime", role=Role.MANAGER, email="maxime@helpdesk.test")


def seed(dynamodb: Any, table_name: str) -> None:
    """Two organisations and a roster with every level."""
    service = HelpdeskService(DynamoStore(dynamodb, table_name))
    for org in ORGANISATIONS:
        service.put_org(SEED_CALLER, org)
    for user in CONSULTANTS:
        assert user.level is not None
        consultant = new_consultant(user.sub, user.display_name, user.email, user.level)
        service.put_consultant(SEED_CALLER, consultant)
