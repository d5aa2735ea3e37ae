"""The event journal: an append-only file of CloudTrail records on their way into the store.

A call that changes nothing (a read, an error, a denial) has only its record to store.  Giving
each such record its own store transaction costs a job in the writer thread, B-tree page writes,
a share of a commit and an fsync, and waking the event loop when it is done: together about half
of the server's throughput.  Such records are appended here instead, one line each, on the
calling (event loop) thread before the call answers, into a segment file mapped into memory
(``mmap``, shared): a copy into the kernel's page cache, no system call, and from then on the
kernel holds the line, so it survives ``kill -9``.  Segments are allocated in full when
created, where the system can (a full disk fails the creation, not a write into the mapping).
A syncer thread flushes the mapping to disk every :data:`SYNC_INTERVAL` seconds: power loss can
cost the records of at most that long (a call that changed state keeps its record in its own
store transaction, durable at once).  The syncer also makes the next segment ahead of need
(:data:`SPARE`: allocated, its pages mapped in, which costs milliseconds); a new segment is
that spare renamed, and the syncer's next round makes the new name durable.

About once a second, and before anything reads the events (LookupEvents, a CloudTrail change, a
delivery pass, shutdown), the gateway moves the lines appended since the last time into the
store's ``events`` table, up to a thousand records per transaction (:meth:`EventJournal.take`).
The journal keeps nothing in memory per line: a take copies the new lines out of the segments
(one copy per segment) and the store's writer thread parses them (:class:`JournalBatch`): rows
kept in memory from the append to the move cost about 2% of the server's throughput (README,
performance, session 14).  Appends go on into the same segment until it is full; a full
segment's file is deleted once all its lines are stored (:meth:`EventJournal.discard`).  At
start-up the segments a stopped or killed server left are moved first
(:meth:`EventJournal.recover`); moving skips records already stored, so the lines of a segment
moved before a crash (or before the deletion) duplicate nothing.

Line format
    ``ACCOUNT<TAB>EVENTTIME<TAB>EVENTID<TAB>RECORD<LF>`` (JSON escapes tabs, newlines and
    NULs); the unwritten rest of a segment is NUL bytes.  RECORD is the record's JSON, or its
    compact form (``~TEMPLATE-ID ...``: see :mod:`trailgate.store.event_templates`); a segment
    holds the definition line ``#T<TAB>TEMPLATE-ID<TAB>PIECES-JSON<LF>`` of each template
    before the first compact record that uses it, so every segment is read on its own.
    A line's LF is stored after the rest of it, so a line without one (the process died while
    copying it) was never acknowledged: recovery skips it, and a line with NUL bytes in it (a
    page that a power loss kept from the disk); the lines around it are recovered.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import mmap
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from trailgate.store.blobs import fsync_dir
from trailgate.store.event_templates import EventTemplate, expand, is_compact, parse_pieces
from trailgate.store.interface import StoreClosed, StoreError

__all__ = [
    "SYNC_INTERVAL", "EventJournal", "EventRow", "IndexKeys", "JournalBatch", "KeyedEvent",
    "parse_segment", "span_rows",
]

log = logging.getLogger("trailgate.journal")

IndexKeys = tuple[tuple[str, str, str, str], ...]
"""A record's event-history index keys, (account, region, attribute, value) each, when the
caller that journaled it knew them (see ``services.cloudtrail.events``)."""

EventRow = tuple[str, str, str, bytes] | tuple[str, str, str, bytes, IndexKeys]
"""(recipient account, eventTime, eventID, the record as JSON bytes[, its index keys]).  The
keys stay in memory with the row for the move into the store; they are not written to the
file (rows recovered from a file come without them)."""

KeyedEvent = tuple[int, str, IndexKeys | None]
"""(seq, eventTime, index keys if known) of a stored event (see ``SqliteTx.take_keyed_events``)."""

SUFFIX: Final = ".journal"
SPARE: Final = "next.spare"
"""The next segment, made ahead by the syncer thread (not a segment until renamed)."""
_POPULATE: Final = getattr(mmap, "MAP_POPULATE", 0)
_LINUX: Final = sys.platform.startswith("linux")
SYNC_INTERVAL: Final = 0.1
"""Seconds between two flushes of the current segment to disk (when something was appended)."""
SEGMENT_BYTES: Final = 8 * 1024 * 1024
"""Size of a new segment (a bigger one for a bigger line): about 7,000 whole records, or
about 70,000 compact ones."""
DEFINITION: Final = b"#T"
"""First field of a template's definition line (an account ID is digits)."""


Defined = dict[int, tuple[bytes, IndexKeys | None]]
"""A segment's templates: id -> (pieces as text, the index keys of its records if known)."""
Span = tuple[bytes, Defined]
"""Lines taken from a segment (definition lines among them), and that segment's templates."""


class JournalBatch:
    """Rows taken from the journal and the segment files that hold them (delete those only
    after the rows are committed elsewhere).  A batch from :meth:`EventJournal.take` holds the
    lines as the segments have them, copied once: the calling thread keeps no object per
    record; its rows are parsed when first asked for (by the thread that stores them)."""

    __slots__ = ("_rows", "_spans", "_templates", "paths")

    def __init__(self, rows: Sequence[EventRow] = (), paths: Sequence[Path] = (),
                 templates: Mapping[int, bytes] | None = None,
                 spans: Sequence[Span] = ()) -> None:
        self._rows: list[EventRow] = list(rows)
        self.paths: list[Path] = list(paths)
        self._templates: dict[int, bytes] = dict(templates or {})
        self._spans: list[Span] = list(spans)

    @property
    def rows(self) -> list[EventRow]:
        if self._spans:
            self._parse()
        return self._rows

    @property
    def templates(self) -> dict[int, bytes]:
        """The templates of the compact rows (id: pieces as text; see ``event_templates``)."""
        if self._spans:
            self._parse()
        return self._templates

    def _parse(self) -> None:
        spans, self._spans = self._spans, []
        for blob, defined in spans:
            span_rows(blob, defined, self._rows, self._templates)

    def parts(self) -> tuple[list[EventRow], dict[int, bytes], list[Span]]:
        """The rows parsed already (recovered or given back) with their templates, and the
        spans of lines not parsed: :meth:`rows` would parse those."""
        return self._rows, self._templates, self._spans

    def empty(self) -> bool:
        """Whether the batch holds no row (without parsing it)."""
        return not self._rows and not any(blob for blob, _ in self._spans)


def span_rows(blob: bytes, defined: Mapping[int, tuple[bytes, IndexKeys | None]],
              rows: list[EventRow], templates: dict[int, bytes]) -> None:
    """Append to ``rows`` the rows of lines written by this process (every one complete; its
    definition lines skipped): compact records stay compact, with the index keys their
    template's first record came with; ``templates`` gets the templates they use.  A line
    that cannot be read (never written so by this module) is logged and skipped, as recovery
    skips one: the rest of the batch is not held up by it."""
    for raw in blob.split(b"\n"):
        parts = raw.split(b"\t", 3)
        if len(parts) != 4:
            continue  # a definition line (three fields), or the empty piece after the last LF
        account, event_time, event_id, data = parts
        try:
            if data.startswith(b"~"):  # compact (see event_templates)
                tid = int(data[1:data.index(b" ")])
                text, keys = defined[tid]
                templates[tid] = text
                if keys is not None:
                    rows.append((account.decode(), event_time.decode(), event_id.decode(),
                                 data, keys))
                    continue
            rows.append((account.decode(), event_time.decode(), event_id.decode(), data))
        except (LookupError, ValueError):  # UnicodeDecodeError is a ValueError
            log.error("event journal: unreadable line skipped: %r", raw[:200])


class _Segment:
    """A segment file, allocated in full and mapped into memory; ``size`` bytes are used."""

    __slots__ = ("defined", "dirty", "fd", "map", "path", "size")

    def __init__(self, path: Path, capacity: int) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _allocate(fd, capacity)
            # MAP_POPULATE (Linux): the pages are faulted in now, by mmap() (without the GIL),
            # instead of at the first write into each (a fault that costs ~3 ms here).
            self.map = mmap.mmap(fd, capacity, mmap.MAP_SHARED | _POPULATE,
                                 mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        self.fd = fd  # kept for sync(): fdatasync releases the GIL, mmap.flush does not
        self.size = 0
        self.dirty = False
        self.defined: Defined = {}  # the templates defined in this segment

    def room(self) -> int:
        return len(self.map) - self.size

    def put(self, line: bytes) -> None:
        """Copy ``line`` (without its LF) in, then its LF: see the module doc."""
        start = self.size
        end = start + len(line)
        self.map[start:end] = line
        self.map[end] = 10  # b"\n": the line is complete
        self.size = end + 1
        self.dirty = True

    def sync(self) -> None:
        """Make the lines written so far durable.  On Linux ``fdatasync`` on the file writes
        the pages dirtied through the shared mapping (it is what ``msync(MS_SYNC)`` does
        there) and, unlike ``mmap.flush`` (``msync`` with the GIL held), lets the other
        threads run during the disk write; elsewhere ``msync`` of the used pages."""
        if _LINUX:
            os.fdatasync(self.fd)
        else:  # pragma: no cover - not Linux
            self.map.flush(0, -(-self.size // mmap.PAGESIZE) * mmap.PAGESIZE)

    def close(self) -> None:
        """Unmap and close (the file stays)."""
        try:
            self.map.close()
        finally:
            os.close(self.fd)


def _drop(segment: _Segment) -> None:
    """Close and delete a segment that never held a row (a spare)."""
    with contextlib.suppress(OSError, ValueError):
        segment.close()
    with contextlib.suppress(FileNotFoundError):
        segment.path.unlink()


def _allocate(fd: int, size: int) -> None:
    """Give the file ``size`` bytes of disk now: a full disk fails here, not as SIGBUS at a
    write into the mapping later.  Where the system cannot allocate ahead (macOS has no
    posix_fallocate; some file systems refuse it) the file is only extended (sparse)."""
    allocate = getattr(os, "posix_fallocate", None)
    if allocate is not None:
        try:
            allocate(fd, 0, size)
            return
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
    os.ftruncate(fd, size)


def _line(row: EventRow) -> bytes:
    """A row's line without its LF."""
    return b"%s\t%s\t%s\t%s" % (row[0].encode(), row[1].encode(), row[2].encode(), row[3])


def _definition(template: EventTemplate) -> bytes:
    """A template's definition line without its LF."""
    return b"%s\t%d\t%s" % (DEFINITION, template.tid, template.text)


def parse_segment(blob: bytes) -> tuple[list[EventRow], int]:
    """The rows of one segment file's bytes, and how many lines were unreadable (cut short).
    Compact records come back whole (JSON), joined with the segment's template definitions."""
    rows: list[EventRow] = []
    bad = 0
    blob = blob.rstrip(b"\0")  # the unwritten rest of the segment
    lines = blob.split(b"\n")
    if lines and lines[-1]:
        bad += 1  # no LF: cut short
    templates: dict[int, tuple[bytes, ...]] = {}
    for raw in lines[:-1]:
        if not raw or b"\0" in raw:
            bad += bool(raw)
            continue
        parts = raw.split(b"\t", 3)
        if parts[0] == DEFINITION and len(parts) == 3:
            try:
                templates[int(parts[1])] = parse_pieces(parts[2])
            except ValueError:
                bad += 1
            continue
        if len(parts) == 4 and is_compact(parts[3]):
            try:
                parts[3] = expand(parts[3], templates.get)
            except (ValueError, LookupError):
                bad += 1
                continue
        if len(parts) != 4 or not parts[3].startswith(b"{") or not parts[3].endswith(b"}"):
            bad += 1
            continue
        try:
            account, event_time, event_id = (p.decode() for p in parts[:3])
        except UnicodeDecodeError:
            bad += 1
            continue
        rows.append((account, event_time, event_id, parts[3]))
    return rows, bad


class EventJournal:
    """See the module docstring.  :meth:`append`, :meth:`take`, :meth:`restore` and
    :meth:`discard` belong to one thread (the event loop's)."""

    def __init__(self, directory: Path, sync_interval: float = SYNC_INTERVAL,
                 segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self._segment_bytes = segment_bytes
        self.directory.mkdir(parents=True, exist_ok=True)
        existing = self._segments()
        self._next = (int(existing[-1].stem) + 1) if existing else 1
        self._current: _Segment | None = None
        self._sealed: list[Path] = list(existing)  # hold rows not taken yet (or recovered)
        self._spans: list[Span] = []  # lines of sealed segments, not taken yet
        self._taken = 0  # the current segment's bytes taken
        self._restored = JournalBatch()  # rows given back (restore), taken first
        self._recovered = not existing
        self._closed = False
        self._lock = threading.Lock()  # the current segment's mapping: syncer vs take/close
        self._stop = threading.Event()
        self._wake = threading.Event()  # the syncer: stop, or make a spare segment now
        self._spare: _Segment | None = None
        self._rename_unsynced = False  # a spare was renamed: the directory needs an fsync
        self._closing: list[_Segment] = []  # sealed, to be flushed and unmapped by the syncer
        self._doomed: list[Path] = []  # discarded segment files, to be deleted by the syncer
        with contextlib.suppress(FileNotFoundError):
            (self.directory / SPARE).unlink()  # a previous run's: never held a row
        self._interval = sync_interval
        self._thread = threading.Thread(
            target=self._syncer, name="trailgate-journal-sync", daemon=True
        )
        self._thread.start()

    def _segments(self) -> list[Path]:
        found = [p for p in self.directory.iterdir()
                 if p.suffix == SUFFIX and p.stem.isdigit()]
        return sorted(found, key=lambda p: int(p.stem))

    # -- start-up -------------------------------------------------------------------------------
    def recover(self) -> JournalBatch:
        """The rows of the segments a previous run left (call before the first append; give
        the batch to :meth:`discard` once the rows are stored)."""
        batch = JournalBatch()
        for path in self._sealed:
            rows, bad = parse_segment(path.read_bytes())
            if bad:
                log.warning("journal %s: %d incomplete line(s) skipped", path.name, bad)
            batch.rows.extend(rows)
            batch.paths.append(path)
        self._sealed = []
        self._recovered = True
        return batch

    # -- appending ---------------------------------------------------------------------------------
    def append(self, rows: Sequence[EventRow]) -> None:
        """Write ``rows``; on return the kernel has them.  :class:`StoreError` if that
        failed (no new segment could be made).  Index keys that come with a row are not
        kept: the move computes them from the record."""
        if self._closed:
            raise StoreClosed("event journal is closed")
        if not self._recovered:
            raise RuntimeError("EventJournal.recover() must run before the first append")
        segment = self._current
        for row in rows:
            data = _line(row)
            if segment is None or segment.room() <= len(data):
                if segment is not None:
                    self._seal()
                try:
                    segment = self._current = self._open_segment(len(data) + 1)
                except OSError as exc:
                    raise StoreError(f"event journal: no new segment: {exc!r}") from None
            segment.put(data)

    def append_one(self, row: EventRow, template: EventTemplate | None = None) -> None:
        """:meth:`append` of one row (the common case, in fewer steps).  With ``template``,
        the row's record is in compact form (see :mod:`trailgate.store.event_templates`):
        the segment gets the template's definition line before the first row that uses it
        (and keeps the row's index keys, if it has them, for every row of the template)."""
        if template is None:
            self.append((row,))
            return
        self.append_line(_line(row), template, row[4] if len(row) == 5 else None)

    def append_line(self, line: bytes, template: EventTemplate,
                    keys: IndexKeys | None) -> None:
        """:meth:`append_one` of a row of ``template`` whose line (without its LF) the caller
        made already, ``keys`` the index keys of the template's records: the recorder's fast
        path, in as few steps as can be (nothing is kept in memory per row: a take copies
        the lines out of the segment)."""
        segment = self._current
        if segment is None or self._closed or template.tid not in segment.defined:
            self._append_slow(line, template, keys)
            return
        start = segment.size
        end = start + len(line)
        mapped = segment.map
        if end >= len(mapped):
            self._append_slow(line, template, keys)
            return
        mapped[start:end] = line
        mapped[end] = 10  # b"\n" after the rest of the line, as _Segment.put
        segment.size = end + 1
        segment.dirty = True

    def _append_slow(self, line: bytes, template: EventTemplate,
                     keys: IndexKeys | None) -> None:
        """:meth:`append_line` when a segment must be made or a template defined first."""
        self.append(())  # raises if the journal is closed or not recovered
        definition = _definition(template)
        segment = self._current
        needed = len(line) + 1
        if segment is None or template.tid not in segment.defined:
            needed += len(definition) + 1
        if segment is None or segment.room() < needed:
            if segment is not None:
                self._seal()
            try:
                segment = self._current = self._open_segment(len(line) + len(definition) + 2)
            except OSError as exc:
                raise StoreError(f"event journal: no new segment: {exc!r}") from None
        if template.tid not in segment.defined:
            segment.put(definition)
            segment.defined[template.tid] = (template.text, keys)
        segment.put(line)

    def _open_segment(self, needed: int) -> _Segment:
        path = self.directory / f"{self._next:012d}{SUFFIX}"
        self._next += 1
        with self._lock:
            spare, self._spare = self._spare, None
        self._wake.set()  # the syncer makes the next spare
        if spare is not None and needed <= len(spare.map):
            try:
                os.rename(spare.path, path)
            except OSError:
                log.exception("event journal: the spare segment could not be renamed")
            else:
                spare.path = path
                self._rename_unsynced = True  # the syncer makes the name durable, with the rows
                return spare
        if spare is not None:
            _drop(spare)
        capacity = max(self._segment_bytes, -(-needed // mmap.PAGESIZE) * mmap.PAGESIZE)
        segment = _Segment(path, capacity)
        fsync_dir(self.directory)  # the new name survives power loss
        return segment

    def _make_spare(self) -> None:
        """In the syncer thread: the next segment, allocated and mapped ahead of need (the
        event loop then only renames it)."""
        try:
            spare = _Segment(self.directory / SPARE, self._segment_bytes)
        except FileExistsError:
            return  # taken and renamed meanwhile? made next time
        except OSError:
            log.exception("event journal: no spare segment")
            return
        with self._lock:
            if self._spare is None and not self._closed:
                self._spare = spare
                return
        _drop(spare)

    def _seal(self) -> None:
        """The current segment takes no more lines, its lines not taken yet copied out for
        take; the syncer flushes and unmaps it (unmapping 8 MiB costs about a millisecond:
        not on the event loop)."""
        with self._lock:
            segment, self._current = self._current, None
            if segment is None:
                return
            if segment.size > self._taken:
                self._spans.append((segment.map[self._taken:segment.size], segment.defined))
            self._taken = 0
            self._sealed.append(segment.path)
            self._closing.append(segment)
        self._wake.set()

    def _finish_sealed(self) -> None:
        """Flush and unmap the sealed segments, delete the discarded files (syncer, close)."""
        with self._lock:
            closing, self._closing = self._closing, []
            doomed, self._doomed = self._doomed, []
        for segment in closing:
            with contextlib.suppress(OSError, ValueError):
                if segment.dirty:
                    segment.sync()
            with contextlib.suppress(OSError, ValueError):
                segment.close()
        for path in doomed:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # -- moving into the store ---------------------------------------------------------------------
    def take(self, *, seal: bool = False) -> JournalBatch:
        """Everything appended so far, and the full (sealed) segment files: every line in
        them is in this batch or an earlier one.  The current segment goes on taking lines
        (a new segment for every take would allocate, map and delete 8 MiB each time,
        however few lines it held); its file goes once it is full and a later batch held
        its last lines.  Lines of it already stored are moved again after a crash, and
        skipped then (see :meth:`recover`).  ``seal``: the current segment is full now (so
        the batch's :meth:`discard` deletes it too: the last take before :meth:`close`).
        The batch's lines are copied out of the segments (one copy per segment), its rows
        parsed from them when first asked for."""
        if seal:
            self._seal()
        spans, self._spans = self._spans, []
        segment = self._current
        if segment is not None and segment.size > self._taken:
            spans.append((segment.map[self._taken:segment.size], segment.defined))
            self._taken = segment.size
        restored, self._restored = self._restored, JournalBatch()
        paths, self._sealed = restored.paths + self._sealed, []
        return JournalBatch(restored.rows, paths, restored.templates, spans)

    def restore(self, batch: JournalBatch) -> None:
        """Give back a batch that could not be stored (it is taken again next time)."""
        pending = self.take()  # whatever came after the batch: behind it again
        self._restored = JournalBatch(batch.rows + pending.rows,
                                      batch.paths + pending.paths,
                                      {**batch.templates, **pending.templates})

    def discard(self, batch: JournalBatch) -> None:
        """Delete the batch's full segment files: its rows are committed in the store.  The syncer
        deletes them (a file left by a crash before that is moved again at the next start,
        where rows already stored are skipped)."""
        with self._lock:
            self._doomed.extend(batch.paths)
        if self._closed:
            self._finish_sealed()
        else:
            self._wake.set()

    @property
    def backlog(self) -> int:
        """Rows appended and not taken yet (counted from the lines: not for a hot path)."""
        count = len(self._restored.rows)
        pending = [blob for blob, _ in self._spans]
        segment = self._current
        if segment is not None:
            pending.append(segment.map[self._taken:segment.size])
        for blob in pending:
            count += sum(1 for raw in blob.split(b"\n") if raw.count(b"\t") == 3)
        return count

    # -- the syncer thread -------------------------------------------------------------------------
    def _syncer(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self._rename_unsynced:
                self._rename_unsynced = False
                try:
                    fsync_dir(self.directory)
                except OSError:
                    self._rename_unsynced = True
                    log.exception("event journal: directory sync failed")
            self._finish_sealed()
            if self._spare is None and self._recovered:
                self._make_spare()
            with self._lock:
                segment = self._current
                if segment is None or not segment.dirty:
                    continue
                segment.dirty = False  # appends from now on make it dirty again
            # Outside the lock: a segment switch on the event loop must not wait for the disk.
            # Only this thread closes segments (or close(), after joining it).
            try:
                segment.sync()
            except (OSError, ValueError):
                segment.dirty = True
                log.exception("event journal sync failed")

    def close(self) -> None:
        """Sync and close the current segment and stop the syncer (segments stay on disk:
        the next start moves what was not taken)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._seal()
        self._finish_sealed()
        spare, self._spare = self._spare, None
        if spare is not None:
            _drop(spare)
