"""The CloudTrail event log of a SQLite transaction: the ``events`` table (the outbox of every
recorded call, in sequence order) and the event-history index (tables ``event_keys`` and
``event_blocks``, migrations 5 and 6).  Mixed into
:class:`trailgate.store.sqlite.store.SqliteTx`."""

from __future__ import annotations

import builtins
import functools
import heapq
import itertools
import sqlite3
import struct
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from trailgate.store.event_templates import (
    compact_tid,
    expand,
    is_compact,
    parse_pieces,
    whole,
)
from trailgate.store.interface import Conflict
from trailgate.store.journal import EventRow, KeyedEvent
from trailgate.store.sqlite.codec import decode as _decode
from trailgate.store.sqlite.codec import encode as _encode

BLOCK_ENTRIES = 256
"""Most (event time, seq) entries in one ``event_blocks`` row."""
MERGE_BELOW = 64
"""A key's newest block with fewer entries takes the key's next entries (see event_index_add)."""
APPEND_ROWS = 250
"""Most events one INSERT statement of :meth:`EventsTx.append_events` takes (4 parameters
each; SQLite allows 32,766)."""


PIECES_CACHED = 4096
"""Most templates' pieces kept in memory for reading compact records: one cache for every
store of the process, since a template's id is a hash of its pieces."""
_PIECES: dict[int, tuple[bytes, ...]] = {}


def _bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _whole(row: EventRow, templates: Mapping[int, bytes]) -> EventRow:
    """The row with its compact record made whole, from the given templates' texts."""
    return (row[0], row[1], row[2], whole(row[3], templates), *row[4:])


def _statement_sizes(rows: int) -> builtins.list[int]:
    """``rows`` split into statements of APPEND_ROWS rows, the rest in powers of two: a few
    statement texts only, so SQLite's statement cache keeps them all compiled."""
    sizes = [APPEND_ROWS] * (rows // APPEND_ROWS)
    rest = rows % APPEND_ROWS
    sizes += [1 << bit for bit in range(rest.bit_length() - 1, -1, -1) if rest >> bit & 1]
    return sizes


@functools.lru_cache(maxsize=16)
def _insert_events_sql(rows: int) -> str:
    return ("INSERT INTO events (account, event_time, event_id, data) VALUES "
            + ",".join(["(?, ?, ?, ?)"] * rows))


_INSERT_LINES = (
    "INSERT INTO events (account, event_time, event_id, data) SELECT value ->> 0, value ->> 1,"
    " value ->> 2, CAST(value ->> 3 AS BLOB) FROM json_each(?) WHERE json_array_length(value) = 4"
    " ORDER BY key")


def _lines_json(lines: bytes) -> str:
    """Journal lines (every one ending in LF) as a JSON array with an array of strings per
    line.  A line holds no control character but its tabs and LF (its record is JSON, whose
    strings escape them), so escaping backslashes and quotes makes each field a JSON string."""
    body = lines[:-1] if lines.endswith(b"\n") else lines
    return (b'[["' + body.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
            .replace(b"\t", b'","').replace(b"\n", b'"],["') + b'"]]').decode()


def _entries(lo: int, base: int, data: str | bytes) -> builtins.list[tuple[int, int]]:
    """A block's (event time, seq) entries: a BLOB holds them as little-endian 64-bit pairs
    (:func:`_pack`); a JSON array (blocks written before) holds offsets from lo and base."""
    if isinstance(data, bytes):
        numbers = struct.unpack(f"<{len(data) // 8}q", data)
        return builtins.list(zip(numbers[::2], numbers[1::2], strict=True))
    numbers = orjson.loads(data)
    return builtins.list(zip([lo + t for t in numbers[::2]],
                             [base + d for d in numbers[1::2]], strict=True))


def _pack(entries: Sequence[tuple[int, int]]) -> bytes:
    """(event time, seq) entries as a block's ``entries`` BLOB."""
    return struct.pack(f"<{2 * len(entries)}q", *itertools.chain.from_iterable(entries))


class EventsTx:
    """The event methods of a transaction (see :class:`trailgate.store.interface.Tx`)."""

    __slots__ = ()

    if TYPE_CHECKING:  # provided by SqliteTx

        def _read(self) -> sqlite3.Connection: ...

        def _write(self) -> sqlite3.Connection: ...

    def take_keyed_events(self) -> builtins.list[KeyedEvent]:
        """The index keys of events stored since the last take, as far as kept: none here
        (:class:`trailgate.store.sqlite.store.SqliteTx` keeps those of its store's commits)."""
        return []

    def append_event(
        self, account: str, event_time: str, event_id: str, data: dict[str, Any]
    ) -> int:
        cur = self._write().execute(
            "INSERT INTO events (account, event_time, event_id, data) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (event_id) DO NOTHING",
            (account, event_time, event_id, _encode(data)),
        )
        if cur.rowcount == 0 or cur.lastrowid is None:
            raise Conflict(f"event {event_id!r} already recorded")
        return cur.lastrowid

    def append_events(self, rows: Sequence[EventRow],
                      templates: Mapping[int, bytes] | None = None) -> int:
        conn = self._write()
        if not rows:
            return self.last_event_seq() + 1
        if templates:
            clashing = self._put_templates(templates)
            if clashing:  # another template has the id: these records are stored whole
                rows = [_whole(row, templates) if is_compact(row[3])
                        and compact_tid(row[3]) in clashing else row for row in rows]
        # A few statements for the whole batch, each inserting up to APPEND_ROWS rows from
        # one multi-row VALUES list: SQLite's C code does every row without the GIL
        # (executemany would take it back for every row, and each time wait for the event
        # loop thread to give it up), and binding is cheaper than extracting the rows from
        # JSON in SQL (json_each: ~2 µs more per row).  The records are stored byte for byte,
        # never parsed here; the rows get consecutive seqs (AUTOINCREMENT, one writer).
        sizes = _statement_sizes(len(rows))
        atomic = len(sizes) > 1  # one statement is atomic by itself
        if atomic:
            conn.execute("SAVEPOINT append_events")
        count = 0
        last = 0
        try:
            start = 0
            for size in sizes:
                part = rows[start:start + size]
                start += size
                cur = conn.execute(_insert_events_sql(size), [v for row in part for v in row[:4]])
                count += cur.rowcount
                last = cur.lastrowid or 0
        except sqlite3.IntegrityError as exc:
            if atomic:
                conn.execute("ROLLBACK TO append_events")
                conn.execute("RELEASE append_events")
            raise Conflict(f"an event of this batch is recorded already: {exc}") from None
        if atomic:
            conn.execute("RELEASE append_events")
        if count != len(rows):
            raise Conflict("the batch's events were not all appended")
        return last - len(rows) + 1

    def append_journal_lines(self, lines: bytes,
                             templates: Mapping[int, bytes]) -> tuple[int, int]:
        """:meth:`append_events` of the rows of event-journal lines (each
        ``ACCOUNT<TAB>EVENTTIME<TAB>EVENTID<TAB>RECORD<LF>``; template definition lines, of
        three fields, are skipped), stored byte for byte as those rows would be, in order;
        returns the first seq and how many (``(0, 0)`` if none).  SQLite splits the lines
        (``json_each`` over them made a JSON array of arrays by a few byte replacements): no
        Python object per record, and the work runs without the GIL.  :class:`Conflict`
        (nothing stored) if an eventID exists or a template's id holds another template (the
        caller stores those rows whole)."""
        conn = self._write()
        if templates and self._put_templates(templates):
            raise Conflict("a template's id holds another template")
        data = lines.count(b"\n") - lines.count(b"\n#T\t") - lines.startswith(b"#T\t")
        try:
            cur = conn.execute(_INSERT_LINES, (_lines_json(lines),))
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"an event of these lines is recorded already: {exc}") from None
        except (UnicodeDecodeError, sqlite3.OperationalError) as exc:
            if isinstance(exc, sqlite3.OperationalError) and "JSON" not in str(exc):
                raise
            # Never so for lines this process wrote: they go in as rows, as they always did.
            raise Conflict(f"journal lines not readable as they are: {exc}") from None
        if cur.rowcount != data or cur.lastrowid is None:
            # Never so for lines this process wrote: the caller's write rolls back, and the
            # lines go in as rows (those the row path cannot read skipped).
            raise Conflict(f"{cur.rowcount} of {data} journal lines stored")
        return (cur.lastrowid - data + 1, data) if data else (0, 0)

    def journal_line_groups(self, first: int, last: int) -> builtins.list[tuple[int, str, str]]:
        """For the compact records of seqs ``first`` to ``last``, per template: its id, their
        seqs and their eventTimes, each comma-separated in the same order (one row per
        template, so no Python object per record)."""
        rows: builtins.list[tuple[int, str, str]] = self._read().execute(
            "SELECT CAST(substr(data, 2, instr(data, X'20') - 2) AS INTEGER),"
            " group_concat(seq), group_concat(event_time) FROM events"
            " WHERE seq BETWEEN ? AND ? AND substr(data, 1, 1) = X'7E' GROUP BY 1",
            (first, last)).fetchall()
        return rows

    def journal_whole_rows(
        self, first: int, last: int
    ) -> builtins.list[tuple[int, str, str, bytes]]:
        """``(seq, account, eventTime, record)`` of the whole (not compact) records of seqs
        ``first`` to ``last``."""
        rows: builtins.list[tuple[int, str, str, bytes]] = self._read().execute(
            "SELECT seq, account, event_time, data FROM events"
            " WHERE seq BETWEEN ? AND ? AND substr(data, 1, 1) != X'7E' ORDER BY seq",
            (first, last)).fetchall()
        return rows

    def _put_templates(self, templates: Mapping[int, bytes]) -> set[int]:
        """Store the templates not stored yet; returns the ids under which another template
        is stored (a hash collision)."""
        conn = self._write()
        ids = builtins.list(templates)
        clashing: set[int] = set()
        for start in range(0, len(ids), APPEND_ROWS):
            part = ids[start:start + APPEND_ROWS]
            found = dict(conn.execute(
                f"SELECT id, pieces FROM event_templates WHERE id IN ({','.join('?' * len(part))})",
                part).fetchall())
            missing = [(tid, templates[tid]) for tid in part if tid not in found]
            if missing:
                conn.executemany("INSERT INTO event_templates (id, pieces) VALUES (?, ?)", missing)
            clashing.update(tid for tid, text in found.items() if bytes(text) != templates[tid])
        return clashing

    def _pieces_of(self) -> Callable[[int], tuple[bytes, ...] | None]:
        """Finds a template's pieces: in this process's cache, else in the store."""
        conn = self._read()

        def find(tid: int) -> tuple[bytes, ...] | None:
            pieces = _PIECES.get(tid)
            if pieces is None:
                row = conn.execute("SELECT pieces FROM event_templates WHERE id = ?",
                                   (tid,)).fetchone()
                if row is None:
                    return None
                pieces = parse_pieces(row[0])
                if len(_PIECES) >= PIECES_CACHED:
                    _PIECES.clear()
                _PIECES[tid] = pieces
            return pieces

        return find

    def _record(self, data: bytes | str) -> dict[str, Any]:
        """A stored event's record (compact ones joined with their template)."""
        if is_compact(data):
            return _decode(expand(_bytes(data), self._pieces_of()))
        return _decode(data)

    # -- the CloudTrail event-history index (tables event_keys, event_blocks: migration 6) -----

    def event_index_add(self, rows: Sequence[tuple[str, str, str, str, int, int]]) -> None:
        """The rows grouped by key (see :meth:`event_index_put`)."""
        groups: dict[tuple[str, str, str, str], builtins.list[tuple[int, int]]] = {}
        for account, region, attr, value, at, seq in rows:
            key = (account, region, attr, value)
            found = groups.get(key)
            if found is None:
                groups[key] = [(at, seq)]
            else:
                found.append((at, seq))
        self.event_index_put(groups)

    def event_index_put(
        self, groups: Mapping[tuple[str, str, str, str], builtins.list[tuple[int, int]]]
    ) -> None:
        """One ``event_blocks`` row per key and up to :data:`BLOCK_ENTRIES` entries, sorted by
        time (a block spans a short time).  A fixed number of statements, however many keys:
        each statement gives the GIL away and must take it back from the event loop thread
        (up to a switch interval, and a forced switch of that thread), so the per-key work
        runs inside SQLite over JSON arrays of the keys and blocks.  The lists in ``groups``
        are sorted in place and may get entries added."""
        if not groups:
            return
        ids = self._event_key_ids(builtins.list(groups))
        conn = self._write()
        # A key's newest block, when small (made by a small batch: the journal moves before
        # every CloudTrail call), takes these entries: lookups then read a few full blocks,
        # not one per batch.
        small = {ids[key]: entries for key, entries in groups.items()
                 if len(entries) < BLOCK_ENTRIES}
        merged: builtins.list[int] = []
        if small:
            # One row (an aggregate): a result row is a step of its own, and every step
            # gives the GIL away.
            found = conn.execute(
                "SELECT json_group_array(json_array(b.id, b.key, b.lo, b.base,"
                " CASE typeof(b.entries) WHEN 'blob' THEN hex(b.entries) END,"
                " CASE typeof(b.entries) WHEN 'blob' THEN NULL ELSE b.entries END))"
                " FROM json_each(:keys) AS j JOIN event_blocks AS b ON b.id = (SELECT id"
                " FROM event_blocks WHERE key = j.value ORDER BY hi DESC LIMIT 1)"
                " WHERE CASE typeof(b.entries) WHEN 'blob' THEN length(b.entries) / 16"
                " ELSE json_array_length(b.entries) / 2 END < :merge",
                {"keys": orjson.dumps(builtins.list(small)).decode(), "merge": MERGE_BELOW},
            ).fetchone()[0]
            for block, kid, lo, base, packed, text in orjson.loads(found):
                data = bytes.fromhex(packed) if packed is not None else text
                small[int(kid)].extend(_entries(int(lo), int(base), data))
                merged.append(int(block))
        if merged:
            conn.execute("DELETE FROM event_blocks WHERE id IN (SELECT value FROM json_each(?))",
                         (orjson.dumps(merged).decode(),))
        meta: builtins.list[tuple[int, int, int, int, int, int]] = []
        parts: builtins.list[bytes] = []
        start = 1  # substr() counts from 1
        for key, entries in groups.items():
            kid = ids[key]
            entries.sort()
            for i in range(0, len(entries), BLOCK_ENTRIES):
                part = entries[i:i + BLOCK_ENTRIES]
                data = _pack(part)
                meta.append((kid, part[-1][0], part[0][0], part[0][1], start, len(data)))
                parts.append(data)
                start += len(data)
        conn.execute(
            "INSERT INTO event_blocks (key, hi, lo, base, entries) SELECT value ->> 0,"
            " value ->> 1, value ->> 2, value ->> 3, substr(:blob, value ->> 4, value ->> 5)"
            " FROM json_each(:meta)",
            {"blob": b"".join(parts), "meta": orjson.dumps(meta).decode()},
        )

    def _event_key_ids(
        self, keys: builtins.list[tuple[str, str, str, str]]
    ) -> dict[tuple[str, str, str, str], int]:
        """The ``event_keys`` ids of these (account, region, attr, value), new ones made."""
        conn = self._write()
        text = orjson.dumps(keys).decode()
        conn.execute(
            "INSERT OR IGNORE INTO event_keys (account, region, attr, value) SELECT"
            " value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)", (text,)
        )
        found = conn.execute(
            "SELECT json_group_array(json_array(k.id, j.key)) FROM json_each(:keys) AS j"
            " JOIN event_keys AS k ON k.account = j.value ->> 0 AND k.region = j.value ->> 1"
            " AND k.attr = j.value ->> 2 AND k.value = j.value ->> 3",
            {"keys": text},
        ).fetchone()[0]
        return {keys[int(index)]: int(kid) for kid, index in orjson.loads(found)}

    def event_index_scan(
        self,
        account: str,
        region: str,
        attr: str,
        value: str,
        start: int,
        end: int,
        before: tuple[int, int] | None,
        limit: int,
    ) -> builtins.list[tuple[int, int]]:
        conn = self._read()
        found = conn.execute(
            "SELECT id FROM event_keys WHERE account = ? AND region = ? AND attr = ?"
            " AND value = ?",
            (account, region, attr, value),
        ).fetchone()
        if found is None or limit <= 0:
            return []
        upper = end if before is None else min(end, before[0])
        bound = (end + 1, 0) if before is None else min(before, (end + 1, 0))  # hits below
        best: builtins.list[tuple[int, int]] = []  # the `limit` newest matches, newest first
        # Blocks newest `hi` first; once `limit` matches are newer than a block's newest entry,
        # no later block can hold a better one.
        blocks = conn.execute(
            "SELECT id, hi, lo FROM event_blocks WHERE key = ? AND hi >= ? AND lo <= ?"
            " ORDER BY hi DESC",
            (int(found[0]), start, upper),
        )
        for block, hi, lo in blocks:
            if len(best) >= limit and hi < best[-1][0]:
                break
            base, text = conn.execute(
                "SELECT base, entries FROM event_blocks WHERE id = ?", (block,)
            ).fetchone()
            hits = [hit for hit in _entries(lo, base, text) if hit[0] >= start and hit < bound]
            if hits:  # a set: an entry added twice counts once
                best = heapq.nlargest(limit, {*best, *hits})
        return best

    def events_by_seq(self, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not seqs:
            return {}
        marks = ",".join("?" * len(seqs))
        rows = self._read().execute(
            f"SELECT seq, data FROM events WHERE seq IN ({marks})", builtins.list(seqs)
        ).fetchall()
        return {int(seq): self._record(data) for seq, data in rows}

    def event_by_id(self, event_id: str) -> tuple[int, str, dict[str, Any]] | None:
        row = self._read().execute(
            "SELECT seq, account, data FROM events WHERE event_id = ?", (event_id,)
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), self._record(row[2]))

    def last_event_seq(self) -> int:
        row = self._read().execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def events_after(
        self,
        after: int,
        *,
        upto: int | None = None,
        limit: int,
        accounts: Collection[str] | None = None,
    ) -> builtins.list[tuple[int, str, dict[str, Any]]]:
        sql = "SELECT seq, account, data FROM events WHERE seq > ?"
        args: list[Any] = [after]
        if upto is not None:
            sql += " AND seq <= ?"
            args.append(upto)
        wanted = None if accounts is None else frozenset(accounts)
        if wanted is not None and not wanted:
            return []
        if wanted is not None and len(wanted) <= 500:
            sql += f" AND account IN ({', '.join('?' for _ in wanted)})"
            args.extend(sorted(wanted))
            wanted = None
        sql += " ORDER BY seq"
        if wanted is None:
            return _decoded(self._pieces_of(), self._read().execute(
                "SELECT group_concat(seq || ' ' || account || ' ' || CAST(data AS TEXT),"
                f" char(10)) FROM ({sql} LIMIT ?)", [*args, limit]).fetchone()[0])
        out: builtins.list[tuple[int, str, dict[str, Any]]] = []
        for seq, account, data in self._read().execute(sql, args):
            if account not in wanted:
                continue
            out.append((int(seq), str(account), self._record(data)))
            if len(out) >= limit:
                break
        return out


def _decoded(pieces_of: Callable[[int], tuple[bytes, ...] | None],
             lines: str | None) -> builtins.list[tuple[int, str, dict[str, Any]]]:
    """Events fetched as one ``group_concat`` of ``SEQ ACCOUNT JSON`` lines (one result row,
    not one per event: each row is a step of its own, which gives the GIL away and, while
    the event loop thread holds it, takes a switch interval to get it back).  A stored record
    is orjson's output: it holds no raw newline."""
    if not lines:
        return []
    out = []
    for line in lines.split("\n"):
        seq, account, data = line.split(" ", 2)
        out.append((int(seq), account, _decode(
            expand(data.encode(), pieces_of) if is_compact(data) else data)))
    out.sort(key=lambda row: row[0])
    return out
