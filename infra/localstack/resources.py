"""The resources of template.yaml, created in the embedded moto.

Each builder creates one part of the stack and returns the environment variables the functions
read to find it (as the template's `Environment` does with `!Ref`). Later resources (buckets,
the state machine, SES rules...) are one more function appended to `BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from infra.cfn_template import Template, create_table_from_template, load_template
from infra.localstack.config import LocalConfig
from infra.state_machines import create_quote_approval


@dataclass(frozen=True)
class ResourceContext:
    config: LocalConfig
    template: Template
    session: Any  # boto3.session.Session bound to the local region

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.config.region)


ResourceBuilder = Callable[[ResourceContext], dict[str, str]]


def dynamodb_tables(ctx: ResourceContext) -> dict[str, str]:
    """TicketsTable and IdempotencyTable, exactly as the template declares them."""
    client = ctx.client("dynamodb")
    create_table_from_template(client, ctx.template, "TicketsTable", ctx.config.tickets_table)
    create_table_from_template(
        client, ctx.template, "IdempotencyTable", ctx.config.idempotency_table
    )
    return {
        "TABLE_NAME": ctx.config.tickets_table,
        "IDEMPOTENCY_TABLE_NAME": ctx.config.idempotency_table,
    }


def mail_identity(ctx: ResourceContext) -> dict[str, str]:
    """The sending domain, verified in SES as the template's MailIdentity is, and the
    configuration set every send names (MailConfigurationSet, reputation metrics on); APP_URL
    (the template's AppUrl, where mail links point) is this machine's port, which serves /app/."""
    ctx.client("ses").verify_domain_identity(Domain=ctx.config.mail_domain)
    configuration_set = f"helpdesk-{ctx.config.stage}-mail"
    ctx.client("sesv2").create_configuration_set(
        ConfigurationSetName=configuration_set,
        ReputationOptions={"ReputationMetricsEnabled": True},
    )
    return {
        "MAIL_DOMAIN": ctx.config.mail_domain,
        "MAIL_FROM": f"support@{ctx.config.mail_domain}",
        "APP_URL": ctx.config.base_url,
        "SES_CONFIGURATION_SET": configuration_set,
    }


QUOTE_FUNCTION_NAME = "helpdesk-local-QuoteFunction"  # LocalStack.function("QuoteFunction")


def quote_approval_state_machine(ctx: ResourceContext) -> dict[str, str]:
    """QuoteApprovalStateMachine from the committed ASL, its DefinitionSubstitutions applied
    here (moto ignores them), and the QuoteFunction it invokes (run in-process by
    infra.moto_lambda). Short days locally (the waits the notifier gives each execution):
    LOCAL_QUOTE_DAY_SECONDS as the notifier's QUOTE_DAY_SECONDS."""
    machine_arn, _function_arn = create_quote_approval(
        ctx.session,
        ctx.config.region,
        table_name=ctx.config.tickets_table,
        function_name=QUOTE_FUNCTION_NAME,
    )
    return {
        "QUOTE_STATE_MACHINE_ARN": machine_arn,
        "QUOTE_DAY_SECONDS": str(ctx.config.quote_day_seconds),
    }


def exports_bucket(ctx: ResourceContext) -> dict[str, str]:
    """ExportsBucket (versioned, as the template declares it); links point at this machine."""
    from infra.localstack.s3_links import EXPORTS_BUCKET, LINKS_PATH

    s3 = ctx.client("s3")
    s3.create_bucket(
        Bucket=EXPORTS_BUCKET,
        CreateBucketConfiguration={"LocationConstraint": ctx.config.region},
    )
    s3.put_bucket_versioning(Bucket=EXPORTS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return {
        "EXPORTS_BUCKET": EXPORTS_BUCKET,
        "EXPORTS_PUBLIC_ENDPOINT": f"{ctx.config.base_url}{LINKS_PATH}",
    }


def mail_buckets(ctx: ResourceContext) -> dict[str, str]:
    """InboundMailBucket (the SES rule's S3 action; here the SMTP server) and AttachmentsBucket."""
    s3 = ctx.client("s3")
    inbound = f"helpdesk-{ctx.config.stage}-inbound"
    attachments = f"helpdesk-{ctx.config.stage}-attachments"
    location = {"CreateBucketConfiguration": {"LocationConstraint": ctx.config.region}}
    for bucket in (inbound, attachments):
        s3.create_bucket(Bucket=bucket, **location)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return {
        "INBOUND_BUCKET": inbound,
        "INBOUND_PREFIX": "inbound/",
        "ATTACHMENTS_BUCKET": attachments,
    }


BUILDERS: list[ResourceBuilder] = [
    dynamodb_tables,
    mail_identity,
    mail_buckets,
    quote_approval_state_machine,
    exports_bucket,
]


def function_environment(config: LocalConfig, template: Template) -> dict[str, str]:
    """The template's Globals environment with local values for what `!Ref`s resources."""
    declared = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    static: dict[str, str] = {}
    for name, value in declared.get("Variables", {}).items():
        resolved = _parameter_default(template, value)
        if resolved is not None:
            static[name] = resolved
    return {
        **static,
        "STAGE": config.stage,
        # No X-Ray daemon here. Metrics are on: the local stack records the EMF documents the
        # functions print (infra.emf.MetricsRecorder) and serves them at GET /_local/metrics.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "false",
        "POWERTOOLS_SERVICE_NAME": static.get("POWERTOOLS_SERVICE_NAME", "helpdesk"),
        "POWERTOOLS_METRICS_NAMESPACE": static.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"),
    }


def _parameter_default(template: Template, value: Any) -> str | None:
    """A literal as a string; a `!Ref` to a parameter as its default; None otherwise."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        parameter = template.get("Parameters", {}).get(value["Ref"], {})
        if "Default" in parameter:
            return str(parameter["Default"])
    return None


def aws_environment(config: LocalConfig) -> dict[str, str]:
    """Region and fake credentials: nothing here may ever reach real AWS."""
    return {
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
    }


def create_resources(config: LocalConfig, template: Template | None = None) -> dict[str, str]:
    """Create every resource (moto must be active); return the functions' environment."""
    template = load_template() if template is None else template
    ctx = ResourceContext(config, template, boto3.session.Session(region_name=config.region))
    env = function_environment(config, template)
    for build in BUILDERS:
        env.update(build(ctx))
    return env
