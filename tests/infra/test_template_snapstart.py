"""template.yaml: the SnapStart option of the HTTP API function (issue #21, docs/operations.md
"SnapStart"): a parameter, default disabled; the HTTP API always calls the alias `live`; the
version SAM publishes is snapshotted only when enabled, and flipping the parameter publishes a
new version."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.cfn_template import to_cloudformation

REGION = "eu-west-1"
ALIAS = "ApiFunctionAliaslive"


def _resolve(value: Any, enabled: bool) -> Any:
    """`value` as CloudFormation sees it with the SnapStartEnabled condition `enabled`
    (Fn::If on that condition only; AWS::NoValue removes the key)."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"} and value["Fn::If"][0] == "SnapStartEnabled":
            return _resolve(value["Fn::If"][1 if enabled else 2], enabled)
        resolved = {key: _resolve(item, enabled) for key, item in value.items()}
        return {k: v for k, v in resolved.items() if v != {"Ref": "AWS::NoValue"}}
    if isinstance(value, list):
        return [_resolve(item, enabled) for item in value]
    return value


def _translated(template: dict[str, Any], setting: str) -> dict[str, Any]:
    cfn = to_cloudformation(template, region=REGION, parameter_values={"SnapStart": setting})
    return _resolve(cfn, setting == "enabled")  # type: ignore[no-any-return]


def test_parameter_defaults_to_disabled(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["SnapStart"]
    assert parameter["AllowedValues"] == ["enabled", "disabled"]
    assert parameter["Default"] == "disabled"
    assert template["Conditions"]["SnapStartEnabled"] == {
        "Fn::Equals": [{"Ref": "SnapStart"}, "enabled"]
    }


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("setting", ["enabled", "disabled"])
def test_every_route_and_permission_names_the_alias(template: dict[str, Any], setting: str) -> None:
    resources = _translated(template, setting)["Resources"]
    assert resources[ALIAS]["Type"] == "AWS::Lambda::Alias"
    assert resources[ALIAS]["Properties"]["Name"] == "live"
    routes = resources["HttpApi"]["Properties"]["Body"]["paths"]
    uris = [
        op["x-amazon-apigateway-integration"]["uri"]
        for ops in routes.values()
        for op in ops.values()
    ]
    assert len(uris) == 3  # /{proxy+}, GET and POST /links/{token}
    for uri in uris:
        assert "${ApiFunctionAliaslive}" in uri["Fn::Sub"], uri
    permissions = {
        logical_id: r["Properties"]["FunctionName"]
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::Lambda::Permission" and logical_id.startswith("ApiFunction")
    }
    assert sorted(permissions) == [
        "ApiFunctionLinkReadPermission",
        "ApiFunctionLinkUsePermission",
        "ApiFunctionProxyPermission",
    ]
    assert {json.dumps(name) for name in permissions.values()} == {json.dumps({"Ref": ALIAS})}


@pytest.mark.usefixtures("aws_env")
def test_snapstart_applies_to_published_versions_only_when_enabled(
    template: dict[str, Any],
) -> None:
    on = _translated(template, "enabled")["Resources"]
    off = _translated(template, "disabled")["Resources"]
    assert on["ApiFunction"]["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert "SnapStart" not in off["ApiFunction"]["Properties"]
    for resources in (on, off):  # SnapStart is the API's only: the rest run asynchronously
        others = [
            logical_id
            for logical_id, r in resources.items()
            if r["Type"] == "AWS::Lambda::Function"
            and logical_id != "ApiFunction"
            and "SnapStart" in r["Properties"]
        ]
        assert others == []


@pytest.mark.usefixtures("aws_env")
def test_flipping_the_parameter_publishes_a_new_version(template: dict[str, Any]) -> None:
    """SAM's version logical id does not see the parameter, so the version's Description
    (replace-on-update in CloudFormation) must: otherwise the alias would stay on a version
    published with the other setting."""
    versions = {}
    for setting in ("enabled", "disabled"):
        resources = _translated(template, setting)["Resources"]
        (version_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Version"]
        version = resources[version_id]
        assert version["DeletionPolicy"] == "Delete"  # the alias's old version is not kept cached
        assert resources[ALIAS]["Properties"]["FunctionVersion"] == {
            "Fn::GetAtt": [version_id, "Version"]
        }
        versions[setting] = version["Properties"]["Description"]
    assert versions["enabled"] != versions["disabled"]
