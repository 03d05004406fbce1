"""Demo data, written through the real service (HelpdeskService over the DynamoDB unit of
work)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
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


@dataclass(frozen=True)
class DemoOrganisation:
    org_id: str
    name: str
    email_domains: tuple[str, ...]
    auto_close_days: int
    hourly_rate: str | None = None


ORGANISATIONS = (
    DemoOrganisation("acme", "Acme Industries", ("acme.test",), 7, "90.00"),
    DemoOrganisation("globex", "Globex Corporation", ("globex.test",), 3),
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
    service = HelpdeskService(DynamoUnitOfWork(Table(dynamodb, table_name)))
    for org in ORGANISATIONS:
        service.put_org(
            SEED_CALLER,
            org.org_id,
            name=org.name,
            email_domains=list(org.email_domains),
            auto_close_days=org.auto_close_days,
            hourly_rate=org.hourly_rate,
        )
    for user in CONSULTANTS:
        assert user.level is not None
        service.put_consultant(
            SEED_CALLER, user.sub, name=user.display_name, email=user.email, level=user.level
        )
    # The managers belong to the roster too ("the managers" that mails go to, DESIGN §7).
    service.put_consultant(
        SEED_CALLER,
        SEED_CALLER.id,
        name="Maxime",
        email=SEED_CALLER.email,
        level=None,
        role="manager",
    )
