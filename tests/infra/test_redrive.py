"""`make redrive QUEUE=...` (infra/redrive.py): each dead-letter message run again by the
function that failed it, deleted only once that run succeeded (docs/operations.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.cfn_template import load_template
from infra.redrive import NotRedrivable, event_of, function_of_queue, redrive, stream_records
from tests.infra.alarm_checks import dead_letter_queues

REGION = "eu-west-1"
SCHEDULE_INPUT = {"job": "auto-close", "at": "2026-11-30T10:00:00Z"}
SES_EVENT = {"Records": [{"ses": {"mail": {"messageId": "m-1"}}}]}
UPLOAD_EVENT = {
    "source": "aws.s3",
    "detail-type": "Object Created",
    "detail": {"bucket": {"name": "b"}, "object": {"key": "tickets/7/attachments/a1"}},
}
STREAM = "arn:aws:dynamodb:eu-west-1:1:table/t/stream/2026"


def test_every_dead_letter_queue_has_the_function_that_redrives_it() -> None:
    template = load_template()
    assert {q: function_of_queue(template, q) for q in dead_letter_queues(template)} == {
        "JobsDeadLetterQueue": "JobsFunction",
        "NotifierDeadLetterQueue": "NotifierFunction",
        "MailIngestDeadLetterQueue": "MailIngestFunction",
        "AttachmentCheckDeadLetterQueue": "AttachmentCheckFunction",
    }
    with pytest.raises(NotRedrivable):
        function_of_queue(template, "TicketsTable")


class Streams:
    """dynamodbstreams' get_shard_iterator / get_records over a list of records."""

    def __init__(self, sequences: list[int]) -> None:
        self.records: list[dict[str, Any]] = [
            {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(n)}} for n in sequences
        ]

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["ShardIteratorType"] == "AT_SEQUENCE_NUMBER"
        start = [r["dynamodb"]["SequenceNumber"] for r in self.records].index(
            kwargs["SequenceNumber"]
        )
        return {"ShardIterator": str(start)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        page = self.records[start : start + 2]  # small pages: the reader follows them
        return {"Records": page, "NextShardIterator": str(start + 2)}


def test_a_stream_batch_is_read_back_from_its_first_to_its_last_record() -> None:
    batch = {
        "streamArn": STREAM,
        "shardId": "s-1",
        "startSequenceNumber": "200",
        "endSequenceNumber": "500",
    }
    records = stream_records(Streams([100, 200, 300, 400, 500, 600]), batch)
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == ["200", "300", "400", "500"]
    assert {r["eventSourceARN"] for r in records} == {STREAM}


@pytest.mark.parametrize(
    ("body", "event"),
    [
        ({"requestContext": {}, "requestPayload": SES_EVENT, "responsePayload": {}}, SES_EVENT),
        (SCHEDULE_INPUT, SCHEDULE_INPUT),
        (UPLOAD_EVENT, UPLOAD_EVENT),
    ],
    ids=["lambda destination record", "scheduler dead letter", "eventbridge rule dead letter"],
)
def test_the_event_of_each_kind_of_message(body: dict[str, Any], event: dict[str, Any]) -> None:
    assert event_of(body, None) == event


def test_records_that_left_the_stream_cannot_be_redriven() -> None:
    batch = {
        "streamArn": STREAM,
        "shardId": "s",
        "startSequenceNumber": "1",
        "endSequenceNumber": "1",
    }

    class Trimmed(Streams):
        def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
            return {"Records": []}

    with pytest.raises(NotRedrivable, match="24 hours"):
        event_of({"DDBStreamBatchInfo": batch}, Trimmed([1]))


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def test_a_message_is_deleted_once_its_run_succeeded_and_kept_when_it_fails(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    ok = {"requestPayload": SCHEDULE_INPUT | {"at": "2026-11-30T11:00:00Z"}}
    for body in (ok, SCHEDULE_INPUT, {"what": "not ours"}):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    calls: list[tuple[str, Mapping[str, Any]]] = []

    def invoke(function: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append((function, event))
        if event["at"] == SCHEDULE_INPUT["at"]:
            return {"FunctionError": "Unhandled", "Payload": {"errorMessage": "boom"}}
        return {"StatusCode": 200, "Payload": {"job": "auto-close"}}

    lines: list[str] = []
    report = redrive(sqs, url, "helpdesk-dev-JobsFunction", invoke, log=lines.append)
    assert (report.redriven, report.failed, report.skipped) == (1, 1, 1)
    assert sorted(event["at"] for _, event in calls) == [
        "2026-11-30T10:00:00Z",
        "2026-11-30T11:00:00Z",
    ]
    assert {function for function, _ in calls} == {"helpdesk-dev-JobsFunction"}
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    kept = int(attributes["ApproximateNumberOfMessages"])
    kept += int(attributes["ApproximateNumberOfMessagesNotVisible"])
    assert kept == 2  # the failed one and the unknown one stay for a person to look at


def test_the_notifier_s_partial_failures_keep_the_message(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="notifier-dlq")["QueueUrl"]
    batch = {
        "streamArn": STREAM,
        "shardId": "s",
        "startSequenceNumber": "1",
        "endSequenceNumber": "2",
    }
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"DDBStreamBatchInfo": batch}))

    def invoke(function: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
        assert len(event["Records"]) == 2
        return {"StatusCode": 200, "Payload": {"batchItemFailures": [{"itemIdentifier": "2"}]}}

    report = redrive(sqs, url, "notifier", invoke, Streams([1, 2]), log=lambda _: None)
    assert (report.redriven, report.failed) == (0, 1)


def test_a_dry_run_invokes_nothing(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(SCHEDULE_INPUT))

    def invoke(function: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
        raise AssertionError("a dry run invokes nothing")

    lines: list[str] = []
    redrive(sqs, url, "jobs", invoke, dry_run=True, log=lines.append)
    assert len(lines) == 1 and "would invoke jobs" in lines[0]
