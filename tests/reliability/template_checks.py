"""Template security and integrity: what template.yaml promises before anything is deployed.

Offline, from template.yaml alone (the running local stack is not used): checkov and cfn-lint
findings, IAM statements granting wildcard actions on every resource (inline policies, SAM
policy templates and the AWS managed policies SAM attaches, resolved from moto's copy), failure
destinations of the asynchronously invoked functions, each function's timeout against the
window of what invokes it, and the stack as moto's CloudFormation creates it.
tests/infra/test_template_security.py and test_cfn_stack.py assert on the same functions.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infra.cfn_template import (
    REPO_ROOT,
    TEMPLATE_PATH,
    create_stack_in_moto,
    load_template,
    resources_of_type,
    to_cloudformation,
    unresolved_references,
)
from infra.state_machines import load_definition
from tests.reliability import Figure, StackContext

AREA = "template"
REGION = "eu-west-1"

# `make reliability` installs .venv-checkov first and passes its checkov as CHECKOV.
CHECKOV = Path(os.environ.get("CHECKOV") or REPO_ROOT / ".venv-checkov" / "bin" / "checkov")
# As `make lint` runs it: no package-update check, no platform mapping, no downloads.
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}
CHECKOV_FRAMEWORKS = ("cloudformation", "serverless")

# AWS defaults and limits that bound the windows below.
LAMBDA_DEFAULT_TIMEOUT = 3
ASYNC_DEFAULT_RETRIES = 2
ASYNC_DEFAULT_EVENT_AGE = 21_600
SCHEDULER_DEFAULT_EVENT_AGE = 86_400
SQS_DEFAULT_VISIBILITY = 30
STEP_FUNCTIONS_DEFAULT_TASK_TIMEOUT = 99_999_999
API_GATEWAY_INTEGRATION_LIMIT = 30  # seconds, HTTP and REST APIs alike

# SAM event types by how Lambda is invoked.
SYNC_EVENTS = frozenset({"Api", "HttpApi"})
ASYNC_EVENTS = frozenset(
    {
        "Schedule",
        "ScheduleV2",
        "S3",
        "SNS",
        "EventBridgeRule",
        "CloudWatchEvent",
        "CloudWatchLogs",
        "IoTRule",
        "Cognito",
    }
)
STREAM_EVENTS = frozenset({"DynamoDB", "Kinesis"})
QUEUE_EVENTS = frozenset({"SQS"})


# --------------------------------------------------------------------- tools
@dataclass(frozen=True)
class CheckovReport:
    passed: int
    failed: int
    skipped: int
    failures: tuple[str, ...]  # "CKV_AWS_x Resource.Name"
    skips_without_reason: tuple[str, ...]


def run_checkov(template_path: Path = TEMPLATE_PATH) -> CheckovReport | None:
    """checkov on the template, as `make lint` runs it; None when .venv-checkov is missing."""
    if not CHECKOV.exists():
        return None
    command = [str(CHECKOV), "-f", str(template_path), "--framework", *CHECKOV_FRAMEWORKS]
    command += ["--skip-download", "--compact", "--output", "json"]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, **CHECKOV_ENV},
        timeout=300,
    )
    try:
        parsed = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise RuntimeError(
            f"checkov did not report (exit {completed.returncode}): {completed.stderr[-2000:]}"
        ) from error
    reports = parsed if isinstance(parsed, list) else [parsed]
    passed = failed = skipped = 0
    failures: list[str] = []
    unjustified: list[str] = []
    for report in reports:
        summary = report.get("summary", {})
        passed += summary.get("passed", 0)
        failed += summary.get("failed", 0)
        skipped += summary.get("skipped", 0)
        results = report.get("results", {})
        failures += [f"{c['check_id']} {c['resource']}" for c in results.get("failed_checks", [])]
        unjustified += [
            f"{c['check_id']} {c['resource']}"
            for c in results.get("skipped_checks", [])
            if not str(c.get("check_result", {}).get("suppress_comment", "")).strip()
        ]
    return CheckovReport(passed, failed, skipped, tuple(failures), tuple(unjustified))


def cfn_lint_findings(template_path: Path = TEMPLATE_PATH) -> list[str]:
    """cfn-lint's findings on the template (errors, warnings and informational alike)."""
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(Path(template_path), ManualArgs(regions=[REGION]))
    return [f"{m.rule.id} {m.filename}:{m.linenumber} {m.message}" for m in matches]


@cache
def translated_template() -> dict[str, Any]:
    """template.yaml through the SAM transform (offline); cached, callers must not mutate it."""
    return to_cloudformation(load_template(), region=REGION)


# ------------------------------------------------------------------------ IAM
def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@cache
def _aws_managed_policies() -> dict[str, Any]:
    """AWS managed policy documents by name, from the copy moto ships."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies: dict[str, Any] = json.loads(aws_managed_policies_data)
    return policies


def _aws_managed_policy_document(arn: Any) -> dict[str, Any] | None:
    if not isinstance(arn, str) or ":iam::aws:policy/" not in arn:
        return None
    policy = _aws_managed_policies().get(arn.rsplit("/", 1)[-1])
    return policy["Document"] if policy else None


def unresolved_managed_policies(cloudformation: Mapping[str, Any]) -> list[str]:
    """Managed policy ARNs of roles that are neither AWS managed (known) nor of the template."""
    unresolved = []
    for logical_id, role in resources_of_type(cloudformation, "AWS::IAM::Role").items():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            in_template = isinstance(arn, Mapping) and arn.get("Ref") in cloudformation["Resources"]
            if not in_template and _aws_managed_policy_document(arn) is None:
                unresolved.append(f"{logical_id}: {arn}")
    return unresolved


def _policy_documents(cloudformation: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for logical_id, resource in cloudformation["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            for policy in props.get("Policies", []):
                yield logical_id, policy.get("PolicyDocument")
            for arn in props.get("ManagedPolicyArns", []):
                document = _aws_managed_policy_document(arn)
                if document is not None:
                    yield f"{logical_id} ({str(arn).rsplit('/', 1)[-1]})", document
        elif kind in (
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::S3::BucketPolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::SNS::TopicPolicy",
        ):
            yield logical_id, props.get("PolicyDocument")


def allow_statements(cloudformation: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(owner, statement) for every Allow statement of the translated template.

    The SAM transform has already expanded the function policies and policy templates into
    the roles' inline policies; AWS managed policies are resolved from moto's copy. Deny
    statements grant nothing and are left out.
    """
    found = []
    for owner, document in _policy_documents(cloudformation):
        if not isinstance(document, Mapping):
            continue
        for statement in _as_list(document.get("Statement", [])):
            if isinstance(statement, Mapping) and statement.get("Effect") == "Allow":
                found.append((owner, dict(statement)))
    return found


def is_wildcard_grant(statement: Mapping[str, Any]) -> bool:
    """Action `*` anywhere, NotAction, or a `service:*` action on Resource `*`."""
    if "NotAction" in statement:
        return True
    actions = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str)]
    resources = _as_list(statement.get("Resource", []))
    if "*" in actions:
        return True
    return "*" in resources and any(a.endswith(":*") for a in actions)


def wildcard_statements(cloudformation: Mapping[str, Any]) -> list[str]:
    return [
        f"{owner}: {statement.get('Sid', '')} {statement.get('Action', statement.get('NotAction'))}"
        for owner, statement in allow_statements(cloudformation)
        if is_wildcard_grant(statement)
    ]


# ------------------------------------------------------------ invocations
@dataclass(frozen=True)
class Invoker:
    """One way a function is invoked: `kind` is sync, async, stream, queue or state-machine."""

    function: str
    kind: str
    source: str  # event name, receipt rule, state machine task...
    settings: Mapping[str, Any]


def _function_of(value: Any, functions: Mapping[str, Any]) -> str | None:
    """The function a Ref / GetAtt ...Arn / `arn:<Function>` placeholder points at."""
    if isinstance(value, Mapping):
        target = value.get("Ref") or _as_list(value.get("Fn::GetAtt", [None]))[0]
        return target if target in functions else None
    if isinstance(value, str) and value.startswith("arn:") and value[4:] in functions:
        return value[4:]
    return None


def _placeholder(value: Any, template: Mapping[str, Any]) -> Any:
    """A stand-in for a DefinitionSubstitutions value: parameter defaults, `arn:<Resource>`."""
    if isinstance(value, Mapping) and "Ref" in value:
        parameter = template.get("Parameters", {}).get(value["Ref"])
        return parameter.get("Default") if parameter else f"arn:{value['Ref']}"
    if isinstance(value, Mapping) and "Fn::GetAtt" in value:
        return f"arn:{_as_list(value['Fn::GetAtt'])[0]}"
    return value


def _task_states(states: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, state in states.items():
        if state.get("Type") == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from _task_states(branch.get("States", {}))
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _task_states(state[key].get("States", {}))


def _state_machine_invokers(
    template: Mapping[str, Any], functions: Mapping[str, Any]
) -> Iterator[Invoker]:
    machines = resources_of_type(template, "AWS::Serverless::StateMachine")
    for machine_id, machine in machines.items():
        props = machine["Properties"]
        if "DefinitionUri" not in props:
            continue
        substitutions = {
            name: _placeholder(value, template)
            for name, value in props.get("DefinitionSubstitutions", {}).items()
        }
        definition = load_definition(REPO_ROOT / props["DefinitionUri"], substitutions)
        for name, state in _task_states(definition["States"]):
            resource = state.get("Resource", "")
            target = (
                state.get("Parameters", {}).get("FunctionName")
                if ":lambda:" in resource or "lambda:invoke" in resource
                else resource
            )
            function = _function_of(target, functions)
            if function is not None:
                yield Invoker(function, "state-machine", f"{machine_id}.{name}", state)


def _receipt_rule_invokers(
    template: Mapping[str, Any], functions: Mapping[str, Any]
) -> Iterator[Invoker]:
    for rule_id, rule in resources_of_type(template, "AWS::SES::ReceiptRule").items():
        for action in rule["Properties"]["Rule"].get("Actions", []):
            lambda_action = action.get("LambdaAction")
            function = _function_of(lambda_action and lambda_action["FunctionArn"], functions)
            if function is not None:
                kind = (
                    "sync" if lambda_action.get("InvocationType") == "RequestResponse" else "async"
                )
                yield Invoker(function, kind, rule_id, lambda_action)


def _event_kind(event_type: str) -> str:
    for kind, types in (
        ("sync", SYNC_EVENTS),
        ("async", ASYNC_EVENTS),
        ("stream", STREAM_EVENTS),
        ("queue", QUEUE_EVENTS),
    ):
        if event_type in types:
            return kind
    return f"unknown ({event_type})"


def invokers(template: Mapping[str, Any]) -> list[Invoker]:
    """Every invoker of every function: SAM events, SES receipt rules, state machine tasks."""
    functions = resources_of_type(template, "AWS::Serverless::Function")
    found = [
        Invoker(function_id, _event_kind(event["Type"]), event_name, event.get("Properties", {}))
        for function_id, function in functions.items()
        for event_name, event in function["Properties"].get("Events", {}).items()
    ]
    found += _receipt_rule_invokers(template, functions)
    found += _state_machine_invokers(template, functions)
    return found


def async_functions(template: Mapping[str, Any]) -> set[str]:
    """Functions invoked asynchronously or from a stream/queue: their failures need a place."""
    return {i.function for i in invokers(template) if i.kind in ("async", "stream", "queue")}


def _function_props(template: Mapping[str, Any], function: str) -> Mapping[str, Any]:
    props: Mapping[str, Any] = template["Resources"][function]["Properties"]
    return props


def _async_failure_problems(template: Mapping[str, Any], invoker: Invoker) -> list[str]:
    props = _function_props(template, invoker.function)
    problems = []
    on_failure = props.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure")
    if not on_failure and not props.get("DeadLetterQueue"):
        problems.append(f"{invoker.function}: invoked asynchronously, no OnFailure nor DLQ")
    event = props.get("Events", {}).get(invoker.source, {})
    if event.get("Type") == "ScheduleV2" and not invoker.settings.get("DeadLetterConfig"):
        problems.append(f"{invoker.function}.{invoker.source}: schedule without DeadLetterConfig")
    return problems


def _stream_failure_problems(invoker: Invoker) -> list[str]:
    settings = invoker.settings
    where = f"{invoker.function}.{invoker.source}"
    problems = []
    if not settings.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"):
        problems.append(f"{where}: stream events without an OnFailure destination")
    for bound in ("MaximumRetryAttempts", "MaximumRecordAgeInSeconds"):
        if settings.get(bound) in (None, -1):
            problems.append(f"{where}: {bound} unbounded (a bad record blocks its shard)")
    return problems


def _queue_failure_problems(template: Mapping[str, Any], invoker: Invoker) -> list[str]:
    queue_id = _as_list(invoker.settings.get("Queue", {}).get("Fn::GetAtt", [None]))[0]
    queue = template["Resources"].get(queue_id, {}).get("Properties", {})
    if queue.get("RedrivePolicy", {}).get("deadLetterTargetArn"):
        return []
    return [f"{invoker.function}.{invoker.source}: source queue without a redrive policy"]


def failure_handling_problems(template: Mapping[str, Any]) -> list[str]:
    """Async, stream and queue invocations whose failed events would be dropped or stuck."""
    problems: list[str] = []
    for invoker in invokers(template):
        if invoker.kind == "async":
            problems += _async_failure_problems(template, invoker)
        elif invoker.kind == "stream":
            problems += _stream_failure_problems(invoker)
        elif invoker.kind == "queue":
            problems += _queue_failure_problems(template, invoker)
    return list(dict.fromkeys(problems))


def functions_with_failure_handling(template: Mapping[str, Any]) -> set[str]:
    """The async/stream/queue functions none of whose invocations has a failure problem."""
    failing = {p.split(":", 1)[0].split(".", 1)[0] for p in failure_handling_problems(template)}
    return async_functions(template) - failing


# ------------------------------------------------------------------ timeouts
@dataclass(frozen=True)
class TimeoutWindow:
    """A function's timeout times its attempts must fit strictly within its invoker's window."""

    function: str
    source: str
    timeout: int
    attempts: int
    window: int | None  # None: unbounded, which is itself a finding
    rule: str

    @property
    def ok(self) -> bool:
        return self.window is not None and self.timeout * self.attempts < self.window


def function_timeout(template: Mapping[str, Any], function: str) -> int:
    globals_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout")
    timeout: int = _function_props(template, function).get(
        "Timeout", globals_timeout or LAMBDA_DEFAULT_TIMEOUT
    )
    return timeout


def _windows_of(template: Mapping[str, Any], invoker: Invoker) -> list[TimeoutWindow]:
    function, source, settings = invoker.function, invoker.source, invoker.settings
    timeout = function_timeout(template, function)
    if invoker.kind == "sync":
        return [
            TimeoutWindow(
                function,
                source,
                timeout,
                1,
                API_GATEWAY_INTEGRATION_LIMIT,
                "API Gateway integration limit",
            )
        ]
    if invoker.kind == "async":
        invoke_config = _function_props(template, function).get("EventInvokeConfig", {})
        retries = invoke_config.get("MaximumRetryAttempts", ASYNC_DEFAULT_RETRIES)
        age = invoke_config.get("MaximumEventAgeInSeconds", ASYNC_DEFAULT_EVENT_AGE)
        windows = [
            TimeoutWindow(
                function, source, timeout, retries + 1, age, "async event age, every retry"
            )
        ]
        if "RetryPolicy" in settings or "ScheduleExpression" in settings:
            scheduler_age = settings.get("RetryPolicy", {}).get(
                "MaximumEventAgeInSeconds", SCHEDULER_DEFAULT_EVENT_AGE
            )
            windows.append(
                TimeoutWindow(function, source, timeout, 1, scheduler_age, "scheduler retry window")
            )
        return windows
    if invoker.kind == "stream":
        retries = settings.get("MaximumRetryAttempts")
        age = settings.get("MaximumRecordAgeInSeconds")
        bounded = retries not in (None, -1) and age not in (None, -1)
        return [
            TimeoutWindow(
                function,
                source,
                timeout,
                (retries or 0) + 1,
                age if bounded else None,
                "stream record age, every retry",
            )
        ]
    if invoker.kind == "queue":
        queue_id = _as_list(settings.get("Queue", {}).get("Fn::GetAtt", [None]))[0]
        queue = template["Resources"].get(queue_id, {}).get("Properties", {})
        visibility = queue.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY)
        return [TimeoutWindow(function, source, timeout, 1, visibility, "queue visibility timeout")]
    if invoker.kind == "state-machine":
        task_timeout = settings.get("TimeoutSeconds", STEP_FUNCTIONS_DEFAULT_TASK_TIMEOUT)
        return [
            TimeoutWindow(function, source, timeout, 1, task_timeout, "state machine task timeout")
        ]
    return [TimeoutWindow(function, source, timeout, 1, None, f"no rule for {invoker.kind}")]


def timeout_windows(template: Mapping[str, Any]) -> list[TimeoutWindow]:
    """Each function timeout against each of its invokers' windows."""
    return [window for invoker in invokers(template) for window in _windows_of(template, invoker)]


# ------------------------------------------------------------------- figures
def _checkov_figures() -> list[Figure]:
    report = run_checkov()
    if report is None:
        return [
            Figure(AREA, "checkov", "not installed", False, f"no {CHECKOV}: make venv-checkov")
        ]
    return [
        Figure(AREA, "checkov checks passed", report.passed),
        Figure(
            AREA,
            "checkov checks failed",
            report.failed,
            report.failed == 0,
            " ".join(report.failures),
        ),
        Figure(
            AREA,
            "checkov checks skipped (justified in place)",
            report.skipped,
            not report.skips_without_reason,
            f"{len(report.skips_without_reason)} without a reason",
        ),
    ]


def _stack_figures(cloudformation: Mapping[str, Any]) -> list[Figure]:
    stack = create_stack_in_moto(cloudformation, region=REGION)
    skipped_types = sorted({cloudformation["Resources"][r]["Type"] for r in stack.skipped})
    return [
        Figure(
            AREA,
            "stack status in moto CloudFormation",
            stack.status,
            stack.status == "CREATE_COMPLETE",
            stack.reason,
        ),
        Figure(
            AREA,
            "resources created in moto",
            f"{len(stack.created)} of {len(cloudformation['Resources'])}",
            bool(stack.created),
            f"moto skips {', '.join(skipped_types)}",
        ),
    ]


def measure(context: StackContext | None = None) -> list[Figure]:
    """The template's figures; the context is not used (everything is read from the files)."""
    template = load_template()
    cloudformation = translated_template()
    lint = cfn_lint_findings()
    wildcards = wildcard_statements(cloudformation)
    statements = allow_statements(cloudformation)
    references = unresolved_references(cloudformation)
    needing = async_functions(template)
    problems = failure_handling_problems(template)
    covered = functions_with_failure_handling(template)
    windows = timeout_windows(template)
    late = [w for w in windows if not w.ok]
    return [
        *_checkov_figures(),
        Figure(AREA, "cfn-lint findings", len(lint), not lint, "; ".join(lint[:3])),
        Figure(
            AREA,
            "IAM wildcard grants on *",
            len(wildcards),
            not wildcards,
            f"of {len(statements)} Allow statements; unresolved managed policies: "
            f"{len(unresolved_managed_policies(cloudformation))}",
        ),
        Figure(
            AREA, "unresolved references", len(references), not references, "; ".join(references)
        ),
        *_stack_figures(cloudformation),
        Figure(
            AREA,
            "async functions with DLQ/destination",
            f"{len(covered)} of {len(needing)}",
            covered == needing,
            "; ".join(problems),
        ),
        Figure(
            AREA,
            "timeouts within their invoker's window",
            f"{len(windows) - len(late)} of {len(windows)}",
            not late,
            "; ".join(
                f"{w.function} {w.timeout}s x{w.attempts} vs {w.window} ({w.rule})" for w in late
            ),
        ),
    ]
