"""The CloudTrail event log of a SQLite transaction: the ``events`` table (the outbox of every
recorded call, in sequence order) and the event-history index (tables ``event_keys`` and
``event_postings``, migration 5).  Mixed into :class:`trailgate.store.sqlite.store.SqliteTx`."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from trailgate.store.interface import Conflict
from trailgate.store.sqlite import event_index
from trailgate.store.sqlite.codec import decode as _decode
from trailgate.store.sqlite.codec import encode as _encode


class EventsTx:
    """The event methods of a transaction (see :class:`trailgate.store.interface.Tx`)."""

    __slots__ = ()

    if TYPE_CHECKING:  # provided by SqliteTx

        def _read(self) -> sqlite3.Connection: ...

        def _write(self) -> sqlite3.Connection: ...

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

    def append_events(self, rows: Sequence[tuple[str, str, str, bytes]]) -> int:
        conn = self._write()
        base = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
        # One statement for the whole batch: SQLite's C code does every row without the GIL
        # (executemany would take it back for every row), so the server's event loop thread
        # meanwhile runs on another core.  The records travel as one blob, cut by substr() at
        # the offsets a small JSON array gives: stored byte for byte, never parsed here.
        blob = b"".join(row[3] for row in rows)
        meta = []
        start = 1  # substr() counts from 1
        for account, event_time, event_id, data in rows:
            meta.append((account, event_time, event_id, start, len(data)))
            start += len(data)
        try:
            conn.execute(
                "INSERT INTO events (seq, account, event_time, event_id, data)"
                " SELECT :base + key + 1, value ->> 0, value ->> 1, value ->> 2,"
                " substr(:blob, value ->> 3, value ->> 4) FROM json_each(CAST(:meta AS TEXT))",
                {"base": base, "blob": blob, "meta": orjson.dumps(meta)},
            )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"an event of this batch is recorded already: {exc}") from None
        return base + 1

    # -- the CloudTrail event-history index (tables event_keys, event_postings: migration 5) ----

    def event_index_add(self, rows: Sequence[tuple[str, str, str, str, int, int]]) -> None:
        """Given rows: staged in the same temporary table as :meth:`event_index_events`
        fills, then keyed and inserted by the same two statements."""
        conn = self._write()
        conn.execute(event_index.CREATE_PAIRS)
        try:
            conn.executemany(
                "INSERT INTO temp.index_pairs (account, region, attr, value, at, seq)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute(event_index.ADD_KEYS)
            conn.execute(event_index.ADD_POSTINGS)
        finally:
            conn.execute(event_index.CLEAR_PAIRS)

    def event_index_events(self, after: int, upto: int) -> None:
        conn = self._write()
        conn.execute(event_index.CREATE_PAIRS)
        try:
            conn.execute(event_index.FILL_PAIRS, {"lo": after, "hi": upto})
            conn.execute(event_index.ADD_KEYS)
            conn.execute(event_index.ADD_POSTINGS)
        finally:
            conn.execute(event_index.CLEAR_PAIRS)

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
        sql = (
            "SELECT event_time, seq FROM event_postings"
            " WHERE key = ? AND event_time >= ? AND event_time <= ?"
        )
        found = self._read().execute(
            "SELECT id FROM event_keys WHERE account = ? AND region = ? AND attr = ?"
            " AND value = ?",
            (account, region, attr, value),
        ).fetchone()
        if found is None:
            return []
        args: builtins.list[object] = [int(found[0]), start, end]
        if before is not None:
            sql += " AND (event_time, seq) < (?, ?)"
            args.extend(before)
        sql += " ORDER BY event_time DESC, seq DESC LIMIT ?"
        args.append(limit)
        rows = self._read().execute(sql, args).fetchall()
        return [(int(t), int(s)) for t, s in rows]

    def events_by_seq(self, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not seqs:
            return {}
        marks = ",".join("?" * len(seqs))
        rows = self._read().execute(
            f"SELECT seq, data FROM events WHERE seq IN ({marks})", builtins.list(seqs)
        ).fetchall()
        return {int(seq): _decode(data) for seq, data in rows}

    def event_by_id(self, event_id: str) -> tuple[int, str, dict[str, Any]] | None:
        row = self._read().execute(
            "SELECT seq, account, data FROM events WHERE event_id = ?", (event_id,)
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), _decode(row[2]))

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
        out: builtins.list[tuple[int, str, dict[str, Any]]] = []
        for seq, account, data in self._read().execute(sql, args):
            if wanted is not None and account not in wanted:
                continue
            out.append((int(seq), str(account), _decode(data)))
            if len(out) >= limit:
                break
        return out
