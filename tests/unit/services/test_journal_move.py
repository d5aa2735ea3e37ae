"""Journal lines moved into the store as they are (SQLite splits them: ``store_lines``) give
exactly what the rows parsed from them give (``store_journaled``): the same events, byte for
byte, the same index, the same LookupEvents answers; lines that need reading, lines stored
already and a failed move fall back or wait as before."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from trailgate.auth.tokens import TokenSealer
from trailgate.gateway import chain
from trailgate.gateway.chain import Gateway
from trailgate.gateway.context import Principal
from trailgate.services.cloudtrail.events import index_cursor, index_keys
from trailgate.services.cloudtrail.journal_move import (
    line_pieces,
    needs_rows,
    store_journaled,
    store_lines,
)
from trailgate.store.event_templates import EventTemplate, compact, make_template
from trailgate.store.interface import Conflict, StoreError
from trailgate.store.journal import EventJournal, Span, span_rows
from trailgate.store.sqlite import SqliteStore
from trailgate.store.sqlite.events import _entries
from trailgate.trail.callinfo import CallInfo
from trailgate.trail.records import build_records

ADMIN = "111111111111"
T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
ALICE = Principal(kind="user", arn=f"arn:aws:iam::{ADMIN}:user/alice", account=ADMIN,
                  user_id="AIDAALICE00000000001", access_key_id="AKIAALICE00000000001",
                  unique_id="AIDAALICE00000000001")
MARKS = (b'"@@T@@"', b'"@@R@@"', b'"@@E@@"')


def call(operation: str, second: int, user_agent: str = "Boto3/1.44.8") -> CallInfo:
    return CallInfo(
        request_id=str(uuid.uuid4()), event_time=T0 + timedelta(seconds=second),
        service="iam", operation=operation, region="us-east-1", source_ip="198.51.100.7",
        user_agent=user_agent, principal=ALICE, params={}, result=None, error_code=None,
        error_message=None, host="iam.amazonaws.com", tls=True, signature_version="SigV4",
        auth_type="AuthHeader", resource_account=None, extra={})


def template_of(record: dict[str, Any]) -> EventTemplate:
    """The record's template, cut as the recorder cuts it (quotes of eventTime and eventID
    in the pieces, requestID's not)."""
    raw = orjson.dumps(dict(record, eventTime="@@T@@", requestID="@@R@@", eventID="@@E@@"))
    cuts = []
    for mark in MARKS:
        at = raw.index(mark)
        cuts.append((at, at + len(mark)) if mark == MARKS[1] else (at + 1, at + len(mark) - 1))
    starts = [0] + [end for _, end in cuts]
    ends = [begin for begin, _ in cuts] + [len(raw)]
    return make_template(tuple(raw[a:b] for a, b in zip(starts, ends, strict=True)))


def journal_lines(journal: EventJournal, seconds: range, *, whole_at: int = -1) -> list[str]:
    """Lines as the recorder journals them: GetUser and ListRoles (a template each) in turn;
    at ``whole_at`` a record journaled whole (one that has no template), with characters its
    JSON must escape.  Returns their eventIDs."""
    ids = []
    for second in seconds:
        operation = "GetUser" if second % 2 else "ListRoles"
        agent = 'Boto3/1.44.8 "quoted" \\ tab\t é' if second == whole_at else "Boto3/1.44.8"
        ((account, record),) = build_records(call(operation, second, agent))
        if second == whole_at:
            journal.append([(account, record["eventTime"], record["eventID"],
                             orjson.dumps(record))])
        else:
            template = template_of(record)
            data = compact(template, record["eventTime"], record["eventID"],
                           orjson.dumps(record["requestID"]))
            assert data is not None
            line = b"%s\t%s\t%s\t%s" % (account.encode(), record["eventTime"].encode(),
                                        record["eventID"].encode(), data)
            journal.append_line(line, template, index_keys(account, record))
        ids.append(record["eventID"])
    return ids


def snapshot(store: SqliteStore) -> dict[str, Any]:
    """Everything the move writes: events (with their SQL types), templates, index entries,
    the index cursor."""
    def read(tx: Any) -> dict[str, Any]:
        conn = tx._conn
        blocks = []
        for account, region, attr, value, lo, base, entries in conn.execute(
            "SELECT k.account, k.region, k.attr, k.value, b.lo, b.base, b.entries"
            " FROM event_blocks AS b JOIN event_keys AS k ON k.id = b.key"
        ):
            blocks.extend((account, region, attr, value, at, seq)
                          for at, seq in _entries(lo, base, entries))
        return {
            "events": conn.execute(
                "SELECT seq, account, event_time, event_id, data, typeof(account),"
                " typeof(event_time), typeof(event_id), typeof(data) FROM events ORDER BY seq"
            ).fetchall(),
            "templates": conn.execute("SELECT * FROM event_templates ORDER BY id").fetchall(),
            "index": sorted(blocks),
            "cursor": index_cursor(tx),
        }
    result: dict[str, Any] = store.read(read)
    return result


def taken_spans(journal: EventJournal) -> list[Span]:
    rows, _, spans = journal.take().parts()
    assert rows == []
    return spans


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[SqliteStore, SqliteStore, EventJournal]]:
    lines, rows = (SqliteStore.open(tmp_path / name / "trailgate.db") for name in "ab")
    journal = EventJournal(tmp_path / "journal")
    journal.recover()
    try:
        yield lines, rows, journal
    finally:
        journal.close()
        lines.close()
        rows.close()


def test_lines_stored_as_they_are_equal_the_rows_parsed_from_them(
    stores: tuple[SqliteStore, SqliteStore, EventJournal]
) -> None:
    by_lines, by_rows, journal = stores
    # A write's record appended at its commit (index keys kept), before the move, in both.
    ((account, write),) = build_records(call("TagUser", 0))
    for store in (by_lines, by_rows):
        store.write_sync(lambda tx: tx.append_events_at_commit([(
            account, write["eventTime"], write["eventID"], orjson.dumps(write),
            index_keys(account, write))]))
    assert len(journal_lines(journal, range(1, 400), whole_at=200)) == 399
    spans = taken_spans(journal)
    pieces = [(piece, defined) for blob, defined in spans for piece in line_pieces(blob, 9000)]
    assert len(pieces) > 3  # several transactions
    moved = sum(by_lines.write_sync(lambda tx, p=p, d=d: store_lines(tx, p, d))
                for p, d in pieces)
    assert moved == 399
    for blob, defined in spans:
        rows: list[Any] = []
        templates: dict[int, bytes] = {}
        span_rows(blob, defined, rows, templates)
        by_rows.write_sync(lambda tx, r=rows, t=templates: store_journaled(tx, r, t))
    got, want = snapshot(by_lines), snapshot(by_rows)
    assert got == want
    assert len(got["events"]) == 400 and got["cursor"] == 400
    assert {row[5:] for row in got["events"]} == {("text", "text", "text", "blob")}
    assert len(got["templates"]) == 2
    assert got["events"][1][4].startswith(b"~")


def test_line_pieces_cut_after_whole_lines() -> None:
    blob = b"".join(b"%d\tx\ty\tz\n" % n for n in range(100))
    pieces = line_pieces(blob, 50)
    assert b"".join(pieces) == blob
    assert all(piece.endswith(b"\n") and len(piece) >= 50 for piece in pieces[:-1])
    assert line_pieces(b"") == []


def test_a_template_without_index_keys_needs_rows(
    stores: tuple[SqliteStore, SqliteStore, EventJournal]
) -> None:
    by_lines, _, journal = stores
    journal_lines(journal, range(1, 6), whole_at=3)
    ((blob, defined),) = taken_spans(journal)
    assert not needs_rows(blob, defined)  # a whole record goes in as it is too
    tid = next(iter(defined))
    keyless = {**defined, tid: (defined[tid][0], None)}
    assert needs_rows(b"", keyless)
    with pytest.raises(ValueError, match="as rows"):
        by_lines.write_sync(lambda tx: store_lines(tx, blob, keyless))
    assert snapshot(by_lines)["events"] == []


def test_lines_stored_already_are_a_conflict_and_store_nothing(
    stores: tuple[SqliteStore, SqliteStore, EventJournal]
) -> None:
    by_lines, _, journal = stores
    journal_lines(journal, range(1, 6))
    ((blob, defined),) = taken_spans(journal)
    assert by_lines.write_sync(lambda tx: store_lines(tx, blob, defined)) == 5
    journal_lines(journal, range(6, 9))
    ((newer, _),) = taken_spans(journal)  # lines not stored yet, then the stored ones again
    with pytest.raises(Conflict):
        by_lines.write_sync(lambda tx: store_lines(tx, newer + blob, defined))
    assert len(snapshot(by_lines)["events"]) == 5  # the new lines' rows rolled back too


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


def event_ids(gw: Gateway) -> list[str]:
    return gw.store.read(lambda tx: [str(r[0]) for r in tx._conn.execute(
        "SELECT event_id FROM events ORDER BY seq")])


def test_the_gateway_moves_lines_as_they_are_whole_records_among_them(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = gateway.journal
    assert journal is not None
    monkeypatch.setattr(chain, "line_pieces", lambda blob: line_pieces(blob, 2000))
    as_lines: list[int] = []
    real = chain.store_lines

    def counted(tx: Any, lines: bytes, defined: Any) -> int:
        as_lines.append(lines.count(b"\n") - lines.count(b"\n#T\t") - lines.startswith(b"#T"))
        return real(tx, lines, defined)

    monkeypatch.setattr(chain, "store_lines", counted)
    ids = journal_lines(journal, range(1, 60), whole_at=30)
    assert asyncio.run(gateway.ingest_events()) == 59
    assert event_ids(gateway) == ids  # in journal order, the whole record among them
    assert len(as_lines) >= 3 and sum(as_lines) == 59  # the whole record's piece too
    ids += journal_lines(journal, range(60, 70))
    assert asyncio.run(gateway.ingest_events(last=True)) == 10
    assert event_ids(gateway) == ids
    assert gateway.store.read(index_cursor) == 69


def test_lines_moved_once_before_a_crash_are_not_stored_twice(gateway: Gateway) -> None:
    """A move that committed but did not reach the journal (a crash between): the lines go
    in as rows then, those stored already skipped."""
    journal = gateway.journal
    assert journal is not None
    ids = journal_lines(journal, range(1, 30))
    segment = journal._current
    assert segment is not None
    blob = bytes(segment.map[:segment.size])
    half = blob[:blob.index(b"\n", len(blob) // 2) + 1]
    assert gateway.store.write_sync(lambda tx: store_lines(tx, half, segment.defined)) > 0
    assert asyncio.run(gateway.ingest_events()) == 29
    assert event_ids(gateway) == ids


def test_a_failed_move_of_lines_keeps_them_all_for_the_next_time(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = gateway.journal
    assert journal is not None
    monkeypatch.setattr(chain, "line_pieces", lambda blob: line_pieces(blob, 1500))
    journal_lines(journal, range(1, 40))
    real_write = gateway.store.write
    calls = {"n": 0}

    async def flaky(fn: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the second piece's transaction
            raise StoreError("disk trouble")
        return await real_write(fn)

    monkeypatch.setattr(gateway.store, "write", flaky)
    with pytest.raises(StoreError):
        asyncio.run(gateway.ingest_events())
    first = event_ids(gateway)
    assert 0 < len(first) < 39
    assert journal.backlog == 39 - len(first)
    journal_lines(journal, range(40, 45))
    assert asyncio.run(gateway.ingest_events()) == 44 - len(first)
    stored = event_ids(gateway)
    assert len(stored) == len(set(stored)) == 44
    assert stored[:len(first)] == first


@pytest.mark.parametrize("bad", [b"\x01", b"\xff"], ids=["control-character", "not-utf-8"])
def test_lines_sqlite_cannot_read_are_a_conflict_and_go_in_as_rows(
    gateway: Gateway, bad: bytes
) -> None:
    """Never written so by this process: the move stores them as rows, as it always did
    (the row path does not read the records), and is not held up."""
    journal = gateway.journal
    assert journal is not None
    ids = journal_lines(journal, range(1, 4))
    segment = journal._current
    assert segment is not None
    blob = bytes(segment.map[:segment.size])
    broken = blob.replace(b'"\n', b'"' + bad + b'\n', 1)  # the first line's requestID
    with pytest.raises(Conflict):
        gateway.store.write_sync(lambda tx: store_lines(tx, broken, segment.defined))
    segment.map[:len(broken)] = broken
    segment.size = len(broken)
    assert asyncio.run(gateway.ingest_events()) == 3
    assert event_ids(gateway) == ids
