"""Shared fixtures: fake AWS credentials, a moto table created from template.yaml, a clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from helpdesk.adapters.dynamodb.toolkit import Table
from helpdesk.adapters.dynamodb.unit_of_work import DynamoUnitOfWork
from helpdesk.domain.model import Caller, Role
from helpdesk.service import HelpdeskService
from infra.cfn_template import create_table_from_template, load_template
from infra.moto_serial import serialise_moto_dynamodb
from tests.support.aws import FAKE_AWS_ENVIRONMENT, REGION

TABLE_NAME = "helpdesk-test"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever talks to real AWS."""
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def dynamodb(template: dict[str, Any]) -> Iterator[Any]:
    """A moto DynamoDB client with the table of template.yaml, serialised like DynamoDB."""
    serialise_moto_dynamodb()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table_from_template(client, template, "TicketsTable", TABLE_NAME)
        yield client


class Clock:
    """A settable clock for the service."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))


@pytest.fixture
def table(dynamodb: Any) -> Table:
    """The moto table through the adapters' gateway (tests may read raw items with it)."""
    return Table(dynamodb, TABLE_NAME)


@pytest.fixture
def uow(table: Table) -> DynamoUnitOfWork:
    """The unit of work the `service` fixture commits through (its repositories read)."""
    return DynamoUnitOfWork(table)


MANAGER = Caller(id="manager-1", role=Role.MANAGER, email="boss@consult.example")
L1 = Caller(id="cons-l1", role=Role.CONSULTANT, level=1, email="l1@consult.example")
L1B = Caller(id="cons-l1b", role=Role.CONSULTANT, level=1, email="l1b@consult.example")
L2 = Caller(id="cons-l2", role=Role.CONSULTANT, level=2, email="l2@consult.example")
L2B = Caller(id="cons-l2b", role=Role.CONSULTANT, level=2, email="l2b@consult.example")
L3 = Caller(id="cons-l3", role=Role.CONSULTANT, level=3, email="l3@consult.example")
CLIENT = Caller(id="client-acme", role=Role.CLIENT, org_id="acme", email="fabrice@acme.example")
OTHER_CLIENT = Caller(
    id="client-globex", role=Role.CLIENT, org_id="globex", email="x@globex.example"
)
FINANCE = Caller(id="finance-1", role=Role.FINANCE, email="finance@consult.example")


@pytest.fixture
def service(uow: DynamoUnitOfWork, clock: Clock) -> HelpdeskService:
    """A service over a seeded table: two organisations and a roster at every level."""
    svc = HelpdeskService(uow, clock=clock)
    seed_directory(svc)
    return svc


def seed_directory(service: HelpdeskService) -> None:
    """Two organisations (acme: 7 days, 90.00 an hour; globex: 1 day) and the roster."""
    service.put_org(
        MANAGER,
        "acme",
        name="Acme",
        email_domains=["acme.example"],
        auto_close_days=7,
        hourly_rate="90.00",
    )
    service.put_org(
        MANAGER, "globex", name="Globex", email_domains=["globex.example"], auto_close_days=1
    )
    for caller in (L1, L1B, L2, L2B, L3):
        assert caller.level is not None
        service.put_consultant(
            MANAGER, caller.id, name=caller.id.upper(), email=caller.email, level=caller.level
        )
