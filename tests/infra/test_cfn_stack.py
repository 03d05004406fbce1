"""template.yaml as a stack: the SAM transform (offline) then moto's CloudFormation.

A reference to a resource, attribute or variable that does not exist must fail here rather
than in a deployment. moto skips some resource types (docs: aws-local-facts.md), so a
reference to one of those would pass its stack creation: `unresolved_references` covers it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.cfn_template import (
    TEMPLATE_PATH,
    create_stack_in_moto,
    parse_template,
    to_cloudformation,
    unresolved_references,
)
from tests.reliability.template_checks import translated_template

REGION = "eu-west-1"

# Types moto's CloudFormation does not create (it warns and goes on). Anything else that is
# not created is a regression of the template or of moto.
MOTO_SKIPS = {
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    # the web app (DESIGN §9): checked by reading the template (test_template.py)
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    # operations (DESIGN §12): checked by reading the template (test_operations.py)
    "AWS::CloudWatch::Alarm",
    "AWS::SES::ConfigurationSet",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",  # HasAlarmEmail is false with AlarmEmail's default ("")
    "AWS::Lambda::EventInvokeConfig",
    # the API's alias `live` (SnapStart, issue #21): checked on the translated template
    # (test_template_snapstart.py); its invoke permissions go to the function in moto
    "AWS::Lambda::Alias",
    "AWS::S3::BucketPolicy",
    "AWS::SES::EmailIdentity",
    "AWS::SES::ReceiptRule",
    "AWS::SES::ReceiptRuleSet",
    "AWS::Scheduler::Schedule",
    # attachments (DESIGN §11): the EventBridge rules' dead-letter queue policy, checked by
    # reading the template (test_template_attachments.py)
    "AWS::SQS::QueuePolicy",
}

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning"),
    pytest.mark.usefixtures("aws_region"),
]


@pytest.fixture(scope="module")
def aws_region() -> Iterator[None]:
    """The SAM transform and moto want a region; never real credentials."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.delenv("AWS_PROFILE", raising=False)
        yield


def test_the_stack_is_created_in_moto() -> None:
    cloudformation = translated_template()
    assert unresolved_references(cloudformation) == []

    stack = create_stack_in_moto(cloudformation, region=REGION)

    assert stack.status == "CREATE_COMPLETE", stack.reason
    types = {lid: r["Type"] for lid, r in cloudformation["Resources"].items()}
    created_types = {types[lid] for lid in stack.created}
    assert created_types >= {
        "AWS::DynamoDB::Table",
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::EventSourceMapping",
        "AWS::IAM::Role",
        "AWS::IAM::ManagedPolicy",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::StepFunctions::StateMachine",
    }
    # Resources under a condition that is false by default (MalwareScanning) are not created.
    conditional = {lid for lid, r in cloudformation["Resources"].items() if "Condition" in r}
    assert conditional >= {"AttachmentsMalwareProtectionPlan", "AttachmentsMalwareProtectionRole"}
    assert {types[lid] for lid in stack.skipped if lid not in conditional} <= MOTO_SKIPS
    assert {"TicketsTable", "NotifierFunction", "QuoteApprovalStateMachine"} <= set(stack.created)


# Each edit makes one reference point at nothing: (text, replacement, the missing name, whether
# that name is a resource, which `unresolved_references` reports without moto).
BROKEN_REFERENCES = {
    "Ref to a missing resource": (
        "TABLE_NAME: !Ref TicketsTable",
        "TABLE_NAME: !Ref TicketTable",
        "TicketTable",
        True,
    ),
    "GetAtt of a missing resource": (
        "Destination: !GetAtt NotifierDeadLetterQueue.Arn",
        "Destination: !GetAtt NotifierDLQ.Arn",
        "NotifierDLQ",
        True,
    ),
    "GetAtt of a missing attribute": (
        "Stream: !GetAtt TicketsTable.StreamArn",
        "Stream: !GetAtt TicketsTable.StreamName",
        "StreamName",
        False,
    ),
    "Sub of a missing resource": (
        "LogGroupName: !Sub /aws/lambda/${ApiFunction}",
        "LogGroupName: !Sub /aws/lambda/${ApiHandler}",
        "ApiHandler",
        True,
    ),
}


def _broken_template(original: str, replacement: str) -> dict[str, Any]:
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    assert text.count(original) == 1, f"template.yaml no longer has {original!r}"
    return parse_template(text.replace(original, replacement))


@pytest.mark.slow
@pytest.mark.parametrize("breakage", sorted(BROKEN_REFERENCES))
def test_a_broken_reference_fails(breakage: str) -> None:
    original, replacement, missing, is_resource = BROKEN_REFERENCES[breakage]
    cloudformation = to_cloudformation(_broken_template(original, replacement), region=REGION)

    stack = create_stack_in_moto(cloudformation, region=REGION)

    assert stack.status != "CREATE_COMPLETE"
    assert missing in stack.reason
    unresolved = unresolved_references(cloudformation)
    assert any(line.endswith(f"-> {missing}") for line in unresolved) is is_resource


def test_unresolved_references_sees_what_moto_skips() -> None:
    template = {
        "Parameters": {"Stage": {"Type": "String"}},
        "Resources": {
            "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
            "Client": {
                "Type": "AWS::Cognito::UserPoolClient",
                "DependsOn": ["Pool", "Nowhere"],
                "Properties": {
                    "UserPoolId": {"Ref": "Pol"},
                    "ClientName": {"Fn::Sub": "${Stage}-${AWS::Region}-${Prefix}-${!Literal}"},
                    "Other": {"Fn::Sub": ["${x}-${Pool.Arn}", {"x": {"Ref": "Stage"}}]},
                    "Arn": {"Fn::GetAtt": "Missing.Arn"},
                },
            },
        },
        "Outputs": {"Id": {"Value": {"Ref": "Gone"}}},
    }
    assert sorted(unresolved_references(template)) == [
        "Client -> Missing",
        "Client -> Nowhere",
        "Client -> Pol",
        "Client -> Prefix",
        "Id -> Gone",
    ]
