"""template.yaml's operations (DESIGN §12): the alarm topic, an alarm for every function,
dead-letter queue, state machine, table and the HTTP API, all notifying the topic when they
fire and when they are OK again; SES reputation through a configuration set every send names;
the dashboard. The resources are derived from the template (tests/infra/alarm_checks.py): a
copy of the template with one more function, queue or state machine must be reported.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from infra.cfn_template import REPO_ROOT, resource_properties, resources_of_type
from tests.infra.alarm_checks import (
    ALARM,
    TOPIC,
    alarms_on,
    dead_letter_queues,
    function_timeout,
    missing_alarms,
    monitored_resources,
    notifies_the_topic,
    watched,
)


def _alarm(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return resource_properties(template, logical_id)


# --------------------------------------------------------------------- the topic
def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use(template: dict[str, Any]) -> None:
    topic = resource_properties(template, TOPIC)
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = resource_properties(template, "AlarmTopicKey")
    assert key["EnableKeyRotation"] is True
    services = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"].get("Service")]
    assert [s["Principal"]["Service"] for s in services] == ["cloudwatch.amazonaws.com"]
    assert set(services[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_alarm_email_subscribes_only_when_set(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["AlarmEmail"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("ops@example.com")
    assert not pattern.fullmatch("not an address")
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    [subscription] = resources_of_type(template, "AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": TOPIC},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }


# ------------------------------------------------------------- every resource wired
def test_every_resource_of_the_template_has_its_alarms(template: dict[str, Any]) -> None:
    resources = monitored_resources(template)
    # What the template holds today (a new resource adds itself to these lists).
    assert set(resources["function"]) >= {
        "ApiFunction",
        "JobsFunction",
        "NotifierFunction",
        "QuoteFunction",
        "MailIngestFunction",
    }
    assert set(resources["dead-letter queue"]) >= {
        "JobsDeadLetterQueue",
        "NotifierDeadLetterQueue",
        "MailIngestDeadLetterQueue",
    }
    assert resources["state machine"] == ["QuoteApprovalStateMachine"]
    assert set(resources["table"]) == {"TicketsTable", "IdempotencyTable"}
    assert resources["http api"] == ["HttpApi"]
    assert missing_alarms(template) == []


def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_is_ok_again(
    template: dict[str, Any],
) -> None:
    alarms = resources_of_type(template, ALARM)
    assert len(alarms) >= 30
    for logical_id, alarm in alarms.items():
        assert notifies_the_topic(alarm) == [], logical_id
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": TOPIC}], logical_id
        assert props["OKActions"] == [{"Ref": TOPIC}], logical_id
        assert "docs/operations.md#" in props["AlarmDescription"], logical_id


@pytest.mark.parametrize(
    ("resource_type", "extra"),
    [
        ("AWS::Serverless::Function", {"CodeUri": "functions/api", "Handler": "app.handler"}),
        ("AWS::Lambda::Function", {"Handler": "app.handler", "Runtime": "python3.13"}),
    ],
)
def test_a_function_added_without_alarms_is_reported(
    template: dict[str, Any], resource_type: str, extra: dict[str, Any]
) -> None:
    changed = copy.deepcopy(template)
    changed["Resources"]["ThumbnailFunction"] = {"Type": resource_type, "Properties": extra}
    assert missing_alarms(changed) == [
        "ThumbnailFunction (function): no Errors alarm notifying AlarmTopic",
        "ThumbnailFunction (function): no Throttles alarm notifying AlarmTopic",
        "ThumbnailFunction (function): no Duration alarm notifying AlarmTopic",
    ]


def test_a_dead_letter_queue_added_without_its_alarm_is_reported(
    template: dict[str, Any],
) -> None:
    changed = copy.deepcopy(template)
    changed["Resources"]["ScanDeadLetterQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    changed["Resources"]["ScanQueue"] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": ["ScanDeadLetterQueue", "Arn"]},
                "maxReceiveCount": 3,
            }
        },
    }
    assert "ScanDeadLetterQueue" in dead_letter_queues(changed)
    assert "ScanQueue" not in dead_letter_queues(changed)  # a work queue, not a DLQ
    assert missing_alarms(changed) == [
        "ScanDeadLetterQueue (dead-letter queue): no ApproximateNumberOfMessagesVisible alarm "
        "notifying AlarmTopic"
    ]


def test_a_state_machine_added_without_alarms_is_reported(template: dict[str, Any]) -> None:
    changed = copy.deepcopy(template)
    changed["Resources"]["RefundStateMachine"] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"DefinitionString": "{}", "RoleArn": "arn:aws:iam::1:role/x"},
    }
    assert missing_alarms(changed) == [
        "RefundStateMachine (state machine): no ExecutionsFailed alarm notifying AlarmTopic",
        "RefundStateMachine (state machine): no ExecutionsTimedOut alarm notifying AlarmTopic",
    ]


def test_an_alarm_without_ok_actions_does_not_count(template: dict[str, Any]) -> None:
    changed = copy.deepcopy(template)
    del changed["Resources"]["QuoteFunctionThrottlesAlarm"]["Properties"]["OKActions"]
    assert missing_alarms(changed) == [
        "QuoteFunction (function): no Throttles alarm notifying AlarmTopic"
    ]


# --------------------------------------------------------------- thresholds
def test_duration_alarms_fire_at_80_percent_of_each_timeout(template: dict[str, Any]) -> None:
    for function in monitored_resources(template)["function"]:
        [alarm_id] = alarms_on(template, function, "AWS/Lambda", "Duration", "FunctionName")
        props = _alarm(template, alarm_id)
        assert props["ExtendedStatistic"] == "p99"
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        assert props["Threshold"] == function_timeout(template, function) * 1000 * 0.8, function
    # Typed from the template's Timeouts: jobs 300 s, notifier 30 s, the API 15 s (Globals).
    assert _alarm(template, "JobsFunctionDurationAlarm")["Threshold"] == 240_000
    assert _alarm(template, "NotifierFunctionDurationAlarm")["Threshold"] == 24_000
    assert _alarm(template, "ApiFunctionDurationAlarm")["Threshold"] == 12_000


def test_errors_and_throttles_fire_on_the_first_one(template: dict[str, Any]) -> None:
    for function in monitored_resources(template)["function"]:
        for metric in ("Errors", "Throttles"):
            [alarm_id] = alarms_on(template, function, "AWS/Lambda", metric, "FunctionName")
            props = _alarm(template, alarm_id)
            assert (props["Statistic"], props["Threshold"]) == ("Sum", 1), alarm_id
            assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert props["TreatMissingData"] == "notBreaching"


def test_the_api_5xx_rate_alarm_is_over_1_percent_for_5_minutes(template: dict[str, Any]) -> None:
    props = _alarm(template, "ApiServerErrorRateAlarm")
    stats = {w.metric: w for w in watched(template["Resources"]["ApiServerErrorRateAlarm"])}
    assert set(stats) == {"5xx", "Count"}
    for metric in stats.values():
        assert metric.dimensions == {"ApiId": {"Ref": "HttpApi"}, "Stage": "$default"}
        assert metric.statistic == "Sum"
    [expression] = [m for m in props["Metrics"] if "Expression" in m]
    assert expression["ReturnData"] is True
    assert expression["Expression"] == "IF(requests > 0, 100 * errors / requests, 0)"
    ids = {m["MetricStat"]["Metric"]["MetricName"]: m["Id"] for m in props["Metrics"][:2]}
    assert ids == {"5xx": "errors", "Count": "requests"}
    assert all(m["MetricStat"]["Period"] == 300 for m in props["Metrics"][:2])
    assert props["EvaluationPeriods"] == 1
    assert (props["Threshold"], props["ComparisonOperator"]) == (1, "GreaterThanThreshold")


def test_the_api_latency_alarm_reads_p99(template: dict[str, Any]) -> None:
    [alarm_id] = alarms_on(template, "HttpApi", "AWS/ApiGateway", "Latency", "ApiId")
    assert _alarm(template, alarm_id)["ExtendedStatistic"] == "p99"


def test_a_dead_letter_queue_alarms_on_its_first_message(template: dict[str, Any]) -> None:
    for queue in monitored_resources(template)["dead-letter queue"]:
        [alarm_id] = alarms_on(
            template, queue, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"
        )
        props = _alarm(template, alarm_id)
        assert props["Dimensions"] == [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        ]
        assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert f"make redrive QUEUE={queue}" in props["AlarmDescription"]


def test_quote_approval_executions_failed_timed_out_and_aborted(template: dict[str, Any]) -> None:
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
        found = alarms_on(
            template, "QuoteApprovalStateMachine", "AWS/States", metric, "StateMachineArn"
        )
        assert found == [f"QuoteApproval{metric}Alarm"]


def test_dynamodb_system_errors_sum_every_operation_the_functions_use(
    template: dict[str, Any],
) -> None:
    """SystemErrors exists per operation only: the alarm sums those the functions call."""
    props = _alarm(template, "TicketsTableSystemErrorsAlarm")
    operations = {
        w.dimensions["Operation"]
        for w in watched(template["Resources"]["TicketsTableSystemErrorsAlarm"])
    }
    assert operations >= {"GetItem", "Query", "PutItem", "UpdateItem", "TransactWriteItems"}
    [expression] = [m for m in props["Metrics"] if "Expression" in m]
    ids = [m["Id"] for m in props["Metrics"] if "MetricStat" in m]
    assert expression["Expression"] == f"SUM([{', '.join(ids)}])"


# --------------------------------------------------------------------------- SES
def test_every_send_names_the_configuration_set_with_reputation_metrics(
    template: dict[str, Any],
) -> None:
    config_set = resource_properties(template, "MailConfigurationSet")
    assert config_set["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    senders = [
        function
        for function in monitored_resources(template)["function"]
        if "ses:SendEmail" in json.dumps(resource_properties(template, function)["Policies"])
    ]
    assert senders == ["NotifierFunction"]
    for function in senders:
        variables = resource_properties(template, function)["Environment"]["Variables"]
        assert variables["SES_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}
        policy = json.dumps(resource_properties(template, function)["Policies"])
        assert "configuration-set/${MailConfigurationSet}" in policy


@pytest.mark.parametrize(
    ("alarm_id", "metric", "threshold"),
    [
        ("MailBounceRateAlarm", "Reputation.BounceRate", 0.05),
        ("MailComplaintRateAlarm", "Reputation.ComplaintRate", 0.001),
    ],
)
def test_ses_reputation_alarms(
    template: dict[str, Any], alarm_id: str, metric: str, threshold: float
) -> None:
    props = _alarm(template, alarm_id)
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SES", metric)
    assert props["Dimensions"] == [
        {"Name": "ses:configuration-set", "Value": {"Ref": "MailConfigurationSet"}}
    ]
    assert props["Threshold"] == threshold
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# ----------------------------------------------------------------------- dashboard
def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The body with each `${Name}` / `${Name.Attribute}` replaced by `<Name>`."""
    text = resource_properties(template, "Dashboard")["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([^}]+)\}", text))
    known = set(template["Resources"]) | set(template["Parameters"])
    unknown = {n for n in names if n.split(".")[0] not in known and not n.startswith("AWS::")}
    assert unknown == set()
    body: dict[str, Any] = json.loads(re.sub(r"\$\{([^}.]+)(\.[^}]+)?\}", r"<\1>", text))
    return body


def _dashboard_metrics(body: dict[str, Any]) -> list[list[Any]]:
    return [
        row
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
    ]


def test_the_dashboard_shows_every_alarm_and_every_monitored_resource(
    template: dict[str, Any],
) -> None:
    body = _dashboard(template)
    [alarm_widget] = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = set(alarm_widget["properties"]["alarms"])
    prefix = "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:"
    names = {
        prefix + a["Properties"]["AlarmName"]["Fn::Sub"].replace("${Stage}", "<Stage>")
        for a in resources_of_type(template, ALARM).values()
    }
    assert shown == names
    rows = json.dumps(_dashboard_metrics(body))
    for logical_ids in monitored_resources(template).values():
        for logical_id in logical_ids:
            assert f'"<{logical_id}>"' in rows, logical_id


def test_the_dashboard_shows_the_business_figures(template: dict[str, Any]) -> None:
    product = {row[1] for row in _dashboard_metrics(_dashboard(template)) if row[0] == "Helpdesk"}
    assert product >= {"TicketsCreated", "TicketsClosed", "MailAccepted", "Mail_sent"}
    assert product >= {"MailFailed", "OutboxOldestAge", "SlaMissed"}


# ----------------------------------------------------------------------- runbook
RUNBOOK = REPO_ROOT / "docs" / "operations.md"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_runbook_has_a_section_for_every_alarm(template: dict[str, Any]) -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    anchors = {_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    alarms = resources_of_type(template, ALARM)
    for logical_id, alarm in alarms.items():
        props = alarm["Properties"]
        [section] = re.findall(r"docs/operations\.md#([\w-]+)", props["AlarmDescription"])
        assert section in anchors, f"{logical_id}: no section #{section}"
        name = props["AlarmName"]["Fn::Sub"].removeprefix("helpdesk-${Stage}-")
        assert f"`{name}`" in text, f"{logical_id}: the runbook never names {name}"
    assert f"\n{len(alarms)} alarms." in text


def test_the_runbook_redrives_every_dead_letter_queue(template: dict[str, Any]) -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    for queue in monitored_resources(template)["dead-letter queue"]:
        assert f"| `{queue}` |" in text, queue
    assert "make redrive QUEUE=" in text
    assert "`POST /mail/quarantine/{id}/release`" in text
    assert '"job": "auto-close", "at":' in text
