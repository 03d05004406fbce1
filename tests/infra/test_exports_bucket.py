"""template.yaml: the billing exports bucket, who reaches it, and the export schedule."""

from __future__ import annotations

from typing import Any

import pytest


def _statements(template: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    props = template["Resources"][logical_id]["Properties"]
    return [s for policy in props["Policies"] for s in policy.get("Statement", [])]


def test_exports_bucket_is_versioned_encrypted_private_retained(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["ExportsBucket"]
    assert bucket["Type"] == "AWS::S3::Bucket" and bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["ObjectLockEnabled"] is True
    retention = props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "GOVERNANCE"
    assert retention["Days"] == {"Fn::If": ["IsProd", 3653, 1]}


def test_bucket_refuses_plain_http(template: dict[str, Any]) -> None:
    policy = template["Resources"]["ExportsBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ExportsBucket"}
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_finance_reads_exports_only(template: dict[str, Any]) -> None:
    policy = template["Resources"]["FinanceExportsReadPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    read = next(s for s in statements if "s3:GetObject" in s["Action"])
    assert read["Resource"] == {"Fn::Sub": "${ExportsBucket.Arn}/exports/*"}
    listing = next(s for s in statements if "s3:ListBucket" in s["Action"])
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["exports/*"]}}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert not any(a.endswith("*") or "Put" in a or "Delete" in a for a in statement["Action"])
    assert "FinanceExportsReadPolicyArn" in template["Outputs"]


@pytest.mark.parametrize("function", ["ApiFunction", "JobsFunction"])
def test_functions_write_and_read_exports_prefix_only(
    template: dict[str, Any], function: str
) -> None:
    props = template["Resources"][function]["Properties"]
    assert props["Environment"]["Variables"]["EXPORTS_BUCKET"] == {"Ref": "ExportsBucket"}
    s3 = [s for s in _statements(template, function) if "ExportsBucket" in str(s["Resource"])]
    assert len(s3) == 1
    assert s3[0]["Resource"] == {"Fn::Sub": "${ExportsBucket.Arn}/exports/*"}
    assert set(s3[0]["Action"]) == {"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"}
    table = next(s for s in _statements(template, function) if s["Sid"] == "TicketsTableItems")
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
            "dynamodb:Query"} <= set(table["Action"])
    assert "dynamodb:Scan" not in str(_statements(template, function))


def test_billing_export_schedule(template: dict[str, Any]) -> None:
    event = template["Resources"]["JobsFunction"]["Properties"]["Events"]["BillingExport"]
    assert event["Type"] == "ScheduleV2"
    props = event["Properties"]
    assert props["ScheduleExpression"] == "cron(0 2 1 * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert props["Input"] == '{"job": "billing-export", "at": "<aws.scheduler.scheduled-time>"}'
