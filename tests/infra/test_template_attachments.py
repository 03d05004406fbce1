"""template.yaml: the attachments bucket, the check of uploads and optional malware scanning
(DESIGN.md §11)."""

from __future__ import annotations

from typing import Any

from tests.infra.test_exports_bucket import _statements


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_the_bucket_is_private_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["AttachmentsBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    statements = template["Resources"]["AttachmentsBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = statements["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def test_lifecycle_rules(template: dict[str, Any]) -> None:
    rules = {
        r["Id"]: r
        for r in template["Resources"]["AttachmentsBucket"]["Properties"]["LifecycleConfiguration"][
            "Rules"
        ]
    }
    assert all(r["Status"] == "Enabled" for r in rules.values())
    assert rules["AttachmentsToInfrequentAccess"]["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 90}
    ]
    assert rules["ExpireRejectedAndReplacedVersions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": 30
    }
    assert rules["RemoveExpiredDeleteMarkers"]["ExpiredObjectDeleteMarker"] is True
    assert rules["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }
    # No rule ever expires a current attachment: a file stays while its ticket does.
    assert not any("ExpirationInDays" in r or "ExpirationDate" in r for r in rules.values())


def test_the_web_app_may_post_uploads(template: dict[str, Any]) -> None:
    (rule,) = template["Resources"]["AttachmentsBucket"]["Properties"]["CorsConfiguration"][
        "CorsRules"
    ]
    assert rule["AllowedMethods"] == ["POST"]
    assert rule["AllowedOrigins"] == [{"Ref": "AppUrl"}]


def test_uploads_reach_the_check_through_eventbridge(template: dict[str, Any]) -> None:
    props = template["Resources"]["AttachmentsBucket"]["Properties"]
    assert props["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    check = template["Resources"]["AttachmentCheckFunction"]["Properties"]
    assert check["CodeUri"] == "functions/attachments"
    uploaded = check["Events"]["Uploaded"]
    assert uploaded["Type"] == "EventBridgeRule"
    pattern = uploaded["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"] == {
        "bucket": {"name": [{"Ref": "AttachmentsBucket"}]},
        "object": {"key": [{"prefix": "tickets/"}]},
    }
    scanned = check["Events"]["Scanned"]["Properties"]["Pattern"]
    assert scanned["detail-type"] == ["GuardDuty Malware Protection Object Scan Result"]
    dlq = {"Fn::GetAtt": ["AttachmentCheckDeadLetterQueue", "Arn"]}
    for event in check["Events"].values():
        assert event["Properties"]["DeadLetterConfig"] == {"Arn": dlq}
    assert check["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] == dlq
    queue = template["Resources"]["AttachmentCheckDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True


def test_grants_are_limited_to_the_attachment_keys(template: dict[str, Any]) -> None:
    tickets = {"Fn::Sub": "${AttachmentsBucket.Arn}/tickets/*"}
    for function in ("ApiFunction", "AttachmentCheckFunction", "MailIngestFunction"):
        on_bucket = [
            s for s in _statements(template, function) if "AttachmentsBucket" in str(s["Resource"])
        ]
        assert on_bucket, function
        assert all(s["Resource"] == tickets for s in on_bucket), function
    (api,) = [s for s in _statements(template, "ApiFunction") if s["Resource"] == tickets]
    assert _actions(api) == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
        "s3:DeleteObject",  # a released mail's rejected file
    }
    check = _statements(template, "AttachmentCheckFunction")
    table = next(s for s in check if s["Resource"] == {"Fn::GetAtt": ["TicketsTable", "Arn"]})
    assert _actions(table) == {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"}


def test_malware_scanning_is_a_parameter_disabled_by_default(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["MalwareScanning"]
    assert parameter["Default"] == "disabled"
    assert parameter["AllowedValues"] == ["enabled", "disabled"]
    assert template["Conditions"]["MalwareScanningEnabled"] == {
        "Fn::Equals": [{"Ref": "MalwareScanning"}, "enabled"]
    }
    plan = template["Resources"]["AttachmentsMalwareProtectionPlan"]
    assert plan["Type"] == "AWS::GuardDuty::MalwareProtectionPlan"
    assert plan["Condition"] == "MalwareScanningEnabled"
    props = plan["Properties"]
    assert props["ProtectedResource"]["S3Bucket"] == {
        "BucketName": {"Ref": "AttachmentsBucket"},
        "ObjectPrefixes": ["tickets/"],
    }
    assert props["Actions"] == {"Tagging": {"Status": "ENABLED"}}  # the tag the check reads
    role = template["Resources"]["AttachmentsMalwareProtectionRole"]
    assert role["Condition"] == "MalwareScanningEnabled"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "malware-protection-plan.guardduty.amazonaws.com"}
    for function in ("AttachmentCheckFunction", "MailIngestFunction", "ApiFunction"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["MALWARE_SCANNING"] == {"Ref": "MalwareScanning"}
