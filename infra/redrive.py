"""`make redrive QUEUE=<logical id>`: run again what a dead-letter queue of the stack holds.

The stack's dead-letter queues are failure destinations, not SQS redrive targets (no source
queue to move messages back to, so `aws sqs start-message-move-task` does not apply): each
message is turned back into the event of the function that failed, the function is invoked
with it synchronously, and the message is deleted only when that run succeeded. Every entry
point is idempotent (DESIGN §6), so running an event that had in fact been handled changes
nothing. Which function a queue belongs to is read from template.yaml (the function whose
failure configuration names the queue); the physical names come from the deployed stack.

Messages, by who sent them:
- a Lambda asynchronous-invocation failure destination (JobsFunction, MailIngestFunction,
  AttachmentCheckFunction):
  `{"requestContext": ..., "requestPayload": <the event>, "responsePayload": ...}`;
- an EventBridge Scheduler dead-letter queue (the schedules of JobsFunction): the body is the
  schedule's input itself, `{"job": ..., "at": ...}`;
- an EventBridge rule's dead-letter queue (the S3 events of AttachmentCheckFunction): the body
  is the event itself, `{"detail-type": "Object Created", "detail": ...}`;
- a DynamoDB stream mapping's OnFailure destination (NotifierFunction): `{"DDBStreamBatchInfo":
  {"streamArn", "shardId", "startSequenceNumber", "endSequenceNumber", ...}}`, only where the
  records are: they are read back from the stream (kept 24 hours) and handed to the notifier.

Usage: python -m infra.redrive --stack helpdesk-dev --queue NotifierDeadLetterQueue [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.cfn_template import failure_targets, load_template, resources_of_type

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")

Invoke = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]  # (function, event) -> reply


class NotRedrivable(ValueError):
    """A message this tool cannot turn back into its function's event."""


def function_of_queue(template: Mapping[str, Any], queue: str) -> str:
    """The function whose failures (its own, its events', its schedules') go to `queue`."""
    found = [
        function
        for kind in FUNCTION_TYPES
        for function, resource in resources_of_type(template, kind).items()
        if queue in set(failure_targets(resource))
    ]
    if len(found) != 1:
        raise NotRedrivable(f"{queue} is the dead-letter queue of {found or 'no function'}")
    return found[0]


# ------------------------------------------------------------------ messages
def stream_records(streams: Any, batch: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The records of a stream batch (from its start to its end sequence number)."""
    iterator = streams.get_shard_iterator(
        StreamArn=batch["streamArn"],
        ShardId=batch["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=batch["startSequenceNumber"],
    )["ShardIterator"]
    end = int(batch["endSequenceNumber"])
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        for record in page["Records"]:
            sequence = int(record["dynamodb"]["SequenceNumber"])
            if sequence > end:
                return records
            record.setdefault("eventSourceARN", batch["streamArn"])
            records.append(record)
            if sequence == end:
                return records
        if not page["Records"]:
            return records
        iterator = page.get("NextShardIterator")
    return records


def event_of(body: Mapping[str, Any], streams: Any) -> dict[str, Any]:
    """The failed function's event, from a dead-letter message's body."""
    if "requestPayload" in body:  # a Lambda destination record
        payload: dict[str, Any] = body["requestPayload"]
        return payload
    if "DDBStreamBatchInfo" in body:
        records = stream_records(streams, body["DDBStreamBatchInfo"])
        if not records:
            raise NotRedrivable("its records have left the stream (kept 24 hours)")
        return {"Records": records}
    if "job" in body and "at" in body:  # a schedule's input (Scheduler's dead-letter queue)
        return dict(body)
    if "detail-type" in body and "detail" in body:  # an EventBridge rule's dead-letter queue
        return dict(body)
    raise NotRedrivable(f"unknown message: {json.dumps(body)[:300]}")


def failed(reply: Mapping[str, Any]) -> str | None:
    """Why a synchronous run failed (None when it succeeded)."""
    if reply.get("FunctionError"):
        return f"{reply['FunctionError']}: {reply.get('Payload', '')}"[:500]
    payload = reply.get("Payload")
    if isinstance(payload, Mapping) and payload.get("batchItemFailures"):
        return f"records failed again: {payload['batchItemFailures']}"
    return None


@dataclass
class Report:
    redriven: int = 0
    failed: int = 0
    skipped: int = 0


def redrive(
    sqs: Any,
    queue_url: str,
    function: str,
    invoke: Invoke,
    streams: Any = None,
    *,
    dry_run: bool = False,
    log: Callable[[str], None] = print,
) -> Report:
    """Each message once: invoked again, and deleted when the run succeeded."""
    report = Report()
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=900, WaitTimeSeconds=1
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            return report
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                event = event_of(json.loads(message["Body"]), streams)
            except (NotRedrivable, ValueError, KeyError) as exc:
                report.skipped += 1
                log(f"{message['MessageId']}: left in the queue: {exc}")
                continue
            if dry_run:
                log(
                    f"{message['MessageId']}: would invoke {function} with {json.dumps(event)[:200]}"
                )
                continue
            why = failed(invoke(function, event))
            if why is None:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                report.redriven += 1
                log(f"{message['MessageId']}: {function} ran it; deleted")
            else:
                report.failed += 1
                log(f"{message['MessageId']}: failed again, left in the queue: {why}")


def lambda_invoker(client: Any) -> Invoke:
    def invoke(function: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
        reply = client.invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event)
        )
        text = reply["Payload"].read()
        return {**reply, "Payload": json.loads(text) if text else None}

    return invoke


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the deployed stack, e.g. helpdesk-dev")
    parser.add_argument("--queue", required=True, help="the queue's logical id in template.yaml")
    parser.add_argument("--dry-run", action="store_true", help="show the events, invoke nothing")
    args = parser.parse_args(argv)
    import boto3

    function_id = function_of_queue(load_template(), args.queue)
    cloudformation = boto3.client("cloudformation")

    def physical(logical_id: str) -> str:
        described = cloudformation.describe_stack_resource(
            StackName=args.stack, LogicalResourceId=logical_id
        )
        return str(described["StackResourceDetail"]["PhysicalResourceId"])

    report = redrive(
        boto3.client("sqs"),
        physical(args.queue),  # a queue's physical id is its URL
        physical(function_id),
        lambda_invoker(boto3.client("lambda")),
        boto3.client("dynamodbstreams"),
        dry_run=args.dry_run,
    )
    print(
        f"{args.queue}: {report.redriven} redriven, {report.failed} failed again, "
        f"{report.skipped} left (see above)"
    )
    return 1 if report.failed or report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
