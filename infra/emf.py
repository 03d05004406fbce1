"""CloudWatch embedded metric format (EMF), as Powertools' Metrics prints it, read back.

A Lambda function's Powertools `Metrics` prints one JSON document per flush on stdout:
`{"_aws": {"Timestamp", "CloudWatchMetrics": [{"Namespace", "Dimensions": [[names]],
"Metrics": [{"Name", "Unit"}]}]}, "<dimension>": "<value>", "<metric>": value or [values]}`;
CloudWatch Logs turns it into metrics. The local stack (GET /_local/metrics) and the tests
(tests/infra/test_operations_metrics.py) read the same documents with this module.
"""

from __future__ import annotations

import builtins
import functools
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Dimensions = tuple[tuple[str, str], ...]  # (name, value), sorted by name


@dataclass(frozen=True)
class EmfMetric:
    """One metric of one EMF document, for one of its dimension sets."""

    namespace: str
    name: str
    dimensions: Dimensions
    unit: str
    values: tuple[float, ...]


def metrics_of(document: Mapping[str, Any]) -> list[EmfMetric]:
    """The metrics an EMF document declares ([] for any other JSON document, e.g. a log)."""
    directives = document.get("_aws", {}).get("CloudWatchMetrics") if document else None
    if not isinstance(directives, list):
        return []
    found = []
    for directive in directives:
        for dimension_set in directive.get("Dimensions") or [[]]:
            dimensions = tuple(
                sorted((name, str(document.get(name, ""))) for name in dimension_set)
            )
            for metric in directive.get("Metrics", []):
                raw = document.get(metric["Name"], [])
                values = tuple(float(v) for v in (raw if isinstance(raw, list) else [raw]))
                unit = str(metric.get("Unit", "None"))
                found.append(
                    EmfMetric(directive["Namespace"], metric["Name"], dimensions, unit, values)
                )
    return found


def emf_metrics(output: str) -> Iterator[EmfMetric]:
    """The metrics of every EMF document among printed lines (other lines are skipped)."""
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict):
            yield from metrics_of(document)


@dataclass
class _Total:
    unit: str
    sum: float = 0.0
    count: int = 0


class MetricsRecorder:
    """The metrics the in-process functions emitted since start: totals per namespace, name
    and dimensions. `install()` takes over what Powertools' EMF provider prints, so the
    documents are recorded (and not printed on the local stack's console)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[tuple[str, str, Dimensions], _Total] = {}

    def record(self, output: str) -> None:
        with self._lock:
            for metric in emf_metrics(output):
                key = (metric.namespace, metric.name, metric.dimensions)
                total = self._totals.setdefault(key, _Total(metric.unit))
                total.sum += sum(metric.values)
                total.count += len(metric.values)

    def items(self) -> list[dict[str, Any]]:
        """`namespace`, `name`, `dimensions` (an object), `unit`, `sum`, `count` (values
        recorded), sorted by namespace, name and dimensions."""
        with self._lock:
            totals = sorted(self._totals.items())
        return [
            {
                "namespace": namespace,
                "name": name,
                "dimensions": dict(dimensions),
                "unit": total.unit,
                "sum": total.sum,
                "count": total.count,
            }
            for (namespace, name, dimensions), total in totals
        ]

    def _print(self, *values: Any, **kwargs: Any) -> None:
        text = " ".join(str(v) for v in values)
        if "_aws" in text:
            self.record(text)
        else:  # anything else the module prints goes where it would have gone
            builtins.print(*values, **kwargs)

    def install(self) -> None:
        """Powertools' EMF provider prints with the builtin `print`; a module-level `print`
        shadows it for that module only (functions' logs are untouched).

        Powertools keeps one metric set per process (Lambda runs one invocation at a time);
        here functions run in several threads at once, so the provider's methods that read or
        change that set are made to take one lock: a flush never iterates over the set while
        another thread adds to it (a metric may still be flushed by another function's run,
        with its dimensions: totals stay right, locally)."""
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

        setattr(cloudwatch, "print", self._print)  # noqa: B010 (mypy: no such attribute)
        provider = cloudwatch.AmazonCloudWatchEMFProvider
        for name in _SHARED_SET_METHODS:
            original = vars(provider)[name]
            if not getattr(original, "_locked", False):
                setattr(provider, name, _locked(original))

    @staticmethod
    def uninstall() -> None:
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

        vars(cloudwatch).pop("print", None)
        provider = cloudwatch.AmazonCloudWatchEMFProvider
        for name in _SHARED_SET_METHODS:
            method = vars(provider)[name]
            setattr(provider, name, getattr(method, "__wrapped__", method))


# AmazonCloudWatchEMFProvider's methods over the process-wide metric and dimension sets.
_SHARED_SET_METHODS = (
    "add_metric",
    "add_dimension",
    "add_metadata",
    "serialize_metric_set",
    "flush_metrics",
    "clear_metrics",
)
_PROVIDER_LOCK = threading.RLock()  # flush_metrics calls serialize_metric_set, clear_metrics


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _PROVIDER_LOCK:
            return method(*args, **kwargs)

    locked._locked = True  # type: ignore[attr-defined]
    return locked
