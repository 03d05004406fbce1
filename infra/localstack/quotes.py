"""The quote-approval state machine, locally: moto runs the committed definition (executions
enabled in `LocalStack._start_aws`), its Lambda tasks call the QuoteFunction handler in this
process (infra.moto_lambda), and `GET /_local/executions` shows where each execution is."""

from __future__ import annotations

import os
from typing import Any

import boto3

from infra.localstack.apigw import HttpReply
from infra.localstack.helpers import Helper, LocalRequest
from infra.localstack.problems import json_reply
from infra.state_machines import execution_summary


def executions_helper(region: str) -> Helper:
    """Every execution of the quote-approval machine, oldest first: `name`, `status`, `state`
    (the state it is in, or ended in: Approved, Refused, Expired, TicketMovedOn...) and
    `waiting_for_callback` (its task token is stored and it waits for the decision)."""

    def executions(_request: LocalRequest) -> HttpReply:
        machine = os.environ.get("QUOTE_STATE_MACHINE_ARN", "")
        sfn = boto3.client("stepfunctions", region_name=region)
        listed: list[dict[str, Any]] = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            listed.extend(page["executions"])
        listed.sort(key=lambda e: e["startDate"])
        items = [execution_summary(sfn, e["executionArn"]) for e in listed]
        return json_reply(200, {"items": items, "next_cursor": None})

    return executions
