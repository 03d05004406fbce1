"""What template.yaml's alarms watch, and which resources lack theirs (DESIGN §12).

The resources that need alarms are derived from the template itself (every function, every
queue some failure configuration sends to, every state machine, table and HTTP API), so a
resource added without its alarms is reported. tests/infra/test_operations.py runs these checks
on the real template and on copies with a resource added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.cfn_template import failure_targets, resources_of_type

TOPIC = "AlarmTopic"
ALARM = "AWS::CloudWatch::Alarm"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
TABLE_TYPES = ("AWS::DynamoDB::Table",)
HTTP_API_TYPES = ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api")
QUEUE_TYPE = "AWS::SQS::Queue"
TREAT_MISSING_DATA = frozenset({"breaching", "notBreaching", "ignore", "missing"})

# (namespace, metric, dimension naming the resource) that must each have an alarm.
REQUIRED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "function": (
        ("AWS/Lambda", "Errors", "FunctionName"),
        ("AWS/Lambda", "Throttles", "FunctionName"),
        ("AWS/Lambda", "Duration", "FunctionName"),
    ),
    "dead-letter queue": (("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"),),
    "state machine": (
        ("AWS/States", "ExecutionsFailed", "StateMachineArn"),
        ("AWS/States", "ExecutionsTimedOut", "StateMachineArn"),
    ),
    "table": (
        ("AWS/DynamoDB", "ReadThrottleEvents", "TableName"),
        ("AWS/DynamoDB", "WriteThrottleEvents", "TableName"),
        ("AWS/DynamoDB", "SystemErrors", "TableName"),
    ),
    "http api": (
        ("AWS/ApiGateway", "5xx", "ApiId"),
        ("AWS/ApiGateway", "Count", "ApiId"),
        ("AWS/ApiGateway", "Latency", "ApiId"),
    ),
}


@dataclass(frozen=True)
class Watched:
    """One metric an alarm reads (directly, or in its metric math)."""

    namespace: str
    metric: str
    dimensions: Mapping[str, Any]
    statistic: str


def watched(alarm: Mapping[str, Any]) -> list[Watched]:
    props = alarm["Properties"]
    if "MetricName" in props:
        statistic = props.get("ExtendedStatistic") or props.get("Statistic", "")
        return [Watched(props["Namespace"], props["MetricName"], _dims(props), statistic)]
    found = []
    for query in props.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat:
            metric = stat["Metric"]
            found.append(
                Watched(metric["Namespace"], metric["MetricName"], _dims(metric), stat["Stat"])
            )
    return found


def _dims(props: Mapping[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}


def refers_to(value: Any, logical_id: str) -> bool:
    """`!Ref Id`, `!GetAtt Id.Attribute`, or a `${Id}` / `${Id.Attribute}` in a `!Sub`."""
    if not isinstance(value, Mapping):
        return False
    if value.get("Ref") == logical_id:
        return True
    getatt = value.get("Fn::GetAtt")
    if isinstance(getatt, list) and getatt and getatt[0] == logical_id:
        return True
    sub = value.get("Fn::Sub")
    text = sub if isinstance(sub, str) else (sub[0] if isinstance(sub, list) and sub else "")
    return f"${{{logical_id}}}" in text or f"${{{logical_id}." in text


def notifies_the_topic(alarm: Mapping[str, Any]) -> list[str]:
    """What is wrong with how the alarm notifies: both actions to the topic, missing data set."""
    props = alarm["Properties"]
    problems = []
    for key in ("AlarmActions", "OKActions"):
        if not any(refers_to(action, TOPIC) for action in props.get(key, [])):
            problems.append(f"{key} does not notify {TOPIC}")
    if props.get("TreatMissingData") not in TREAT_MISSING_DATA:
        problems.append("TreatMissingData is not set")
    return problems


def _of_types(template: Mapping[str, Any], types: tuple[str, ...]) -> list[str]:
    return [logical_id for kind in types for logical_id in resources_of_type(template, kind)]


def dead_letter_queues(template: Mapping[str, Any]) -> set[str]:
    """Every queue a function, event, schedule, mapping or queue sends its failures to."""
    queues = set(resources_of_type(template, QUEUE_TYPE))
    return {target for target in failure_targets(template["Resources"]) if target in queues}


def monitored_resources(template: Mapping[str, Any]) -> dict[str, list[str]]:
    """Kind (a key of REQUIRED) -> the template's resources of that kind."""
    return {
        "function": _of_types(template, FUNCTION_TYPES),
        "dead-letter queue": sorted(dead_letter_queues(template)),
        "state machine": _of_types(template, STATE_MACHINE_TYPES),
        "table": _of_types(template, TABLE_TYPES),
        "http api": _of_types(template, HTTP_API_TYPES),
    }


def alarms_on(
    template: Mapping[str, Any], logical_id: str, namespace: str, metric: str, dimension: str
) -> list[str]:
    """The alarms (wired to the topic) that read `metric` of that resource."""
    return [
        alarm_id
        for alarm_id, alarm in resources_of_type(template, ALARM).items()
        if not notifies_the_topic(alarm)
        and any(
            w.namespace == namespace
            and w.metric == metric
            and refers_to(w.dimensions.get(dimension), logical_id)
            for w in watched(alarm)
        )
    ]


def missing_alarms(template: Mapping[str, Any]) -> list[str]:
    """`<resource> (<kind>): no <metric> alarm notifying AlarmTopic`, for each one missing."""
    missing = []
    for kind, logical_ids in monitored_resources(template).items():
        for logical_id in logical_ids:
            for namespace, metric, dimension in REQUIRED[kind]:
                if not alarms_on(template, logical_id, namespace, metric, dimension):
                    missing.append(f"{logical_id} ({kind}): no {metric} alarm notifying {TOPIC}")
    return missing


def function_timeout(template: Mapping[str, Any], logical_id: str) -> int:
    """Seconds: the function's Timeout, else the Globals', else Lambda's default (3)."""
    resource = template["Resources"][logical_id]
    props = resource.get("Properties", {})
    serverless = resource["Type"] == "AWS::Serverless::Function"  # Globals apply to SAM's only
    globals_ = template.get("Globals", {}).get("Function", {}) if serverless else {}
    return int(props.get("Timeout", globals_.get("Timeout", 3)))
