"""`GET /_local/metrics`: the EMF metrics the functions emitted since the stack started.

In AWS, CloudWatch reads them from the functions' logs (Powertools' EMF); here every function
runs in this process and `MetricsRecorder` (infra.emf) records what Powertools prints, so a
person can see the product's metrics (the ones template.yaml alarms on and its dashboard
shows) without CloudWatch."""

from __future__ import annotations

from infra.emf import MetricsRecorder
from infra.localstack.apigw import HttpReply
from infra.localstack.helpers import Helper, LocalRequest
from infra.localstack.problems import json_reply


def metrics_helper(recorder: MetricsRecorder) -> Helper:
    """`{"items": [{"namespace", "name", "dimensions", "unit", "sum", "count"}],
    "next_cursor": null}`: one item per metric and dimension values, totals since start."""

    def metrics(_request: LocalRequest) -> HttpReply:
        return json_reply(200, {"items": recorder.items(), "next_cursor": None})

    return metrics
