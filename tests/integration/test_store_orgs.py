"""Organisations own their mail domains exclusively."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.adapters.dynamo import DynamoStore
from helpdesk.domain.directory import new_organisation
from helpdesk.domain.errors import InvalidInput
from helpdesk.service import HelpdeskService
from tests.conftest import MANAGER
from tests.integration.store_support import raw_item


def test_domain_belongs_to_one_organisation(service: HelpdeskService, store: DynamoStore) -> None:
    assert store.org_for_domain("acme.example") == "acme"
    assert store.org_for_domain("ACME.Example") == "acme"
    assert store.org_for_domain("globex.example") == "globex"
    assert store.org_for_domain("nobody.example") is None

    with pytest.raises(InvalidInput) as taken:
        service.put_org(
            MANAGER, new_organisation("initech", "Initech", ["initech.example", "acme.example"])
        )
    assert taken.value.field == "email_domains"
    # All or nothing: neither the organisation nor its free domain was written.
    assert store.get_org("initech") is None
    assert store.org_for_domain("initech.example") is None
    assert store.org_for_domain("acme.example") == "acme"


def test_removing_a_domain_frees_it(
    service: HelpdeskService, store: DynamoStore, dynamodb: Any
) -> None:
    service.put_org(MANAGER, new_organisation("acme", "Acme", ["acme.example", "acme.fr"]))
    assert store.org_for_domain("acme.fr") == "acme"
    service.put_org(MANAGER, new_organisation("acme", "Acme", ["acme.fr"], 7, "90.00"))
    assert store.org_for_domain("acme.example") is None
    assert raw_item(dynamodb, "DOMAIN#acme.example", "DOMAIN") is None
    org = store.get_org("acme")
    assert org is not None and org.email_domains == ("acme.fr",)

    service.put_org(MANAGER, new_organisation("initech", "Initech", ["acme.example"]))
    assert store.org_for_domain("acme.example") == "initech"
    assert store.org_for_domain("acme.fr") == "acme"
    assert [o.org_id for o in store.list_orgs()] == ["acme", "globex", "initech"]


def test_putting_an_organisation_again_is_idempotent(
    service: HelpdeskService, store: DynamoStore
) -> None:
    acme = new_organisation("acme", "Acme", ["acme.example"], 7, "90.00")
    service.put_org(MANAGER, acme)
    service.put_org(MANAGER, acme)
    assert store.get_org("acme") == acme
    assert store.org_for_domain("acme.example") == "acme"
    with pytest.raises(InvalidInput):
        service.put_org(MANAGER, new_organisation("globex", "Globex", ["acme.example"]))
    globex = store.get_org("globex")
    assert globex is not None and globex.email_domains == ("globex.example",)
    assert store.org_for_domain("globex.example") == "globex"
