"""The committed state machine definitions (infra/statemachines/*.asl.json), for moto.

In AWS, template.yaml's `DefinitionUri` + `DefinitionSubstitutions` make CloudFormation
replace each `${Name}` in the file. moto's CloudFormation ignores DefinitionSubstitutions, and
its executor cannot see a machine created through CloudFormation, so the local stack and the
tests apply the substitutions here and create the machine with the API, from the same file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.cfn_template import REPO_ROOT, Template
from infra.moto_lambda import placeholder_zip

STATE_MACHINES_DIR = REPO_ROOT / "infra" / "statemachines"
QUOTE_APPROVAL_ASL = STATE_MACHINES_DIR / "quote_approval.asl.json"
_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
# Terminal states of the quote-approval machine, for tests and the local helper.
QUOTE_END_STATES = (
    "Approved",
    "Refused",
    "Withdrawn",
    "Expired",
    "TicketMovedOn",
    "UnknownDecision",
)


class MissingSubstitution(KeyError):
    """The definition names a `${Name}` that no substitution gives."""


def substitute(text: str, substitutions: Mapping[str, Any]) -> str:
    """Replace every `${Name}` as CloudFormation does (textually); all must be given."""
    missing = sorted(set(_SUBSTITUTION.findall(text)) - set(substitutions))
    if missing:
        raise MissingSubstitution(f"no substitution for {', '.join(missing)}")
    return _SUBSTITUTION.sub(lambda m: str(substitutions[m.group(1)]), text)


def load_definition(path: Path, substitutions: Mapping[str, Any]) -> dict[str, Any]:
    """The definition with its substitutions applied, parsed (it must then be JSON)."""
    parsed: dict[str, Any] = json.loads(substitute(path.read_text(encoding="utf-8"), substitutions))
    return parsed


def template_substitution_names(template: Template, logical_id: str) -> set[str]:
    """The names template.yaml substitutes for this state machine."""
    props = template["Resources"][logical_id]["Properties"]
    return set(props.get("DefinitionSubstitutions", {}))


def create_quote_approval(
    session: Any,
    region: str,
    *,
    table_name: str,
    function_name: str,
    machine_name: str = "helpdesk-quote-approval",
) -> tuple[str, str]:
    """Create the QuoteFunction (placeholder code) and the machine from the committed ASL.

    Returns (state machine ARN, function ARN). moto must be active; route the function's
    invocations to its handler with `infra.moto_lambda.register(function_name, ...)`. The
    waits are not part of the machine: each execution's input carries its own (the notifier's
    QUOTE_DAY_SECONDS makes them short locally and in tests).
    """
    iam = session.client("iam", region_name=region)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role_arn = iam.create_role(
        RoleName=f"{machine_name}-role", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    function_arn = session.client("lambda", region_name=region).create_function(
        FunctionName=function_name,
        Runtime="python3.13",
        Role=role_arn,
        Handler="app.lambda_handler",
        Code={"ZipFile": placeholder_zip()},
        Timeout=30,
    )["FunctionArn"]
    definition = load_definition(
        QUOTE_APPROVAL_ASL,
        {"TableName": table_name, "QuoteFunctionArn": function_arn},
    )
    machine_arn = session.client("stepfunctions", region_name=region).create_state_machine(
        name=machine_name, definition=json.dumps(definition), roleArn=role_arn, type="STANDARD"
    )["stateMachineArn"]
    return machine_arn, function_arn


def execution_summary(sfn: Any, execution_arn: str) -> dict[str, Any]:
    """name, status, the state it is in (or ended in), and whether it waits for a callback."""
    described = sfn.describe_execution(executionArn=execution_arn)
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    entered = [
        details["name"]
        for event in events
        if (details := event.get("stateEnteredEventDetails")) is not None
    ]
    last = events[-1]["type"] if events else ""
    return {
        "name": described["name"],
        "status": described["status"],
        "state": entered[-1] if entered else None,
        "waiting_for_callback": described["status"] == "RUNNING" and last == "TaskSubmitted",
    }
