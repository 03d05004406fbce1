"""Organisations own their mail domains exclusively."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.contract import DEFAULT_CONTRACT
from helpdesk.domain.directory import Organisation
from helpdesk.domain.errors import InvalidInput
from helpdesk.service import HelpdeskService
from tests.conftest import MANAGER
from tests.integration.store_support import raw_item


def test_domain_belongs_to_one_organisation(service: HelpdeskService, uow: DynamoUnitOfWork) -> None:
    assert uow.directory.org_for_domain("acme.example") == "acme"
    assert uow.directory.org_for_domain("ACME.Example") == "acme"
    assert uow.directory.org_for_domain("globex.example") == "globex"
    assert uow.directory.org_for_domain("nobody.example") is None

    with pytest.raises(InvalidInput) as taken:
        service.put_org(
            MANAGER, "initech", name="Initech", email_domains=["initech.example", "acme.example"]
        )
    assert taken.value.field == "email_domains"
    # All or nothing: neither the organisation nor its free domain was written.
    assert uow.directory.get_org("initech") is None
    assert uow.directory.org_for_domain("initech.example") is None
    assert uow.directory.org_for_domain("acme.example") == "acme"


def test_removing_a_domain_frees_it(
    service: HelpdeskService, uow: DynamoUnitOfWork, dynamodb: Any
) -> None:
    service.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example", "acme.fr"])
    assert uow.directory.org_for_domain("acme.fr") == "acme"
    service.put_org(
        MANAGER,
        "acme",
        name="Acme",
        email_domains=["acme.fr"],
        auto_close_days=7,
        hourly_rate="90.00",
    )
    assert uow.directory.org_for_domain("acme.example") is None
    assert raw_item(dynamodb, "DOMAIN#acme.example", "DOMAIN") is None
    org = uow.directory.get_org("acme")
    assert org is not None and org.email_domains == ("acme.fr",)

    service.put_org(MANAGER, "initech", name="Initech", email_domains=["acme.example"])
    assert uow.directory.org_for_domain("acme.example") == "initech"
    assert uow.directory.org_for_domain("acme.fr") == "acme"
    assert [o.org_id for o in uow.directory.list_orgs()] == ["acme", "globex", "initech"]


def test_putting_an_organisation_again_is_idempotent(
    service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    fields: dict[str, Any] = {
        "name": "Acme",
        "email_domains": ["acme.example"],
        "auto_close_days": 7,
        "hourly_rate": "90.00",
    }
    acme = service.put_org(MANAGER, "acme", **fields)
    assert service.put_org(MANAGER, "acme", **fields) == acme
    assert acme == Organisation("acme", "Acme", ("acme.example",), 7, Decimal("90.00"))
    assert uow.directory.get_org("acme") == acme
    assert uow.directory.org_for_domain("acme.example") == "acme"
    with pytest.raises(InvalidInput):
        service.put_org(MANAGER, "globex", name="Globex", email_domains=["acme.example"])
    globex = uow.directory.get_org("globex")
    assert globex is not None and globex.email_domains == ("globex.example",)
    assert uow.directory.org_for_domain("globex.example") == "globex"


def test_a_contract_is_stored_and_read_back_whole(
    service: HelpdeskService, uow: DynamoUnitOfWork
) -> None:
    contract = {
        "business_hours": {"days": [1, 2, 3, 4, 5, 6], "start": "08:00", "end": "24:00"},
        "holidays": "FR-ALSACE-MOSELLE",
        "sla": {"high": {"take_minutes": 90, "answer_minutes": 400}},
        "included_minutes": 1200,
        "monthly_fee": "1500.50",
        "alert_emails": ["dsi@acme.example"],
    }
    acme = service.put_org(
        MANAGER, "acme", name="Acme", email_domains=["acme.example"], contract=contract
    )
    assert acme.contract.included_minutes == 1200
    assert acme.contract.monthly_fee == Decimal("1500.50")
    assert uow.directory.get_org("acme") == acme
    # Replaced without a contract: the defaults again.
    plain = service.put_org(MANAGER, "acme", name="Acme", email_domains=["acme.example"])
    assert plain.contract == DEFAULT_CONTRACT
    assert uow.directory.get_org("acme") == plain
