"""template.yaml's security and integrity promises (issue 8): no wildcard grants, encryption at
rest, private buckets, a protected tickets table, a place for every failed asynchronous event,
and timeouts that fit their invokers' windows. The checks live in
tests/reliability/template_checks.py (`make reliability` reports the same figures); here they
run on the real template and on small broken templates, so a check that finds nothing is known
to be able to find something.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from infra.cfn_template import resources_of_type
from tests.reliability.template_checks import (
    API_GATEWAY_INTEGRATION_LIMIT,
    allow_statements,
    async_functions,
    cfn_lint_findings,
    failure_handling_problems,
    functions_with_failure_handling,
    invokers,
    is_wildcard_grant,
    run_checkov,
    timeout_windows,
    translated_template,
    unresolved_managed_policies,
    wildcard_statements,
)

# The functions whose failures would otherwise be lost: scheduled jobs, the outbox stream,
# inbound mail (SES invokes it with InvocationType Event), the attachment check (EventBridge).
EXPECTED_ASYNC = {
    "JobsFunction",
    "NotifierFunction",
    "MailIngestFunction",
    "AttachmentCheckFunction",
}


@pytest.fixture(scope="module")
def cloudformation() -> Iterator[dict[str, Any]]:
    """The translated template (the SAM transform wants a region, never credentials)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        yield translated_template()


def _function(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::Serverless::Function", "Properties": properties}


# ------------------------------------------------------------------- linters
@pytest.mark.slow
def test_checkov_passes_and_every_skip_says_why() -> None:
    report = run_checkov()
    if report is None:
        pytest.skip("checkov is not installed: `make venv-checkov` (make lint runs it too)")
    assert report.failures == ()
    assert report.failed == 0
    assert report.passed > 0
    assert report.skips_without_reason == ()


def test_cfn_lint_finds_nothing() -> None:
    assert cfn_lint_findings() == []


# ------------------------------------------------------------------------ IAM
def test_no_wildcard_grant_on_every_resource(cloudformation: dict[str, Any]) -> None:
    statements = allow_statements(cloudformation)
    owners = {owner for owner, _ in statements}
    # Inline policies, SAM policy templates and AWS managed policies are all walked.
    assert "QuoteApprovalStateMachineRole" in owners  # LambdaInvokePolicy, expanded by SAM
    assert any("AWSLambdaBasicExecutionRole" in owner for owner in owners)
    assert "FinanceExportsReadPolicy" in owners
    assert unresolved_managed_policies(cloudformation) == []
    assert wildcard_statements(cloudformation) == []


@pytest.mark.parametrize(
    ("statement", "wildcard"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}, True),
        ({"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}, True),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b/*"}, False),
        ({"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"}, False),
    ],
)
def test_wildcard_grants_are_recognised(statement: dict[str, Any], wildcard: bool) -> None:
    assert is_wildcard_grant(statement) is wildcard


def test_a_wildcard_in_a_role_is_reported() -> None:
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Policies": [
                {
                    "PolicyName": "Broad",
                    "PolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]
                    },
                }
            ],
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
        },
    }
    found = wildcard_statements({"Resources": {"Broad": role}})
    assert len(found) == 2  # the inline statement and AdministratorAccess, resolved
    assert any("AdministratorAccess" in line for line in found)


# ---------------------------------------------------------- data at rest
def test_every_table_is_encrypted_with_point_in_time_recovery(template: dict[str, Any]) -> None:
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    assert set(tables) >= {"TicketsTable", "IdempotencyTable"}
    for logical_id, table in tables.items():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True, logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], logical_id
    tickets = tables["TicketsTable"]
    assert tickets["Properties"]["DeletionProtectionEnabled"] is True
    assert tickets["DeletionPolicy"] == "Retain"


def test_every_bucket_is_encrypted_private_and_tls_only(template: dict[str, Any]) -> None:
    buckets = resources_of_type(template, "AWS::S3::Bucket")
    assert set(buckets) >= {"ExportsBucket", "InboundMailBucket", "AttachmentsBucket"}
    policies = resources_of_type(template, "AWS::S3::BucketPolicy").values()
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        algorithms = {r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
        assert algorithms and algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"}, logical_id
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        denies_plain_http = [
            statement
            for policy in policies
            if policy["Properties"]["Bucket"] == {"Ref": logical_id}
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert denies_plain_http, f"{logical_id}: no Deny on aws:SecureTransport false"


def test_every_queue_is_encrypted(template: dict[str, Any]) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert queues
    for logical_id, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, logical_id


# ------------------------------------------------------- failed invocations
def test_every_async_function_has_a_failure_destination(template: dict[str, Any]) -> None:
    assert async_functions(template) == EXPECTED_ASYNC
    assert failure_handling_problems(template) == []
    assert functions_with_failure_handling(template) == EXPECTED_ASYNC


def test_a_function_without_failure_destination_is_reported(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    del broken["Resources"]["MailIngestFunction"]["Properties"]["EventInvokeConfig"]
    outbox = broken["Resources"]["NotifierFunction"]["Properties"]["Events"]["Outbox"]
    del outbox["Properties"]["DestinationConfig"]
    del outbox["Properties"]["MaximumRecordAgeInSeconds"]
    broken["Resources"]["Uploads"] = _function(
        CodeUri="functions/x",
        Handler="app.lambda_handler",
        Events={"New": {"Type": "S3", "Properties": {"Bucket": {"Ref": "B"}, "Events": "x"}}},
    )
    problems = failure_handling_problems(broken)
    assert any(p.startswith("MailIngestFunction:") for p in problems)
    assert any(p.startswith("Uploads:") for p in problems)
    assert any("OnFailure destination" in p for p in problems if p.startswith("NotifierFunction"))
    assert any("MaximumRecordAgeInSeconds" in p for p in problems)
    assert functions_with_failure_handling(broken) == {"JobsFunction", "AttachmentCheckFunction"}


# ------------------------------------------------------------------ timeouts
def test_every_function_is_invoked_by_something_known(template: dict[str, Any]) -> None:
    functions = set(resources_of_type(template, "AWS::Serverless::Function"))
    by_function = {i.function for i in invokers(template)}
    assert by_function == functions
    assert all(not i.kind.startswith("unknown") for i in invokers(template))
    quote = {i.kind for i in invokers(template) if i.function == "QuoteFunction"}
    assert quote == {"state-machine"}  # synchronous lambda:invoke tasks: retried by the machine


def test_every_timeout_fits_its_invokers_window(template: dict[str, Any]) -> None:
    windows = timeout_windows(template)
    assert {w.rule for w in windows} >= {
        "API Gateway integration limit",
        "async event age, every retry",
        "scheduler retry window",
        "stream record age, every retry",
        "state machine task timeout",
    }
    assert [w for w in windows if not w.ok] == []


def test_a_timeout_beyond_its_window_is_reported(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    broken["Resources"]["ApiFunction"]["Properties"]["Timeout"] = API_GATEWAY_INTEGRATION_LIMIT
    broken["Resources"]["JobsFunction"]["Properties"]["Timeout"] = 1200  # x3 attempts > 3600
    outbox = broken["Resources"]["NotifierFunction"]["Properties"]["Events"]["Outbox"]
    outbox["Properties"]["MaximumRetryAttempts"] = -1
    broken["Resources"]["Worker"] = _function(
        Timeout=120,
        Events={"Jobs": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Q", "Arn"]}}}},
    )
    broken["Resources"]["Q"] = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}}
    late = {(w.function, w.rule) for w in timeout_windows(broken) if not w.ok}
    assert late == {
        ("ApiFunction", "API Gateway integration limit"),
        ("JobsFunction", "async event age, every retry"),
        ("NotifierFunction", "stream record age, every retry"),
        ("Worker", "queue visibility timeout"),
    }
