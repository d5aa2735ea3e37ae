"""Gateway.ingest_events: the event journal moved into the store in chunks, nothing lost when a
chunk fails, nothing stored twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from trailgate.auth.tokens import TokenSealer
from trailgate.gateway import chain
from trailgate.gateway.chain import Gateway
from trailgate.store.interface import StoreError
from trailgate.store.journal import EventJournal, EventRow
from trailgate.store.sqlite import SqliteStore


def by_lines(count: int) -> Any:
    """``line_pieces`` cutting after every ``count`` lines (definition lines counted)."""
    def cut(blob: bytes) -> list[bytes]:
        lines = blob.splitlines(keepends=True)
        return [b"".join(lines[n:n + count]) for n in range(0, len(lines), count)]
    return cut


def rows(first: int, count: int) -> list[EventRow]:
    out = []
    for n in range(first, first + count):
        record = {"eventID": f"id-{n:04d}", "eventTime": "2026-11-28T19:00:00Z",
                  "eventName": "GetUser", "eventSource": "iam.amazonaws.com",
                  "awsRegion": "us-east-1", "userIdentity": {"type": "Root"}}
        out.append(("111111111111", record["eventTime"], record["eventID"], orjson.dumps(record)))
    return out


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    store = SqliteStore.open(tmp_path / "db.sqlite")
    journal = EventJournal(tmp_path / "journal")
    journal.recover()
    gw = Gateway(store, b"k" * 32, TokenSealer(b"s" * 32), {}, "us-east-1")
    gw.journal = journal
    try:
        yield gw
    finally:
        journal.close()
        store.close()


def no_segments(directory: Path) -> bool:
    """The journal's syncer thread deletes moved segment files: wait (briefly) until none."""
    deadline = time.monotonic() + 10
    while list(directory.glob("*.journal")):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def stored_ids(gw: Gateway) -> list[str]:
    return gw.store.read(lambda tx: [str(r[0]) for r in tx._conn.execute(
        "SELECT event_id FROM events ORDER BY seq")])


def test_ingest_moves_everything_in_chunks_and_deletes_the_segments(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chain, "line_pieces", by_lines(7))
    assert gateway.journal is not None
    gateway.journal.append(rows(0, 20))

    async def go() -> int:
        return await gateway.ingest_events()

    assert asyncio.run(go()) == 20
    assert stored_ids(gateway) == [f"id-{n:04d}" for n in range(20)]
    assert gateway.store.stats.commits >= 3  # 7 + 7 + 6
    # the segment goes on taking lines; the server's last move deletes it
    assert len(list(gateway.journal.directory.glob("*.journal"))) == 1
    assert asyncio.run(go()) == 0
    assert asyncio.run(gateway.ingest_events(last=True)) == 0
    assert no_segments(gateway.journal.directory)


def test_a_failed_chunk_keeps_the_rest_for_the_next_time(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chain, "line_pieces", by_lines(5))
    journal = gateway.journal
    assert journal is not None
    journal.append(rows(0, 12))
    real_write = gateway.store.write
    calls = {"n": 0}

    async def flaky(fn: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the second chunk
            raise StoreError("disk trouble")
        return await real_write(fn)

    monkeypatch.setattr(gateway.store, "write", flaky)

    async def go() -> int:
        return await gateway.ingest_events()

    with pytest.raises(StoreError):
        asyncio.run(go())
    assert stored_ids(gateway) == [f"id-{n:04d}" for n in range(5)]
    assert journal.backlog == 7  # the rows not stored are kept...
    segments = list(journal.directory.glob("*.journal"))
    assert len(segments) == 1  # ...and so is the segment holding all of them
    journal.append(rows(12, 2))
    assert asyncio.run(gateway.ingest_events(last=True)) == 9
    assert stored_ids(gateway) == [f"id-{n:04d}" for n in range(14)]
    assert no_segments(journal.directory)


def test_rows_stored_already_are_skipped_not_blocking(gateway: Gateway) -> None:
    journal = gateway.journal
    assert journal is not None
    first = rows(0, 3)
    gateway.store.write_sync(lambda tx: tx.append_events(first[:2]))
    journal.append(first)

    async def go() -> int:
        return await gateway.ingest_events()

    asyncio.run(go())
    assert stored_ids(gateway) == ["id-0000", "id-0001", "id-0002"]
