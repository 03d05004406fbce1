"""Every product metric template.yaml's alarms and dashboard name is emitted by the code, in
the namespace and with the dimensions they name (DESIGN §12).

Each test runs the code path that emits a metric (the handler, as Lambda calls it), lets
Powertools print its EMF documents on stdout as it does in Lambda, reads them back with
infra.emf, and looks for the (namespace, name, dimensions) of the template. The function
modules' Metrics are given the service and namespace template.yaml's Globals set (in Lambda
they read them from those variables at cold start). `EMITTED_BY` says which test shows each
metric; a metric the code does not emit yet is in `PENDING` with the reason.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from helpdesk import bootstrap
from helpdesk.domain.mail import MailOutcomeKind
from helpdesk.mail_ingest import IngestResult
from helpdesk.notifier import MailDelivery
from infra.cfn_template import load_template, resource_properties, resources_of_type
from infra.emf import EmfMetric, emf_metrics
from infra.localstack.lambdas import FakeLambdaContext
from infra.localstack.smtp import s3_put_event
from tests.infra.alarm_checks import ALARM
from tests.integration.api.conftest import Api, api, idempotency_table  # noqa: F401 (fixtures)
from tests.support.functions import load_function

TEMPLATE = load_template()
ENVIRONMENT = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
NAMESPACE = ENVIRONMENT["POWERTOOLS_METRICS_NAMESPACE"]
SERVICE = ENVIRONMENT["POWERTOOLS_SERVICE_NAME"]

Key = tuple[str, tuple[tuple[str, str], ...]]  # (metric name, sorted dimensions)

# The test that shows each product metric emitted.
EMITTED_BY = {
    "MailFailed": "test_an_inbound_mail_that_ended_failed_is_counted",
    "MailAccepted": "test_an_inbound_mail_that_opened_a_ticket_is_counted_as_a_ticket_created",
    "MailQuarantined": "test_an_inbound_mail_quarantined_is_counted",
    "OutboxOldestAge": "test_an_outbox_item_that_fails_reports_its_age_and_the_failure",
    "OutboxFailed": "test_an_outbox_item_that_fails_reports_its_age_and_the_failure",
    "Mail_sent": "test_a_mail_sent_reports_its_age_and_a_replay_reports_none",
    "TicketsCreated": "test_the_api_counts_tickets_created_and_closed",
    "TicketsClosed": "test_the_api_counts_tickets_created_and_closed",
    "SlaMissed": "test_the_sla_watch_counts_the_clocks_it_finds_missed",
}
# Named by the template before the code emits it, each with the reason.
PENDING: dict[str, str] = {}


def named_by_the_template() -> dict[str, set[Key]]:
    """Product metric name -> the dimension sets the alarms and the dashboard read it with."""
    named: dict[str, set[Key]] = {}
    for alarm in resources_of_type(TEMPLATE, ALARM).values():
        props = alarm["Properties"]
        if props.get("Namespace") == NAMESPACE:
            dims = tuple(sorted((d["Name"], d["Value"]) for d in props.get("Dimensions", [])))
            named.setdefault(props["MetricName"], set()).add((props["MetricName"], dims))
    body = resource_properties(TEMPLATE, "Dashboard")["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    for widget in widgets:
        for row in widget.get("properties", {}).get("metrics", []):
            if row[0] == NAMESPACE:
                pairs = [v for v in row[2:] if not isinstance(v, dict)]
                dims = tuple(sorted(zip(pairs[::2], pairs[1::2], strict=True)))
                named.setdefault(row[1], set()).add((row[1], dims))
    return named


def keys_of(metrics: list[EmfMetric]) -> set[Key]:
    return {(m.name, m.dimensions) for m in metrics if m.namespace == NAMESPACE}


def expected(*names: str) -> set[Key]:
    named = named_by_the_template()
    return {key for name in names for key in named[name]}


# ---------------------------------------------------------------------- coverage
def test_every_product_metric_of_the_template_has_its_emitting_test() -> None:
    named = set(named_by_the_template())
    assert named == set(EMITTED_BY) | set(PENDING)
    assert not set(EMITTED_BY) & set(PENDING)
    for test_name in EMITTED_BY.values():
        assert callable(globals()[test_name]), test_name


@pytest.mark.parametrize("name", sorted(PENDING))
def test_a_pending_metric_is_not_emitted_yet_and_says_why(name: str) -> None:
    """Once some code emits it, this fails: move it to EMITTED_BY with a test of its path."""
    from infra.cfn_template import REPO_ROOT

    sources = [*REPO_ROOT.joinpath("functions").rglob("*.py")]
    sources += REPO_ROOT.joinpath("layers", "domain", "helpdesk").rglob("*.py")
    emitting = [p for p in sources if f'"{name}"' in p.read_text(encoding="utf-8")]
    assert emitting == [], f"{name} is emitted now: give it a test in EMITTED_BY"
    assert len(PENDING[name]) > 40


# ------------------------------------------------------------------- harness
@pytest.fixture
def emitted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[[], list[EmfMetric]]:
    """The EMF metrics printed since the last call; metrics on, as in Lambda."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)
    capsys.readouterr()

    def read() -> list[EmfMetric]:
        return list(emf_metrics(capsys.readouterr().out))

    return read


def as_deployed(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> ModuleType:
    """The handler module's Metrics with the template's service and namespace."""
    monkeypatch.setattr(module.metrics.provider, "service", SERVICE)
    monkeypatch.setattr(module.metrics.provider, "namespace", NAMESPACE)
    return module


# ---------------------------------------------------------------- inbound mail
class StoredMail:
    """The S3 client's get_object: the raw message of any key."""

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(b"From: a@acme.example\r\n\r\nbody")}


class Ingestion:
    """The ingestion, ending every message with one outcome."""

    def __init__(self, outcome: MailOutcomeKind) -> None:
        self.outcome = outcome

    def ingest(self, raw: bytes, source: Any) -> IngestResult:
        return IngestResult("0" * 64, self.outcome, ticket_number=1)


def run_mail_ingest(monkeypatch: pytest.MonkeyPatch, outcome: MailOutcomeKind) -> None:
    module = as_deployed(monkeypatch, load_function("mail_ingest"))
    monkeypatch.setattr(module, "s3_client", StoredMail)
    monkeypatch.setattr(module, "ingestion", lambda: Ingestion(outcome))
    event = s3_put_event("inbound-bucket", "inbound/m1")
    module.lambda_handler(event, FakeLambdaContext("mail-ingest"))


def test_an_inbound_mail_that_ended_failed_is_counted(
    emitted: Callable[[], list[EmfMetric]], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_mail_ingest(monkeypatch, MailOutcomeKind.FAILED)
    assert expected("MailFailed") <= keys_of(emitted())
    assert expected("MailFailed") == {("MailFailed", (("service", SERVICE),))}


def test_an_inbound_mail_that_opened_a_ticket_is_counted_as_a_ticket_created(
    emitted: Callable[[], list[EmfMetric]], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_mail_ingest(monkeypatch, MailOutcomeKind.TICKET_CREATED)
    found = keys_of(emitted())
    assert expected("MailAccepted") <= found
    assert ("TicketsCreated", (("service", SERVICE),)) in found


def test_an_inbound_mail_quarantined_is_counted(
    emitted: Callable[[], list[EmfMetric]], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_mail_ingest(monkeypatch, MailOutcomeKind.QUARANTINED)
    found = keys_of(emitted())
    assert expected("MailQuarantined") <= found
    assert ("TicketsCreated", (("service", SERVICE),)) not in found


# --------------------------------------------------------------------- outbox
def outbox_record(created_at: datetime, sequence: str = "1") -> dict[str, Any]:
    image = {
        "pk": {"S": "TICKET#7"},
        "sk": {"S": "OUTBOX#0003#created"},
        "entity": {"S": "outbox"},
        "channel": {"S": "mail"},
        "created_at": {"S": created_at.isoformat()},
    }
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": sequence, "NewImage": image}}


class Notifier:
    """Stands for helpdesk.notifier.Notifier: each delivery ends as told."""

    def __init__(self, outcome: str | Exception) -> None:
        self.outcome = outcome

    def deliver(self, pk: str, sk: str) -> MailDelivery:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return MailDelivery(self.outcome, "<m1@helpdesk.localhost>")


def run_notifier(monkeypatch: pytest.MonkeyPatch, outcome: str | Exception, age: timedelta) -> Any:
    module = as_deployed(monkeypatch, load_function("notifier"))
    monkeypatch.setattr(bootstrap, "notifier", lambda: Notifier(outcome))
    event = {"Records": [outbox_record(datetime.now(UTC) - age)]}
    return module.lambda_handler(event, FakeLambdaContext("notifier"))


def test_an_outbox_item_that_fails_reports_its_age_and_the_failure(
    emitted: Callable[[], list[EmfMetric]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item stored 20 minutes ago that SES keeps refusing: its age trips OutboxAgeAlarm."""
    reply = run_notifier(monkeypatch, ConnectionError("SES unavailable"), timedelta(minutes=20))
    assert reply == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    metrics = emitted()
    assert expected("OutboxOldestAge", "OutboxFailed") <= keys_of(metrics)
    [age] = [m for m in metrics if m.name == "OutboxOldestAge"]
    assert age.unit == "Seconds"
    threshold = resource_properties(TEMPLATE, "OutboxAgeAlarm")["Threshold"]
    assert 20 * 60 <= age.values[0] < 21 * 60
    assert age.values[0] > threshold


def test_a_mail_sent_reports_its_age_and_a_replay_reports_none(
    emitted: Callable[[], list[EmfMetric]], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_notifier(monkeypatch, "sent", timedelta(seconds=30))
    metrics = emitted()
    assert expected("Mail_sent") <= keys_of(metrics)
    [age] = [m for m in metrics if m.name == "OutboxOldestAge"]
    assert 30 <= age.values[0] < 90
    run_notifier(monkeypatch, "already_sent", timedelta(hours=3))  # performed long ago
    assert [m.name for m in emitted()] == ["Mail_already_sent"]


# ------------------------------------------------------------------------ API
def test_the_api_counts_tickets_created_and_closed(
    api: Api,  # noqa: F811 (the fixture imported above)
    emitted: Callable[[], list[EmfMetric]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    as_deployed(monkeypatch, api.module)
    created = api.post(
        "/tickets",
        "client",
        body={"title": "Imprimante", "description": "Bloquée", "type": "assistance"},
    )
    assert created.status == 201, created.body
    number = created.body["number"]
    assert keys_of(emitted()) >= {("TicketsCreated", (("service", SERVICE),))}
    cancelled = api.act(number, "cancel", "client")
    assert cancelled.status == 200, cancelled.body
    assert keys_of(emitted()) >= {("TicketsClosed", (("service", SERVICE),))}
    # The same figures the dashboard reads (the auto-closed ones come from the jobs function).
    assert ("TicketsCreated", (("service", SERVICE),)) in expected("TicketsCreated")
    assert ("TicketsClosed", (("service", SERVICE),)) in expected("TicketsClosed")


def test_the_sla_watch_counts_the_clocks_it_finds_missed(
    emitted: Callable[[], list[EmfMetric]], monkeypatch: pytest.MonkeyPatch, uow: Any
) -> None:
    from helpdesk.domain.model import TicketType
    from helpdesk.service import HelpdeskService
    from tests.conftest import CLIENT

    # Created Friday 27 November 2026, 10:00 Paris: its take clock (240 business minutes)
    # is missed by Monday 10:00 Paris; its answer clock (1080) is not even at risk.
    service = HelpdeskService(uow, clock=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    service.create_ticket(CLIENT, title="Imprimante", description="", type=TicketType.ASSISTANCE)
    module = as_deployed(monkeypatch, load_function("jobs"))
    monkeypatch.setattr(module, "default_uow", lambda: uow)
    event = {"job": "sla-watch", "at": "2026-11-30T09:00:00Z"}
    module.lambda_handler(event, FakeLambdaContext("jobs"))
    found = [m for m in emitted() if m.namespace == NAMESPACE and m.name == "SlaMissed"]
    assert {(m.name, m.dimensions) for m in found} == expected("SlaMissed")
    assert [m.values for m in found] == [(1.0,)]


def test_the_jobs_function_counts_auto_closed_tickets(
    emitted: Callable[[], list[EmfMetric]], monkeypatch: pytest.MonkeyPatch, uow: Any
) -> None:
    module = as_deployed(monkeypatch, load_function("jobs"))
    monkeypatch.setattr(module, "default_uow", lambda: uow)
    event = {"job": "auto-close", "at": "2026-11-30T10:00:00Z"}
    module.lambda_handler(event, FakeLambdaContext("jobs"))
    auto_closed = ("TicketsClosed", (("job", "auto-close"), ("service", SERVICE)))
    assert auto_closed in expected("TicketsClosed")
    assert auto_closed in keys_of(emitted())
