"""`make bench`'s attachment section: the check's requests per event and its memory on a
10 MiB file (streamed, never read whole)."""

from __future__ import annotations

from bench import attachments


def test_the_check_streams_and_makes_few_requests() -> None:
    counts, memory = attachments.measure()
    by_label = {c.label: c.operations for c in counts}
    assert by_label == {
        "available": "2×GetItem, s3:GetObject, TransactWriteItems",
        "the same event again": "GetItem",
        "rejected (an executable)": "GetItem, s3:GetObject, UpdateItem, s3:DeleteObject",
    }
    peaks = {m.label: m.peak_bytes for m in memory}
    assert peaks["streamed in 64 KiB chunks"] < 2 * 1024 * 1024  # a 10 MiB file, not in memory
    assert peaks["read whole first"] > 10 * 1024 * 1024  # what the streaming spares
    assert "## Attachments: the check of an upload" in attachments.report(counts, memory)
