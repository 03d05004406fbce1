"""The local stack's metrics recorder (GET /_local/metrics): what Powertools prints, totalled."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

from infra.emf import MetricsRecorder, emf_metrics


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetricsRecorder]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    recorder = MetricsRecorder()
    recorder.install()
    yield recorder
    recorder.uninstall()


def test_flushed_metrics_are_recorded_not_printed(
    recorder: MetricsRecorder, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = Metrics(namespace="Helpdesk", service="helpdesk")
    for value in (1, 2):
        metrics.add_metric(name="TicketsCreated", unit=MetricUnit.Count, value=value)
    metrics.flush_metrics()
    metrics.add_dimension(name="job", value="auto-close")
    metrics.add_metric(name="TicketsClosed", unit=MetricUnit.Count, value=4)
    metrics.flush_metrics()
    assert list(emf_metrics(capsys.readouterr().out)) == []
    assert recorder.items() == [
        {
            "namespace": "Helpdesk",
            "name": "TicketsClosed",
            "dimensions": {"job": "auto-close", "service": "helpdesk"},
            "unit": "Count",
            "sum": 4.0,
            "count": 1,
        },
        {
            "namespace": "Helpdesk",
            "name": "TicketsCreated",
            "dimensions": {"service": "helpdesk"},
            "unit": "Count",
            "sum": 3.0,
            "count": 2,
        },
    ]


def test_functions_in_several_threads_lose_no_count(recorder: MetricsRecorder) -> None:
    """Powertools' metric set is one per process: adds and flushes of several threads."""
    metrics = Metrics(namespace="Helpdesk", service="helpdesk")
    threads, rounds = 8, 200

    def run() -> None:
        for _ in range(rounds):
            metrics.add_metric(name="ActionsApplied", unit=MetricUnit.Count, value=1)
            metrics.flush_metrics()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    [item] = recorder.items()
    assert item["sum"] == threads * rounds


def test_uninstall_restores_powertools() -> None:
    provider = cloudwatch.AmazonCloudWatchEMFProvider
    original = vars(provider)["flush_metrics"]
    recorder = MetricsRecorder()
    recorder.install()
    assert vars(provider)["flush_metrics"] is not original
    assert "print" in vars(cloudwatch)
    recorder.uninstall()
    assert vars(provider)["flush_metrics"] is original
    assert "print" not in vars(cloudwatch)
