"""The environment every test and measurement against moto runs in: fake credentials, the
region, Powertools quiet and untraced. No test ever talks to real AWS."""

from __future__ import annotations

REGION = "eu-west-1"

FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "helpdesk",
    "POWERTOOLS_METRICS_NAMESPACE": "Helpdesk",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
