"""The event mover (trailgate.services.cloudtrail.mover): the journal's batches name the byte
spans of their lines, and a process of its own stores those lines, once, with their index."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import cast

import orjson
import pytest

from trailgate.app import TrailgateApp
from trailgate.config import Settings
from trailgate.services.cloudtrail import mover as mover_module
from trailgate.services.cloudtrail.events import CURSOR, index_keys
from trailgate.services.cloudtrail.mover import MAX_FAILURES, EventMover, MoverError, read_spans
from trailgate.store.event_templates import EventTemplate, compact, expand, make_template
from trailgate.store.journal import EventJournal, EventRow, JournalBatch
from trailgate.store.sqlite import SqliteStore

ACCOUNT = "111111111111"
TIME = "2026-11-29T12:00:00Z"


def marked(user: str) -> dict[str, object]:
    return {
        "eventVersion": "1.11",
        "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT, "userName": user,
                         "accessKeyId": "AKIAEXAMPLEKEY000001"},
        "eventTime": "@T@", "eventSource": "iam.amazonaws.com", "eventName": "GetUser",
        "awsRegion": "us-east-1", "requestID": "@R@", "eventID": "@E@", "readOnly": True,
        "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }


def template(user: str) -> EventTemplate:
    raw = orjson.dumps(marked(user))
    head, raw = raw.split(b"@T@")
    second, raw = raw.split(b'"@R@"')
    third, last = raw.split(b"@E@")
    return make_template((head, second, third, last))


def keys_of(data: bytes, t: EventTemplate) -> tuple[tuple[str, str, str, str], ...]:
    return index_keys(ACCOUNT, orjson.loads(expand(data, {t.tid: t.pieces}.get)))


def compact_row(t: EventTemplate, n: int) -> EventRow:
    data = compact(t, TIME, f"id-{n:05d}", orjson.dumps(f"rid {n}"))
    assert data is not None
    return (ACCOUNT, TIME, f"id-{n:05d}", data, keys_of(data, t))


def whole_row(n: int) -> EventRow:
    record = dict(marked("whole"), eventTime=TIME, requestID=f"rid {n}", eventID=f"id-{n:05d}",
                  n="tab\there, newline\nthere")
    return (ACCOUNT, TIME, f"id-{n:05d}", orjson.dumps(record))


def fill(journal: EventJournal, start: int, count: int) -> list[EventRow]:
    """Rows of two templates and whole ones, appended one by one."""
    templates = [template("alice"), template("bob")]
    rows = []
    for n in range(start, start + count):
        if n % 5 == 4:
            row = whole_row(n)
            journal.append([row])
        else:
            t = templates[n % 2]
            row = compact_row(t, n)
            journal.append_one(row, t)
        rows.append(row)
    return rows


def read_back(batch: JournalBatch) -> list[EventRow]:
    return read_spans(batch.spans, dict(batch.templates))


def test_a_batchs_spans_hold_exactly_its_rows_across_segments_and_a_restore(
    tmp_path: Path,
) -> None:
    journal = EventJournal(tmp_path / "journal", segment_bytes=4096)  # a segment: ~25 rows
    try:
        first = fill(journal, 0, 60)
        batch = journal.take()
        assert len(batch.spans) >= 3  # sealed segments and the current one
        assert read_back(batch) == first  # compact rows compact, with their template's keys
        journal.restore(batch)  # a move that failed: taken again, with what came since
        second = fill(journal, 60, 40)
        again = journal.take()
        assert read_back(again) == first + second
        journal.discard(again)
        third = fill(journal, 100, 3)
        last = journal.take(seal=True)
        assert read_back(last) == third
        assert [row[:4] for row in read_back(last)] == [row[:4] for row in last.rows]
    finally:
        journal.close()


def test_the_mover_process_stores_a_batch_once_with_its_index(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "trailgate.db")
    journal = EventJournal(tmp_path / "journal", segment_bytes=4096)
    mover = EventMover(store.path)
    try:
        rows = fill(journal, 0, 50)
        batch = journal.take()
        assert mover.move(batch.spans, batch.templates) == 50
        # A retry of a move that was committed (its answer lost) stores nothing twice.
        assert mover.move(batch.spans, batch.templates) == 50
        stored = store.read(lambda tx: [tx.event_by_id(row[2]) for row in rows])
        assert [found[2]["requestID"] for found in stored] == [f"rid {n}" for n in range(50)]
        assert [found[0] for found in stored] == list(range(1, 51))
        assert store.read(lambda tx: (tx.last_event_seq(), tx.meta_get(CURSOR))) == (50, "50")
        assert mover.index() == 0  # everything indexed with the move
    finally:
        mover.close()
        journal.close()
        store.close()


def test_a_mover_that_cannot_work_fails_and_is_given_up(tmp_path: Path) -> None:
    mover = EventMover(tmp_path / "no such folder" / "trailgate.db")
    try:
        for _ in range(MAX_FAILURES):
            assert mover.usable
            with pytest.raises(MoverError):
                mover.index()
        assert not mover.usable
    finally:
        mover.close()


def test_a_batch_given_back_in_part_is_not_exact_until_taken(tmp_path: Path) -> None:
    """The spans of rows given back after part of their batch was stored no longer match the
    rows; the next batch says so (the server then moves it itself), and the one after is exact
    again."""
    journal = EventJournal(tmp_path / "journal")
    try:
        rows = fill(journal, 0, 10)
        batch = journal.take()
        assert batch.exact
        journal.restore(JournalBatch(rows[4:], batch.paths, batch.templates, batch.spans,
                                     exact=False))
        fill(journal, 10, 2)
        again = journal.take()
        assert not again.exact and len(again.rows) == 8
        later = fill(journal, 12, 2)
        last = journal.take()
        assert last.exact and read_back(last) == later
    finally:
        journal.close()


def test_a_mover_that_does_not_answer_in_time_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mover_module, "ANSWER_SECONDS", 0.3)
    monkeypatch.setattr(mover_module, "STOP_SECONDS", 0.1)
    mover = EventMover(tmp_path / "trailgate.db")
    mover.command = [sys.executable, "-c", "import time; time.sleep(60)"]
    try:
        mover.start()
        process = mover._process
        assert process is not None
        with pytest.raises(MoverError, match="no answer in time"):
            mover.index()
        assert process.poll() is not None  # killed, not left behind
        assert mover.failures == 1
    finally:
        mover.close()


class FakeMover:
    """Stands in for the mover process: answers ``held`` (None: fails)."""

    def __init__(self, held: int | None) -> None:
        self.held = held
        self.usable = True
        self.asked = 0

    def move(self, spans: list[tuple[str, int, int]], templates: dict[int, bytes]) -> int:
        self.asked += 1
        if self.held is None:
            raise MoverError("event mover: gone")
        return self.held

    def index(self) -> int:
        return 0


@pytest.mark.parametrize(("held", "stored_by_server"), [
    (None, True),  # the mover fails: the server moves the batch itself
    (3, True),  # it read fewer records than the batch holds: the server moves it too
    (6, False),  # it stored them all: the server trusts it (so stores none here)
])
def test_the_server_moves_a_batch_itself_when_the_mover_does_not(
    tmp_path: Path, held: int | None, stored_by_server: bool,
) -> None:
    settings = Settings.build(data_dir=tmp_path, env={})
    app = TrailgateApp(settings)
    fake = FakeMover(held)
    app.gateway.mover = cast(EventMover, fake)
    try:
        rows = [whole_row(n) for n in range(6)]
        app.journal.append(rows)
        moved = asyncio.run(app.gateway.ingest_events())
        assert moved == 6 and fake.asked == 1
        found = app.store.read(lambda tx: [tx.event_by_id(row[2]) for row in rows])
        assert [event is not None for event in found] == [stored_by_server] * 6
        assert app.journal.backlog == 0
    finally:
        app.journal.close()
        app.store.close()
