"""Read template.yaml, the single source of truth of the stack's resources.

- `load_template` parses the CloudFormation/SAM YAML, short-form intrinsic tags included
  (``!Ref x`` becomes ``{"Ref": "x"}``, ``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}``...).
- `table_create_kwargs` / `create_table_from_template` create a DynamoDB table (moto or real)
  exactly as the template declares it, so the local stack and the tests never copy key schemas.
- `to_cloudformation` runs the SAM transform offline (aws-sam-translator), for tools that need
  plain CloudFormation (cfn checks, moto's CloudFormation).
- `unresolved_references` lists the Ref/GetAtt/Sub/DependsOn targets that do not exist, and
  `create_stack_in_moto` creates a translated template as a stack in moto's CloudFormation.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

Template = dict[str, Any]

# Short-form tag -> long-form key. !GetAtt and !Ref/!Condition are special-cased below.
_FN_TAGS: dict[str, str] = {
    "!Sub": "Fn::Sub",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Select": "Fn::Select",
    "!Join": "Fn::Join",
    "!Split": "Fn::Split",
    "!FindInMap": "Fn::FindInMap",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!ImportValue": "Fn::ImportValue",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!GetAZs": "Fn::GetAZs",
    "!Transform": "Fn::Transform",
    "!ToJsonString": "Fn::ToJsonString",
    "!Length": "Fn::Length",
}

_INTRINSIC_KEYS = frozenset({"Ref", "Condition", "Fn::GetAtt", *_FN_TAGS.values()})


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that knows CloudFormation's tags and keeps timestamps as strings."""


# CloudFormation reads `2010-09-09` as a string, never as a date.
_CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_value(loader: _CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(
        None, None, f"unexpected node for tag {node.tag}", node.start_mark
    )


def _make_fn_constructor(key: str) -> Any:
    def construct(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_value(loader, node)}

    return construct


def _construct_ref(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _construct_value(loader, node)}


def _construct_condition(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _construct_value(loader, node)}


def _construct_getatt(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_value(loader, node)
    if isinstance(value, str):
        resource, sep, attribute = value.partition(".")
        if not sep:
            raise yaml.constructor.ConstructorError(
                None, None, f"!GetAtt needs Resource.Attribute, got {value!r}", node.start_mark
            )
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": value}


_CfnLoader.add_constructor("!Ref", _construct_ref)
_CfnLoader.add_constructor("!Condition", _construct_condition)
_CfnLoader.add_constructor("!GetAtt", _construct_getatt)
for _tag, _key in _FN_TAGS.items():
    _CfnLoader.add_constructor(_tag, _make_fn_constructor(_key))


def parse_template(text: str) -> Template:
    """Parse CloudFormation/SAM YAML text (short-form tags become long-form dicts)."""
    data = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass: no arbitrary objects
    if not isinstance(data, dict):
        raise ValueError("a CloudFormation template is a mapping")
    return data


def load_template(path: Path | str = TEMPLATE_PATH) -> Template:
    """Load template.yaml (or another CloudFormation/SAM template) as plain dicts and lists."""
    return parse_template(Path(path).read_text(encoding="utf-8"))


# ------------------------------------------------------------------- resources
def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    """Logical id -> resource, for every resource of that type."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    return {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource.get("Type") == resource_type
    }


def resource_properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """The Properties of one resource (KeyError if the resource does not exist)."""
    resource: dict[str, Any] = template["Resources"][logical_id]
    properties: dict[str, Any] = resource.get("Properties", {})
    return properties


def contains_intrinsic(value: Any) -> bool:
    """True if value (or anything in it) is an intrinsic function such as Ref or Fn::Sub."""
    if isinstance(value, Mapping):
        if len(value) == 1 and next(iter(value)) in _INTRINSIC_KEYS:
            return True
        return any(contains_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_intrinsic(v) for v in value)
    return False


# -------------------------------------------------------------------- DynamoDB
_INDEX_KEYS = (
    "IndexName",
    "KeySchema",
    "Projection",
    "ProvisionedThroughput",
    "OnDemandThroughput",
)


def _index(index: Mapping[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(index[k]) for k in _INDEX_KEYS if k in index}


def table_create_kwargs(
    template: Mapping[str, Any], logical_id: str, table_name: str
) -> dict[str, Any]:
    """boto3 ``create_table`` keyword arguments for an AWS::DynamoDB::Table of the template.

    Settings that create_table does not take (TTL, point-in-time recovery) are left out:
    `create_table_from_template` applies them after creation. So are deletion protection and
    contributor insights, which only matter in AWS. The table name is `table_name`, whatever
    the template says.
    """
    resource = template["Resources"][logical_id]
    if resource.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"{logical_id} is a {resource.get('Type')}, not an AWS::DynamoDB::Table")
    props: Mapping[str, Any] = resource.get("Properties", {})

    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": copy.deepcopy(props["KeySchema"]),
        "AttributeDefinitions": copy.deepcopy(props["AttributeDefinitions"]),
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if "ProvisionedThroughput" in props:
        kwargs["ProvisionedThroughput"] = copy.deepcopy(props["ProvisionedThroughput"])
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = [_index(i) for i in props["GlobalSecondaryIndexes"]]
    if props.get("LocalSecondaryIndexes"):
        kwargs["LocalSecondaryIndexes"] = [_index(i) for i in props["LocalSecondaryIndexes"]]
    stream = props.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    sse = props.get("SSESpecification")
    if sse:
        sse_kwargs: dict[str, Any] = {"Enabled": bool(sse.get("SSEEnabled", False))}
        if "SSEType" in sse:
            sse_kwargs["SSEType"] = sse["SSEType"]
        if "KMSMasterKeyId" in sse:
            sse_kwargs["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
        kwargs["SSESpecification"] = sse_kwargs
    if "TableClass" in props:
        kwargs["TableClass"] = props["TableClass"]

    if contains_intrinsic(kwargs):
        raise ValueError(
            f"{logical_id}: create_table arguments use intrinsic functions, "
            "which cannot be resolved locally"
        )
    return kwargs


def table_ttl_attribute(template: Mapping[str, Any], logical_id: str) -> str | None:
    """The TTL attribute of a table, or None when TTL is not enabled."""
    ttl = resource_properties(template, logical_id).get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled") is True:
        attribute: str = ttl["AttributeName"]
        return attribute
    return None


def table_pitr_enabled(template: Mapping[str, Any], logical_id: str) -> bool:
    """Whether the table declares point-in-time recovery."""
    pitr = resource_properties(template, logical_id).get("PointInTimeRecoverySpecification") or {}
    return pitr.get("PointInTimeRecoveryEnabled") is True


def create_table_from_template(
    client: Any,
    template: Mapping[str, Any],
    logical_id: str,
    table_name: str,
    *,
    point_in_time_recovery: bool = False,
) -> dict[str, Any]:
    """Create the table as the template declares it, wait for it, enable its TTL.

    `client` is a boto3 DynamoDB client (moto's or AWS's). Point-in-time recovery is applied only
    when asked (it costs nothing in moto, but is an AWS concern). Returns DescribeTable's Table.
    """
    client.create_table(**table_create_kwargs(template, logical_id, table_name))
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    ttl_attribute = table_ttl_attribute(template, logical_id)
    if ttl_attribute is not None:
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
        )
    if point_in_time_recovery and table_pitr_enabled(template, logical_id):
        client.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    table: dict[str, Any] = client.describe_table(TableName=table_name)["Table"]
    return table


# ------------------------------------------------------------------ SAM -> CFN
# Managed policies that SAM attaches by itself (basic execution role, X-Ray tracing).
# aws-sam-translator looks their ARNs up in IAM unless given a map: this one keeps it offline.
MANAGED_POLICY_MAP: dict[str, str] = {
    "AWSLambdaBasicExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ),
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
    "AWSLambdaRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
    "AWSStepFunctionsFullAccess": "arn:aws:iam::aws:policy/AWSStepFunctionsFullAccess",
}

# Serverless properties that point at local files before `sam package` uploads them.
_CODE_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri")


def with_s3_code_uris(template: Mapping[str, Any], bucket: str = "local-artifacts") -> Template:
    """A copy of the SAM template whose local CodeUri/ContentUri/DefinitionUri are S3 URIs.

    That is what `sam package` does before the transform; the translator rejects local paths.
    """
    result: Template = copy.deepcopy(dict(template))
    globals_function = result.get("Globals", {}).get("Function", {})
    if isinstance(globals_function.get("CodeUri"), str):
        globals_function["CodeUri"] = f"s3://{bucket}/globals/{globals_function['CodeUri']}.zip"
    for logical_id, resource in result.get("Resources", {}).items():
        if not str(resource.get("Type", "")).startswith("AWS::Serverless::"):
            continue
        props = resource.get("Properties", {})
        for name in _CODE_PROPERTIES:
            value = props.get(name)
            if isinstance(value, str) and not value.startswith("s3://"):
                props[name] = f"s3://{bucket}/{logical_id}/{Path(value).name}.zip"
    return result


def to_cloudformation(
    template: Mapping[str, Any],
    *,
    region: str = "eu-west-1",
    parameter_values: Mapping[str, Any] | None = None,
    bucket: str = "local-artifacts",
) -> Template:
    """Run the SAM transform offline and return plain CloudFormation.

    Needs aws-sam-translator (a dev dependency). No credentials and no network are used.
    """
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    session = boto3.session.Session(region_name=region)
    translator = Translator(MANAGED_POLICY_MAP, Parser(), boto_session=session)
    params: dict[str, Any] = {"AWS::Region": region, **dict(parameter_values or {})}
    transformed: Template = translator.translate(
        with_s3_code_uris(template, bucket),
        parameter_values=params,
        get_managed_policy_map=lambda: MANAGED_POLICY_MAP,
    )
    return transformed


# ------------------------------------------------------------------ references
# `${Name}` or `${Resource.Attribute}` in Fn::Sub; `${!Literal}` is an escaped, literal `${`.
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


def _referenced_names(value: Any) -> Iterator[str]:
    """Logical names that Ref, Fn::GetAtt and Fn::Sub inside `value` point at."""
    if isinstance(value, list):
        for item in value:
            yield from _referenced_names(item)
        return
    if not isinstance(value, Mapping):
        return
    for key, inner in value.items():
        if key == "Ref" and isinstance(inner, str):
            yield inner
        elif key == "Fn::GetAtt":
            target = inner.split(".", 1)[0] if isinstance(inner, str) else inner[0]
            if isinstance(target, str):
                yield target
        elif key == "Fn::Sub":
            text, local_names = (inner, {}) if isinstance(inner, str) else (inner[0], inner[1])
            for name in _SUB_VARIABLE.findall(text):
                if name.split(".", 1)[0] not in local_names:
                    yield name.split(".", 1)[0]
            yield from _referenced_names(local_names)
        else:
            yield from _referenced_names(inner)


# Keys under which a template sends failed events or messages somewhere (a dead-letter queue).
FAILURE_KEYS = frozenset({"OnFailure", "DeadLetterConfig", "DeadLetterQueue", "RedrivePolicy"})


def failure_targets(value: Any) -> Iterator[str]:
    """Logical names referenced under a failure key (OnFailure destinations, schedules' and
    functions' DeadLetterConfig / DeadLetterQueue, queues' RedrivePolicy) inside `value`."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key in FAILURE_KEYS:
                yield from _referenced_names(inner)
            else:
                yield from failure_targets(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from failure_targets(inner)


def unresolved_references(template: Mapping[str, Any]) -> list[str]:
    """`Resource -> Missing` for every reference to no parameter, resource or pseudo parameter.

    Covers Ref, Fn::GetAtt, Fn::Sub and DependsOn in Resources and Outputs; works on SAM and
    plain CloudFormation templates alike. moto's CloudFormation skips some resource types, so
    a reference to one of them would not fail a stack creation there: this catches it.
    """
    resources: Mapping[str, Any] = template.get("Resources", {})
    known = set(resources) | set(template.get("Parameters", {}))
    sections = [*resources.items(), *template.get("Outputs", {}).items()]
    missing: list[str] = []
    for logical_id, body in sections:
        depends_on = body.get("DependsOn", []) if isinstance(body, Mapping) else []
        names = [
            *_referenced_names(body),
            *([depends_on] if isinstance(depends_on, str) else depends_on),
        ]
        missing += [
            f"{logical_id} -> {name}"
            for name in dict.fromkeys(names)
            if name not in known and not name.startswith("AWS::")
        ]
    return missing


# ------------------------------------------------------------ moto's CloudFormation
@dataclass(frozen=True)
class MotoStack:
    """What moto's CloudFormation made of a template: its status and the resources created."""

    status: str
    reason: str
    created: tuple[str, ...]  # logical ids moto created (CREATE_COMPLETE)
    skipped: tuple[str, ...]  # logical ids of the template that moto did not create


def s3_code_locations(template: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(bucket, key) of every S3Bucket/S3Key pair (function and layer code) in the template."""
    found: set[tuple[str, str]] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            if isinstance(value.get("S3Bucket"), str) and isinstance(value.get("S3Key"), str):
                found.add((value["S3Bucket"], value["S3Key"]))
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(template)
    return found


def _alias_permissions_on_functions(cloudformation: Mapping[str, Any]) -> Template:
    """moto has no AWS::Lambda::Alias (it skips it), and a Lambda::Permission naming one fails
    its whole stack: give such a permission to the alias's function instead. (What names the
    alias is checked on the translated template: tests/infra/test_template_snapstart.py.)"""
    result: Template = copy.deepcopy(dict(cloudformation))
    resources = result.get("Resources", {})
    aliases = {
        logical_id: r["Properties"]["FunctionName"]
        for logical_id, r in resources.items()
        if r.get("Type") == "AWS::Lambda::Alias"
    }
    for resource in resources.values():
        props = resource.get("Properties", {})
        target = props.get("FunctionName")
        is_permission = resource.get("Type") == "AWS::Lambda::Permission"
        if is_permission and isinstance(target, dict) and target.get("Ref") in aliases:
            props["FunctionName"] = aliases[target["Ref"]]
    return result


def create_stack_in_moto(
    cloudformation: Mapping[str, Any], *, region: str = "eu-west-1", stack_name: str = "helpdesk"
) -> MotoStack:
    """Create the (translated) template as a stack in a fresh in-process moto, placeholder code.

    moto creates the stack synchronously. On a broken template it raises a ValidationError, or
    sometimes a bare KeyError from its parser (an unknown `${Name}` in Fn::Sub): every error
    becomes a CREATE_FAILED outcome whose reason names it.
    """
    import boto3
    from moto import mock_aws

    from infra.moto_lambda import placeholder_zip

    cloudformation = _alias_permissions_on_functions(cloudformation)
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    with mock_aws():
        s3 = boto3.client("s3", region_name=region, **credentials)
        for bucket, key in sorted(s3_code_locations(cloudformation)):
            if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                s3.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
                )
            s3.put_object(Bucket=bucket, Key=key, Body=placeholder_zip())
        cfn = boto3.client("cloudformation", region_name=region, **credentials)
        try:
            cfn.create_stack(
                StackName=stack_name,
                TemplateBody=json.dumps(cloudformation),
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            )
        except Exception as error:  # moto's parser errors are not all ClientErrors
            return MotoStack("CREATE_FAILED", f"{type(error).__name__}: {error}", (), ())
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        summaries = cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    declared = set(cloudformation["Resources"])
    # moto also lists the types it does not support, with an empty logical id.
    created = tuple(
        sorted(
            {s["LogicalResourceId"] for s in summaries if s["ResourceStatus"] == "CREATE_COMPLETE"}
            & declared
        )
    )
    skipped = tuple(sorted(declared - set(created)))
    return MotoStack(stack["StackStatus"], stack.get("StackStatusReason", ""), created, skipped)
