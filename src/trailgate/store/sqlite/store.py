"""The embedded SQLite store: one writer thread with group commit, per-thread readers.

Durability model
    The database runs in WAL mode with ``synchronous=FULL``: every ``COMMIT`` fsyncs the WAL.
    ``write`` resolves its caller's future only after ``COMMIT`` returned, so a call that
    returned success survives ``kill -9`` and power loss.

Group commit
    Writers do not open transactions themselves.  ``write(fn)`` queues ``fn`` for the one writer
    thread, which takes everything queued (up to :data:`MAX_BATCH`) and runs it inside a single
    ``BEGIN IMMEDIATE ... COMMIT``: one fsync for the whole group.  Each ``fn`` runs inside its
    own ``SAVEPOINT``; if it raises, its changes are rolled back and the exception goes to its
    own caller while the rest of the group commits.  While one group is being fsynced the next
    one accumulates, so batching adapts to the load without any timer.  The CloudTrail records
    the successful functions handed to ``append_events_at_commit`` are appended after the
    last function, in one statement for the group (a few for hundreds), just before
    ``COMMIT``; if they cannot be, the whole group fails.

Reads
    ``read(fn)`` runs ``fn`` in the calling thread on that thread's own read-only connection,
    inside one read transaction (a consistent snapshot).  In WAL mode readers never block the
    writer and the writer never blocks readers.

One process owns a database file: the ``generation`` counter is cached in memory and refreshed
by this process's commits only.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import inspect
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from trailgate.store.blobs import fsync_dir
from trailgate.store.interface import (
    Conflict,
    Entity,
    IndexTarget,
    NotFound,
    ReadOnlyTx,
    Store,
    StoreClosed,
    StoreError,
    Tx,
)
from trailgate.store.journal import EventRow, KeyedEvent
from trailgate.store.sqlite.codec import decode as _decode
from trailgate.store.sqlite.codec import encode as _encode
from trailgate.store.sqlite.events import EventsTx
from trailgate.store.sqlite.jobs import Job, Outcome, WriteStats, settle
from trailgate.store.sqlite.migrations import apply_migrations

__all__ = ["MAX_BATCH", "SqliteStore", "SqliteTx", "WriteStats"]

T = TypeVar("T")

MAX_BATCH: Final = 1000
"""Most write functions committed together (bounds the latency of one group)."""

BUSY_TIMEOUT_MS: Final = 10_000
KEYED_LIMIT: Final = 100_000
"""Most events' index keys kept for :meth:`SqliteTx.take_keyed_events`."""
GENERATION: Final = "generation"


class SqliteTx(EventsTx):
    """A transaction on one connection (see :class:`trailgate.store.interface.Tx`).

    Valid only while the function it was given to runs."""

    __slots__ = ("_active", "_conn", "_keyed", "_writable", "at_commit", "bumped")

    def __init__(self, conn: sqlite3.Connection, *, writable: bool,
                 keyed: list[KeyedEvent] | None = None) -> None:
        self._conn = conn
        self._writable = writable
        self._keyed = keyed  # the store's: see take_keyed_events
        self._active = True
        self.bumped = False
        """Whether :meth:`bump_generation` was called (read by the writer after the fn)."""
        self.at_commit: list[EventRow] = []
        """Events for :meth:`append_events_at_commit` (read by the writer after the fn)."""

    def _end(self) -> None:
        self._active = False

    def append_events_at_commit(self, rows: Sequence[EventRow]) -> None:
        self._write()
        self.at_commit.extend(rows)

    def take_keyed_events(self) -> list[KeyedEvent]:
        """The events appended at a commit since the last take, as ``(seq, eventTime,
        index keys or None)``, in seq order (kept in the writer thread's memory, not
        stored: a restart, or a transaction that takes them and rolls back, loses them, and
        the event history then indexes those events from their records)."""
        keyed = self._keyed
        if keyed is None:  # a read, or a transaction the writer did not give them to
            return []
        taken = keyed[:]
        keyed.clear()
        return taken

    def _read(self) -> sqlite3.Connection:
        if not self._active:
            raise StoreError("transaction used after its function returned")
        return self._conn

    def _write(self) -> sqlite3.Connection:
        if not self._writable:
            raise ReadOnlyTx("write inside Store.read(); use Store.write()")
        return self._read()

    # -- entities ----------------------------------------------------------------------------
    def get(self, account: str, kind: str, key: str) -> dict[str, Any] | None:
        entity = self.get_entity(account, kind, key)
        return None if entity is None else entity.data

    def get_entity(self, account: str, kind: str, key: str) -> Entity | None:
        row = self._read().execute(
            "SELECT name, data FROM entities WHERE account = ? AND kind = ? AND key = ?",
            (account, kind, key),
        ).fetchone()
        return None if row is None else Entity(key, row[0], _decode(row[1]))

    def put(self, account: str, kind: str, key: str, name: str, data: dict[str, Any]) -> None:
        self._write().execute(
            "INSERT INTO entities (account, kind, key, name, data) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (account, kind, key)"
            " DO UPDATE SET name = excluded.name, data = excluded.data",
            (account, kind, key, name, _encode(data)),
        )

    def insert(self, account: str, kind: str, key: str, name: str, data: dict[str, Any]) -> None:
        cur = self._write().execute(
            "INSERT INTO entities (account, kind, key, name, data) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (account, kind, key) DO NOTHING",
            (account, kind, key, name, _encode(data)),
        )
        if cur.rowcount == 0:
            raise Conflict(f"{kind} {key!r} already exists in account {account}")

    def delete(self, account: str, kind: str, key: str) -> bool:
        cur = self._write().execute(
            "DELETE FROM entities WHERE account = ? AND kind = ? AND key = ?",
            (account, kind, key),
        )
        return cur.rowcount > 0

    def list(
        self,
        account: str,
        kind: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        found = self.scan(account, kind, prefix=prefix, after=after, limit=limit, where=where)
        return [entity.data for entity in found]

    def scan(
        self,
        account: str,
        kind: str,
        *,
        prefix: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> builtins.list[Entity]:
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        out: builtins.list[Entity] = []
        if limit == 0:
            return out
        sql = "SELECT key, name, data FROM entities WHERE account = ? AND kind = ?"
        params: builtins.list[object] = [account, kind]
        if after is not None:
            sql += " AND key > ?"
            params.append(after)
        if prefix:
            # Keys sharing a prefix are contiguous in code point (= UTF-8 byte) order: start at
            # the prefix and stop at the first key without it.
            sql += " AND key >= ?"
            params.append(prefix)
        sql += " ORDER BY key"
        if limit is not None and where is None:
            sql += " LIMIT ?"
            params.append(limit)
        cur = self._read().execute(sql, params)
        try:
            for key, name, blob in cur:
                if prefix and not key.startswith(prefix):
                    break
                data = _decode(blob)
                if where is not None and not where(data):
                    continue
                out.append(Entity(key, name, data))
                if limit is not None and len(out) >= limit:
                    break
        finally:
            cur.close()
        return out

    def count(self, account: str, kind: str) -> int:
        row = self._read().execute(
            "SELECT count(*) FROM entities WHERE account = ? AND kind = ?", (account, kind)
        ).fetchone()
        return int(row[0])

    # -- secondary unique index --------------------------------------------------------------
    def index_put(self, id: str, account: str, kind: str, key: str) -> None:
        conn = self._write()
        existing = self.index_get(id)
        if existing is not None:
            if existing == (account, kind, key):
                return
            raise Conflict(f"id {id!r} is already in use")
        if self.get_entity(account, kind, key) is None:
            raise NotFound(f"cannot index {id!r}: no {kind} {key!r} in account {account}")
        conn.execute(
            "INSERT INTO ids (id, account, kind, key) VALUES (?, ?, ?, ?)",
            (id, account, kind, key),
        )

    def index_get(self, id: str) -> IndexTarget | None:
        row = self._read().execute(
            "SELECT account, kind, key FROM ids WHERE id = ?", (id,)
        ).fetchone()
        return None if row is None else IndexTarget(row[0], row[1], row[2])

    def index_delete(self, id: str) -> bool:
        return self._write().execute("DELETE FROM ids WHERE id = ?", (id,)).rowcount > 0

    # -- metadata, generation --------------------------------------------------------
    def meta_get(self, name: str) -> str | None:
        row = self._read().execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, name: str, value: str) -> None:
        if name == GENERATION:
            raise ValueError("the generation is changed by bump_generation() only")
        self._write().execute(
            "INSERT INTO meta (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def bump_generation(self) -> int:
        row = self._write().execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = ? RETURNING value",
            (GENERATION,),
        ).fetchone()
        self.bumped = True
        return int(row[0])


# -- the store ---------------------------------------------------------------------------------


def _connect(path: Path, *, reader: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(path),
        isolation_level=None,  # we issue BEGIN / COMMIT ourselves
        check_same_thread=False,  # created in one thread, closed by close() from another
        timeout=BUSY_TIMEOUT_MS / 1000,
        cached_statements=256,
    )
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot enable WAL mode on {path} (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        if reader:
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteStore:
    """See the module docstring.  Create with :meth:`open`; ``with`` closes it."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        """Use :meth:`open`.  Takes ownership of ``conn``, the migrated write connection."""
        self.path = path
        self.stats = WriteStats()
        self._writer_conn = conn
        self._generation = int(
            conn.execute("SELECT value FROM meta WHERE name = ?", (GENERATION,)).fetchone()[0]
        )
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()  # None: stop
        self._lock = threading.Lock()
        self._closed = False
        self._local = threading.local()
        self._readers: dict[int, tuple[threading.Thread, sqlite3.Connection]] = {}
        self._keyed: list[KeyedEvent] = []  # the writer thread's: see SqliteTx.take_keyed_events
        self._thread = threading.Thread(
            target=self._writer_main, name=f"trailgate-store-writer:{path.name}", daemon=True
        )
        self._thread.start()

    @classmethod
    def open(cls, path: Path) -> SqliteStore:
        """Open (creating if needed) the database file ``path`` and apply the migrations."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path, reader=False)
        try:
            apply_migrations(conn)
            fsync_dir(path.parent)  # make the new database and WAL files' names durable
        except BaseException:
            conn.close()
            raise
        return cls(path, conn)

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def closed(self) -> bool:
        return self._closed

    # -- reads -------------------------------------------------------------------------------
    def read(self, fn: Callable[[SqliteTx], T]) -> T:
        conn = self._reader()
        if conn.in_transaction:  # read() nested in read() on this thread: same snapshot
            return self._run_read(conn, fn)
        conn.execute("BEGIN")
        try:
            return self._run_read(conn, fn)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    @staticmethod
    def _run_read(conn: sqlite3.Connection, fn: Callable[[SqliteTx], T]) -> T:
        tx = SqliteTx(conn, writable=False)
        try:
            return fn(tx)
        finally:
            tx._end()

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreClosed("store is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        conn = _connect(self.path, reader=True)
        with self._lock:
            if self._closed:
                conn.close()
                raise StoreClosed("store is closed")
            self._prune_readers()
            self._readers[id(conn)] = (threading.current_thread(), conn)
        self._local.conn = conn
        return conn

    def _prune_readers(self) -> None:
        """Close the connections of threads that ended (caller holds the lock)."""
        for ident, (thread, conn) in list(self._readers.items()):
            if not thread.is_alive():
                conn.close()
                del self._readers[ident]

    # -- writes ------------------------------------------------------------------------------
    async def write(self, fn: Callable[[SqliteTx], T]) -> T:
        """Run ``fn`` in the next group commit; returns once it is durable.

        If the awaiting task is cancelled before the group starts, ``fn`` is skipped; once it
        started, it commits and its result is dropped."""
        job = Job(fn, asyncio.get_running_loop())
        self._submit(job)
        return await cast("asyncio.Future[T]", job.future)

    def write_sync(self, fn: Callable[[SqliteTx], T]) -> T:
        if threading.current_thread() is self._thread:
            raise StoreError("write_sync() inside a write function would deadlock")
        job = Job(fn, None)
        self._submit(job)
        return cast("concurrent.futures.Future[T]", job.future).result()

    def _submit(self, job: Job) -> None:
        with self._lock:
            if self._closed:
                raise StoreClosed("store is closed")
            self._queue.put(job)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join()
        with self._lock:
            for _, conn in self._readers.values():
                conn.close()
            self._readers.clear()

    # -- the writer thread -------------------------------------------------------------------
    def _writer_main(self) -> None:
        conn = self._writer_conn
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            try:
                self._commit_group(conn, batch)
            except BaseException as exc:  # never leave a caller waiting, never die
                with contextlib.suppress(Exception):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                error = StoreError(f"write failed: {exc!r}")
                settle([(job, False, error) for job in batch])
        conn.close()

    def _commit_group(self, conn: sqlite3.Connection, batch: list[Job]) -> None:
        """Run ``batch`` in one transaction, commit, then hand out the outcomes."""
        jobs = [job for job in batch if not job.cancelled()]
        done: list[tuple[Job, Any]] = []
        failed: list[tuple[Job, BaseException]] = []
        bumped = False
        events: list[EventRow] = []  # the successful functions' append_events_at_commit
        if jobs:
            conn.execute("BEGIN IMMEDIATE")
        for job in jobs:
            ok, value, tx = self._run_one(conn, job)
            if ok:
                done.append((job, value))
                bumped = bumped or tx.bumped
                events.extend(tx.at_commit)
                continue
            failed.append((job, value))
            if not conn.in_transaction:
                # SQLite rolled back the whole transaction (I/O error, disk full...): the
                # earlier functions' changes are gone too.  Fail them; go on with a new one.
                lost = StoreError(f"transaction rolled back by SQLite: {value!r}")
                failed.extend((earlier, lost) for earlier, _ in done)
                done.clear()
                bumped = False
                events.clear()
                conn.execute("BEGIN IMMEDIATE")
        generation = self._finish(conn, done, failed, bumped, events)
        if generation is not None:
            self._generation = generation  # after COMMIT returned, before anyone is told
        self.stats.writes += len(done)
        self.stats.failed += len(failed)
        outcomes: list[Outcome] = [(job, True, result) for job, result in done]
        outcomes.extend((job, False, error) for job, error in failed)
        cancelled = asyncio.CancelledError()
        outcomes.extend((job, False, cancelled) for job in batch)  # skipped: cancelled early
        settle(outcomes)

    def _run_one(self, conn: sqlite3.Connection, job: Job) -> tuple[bool, Any, SqliteTx]:
        """Run one function inside a savepoint: (ok, result or exception, its transaction:
        whether it bumped the generation, the events it appends at commit)."""
        conn.execute("SAVEPOINT job")
        tx = SqliteTx(conn, writable=True, keyed=self._keyed)
        try:
            result = job.fn(tx)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise TypeError("write functions must be synchronous (got an awaitable)")
        except BaseException as exc:
            tx._end()
            if conn.in_transaction:
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
            return False, exc, tx
        tx._end()
        conn.execute("RELEASE job")
        return True, result, tx

    def _finish(
        self,
        conn: sqlite3.Connection,
        done: list[tuple[Job, Any]],
        failed: list[tuple[Job, BaseException]],
        bumped: bool,
        events: list[EventRow],
    ) -> int | None:
        """Append ``events``, then COMMIT (or ROLLBACK if nothing succeeded); returns the new
        generation if it moved.  On a failed append or COMMIT the successful functions are
        moved to ``failed``: their changes are gone, and so are their events."""
        if not conn.in_transaction:
            return None
        if not done:
            conn.execute("ROLLBACK")
            return None
        generation: int | None = None
        first = 0
        try:
            if events:  # one statement for the whole group (up to APPEND_ROWS events)
                tx = SqliteTx(conn, writable=True)
                first = tx.append_events(events)
                tx._end()
            if bumped:
                row = conn.execute(
                    "SELECT value FROM meta WHERE name = ?", (GENERATION,)
                ).fetchone()
                generation = int(row[0])
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failed.extend((job, exc) for job, _ in done)
            done.clear()
            return None
        self.stats.commits += 1
        if events:  # committed: their index keys, for the next take_keyed_events
            keyed = self._keyed
            if len(keyed) >= KEYED_LIMIT:  # nobody takes them: the history reads the records
                keyed.clear()
            keyed.extend([(seq, row[1], row[4] if len(row) == 5 else None)
                          for seq, row in enumerate(events, first)])
        return generation


if TYPE_CHECKING:  # the backend implements the interface's Protocols

    def _conforms(store: SqliteStore, tx: SqliteTx) -> tuple[Store, Tx]:
        return store, tx
