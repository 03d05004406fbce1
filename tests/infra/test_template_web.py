"""The web app's AWS resources (DESIGN §9), read from template.yaml: moto's CloudFormation
skips CloudFront and the Cognito domain (tests/infra/test_cfn_stack.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from infra.cfn_template import resource_properties


def test_the_app_bucket_is_private_versioned_and_read_by_cloudfront_only(
    template: dict[str, Any],
) -> None:
    bucket = resource_properties(template, "WebBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    statements = resource_properties(template, "WebBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allows[0]["Action"] == "s3:GetObject"
    assert (
        "${WebDistribution}" in allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    )


def test_the_distribution_uses_origin_access_control_spa_routing_and_a_csp(
    template: dict[str, Any],
) -> None:
    config = resource_properties(template, "WebDistribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["FunctionAssociations"][0]["EventType"] == "viewer-request"
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "WebResponseHeadersPolicy"}
    oac = resource_properties(template, "WebOriginAccessControl")["OriginAccessControlConfig"]
    assert oac["SigningBehavior"] == "always"
    headers = resource_properties(template, "WebResponseHeadersPolicy")[
        "ResponseHeadersPolicyConfig"
    ]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src"))
    assert "execute-api.${AWS::Region}" in connect
    assert "https://${WebUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com" in connect
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_the_web_client_is_public_with_the_code_flow_on_the_distribution(
    template: dict[str, Any],
) -> None:
    client = resource_properties(template, "WebUserPoolClient")
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert "openid" in client["AllowedOAuthScopes"]
    assert client["CallbackURLs"] == [
        {"Fn::Sub": "https://${WebDistribution.DomainName}/app/callback"}
    ]
    assert client["LogoutURLs"] == [{"Fn::Sub": "https://${WebDistribution.DomainName}/app/"}]
    assert "custom:org_id" not in client["WriteAttributes"]
    assert resource_properties(template, "WebUserPoolDomain")["UserPoolId"] == {"Ref": "UserPool"}
    outputs = template["Outputs"]
    for name in ("WebBucketName", "WebDistributionId", "WebCognitoDomain", "WebClientId", "ApiUrl"):
        assert name in outputs, name


_ROUTES = {
    "/app/tickets": "/app/index.html",
    "/app/tickets/12": "/app/index.html",
    "/app/l/abcDEF123": "/app/index.html",
    "/app/": "/app/index.html",
    "/app/assets/index-abc.js": "/app/assets/index-abc.js",
    "/app/config.json": "/app/config.json",
}


def test_the_spa_function_rewrites_page_routes_only(template: dict[str, Any]) -> None:
    """The CloudFront Function's code, run by Node on the routes it sees."""
    if shutil.which("node") is None:
        pytest.fail("Node 20+ is needed (apt-get install nodejs)", pytrace=False)
    code = resource_properties(template, "WebSpaRoutingFunction")["FunctionCode"]
    script = code + (
        "\nconst uris = JSON.parse(process.argv[1]);"
        "\nconsole.log(JSON.stringify(uris.map(u => {"
        "const r = handler({request: {uri: u}});"
        "return r.statusCode ? r.headers.location.value : r.uri; })));"
    )
    uris = [*_ROUTES, "/", "/app"]
    result = subprocess.run(
        ["node", "-e", script, json.dumps(uris)], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == [*_ROUTES.values(), "/app/", "/app/"]
