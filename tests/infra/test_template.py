"""template.yaml: the stack's single source of truth, checked offline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.cfn_template import (
    REPO_ROOT,
    create_table_from_template,
    parse_template,
    resource_properties,
    resources_of_type,
    table_create_kwargs,
    to_cloudformation,
)

REGION = "eu-west-1"

# docs/data-model.md, "Secondary indexes".
EXPECTED_GSIS: dict[str, tuple[str, str]] = {
    "by_org": ("org_pk", "org_sk"),
    "all_tickets": ("all_pk", "all_sk"),
    "queue": ("queue_pk", "queue_sk"),
    "due": ("due_pk", "due_sk"),
    "by_month": ("month_pk", "month_sk"),
    # GET /tickets (docs/data-model.md, "Finding tickets")
    "all_updated": ("upd_pk", "upd_sk"),
    "org_updated": ("org_upd_pk", "org_upd_sk"),
    "by_assignee": ("assignee_pk", "assignee_sk"),
    "words": ("word_pk", "word_sk"),
    "org_words": ("org_word_pk", "org_word_sk"),
    "quarantine": ("quarantine_pk", "quarantine_sk"),  # GET /mail/quarantine (sparse)
    "sla_watch": ("sla_pk", "sla_sk"),  # sla-watch: clocks still to mark (sparse, §10)
}
KEYS_ONLY_GSIS = {"words", "org_words"}
EXPECTED_GROUPS = {
    "clients",
    "consultants-l1",
    "consultants-l2",
    "consultants-l3",
    "managers",
    "finance",
}


def _keys(key_schema: list[dict[str, str]]) -> tuple[str, ...]:
    order = {"HASH": 0, "RANGE": 1}
    ordered = sorted(key_schema, key=lambda k: order[k["KeyType"]])
    return tuple(k["AttributeName"] for k in ordered)


def _iam_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every inline IAM statement: function Policies, roles, managed policies."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents: list[Any] = []
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            policies = props.get("Policies", [])
            documents += policies if isinstance(policies, list) else [policies]
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p.get("PolicyDocument") for p in props.get("Policies", [])]
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(props.get("PolicyDocument"))
        for document in documents:
            if isinstance(document, dict) and "Statement" in document:
                statements = document["Statement"]
                for statement in statements if isinstance(statements, list) else [statements]:
                    yield logical_id, statement


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------- parsing
def test_template_parses_with_long_form_intrinsics(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"  # a string, not a date
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["TABLE_NAME"] == {"Ref": "TicketsTable"}
    outputs = template["Outputs"]
    assert set(outputs) >= {
        "ApiUrl",
        "TicketsTableName",
        "IdempotencyTableName",
        "UserPoolId",
        "UserPoolClientId",
    }


def test_short_form_tags_become_long_form() -> None:
    parsed = parse_template(
        """
        A: !Ref X
        B: !GetAtt Res.Arn
        C: !Sub "${AWS::Region}-x"
        D: !If [Cond, !Ref Y, !Ref "AWS::NoValue"]
        E: !Join [",", !Split ["-", "a-b"]]
        F: !Select [0, !GetAZs ""]
        G: !FindInMap [M, K, V]
        H: !And [!Equals [a, b], !Not [!Condition C1], !Or [!Condition C2, !Condition C3]]
        I: !ImportValue Exported
        J: !Base64 text
        K: !Cidr ["10.0.0.0/16", 4, 8]
        L: !GetAtt [Res, Arn]
        M: !Sub ["${x}", {x: 1}]
        """
    )
    assert parsed["A"] == {"Ref": "X"}
    assert parsed["B"] == {"Fn::GetAtt": ["Res", "Arn"]}
    assert parsed["C"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert parsed["D"] == {"Fn::If": ["Cond", {"Ref": "Y"}, {"Ref": "AWS::NoValue"}]}
    assert parsed["E"] == {"Fn::Join": [",", {"Fn::Split": ["-", "a-b"]}]}
    assert parsed["F"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert parsed["G"] == {"Fn::FindInMap": ["M", "K", "V"]}
    assert parsed["H"] == {
        "Fn::And": [
            {"Fn::Equals": ["a", "b"]},
            {"Fn::Not": [{"Condition": "C1"}]},
            {"Fn::Or": [{"Condition": "C2"}, {"Condition": "C3"}]},
        ]
    }
    assert parsed["I"] == {"Fn::ImportValue": "Exported"}
    assert parsed["J"] == {"Fn::Base64": "text"}
    assert parsed["K"] == {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}
    assert parsed["L"] == {"Fn::GetAtt": ["Res", "Arn"]}
    assert parsed["M"] == {"Fn::Sub": ["${x}", {"x": 1}]}


def test_logical_ids_are_stable(template: dict[str, Any]) -> None:
    expected = {
        "TicketsTable": "AWS::DynamoDB::Table",
        "IdempotencyTable": "AWS::DynamoDB::Table",
        "UserPool": "AWS::Cognito::UserPool",
        "UserPoolClient": "AWS::Cognito::UserPoolClient",
        "HttpApi": "AWS::Serverless::HttpApi",
        "DomainLayer": "AWS::Serverless::LayerVersion",
        "ApiFunction": "AWS::Serverless::Function",
    }
    for logical_id, resource_type in expected.items():
        assert template["Resources"][logical_id]["Type"] == resource_type, logical_id


# ------------------------------------------------------------------ DynamoDB
def test_tickets_table_is_protected(template: dict[str, Any]) -> None:
    resource = template["Resources"]["TicketsTable"]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    props = resource["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_tickets_table_keys_and_indexes_follow_the_data_model(template: dict[str, Any]) -> None:
    props = resource_properties(template, "TicketsTable")
    assert _keys(props["KeySchema"]) == ("pk", "sk")
    gsis = {g["IndexName"]: g for g in props["GlobalSecondaryIndexes"]}
    assert set(gsis) == set(EXPECTED_GSIS)
    for name, keys in EXPECTED_GSIS.items():
        assert _keys(gsis[name]["KeySchema"]) == keys, name
        # The title words are only keys (the ticket is read by its key after the search).
        projection = "KEYS_ONLY" if name in KEYS_ONLY_GSIS else "ALL"
        assert gsis[name]["Projection"] == {"ProjectionType": projection}, name
    # Every key attribute is declared (as a string), and nothing else is.
    key_attributes = {"pk", "sk"} | {a for keys in EXPECTED_GSIS.values() for a in keys}
    definitions = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    assert definitions == dict.fromkeys(key_attributes, "S")


def test_idempotency_table(template: dict[str, Any]) -> None:
    props = resource_properties(template, "IdempotencyTable")
    assert _keys(props["KeySchema"]) == ("id",)
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_table_create_kwargs_drop_what_create_table_does_not_take(
    template: dict[str, Any],
) -> None:
    kwargs = table_create_kwargs(template, "TicketsTable", "t")
    assert kwargs["TableName"] == "t"
    assert kwargs["BillingMode"] == "PAY_PER_REQUEST"
    assert kwargs["SSESpecification"] == {"Enabled": True}
    for dropped in (
        "TimeToLiveSpecification",
        "PointInTimeRecoverySpecification",
        "DeletionProtectionEnabled",
    ):
        assert dropped not in kwargs
    with pytest.raises(ValueError, match="not an AWS::DynamoDB::Table"):
        table_create_kwargs(template, "UserPool", "t")


@pytest.mark.usefixtures("aws_env")
def test_create_table_from_template_in_moto(template: dict[str, Any]) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        for logical_id in resources_of_type(template, "AWS::DynamoDB::Table"):
            name = f"helpdesk-{logical_id}"
            table = create_table_from_template(
                client, template, logical_id, name, point_in_time_recovery=True
            )
            assert table["TableStatus"] == "ACTIVE"
            props = resource_properties(template, logical_id)
            assert _keys(table["KeySchema"]) == _keys(props["KeySchema"])
            created_gsis = {
                g["IndexName"]: _keys(g["KeySchema"])
                for g in table.get("GlobalSecondaryIndexes", [])
            }
            declared_gsis = {
                g["IndexName"]: _keys(g["KeySchema"])
                for g in props.get("GlobalSecondaryIndexes", [])
            }
            assert created_gsis == declared_gsis
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert ttl["TimeToLiveStatus"] == "ENABLED"
            assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]

        tickets = "helpdesk-TicketsTable"
        assert created_gsis_for(client, tickets) == EXPECTED_GSIS
        # The sparse indexes answer queries.
        client.put_item(
            TableName=tickets,
            Item={
                "pk": {"S": "TICKET#88"},
                "sk": {"S": "TICKET"},
                "due_pk": {"S": "DUE"},
                "due_sk": {"S": "2026-11-27T23:30:00Z#0000000088"},
            },
        )
        due = client.query(
            TableName=tickets,
            IndexName="due",
            KeyConditionExpression="due_pk = :p AND due_sk <= :now",
            ExpressionAttributeValues={":p": {"S": "DUE"}, ":now": {"S": "2026-11-28"}},
        )
        assert [i["pk"]["S"] for i in due["Items"]] == ["TICKET#88"]
        queue = client.query(
            TableName=tickets,
            IndexName="queue",
            KeyConditionExpression="queue_pk = :p",
            ExpressionAttributeValues={":p": {"S": "QUEUE#1"}},
        )
        assert queue["Items"] == []


def created_gsis_for(client: Any, table_name: str) -> dict[str, tuple[str, ...]]:
    table = client.describe_table(TableName=table_name)["Table"]
    return {g["IndexName"]: _keys(g["KeySchema"]) for g in table["GlobalSecondaryIndexes"]}


# -------------------------------------------------------------------- Lambda
def test_functions_run_python313_on_arm64_with_the_domain_layer(template: dict[str, Any]) -> None:
    function_globals = template["Globals"]["Function"]
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert "ApiFunction" in functions
    for logical_id, resource in functions.items():
        props = resource["Properties"]
        assert props.get("Runtime", function_globals["Runtime"]) == "python3.13", logical_id
        assert props.get("Architectures", function_globals["Architectures"]) == ["arm64"]
        layers = props.get("Layers", function_globals["Layers"])
        assert {"Ref": "DomainLayer"} in layers, logical_id
        assert props.get("Tracing", function_globals.get("Tracing")) == "Active", logical_id
    api = functions["ApiFunction"]["Properties"]
    assert api["CodeUri"] == "functions/api"
    assert api["Handler"] == "app.lambda_handler"


def test_domain_layer_builds_for_python313_arm64(template: dict[str, Any]) -> None:
    layer = template["Resources"]["DomainLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/domain"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"


def _pins(path: str) -> dict[str, str]:
    """`name[extras]==version` lines of a requirements file, as {name[extras]: version}."""
    pins: dict[str, str] = {}
    for line in (REPO_ROOT / path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{path}: {line!r} is not pinned with =="
            pins[name.strip().lower()] = version.strip()
    return pins


def test_layer_runs_the_versions_the_tests_run() -> None:
    layer = _pins("layers/domain/requirements.txt")
    dev = _pins("requirements-dev.txt")
    # Tracer() imports aws_xray_sdk as soon as it is created: the layer needs the extra.
    assert "aws-lambda-powertools[tracer]" in layer
    assert "pydantic" in layer
    for name, version in layer.items():
        assert dev.get(name) == version, f"{name}: layer {version}, dev {dev.get(name)}"
    assert _pins("functions/api/requirements.txt") == {}  # dependencies come from the layer


def test_no_iam_wildcards(template: dict[str, Any]) -> None:
    statements = list(_iam_statements(template))
    assert statements, "ApiFunction declares its policy statements"
    for logical_id, statement in statements:
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        assert "*" not in actions, logical_id
        assert not any(a.endswith(":*") for a in actions if isinstance(a, str)), logical_id
        if "*" in resources:
            assert not any("*" in a for a in actions if isinstance(a, str)), (
                f"{logical_id}: wildcard action on Resource '*'"
            )


def test_api_function_reaches_only_its_tables(template: dict[str, Any]) -> None:
    statements = [s for lid, s in _iam_statements(template) if lid == "ApiFunction"]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for resource in _as_list(statement["Resource"]):
            assert resource != "*"
            text = str(resource)
            if "ExportsBucket" in text:  # the billing exports: their prefix only
                assert text.endswith("/exports/*'}"), resource
                continue
            if "InboundMailBucket" in text:  # the quarantine: read the received mail only
                assert text.endswith("/inbound/*'}"), resource
                assert _as_list(statement["Action"]) == ["s3:GetObject"], statement
                continue
            if "AttachmentsBucket" in text:  # upload forms and links: the attachment keys only
                assert text.endswith("/tickets/*'}"), resource
                continue
            assert "TicketsTable" in text or "IdempotencyTable" in text, resource
    actions = {a for s in statements for a in _as_list(s["Action"])}
    assert "dynamodb:Scan" not in actions  # no production path scans the table


# --------------------------------------------------------- Cognito, HTTP API
def test_cognito_groups_and_org_claim(template: dict[str, Any]) -> None:
    groups = resources_of_type(template, "AWS::Cognito::UserPoolGroup")
    assert {g["Properties"]["GroupName"] for g in groups.values()} == EXPECTED_GROUPS
    for group in groups.values():
        assert group["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    pool = resource_properties(template, "UserPool")
    assert pool["UsernameAttributes"] == ["email"]
    org_id = next(a for a in pool["Schema"] if a["Name"] == "org_id")
    assert org_id["AttributeDataType"] == "String"
    assert org_id["Mutable"] is True
    client = resource_properties(template, "UserPoolClient")
    assert client["GenerateSecret"] is False
    assert "custom:org_id" not in client.get("WriteAttributes", [])  # users cannot move org


def test_http_api_has_a_default_jwt_authorizer(template: dict[str, Any]) -> None:
    api = resource_properties(template, "HttpApi")
    auth = api["Auth"]
    default = auth["DefaultAuthorizer"]
    jwt = auth["Authorizers"][default]["JwtConfiguration"]
    assert jwt["issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    }
    assert jwt["audience"] == [{"Ref": "UserPoolClient"}, {"Ref": "WebUserPoolClient"}]
    cors = api["CorsConfiguration"]
    # Browsers call the API from the web app's distribution only (DESIGN §9).
    assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${WebDistribution.DomainName}"}]
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= set(
        cors["AllowHeaders"]
    )
    assert "etag" in cors["ExposeHeaders"]
    event = resource_properties(template, "ApiFunction")["Events"]["Proxy"]
    assert event["Type"] == "HttpApi"
    assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
    assert "Auth" not in event["Properties"]  # the default authorizer applies


# ------------------------------------------------------------- SAM transform
@pytest.mark.usefixtures("aws_env")
def test_sam_translator_transforms_the_template_offline(template: dict[str, Any]) -> None:
    cfn = to_cloudformation(template, region=REGION)
    assert "Transform" not in cfn
    types = {r["Type"] for r in cfn["Resources"].values()}
    assert "AWS::Lambda::Function" in types
    assert "AWS::Lambda::LayerVersion" in types
    assert "AWS::ApiGatewayV2::Api" in types
    assert not any(t.startswith("AWS::Serverless::") for t in types)

    function = cfn["Resources"]["ApiFunction"]["Properties"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Code"]["S3Bucket"] == "local-artifacts"
    assert function["TracingConfig"] == {"Mode": "Active"}

    body = cfn["Resources"]["HttpApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["CognitoJwt"]
    assert scheme["x-amazon-apigateway-authorizer"]["type"] == "jwt"
    route = body["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]
    assert route["security"] == [{"CognitoJwt": []}]
    assert route["x-amazon-apigateway-integration"]["payloadFormatVersion"] == "2.0"

    role = cfn["Resources"]["ApiFunctionRole"]["Properties"]
    managed = role.get("ManagedPolicyArns", [])
    assert any("AWSLambdaBasicExecutionRole" in str(arn) for arn in managed)
    # The translated roles carry no wildcard either.
    for logical_id, statement in _iam_statements(cfn):
        actions = _as_list(statement.get("Action", []))
        assert "*" not in actions, logical_id
