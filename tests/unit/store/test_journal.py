"""The event journal (trailgate.store.journal): lines in memory-mapped segments, taken into the
store in batches, recovered after a crash, never appended after a line cut short."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import orjson
import pytest

from trailgate.store.event_templates import EventTemplate, compact, make_template
from trailgate.store.interface import StoreClosed, StoreError
from trailgate.store.journal import (
    SPARE,
    SUFFIX,
    EventJournal,
    EventRow,
    IndexKeys,
    parse_segment,
    span_rows,
)


def row(n: int, account: str = "111111111111") -> EventRow:
    record = {"eventID": f"id-{n}", "eventTime": "2026-11-28T19:00:00Z", "n": n,
              "text": "tab\there, newline\nthere, nul\0 too"}
    return (account, "2026-11-28T19:00:00Z", f"id-{n}", orjson.dumps(record))


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{SUFFIX}"))


def deleted(paths: list[Path]) -> bool:
    """The syncer thread deletes discarded segment files: wait (briefly) until it did."""
    deadline = time.monotonic() + 10
    while any(p.exists() for p in paths):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_take_returns_every_row_in_order_and_keeps_appending_to_the_segment(
    tmp_path: Path,
) -> None:
    """A take leaves the current segment taking lines (its file is not a batch's until it
    is sealed: full, or the last take); discarding a batch deletes only its full segments."""
    journal = EventJournal(tmp_path)
    try:
        journal.append([row(1), row(2)])
        journal.append([row(3)])
        assert journal.backlog == 3
        batch = journal.take()
        assert batch.rows == [row(1), row(2), row(3)]
        assert batch.paths == []
        assert journal.backlog == 0
        journal.append([row(4)])
        journal.discard(batch)
        only = segments(tmp_path)
        assert len(only) == 1  # the same segment took row 4
        last = journal.take(seal=True)
        assert last.rows == [row(4)]
        assert last.paths == only
        assert parse_segment(only[0].read_bytes()) == ([row(n) for n in range(1, 5)], 0)
        journal.discard(last)
        assert deleted(only)
        journal.append([row(5)])
        assert len(segments(tmp_path)) == 1  # a new one
        assert journal.take().rows == [row(5)]
    finally:
        journal.close()


def test_full_segments_go_with_the_batch_that_took_their_last_lines(tmp_path: Path) -> None:
    journal = EventJournal(tmp_path, segment_bytes=8192)
    try:
        journal.append([row(n) for n in range(10)])
        first = journal.take()
        assert first.paths == []
        journal.append([row(n) for n in range(10, 200)])  # fills several segments
        full = segments(tmp_path)[:-1]
        assert len(full) >= 3
        second = journal.take()
        assert second.rows == [row(n) for n in range(10, 200)]
        assert second.paths == full  # the current (last) one is not in it
        every = [r for path in segments(tmp_path) for r in parse_segment(path.read_bytes())[0]]
        assert every == [row(n) for n in range(200)]
        journal.discard(first)
        journal.discard(second)
        assert deleted(full)
        current = segments(tmp_path)
        assert len(current) == 1
        tail = parse_segment(current[0].read_bytes())[0]
        assert tail and tail == every[-len(tail):]
    finally:
        journal.close()


def _spare_ready(directory: Path, journal: EventJournal) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if (directory / SPARE).exists() and journal._spare is not None:
            return True
        time.sleep(0.01)
    return False


def test_new_segments_come_from_a_spare_made_ahead(tmp_path: Path) -> None:
    """The syncer thread keeps the next segment ready (allocated, mapped); a new segment is
    that spare renamed, segments stay in order, the spare never holds a row, and close and
    the next start remove it."""
    journal = EventJournal(tmp_path)
    try:
        journal.append([row(1)])  # no spare before recovery: made the slow way
        for n in range(2, 6):
            journal.take(seal=True)
            assert _spare_ready(tmp_path, journal)
            spare = journal._spare
            journal.append([row(n)])
            assert journal._current is spare  # renamed into the next segment's name
            assert not (tmp_path / SPARE).exists() or journal._spare is not spare
        names = [int(p.stem) for p in segments(tmp_path)]
        assert names == sorted(names) and len(names) == 5
        assert _spare_ready(tmp_path, journal)
    finally:
        journal.close()
    assert not (tmp_path / SPARE).exists()
    (tmp_path / SPARE).write_bytes(b"\0" * 4096)  # as a killed run would leave it
    again = EventJournal(tmp_path)
    try:
        assert not (tmp_path / SPARE).exists()
        assert [r[2] for r in again.recover().rows] == [f"id-{n}" for n in range(1, 6)]
    finally:
        again.close()


def test_restore_gives_a_batch_back_in_front(tmp_path: Path) -> None:
    journal = EventJournal(tmp_path)
    try:
        journal.append([row(1)])
        first = journal.take(seal=True)
        journal.append([row(2)])
        journal.restore(first)
        again = journal.take()
        assert again.rows == [row(1), row(2)]
        assert again.paths[0] == first.paths[0]
    finally:
        journal.close()


def test_a_closed_journal_is_recovered_by_the_next_one_byte_for_byte(tmp_path: Path) -> None:
    journal = EventJournal(tmp_path)
    rows = [row(n) for n in range(50)]
    journal.append(rows[:20])
    journal.take()  # taken but never discarded: still on disk, recovered again
    journal.append(rows[20:])
    journal.close()
    with pytest.raises(StoreClosed):
        journal.append([row(99)])

    again = EventJournal(tmp_path)
    try:
        with pytest.raises(RuntimeError):
            again.append([row(100)])  # recover() first
        batch = again.recover()
        assert batch.rows == rows
        again.discard(batch)
        assert deleted(batch.paths)
        assert segments(tmp_path) == []
        again.append([row(100)])
        assert again.take().rows == [row(100)]
    finally:
        again.close()


def test_a_line_bigger_than_a_segment_gets_a_segment_of_its_own(tmp_path: Path) -> None:
    big = ("111111111111", "t", "big", orjson.dumps({"blob": "x" * (9 * 1024 * 1024)}))
    journal = EventJournal(tmp_path)
    try:
        journal.append([row(1)])
        journal.append([big])
        journal.append([row(2)])
        batch = journal.take(seal=True)
        assert batch.rows == [row(1), big, row(2)]
        # the big line's segment is rounded up to whole pages: the small line after it fits
        assert len(batch.paths) == 2
    finally:
        journal.close()
    recovered = EventJournal(tmp_path)
    try:
        assert recovered.recover().rows == [row(1), big, row(2)]
    finally:
        recovered.close()


@pytest.mark.parametrize(
    ("blob", "rows", "bad"),
    [
        (b"", [], 0),
        (b"1\t2\t3\t{}\n" + b"\0" * 100, [("1", "2", "3", b"{}")], 0),
        # cut short while copying: no LF yet
        (b"1\t2\t3\t{}\n1\t2\t4\t{\"a\":" + b"\0" * 10, [("1", "2", "3", b"{}")], 1),
        (b"1\t2\t3\t{}\ngarbage\n", [("1", "2", "3", b"{}")], 1),
        (b"1\t2\t{}\n", [], 1),
        # a page a power loss kept from the disk: the lines around it are kept
        (b"1\t2\t3\t{}\n1\t2\t4\t{\0\0\0\0}\n1\t2\t5\t{}\n" + b"\0" * 9,
         [("1", "2", "3", b"{}"), ("1", "2", "5", b"{}")], 1),
        (b"\xff\t2\t3\t{}\n", [], 1),
    ],
)
def test_parse_segment(blob: bytes, rows: list[EventRow], bad: int) -> None:
    assert parse_segment(blob) == (rows, bad)


def test_appended_lines_survive_kill_9(tmp_path: Path) -> None:
    """A line is in the kernel's page cache once append returns: a killed process loses
    nothing it appended (the child prints a count after each append, then is killed)."""
    script = textwrap.dedent(f"""
        import sys, orjson
        from pathlib import Path
        from trailgate.store.journal import EventJournal
        journal = EventJournal(Path({str(tmp_path)!r}), sync_interval=3600)
        journal.recover()
        n = 0
        while True:
            record = {{"eventID": f"id-{{n}}", "pad": "p" * 500}}
            journal.append([("1", "t", f"id-{{n}}", orjson.dumps(record))])
            n += 1
            if n % 100 == 0:
                print(n, flush=True)
            if n % 3000 == 0:
                journal.take(seal=True)  # a new segment now and then (never discarded)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    acknowledged = 0
    for line in child.stdout:
        acknowledged = int(line)
        if acknowledged >= 7000:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    journal = EventJournal(tmp_path)
    try:
        ids = [r[2] for r in journal.recover().rows]
    finally:
        journal.close()
    assert len(ids) >= acknowledged
    assert ids == [f"id-{n}" for n in range(len(ids))]


@pytest.mark.parametrize("how", ["missing", "refused"])
def test_without_posix_fallocate_segments_are_extended_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """macOS has no posix_fallocate and some file systems refuse it: the journal still works."""
    if how == "missing":
        monkeypatch.delattr(os, "posix_fallocate", raising=False)
    else:
        def refuse(fd: int, offset: int, size: int) -> None:
            raise OSError(errno.EOPNOTSUPP, "not supported")
        monkeypatch.setattr(os, "posix_fallocate", refuse)
    journal = EventJournal(tmp_path)
    try:
        journal.append([row(1)])
        assert journal.take().rows == [row(1)]
    finally:
        journal.close()


def test_a_full_disk_fails_the_append_not_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, offset: int, size: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "posix_fallocate", full)
    journal = EventJournal(tmp_path)
    try:
        with pytest.raises(StoreError):
            journal.append([row(1)])
        assert journal.backlog == 0
        assert segments(tmp_path) == []  # the segment that could not be allocated is gone
    finally:
        journal.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fdatasync path: Linux")
def test_the_syncer_flushes_with_fdatasync_outside_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The syncer makes appended lines durable with fdatasync on the segment's own file (it
    releases the GIL, unlike mmap.flush), without holding the journal's lock meanwhile; sealed
    segments are synced before they are unmapped and their file descriptors closed."""
    journal = EventJournal(tmp_path, sync_interval=0.01)
    synced: list[tuple[int, bool]] = []
    real = os.fdatasync

    def spy(fd: int) -> None:
        synced.append((fd, journal._lock.locked()))
        real(fd)

    monkeypatch.setattr(os, "fdatasync", spy)
    try:
        journal.recover()
        journal.append([row(1)])
        segment = journal._current
        assert segment is not None
        deadline = time.monotonic() + 10
        while not synced and time.monotonic() < deadline:
            time.sleep(0.01)
        assert synced and synced[0] == (segment.fd, False)
        count = len(synced)
        journal.append([row(2)])
        journal.take(seal=True)  # the sealed, dirty segment: synced, then unmapped and closed
        deadline = time.monotonic() + 10
        while not segment.map.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert segment.map.closed
        assert (segment.fd, False) in synced[count:]
    finally:
        journal.close()


def test_append_one_writes_what_append_writes_across_full_segments(tmp_path: Path) -> None:
    """The one-row fast path (every recorded read takes it) fills segments and goes on in the
    next one exactly as ``append`` does, before the first segment exists and after close."""
    journal = EventJournal(tmp_path, segment_bytes=8192)
    try:
        journal.append_one(row(0))  # no segment yet: made by the general path
        for n in range(1, 120):  # several segments fill up
            journal.append_one(row(n))
        assert len(segments(tmp_path)) >= 3
        batch = journal.take()
        assert batch.rows == [row(n) for n in range(120)]
        every = [r for path in segments(tmp_path) for r in parse_segment(path.read_bytes())[0]]
        assert every == [row(n) for n in range(120)]
    finally:
        journal.close()
    with pytest.raises(StoreClosed):
        journal.append_one(row(999))


def _compact_row(n: int, template: EventTemplate, keys: IndexKeys | None) -> EventRow:
    event_id = f"cid-{n}"
    data = compact(template, "2026-11-28T19:00:01Z", event_id, b'"req-%d"' % n)
    assert data is not None
    if keys is None:
        return ("222222222222", "2026-11-28T19:00:01Z", event_id, data)
    return ("222222222222", "2026-11-28T19:00:01Z", event_id, data, keys)


KEYED = make_template((b'{"eventTime":"', b'","requestID":', b',"eventID":"', b'","k":1}'))
UNKEYED = make_template((b'{"eventTime":"', b'","requestID":', b',"eventID":"', b'","k":2}'))
KEYS: IndexKeys = (("222222222222", "us-east-1", "EventName", "GetUser"),)


def test_a_take_parses_the_segments_lines_into_the_rows_appended(tmp_path: Path) -> None:
    """The journal keeps no row in memory: a take copies the lines out of the segments and
    parses them.  Compact rows come back compact, with the index keys their template's first
    row had (none: the move computes them from the record), whole rows without keys; the
    batch's templates are those its rows use, also when defined before an earlier take or
    in a segment sealed since; definition lines are no rows."""
    journal = EventJournal(tmp_path, segment_bytes=8192)
    try:
        journal.append_one(_compact_row(0, KEYED, KEYS), KEYED)
        journal.append_one(_compact_row(1, UNKEYED, None), UNKEYED)
        journal.append([row(2)])
        first = journal.take()
        assert first.rows == [_compact_row(0, KEYED, KEYS), _compact_row(1, UNKEYED, None),
                              row(2)]
        assert first.templates == {KEYED.tid: KEYED.text, UNKEYED.tid: UNKEYED.text}
        journal.append_one(_compact_row(3, KEYED, KEYS), KEYED)  # defined before the take
        second = journal.take()
        assert second.rows == [_compact_row(3, KEYED, KEYS)]
        assert second.templates == {KEYED.tid: KEYED.text}
        made = [_compact_row(n, KEYED, KEYS) if n % 2 else row(n) for n in range(4, 200)]
        for one in made:  # several segments fill up and are sealed
            journal.append_one(one, KEYED if len(one) == 5 else None)
        third = journal.take()
        assert len(third.paths) >= 3
        assert third.rows == made
        assert third.templates == {KEYED.tid: KEYED.text}
        assert journal.take().empty() and journal.backlog == 0
    finally:
        journal.close()


def test_appending_keeps_no_object_per_row(tmp_path: Path) -> None:
    """The recorder's fast path leaves nothing behind per row on the calling thread: memory
    held after 20,000 appends is a small constant.  (The design before kept every row in a
    list until the move: here its list alone held ~170 KB; in a server, where each call makes
    its row, ~250 bytes a row more.)"""
    journal = EventJournal(tmp_path)
    try:
        journal.append_one(_compact_row(0, KEYED, KEYS), KEYED)  # segment and definition made
        lines = [b"222222222222\t2026-11-28T19:00:01Z\tcid-%d\t%s" % (n, _compact_row(
            n, KEYED, KEYS)[3]) for n in range(1, 20_001)]
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            for line in lines:
                journal.append_line(line, KEYED, KEYS)
            held = sum(stat.size_diff for stat in
                       tracemalloc.take_snapshot().compare_to(before, "filename"))
        finally:
            tracemalloc.stop()
        assert held < 64 * 1024
        batch = journal.take()
        assert len(batch.rows) == 20_001
        assert batch.rows[-1] == _compact_row(20_000, KEYED, KEYS)
    finally:
        journal.close()


def test_a_line_the_move_cannot_read_is_skipped_not_the_batch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Lines this module never writes (a template it does not know, bytes that are not
    UTF-8, no template id) are logged and skipped; the lines around them come through."""
    good = b"111111111111\t2026-11-28T19:00:00Z\tid-1\t{}\n"
    blob = (good + b"111111111111\tT\tid-2\t~77 a b c\n" + b"\xff\xfe\tT\tid-3\t{}\n"
            + b"111111111111\tT\tid-4\t~x\n" + good.replace(b"id-1", b"id-5"))
    rows: list[EventRow] = []
    templates: dict[int, bytes] = {}
    span_rows(blob, {}, rows, templates)
    assert [r[2] for r in rows] == ["id-1", "id-5"]
    assert templates == {}
    assert caplog.text.count("unreadable line skipped") == 3
