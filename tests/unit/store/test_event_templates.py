"""Compact CloudTrail records (trailgate.store.event_templates): a template's id and the call's
values, made whole again byte for byte by the journal's recovery and the store's reads."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from trailgate.store.event_templates import (
    TemplateMissing,
    compact,
    expand,
    join,
    make_template,
    parse_pieces,
    template_id,
)
from trailgate.store.journal import DEFINITION, SUFFIX, EventJournal, EventRow, parse_segment
from trailgate.store.sqlite import SqliteStore

ACCOUNT = "111111111111"
TIME = "2026-11-29T12:00:00Z"
MARKED = {"eventTime": "@T@", "n": "tab\there, nul\0 too", "requestID": "@R@", "eventID": "@E@"}
MARKED_S3 = {"eventTime": "@T@", "additionalEventData": {"x-amz-id-2": "@H@"},
             "requestID": "@R@", "eventID": "@E@", "eventCategory": "Management"}


def pieces_of(marked: dict[str, object]) -> tuple[bytes, ...]:
    """The record's JSON cut where the values go (as recording._template cuts it)."""
    raw = orjson.dumps(marked)
    out = []
    for mark in (b'@T@', b'@H@', b'"@R@"', b'@E@'):
        if mark in raw:
            head, raw = raw.split(mark)
            out.append(head)
    return (*out, raw)


FOUR = make_template(pieces_of(MARKED))
FIVE = make_template(pieces_of(MARKED_S3))


def whole(template_marked: dict[str, object], event_id: str, request_id: str,
          host: str = "") -> bytes:
    values = {"@T@": TIME, "@E@": event_id, "@R@": request_id, "@H@": host}
    raw = orjson.dumps(template_marked)
    for mark, value in values.items():
        raw = raw.replace(mark.encode(), value.encode())
    return raw


def compact_row(template_n: int, n: int) -> EventRow:
    template = FOUR if template_n == 4 else FIVE
    data = compact(template, TIME, f"id-{n}", orjson.dumps(f"rid {n}"), f"Host/{n}+x=")
    assert data is not None
    return (ACCOUNT, TIME, f"id-{n}", data)


def test_compact_records_expand_byte_for_byte() -> None:
    assert len(FOUR.pieces) == 4 and len(FIVE.pieces) == 5
    four = compact(FOUR, TIME, "id-1", orjson.dumps("rid 1"))
    assert four == b'~%d %s id-1 "rid 1"' % (FOUR.tid, TIME.encode())
    assert expand(four, {FOUR.tid: FOUR.pieces}.get) == whole(MARKED, "id-1", "rid 1")
    five = compact(FIVE, TIME, "id-2", orjson.dumps("rid 2"), "Host/2+x=")
    assert five == b'~%d %s id-2 Host/2+x= "rid 2"' % (FIVE.tid, TIME.encode())
    assert expand(five, {FIVE.tid: FIVE.pieces}.get) == whole(MARKED_S3, "id-2", "rid 2",
                                                               "Host/2+x=")
    assert join(FOUR.pieces, TIME.encode(), b"id-1", b'"rid 1"') == whole(MARKED, "id-1",
                                                                          "rid 1")


@pytest.mark.parametrize(("template", "event_time", "event_id", "host"), [
    (FOUR, "2026-11-29 12:00:00", "id", ""),  # a space: the record is stored whole
    (FOUR, TIME, "an id", ""),
    (FIVE, TIME, "id", "host id"),
    (FIVE, TIME, "id", ""),  # an S3 template needs its x-amz-id-2
])
def test_values_that_do_not_fit_the_format_get_no_compact_form(
    template: object, event_time: str, event_id: str, host: str
) -> None:
    assert compact(template, event_time, event_id, b'"r"', host) is None  # type: ignore[arg-type]


def test_template_ids_are_hashes_of_the_pieces_and_bad_input_is_refused() -> None:
    assert FOUR.tid == template_id(FOUR.text) == make_template(FOUR.pieces).tid
    assert 0 <= FOUR.tid < 2**63 and FOUR.tid != FIVE.tid
    assert parse_pieces(FOUR.text) == FOUR.pieces
    with pytest.raises(ValueError):
        make_template((b"a", b"b"))
    for text in (b"{}", b'["a", "b"]', b'["a", "b", "c", 4]', b"not json"):
        with pytest.raises(ValueError):
            parse_pieces(text)
    with pytest.raises(TemplateMissing):
        expand(compact_row(4, 1)[3], {}.get)


def test_the_journal_defines_a_template_once_per_segment_and_recovers_records_whole(
    tmp_path: Path,
) -> None:
    journal = EventJournal(tmp_path, segment_bytes=8192)
    rows = [compact_row(4 if n % 3 else 5, n) for n in range(200)]  # several segments
    try:
        for n, one in enumerate(rows):
            journal.append_one(one, FOUR if n % 3 else FIVE)
        batch = journal.take(seal=True)
        assert batch.rows == rows
        assert batch.templates == {FOUR.tid: FOUR.text, FIVE.tid: FIVE.text}
    finally:
        journal.close()
    files = sorted(tmp_path.glob(f"*{SUFFIX}"))
    assert len(files) > 2
    recovered: list[EventRow] = []
    for path in files:  # every segment stands alone: its own definitions, then its rows
        blob = path.read_bytes()
        lines = blob.rstrip(b"\0").split(b"\n")
        definitions = [line for line in lines if line.startswith(DEFINITION + b"\t")]
        assert len(definitions) == len({line.split(b"\t")[1] for line in definitions}) <= 2
        got, bad = parse_segment(blob)
        assert bad == 0
        recovered.extend(got)
    want = [(ACCOUNT, TIME, f"id-{n}", whole(MARKED, f"id-{n}", f"rid {n}") if n % 3
             else whole(MARKED_S3, f"id-{n}", f"rid {n}", f"Host/{n}+x="))
            for n in range(200)]
    assert recovered == want


def test_a_compact_line_without_its_definition_is_unreadable(tmp_path: Path) -> None:
    good = b"%s\t%d\t%s\n" % (DEFINITION, FOUR.tid, FOUR.text)
    lines = [b"\t".join((ACCOUNT.encode(), TIME.encode(), b"id-%d" % n, compact_row(4, n)[3]))
             for n in (1, 2)]
    rows, bad = parse_segment(lines[0] + b"\n" + good + lines[1] + b"\n")
    assert bad == 1
    assert rows == [(ACCOUNT, TIME, "id-2", whole(MARKED, "id-2", "rid 2"))]
    rows, bad = parse_segment(b"%s\t%d\t[1]\n" % (DEFINITION, FOUR.tid) + lines[0] + b"\n")
    assert (rows, bad) == ([], 2)  # a bad definition, and the line that needed it


def test_restore_keeps_the_templates(tmp_path: Path) -> None:
    journal = EventJournal(tmp_path)
    try:
        journal.append_one(compact_row(4, 1), FOUR)
        batch = journal.take()
        journal.restore(batch)
        again = journal.take()
        assert again.rows == [compact_row(4, 1)]
        assert again.templates == {FOUR.tid: FOUR.text}
    finally:
        journal.close()


def test_the_store_keeps_compact_records_and_reads_them_whole(
    sqlite_store: SqliteStore,
) -> None:
    rows = [compact_row(4, 1), compact_row(5, 2), compact_row(4, 3)]
    templates = {FOUR.tid: FOUR.text, FIVE.tid: FIVE.text}
    first = sqlite_store.write_sync(lambda tx: tx.append_events(rows, templates))
    sqlite_store.write_sync(lambda tx: tx.append_events([compact_row(4, 4)], templates))
    want = {
        first: orjson.loads(whole(MARKED, "id-1", "rid 1")),
        first + 1: orjson.loads(whole(MARKED_S3, "id-2", "rid 2", "Host/2+x=")),
        first + 2: orjson.loads(whole(MARKED, "id-3", "rid 3")),
        first + 3: orjson.loads(whole(MARKED, "id-4", "rid 4")),
    }
    stored = sqlite_store.read(lambda tx: tx._conn.execute(
        "SELECT data FROM events ORDER BY seq").fetchall())
    assert [bytes(data) for (data,) in stored] == [r[3] for r in rows] + [compact_row(4, 4)[3]]
    assert sqlite_store.read(lambda tx: tx._conn.execute(
        "SELECT count(*) FROM event_templates").fetchone()[0]) == 2
    assert sqlite_store.read(lambda tx: tx.events_by_seq(list(want))) == want
    after = sqlite_store.read(lambda tx: tx.events_after(0, limit=10))
    assert after == [(seq, ACCOUNT, record) for seq, record in want.items()]
    filtered = sqlite_store.read(lambda tx: tx.events_after(0, limit=10, accounts=[ACCOUNT]))
    assert filtered == after
    assert sqlite_store.read(lambda tx: tx.event_by_id("id-2")) == (first + 1, ACCOUNT,
                                                                     want[first + 1])


def test_records_of_a_template_whose_id_holds_another_are_stored_whole(
    sqlite_store: SqliteStore,
) -> None:
    """A hash collision: the store keeps the template it has, and the new template's records
    whole (readable without it)."""
    sqlite_store.write_sync(lambda tx: tx._conn.execute(
        "INSERT INTO event_templates (id, pieces) VALUES (?, ?)", (FOUR.tid, FIVE.text)))
    first = sqlite_store.write_sync(
        lambda tx: tx.append_events([compact_row(4, 1)], {FOUR.tid: FOUR.text}))
    (data,) = sqlite_store.read(lambda tx: tx._conn.execute(
        "SELECT data FROM events WHERE seq = ?", (first,)).fetchone())
    assert bytes(data) == whole(MARKED, "id-1", "rid 1")
    assert sqlite_store.read(lambda tx: tx.events_by_seq([first])) == {
        first: orjson.loads(whole(MARKED, "id-1", "rid 1"))}
