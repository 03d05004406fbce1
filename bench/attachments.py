"""`python -m bench attachments`: the attachment check (DESIGN.md §11), per S3 event.

- AWS requests of the check function (functions/attachments) for one event: a file that
  becomes available, one rejected, and the same event delivered again; counted by the same
  botocore hook as the API routes (bench/calls_per_route.py), against moto.
- Peak Python memory (tracemalloc) of the check of a 10 MiB file, streamed in 64 KiB chunks
  (helpdesk.adapters.attachments.CHUNK_BYTES) through the use case and the DynamoDB records
  (moto), the file's bytes produced chunk by chunk as S3's streaming body hands them over; and,
  for comparison, the same file read whole first. moto's own copy of an object would be
  counted too, so the 10 MiB file is not served by moto's S3 here.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.calls_per_route import (
    ATTACHMENTS_BUCKET,
    PNG,
    REGION,
    TABLE,
    Call,
    api_over_moto,
    operations_of,
)

MIB = 1024 * 1024
CHUNK = 64 * 1024


@dataclass(frozen=True)
class CheckCount:
    label: str
    calls: list[Call]

    @property
    def operations(self) -> str:
        return operations_of(self.calls)


@dataclass(frozen=True)
class Memory:
    label: str
    peak_bytes: int
    seconds: float


class _GeneratedFiles:
    """The files port with one object of `size` bytes made chunk by chunk (a PNG header, then
    zeros): what a streaming S3 body gives, without a 10 MiB buffer anywhere."""

    def __init__(self, size: int, whole: bool = False) -> None:
        self.size = size
        self.whole = whole

    def _chunks(self) -> Iterator[bytes]:
        left = self.size
        first = True
        while left > 0:
            n = min(CHUNK, left)
            yield (PNG[:8] + bytes(n - 8)) if first else bytes(n)
            first = False
            left -= n

    def open(self, key: str, version_id: str | None = None) -> Any:
        from helpdesk.ports_attachments import StoredFile

        if self.whole:  # the naive way: the whole object in memory, then checked
            data = b"".join(self._chunks())
            return StoredFile("v1", iter([data]))
        return StoredFile("v1", self._chunks())

    def scan_status(self, key: str, version_id: str | None = None) -> str | None:
        return None

    def discard(self, key: str, version_id: str | None) -> None:
        pass


def measure() -> tuple[list[CheckCount], list[Memory]]:
    counts: list[CheckCount] = []
    memory: list[Memory] = []
    with api_over_moto() as (api, counter):
        import boto3

        s3 = boto3.client("s3", region_name=REGION)
        number = api.create("Screenshot attached")
        service = api.module.attachments.get_attachments()

        def announce(size: int) -> str:
            body = {"filename": "screen.png", "content_type": "image/png", "size": size}
            reply = api.call("POST", f"/tickets/{number}/attachments", "client", body)
            assert reply.status == 201, reply
            return str(reply.body["upload"]["fields"]["key"])

        for label, data in (("available", PNG), ("rejected (an executable)", b"MZ" + PNG[2:])):
            key = announce(len(data))
            s3.put_object(Bucket=ATTACHMENTS_BUCKET, Key=key, Body=data)
            counter.take()
            service.check(key)
            counts.append(CheckCount(label, counter.take()))
            if label == "available":
                service.check(key)
                counts.append(CheckCount("the same event again", counter.take()))

        from helpdesk.adapters.dynamodb.attachments import DynamoAttachmentRecords
        from helpdesk.adapters.dynamodb.toolkit import Table
        from helpdesk.attachments import AttachmentService

        records = DynamoAttachmentRecords(
            Table(boto3.client("dynamodb", region_name=REGION), TABLE)
        )
        for label, whole in (("streamed in 64 KiB chunks", False), ("read whole first", True)):
            key = announce(10 * MIB)
            checker = AttachmentService(records, _GeneratedFiles(10 * MIB, whole))  # type: ignore[arg-type]
            tracemalloc.start()
            started = time.perf_counter()
            result = checker.check(key)
            seconds = time.perf_counter() - started
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert result.status is not None and result.status.value == "available", result
            memory.append(Memory(label, peak, seconds))
        counter.take()
    return counts, memory


def report(counts: list[CheckCount], memory: list[Memory]) -> str:
    rows = [
        "| event | requests | requests made |",
        "|---|---:|---|",
        *[f"| {c.label} | {len(c.calls)} | {c.operations} |" for c in counts],
    ]
    peaks = [
        "| 10 MiB file | peak Python memory (tracemalloc) | time |",
        "|---|---:|---:|",
        *[
            f"| {m.label} | {m.peak_bytes / 1024:,.0f} KiB | {m.seconds * 1000:,.0f} ms |"
            for m in memory
        ],
    ]
    streamed = next(m for m in memory if m.label.startswith("streamed"))
    return "\n".join(
        [
            "## Attachments: the check of an upload",
            "",
            "`bench/attachments.py`: the check function's AWS requests for one S3 event "
            "(counted as the routes are), and its peak memory on a 10 MiB file. Available: "
            "the record, the object (streamed), the ticket (its notification names the file), "
            "then one transaction (the record decided on condition it is pending, the ticket's "
            "counters, the outbox mail). Rejected: the record decided alone, the object "
            "deleted. Delivered again: the record read, already decided, nothing else. The "
            "attachment routes themselves are in the requests-per-route table above.",
            "",
            *rows,
            "",
            *peaks,
            "",
            f"Streamed, the check of a 10 MiB file peaks at {streamed.peak_bytes / 1024:,.0f} KiB "
            "(one chunk, the first 8 KiB kept for sniffing, the SHA-256 state, the DynamoDB "
            "calls): the 256 MiB of AttachmentCheckFunction are for the network, not the file.",
        ]
    )


def section(smoke: bool = False) -> str:
    counts, memory = measure()
    return report(counts, memory)


def main() -> int:
    print(section())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
