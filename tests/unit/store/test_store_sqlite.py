"""SQLite backend specifics: pragmas, migrations, group commit, savepoints, WAL readers."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from trailgate.store.interface import Conflict, ReadOnlyTx, StoreError, Tx
from trailgate.store.sqlite import MIGRATIONS, SqliteStore, apply_migrations, schema_version
from trailgate.store.sqlite.migrations import Migration, SchemaTooNew

A = "111111111111"


def _put(key: str) -> Callable[[Tx], None]:
    def fn(tx: Tx) -> None:
        tx.put(A, "user", key, key, {})

    return fn


def test_pragmas_and_schema(sqlite_store: SqliteStore) -> None:
    def pragmas(tx: Tx) -> tuple[Any, ...]:
        conn: sqlite3.Connection = tx._conn  # type: ignore[attr-defined]
        return tuple(
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "user_version")
        )

    assert sqlite_store.write_sync(pragmas) == ("wal", 2, 1, len(MIGRATIONS))  # 2 = FULL
    assert sqlite_store.read(pragmas) == ("wal", 2, 1, len(MIGRATIONS))
    with sqlite3.connect(sqlite_store.path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"entities", "ids", "meta", "events"} <= tables


def test_migrations_idempotent_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db" / "t.db"
    with SqliteStore.open(path) as store:
        store.write_sync(lambda tx: tx.put(A, "user", "a", "a", {"v": 1}))
        store.write_sync(lambda tx: tx.bump_generation())
    for _ in range(3):
        with SqliteStore.open(path) as store:
            assert store.read(lambda tx: tx.get(A, "user", "a")) == {"v": 1}
            assert store.generation == 1
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert schema_version(conn) == len(MIGRATIONS)
        assert apply_migrations(conn) == len(MIGRATIONS)
        assert conn.execute("SELECT count(*) FROM meta WHERE name='generation'").fetchone()[0] == 1
    finally:
        conn.close()


def test_migration_steps_are_atomic(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    steps = [
        Migration("one", ("CREATE TABLE one (x)",)),
        Migration("two", ("CREATE TABLE two (x)", "THIS IS NOT SQL")),
    ]
    try:
        with pytest.raises(sqlite3.OperationalError):
            apply_migrations(conn, steps)
        assert schema_version(conn) == 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert names == {"one"}  # step two's first statement was rolled back with it
        steps[1] = Migration("two", ("CREATE TABLE two (x)",))
        assert apply_migrations(conn, steps) == 2
        assert apply_migrations(conn, steps) == 2
        with pytest.raises(SchemaTooNew):
            apply_migrations(conn, steps[:1])
    finally:
        conn.close()


def _gate(store: SqliteStore) -> tuple[threading.Event, threading.Event]:
    """Occupy the writer until released, so the next writes queue up into one group."""
    entered, release = threading.Event(), threading.Event()

    def hold(tx: Tx) -> None:
        entered.set()
        release.wait(10)

    threading.Thread(target=store.write_sync, args=(hold,), daemon=True).start()
    assert entered.wait(10)
    return entered, release


def test_savepoints_isolate_failures_within_one_group(sqlite_store: SqliteStore) -> None:
    store = sqlite_store

    def ok(i: int) -> Callable[[Tx], int]:
        def fn(tx: Tx) -> int:
            tx.insert(A, "user", f"ok{i}", "n", {"i": i})
            tx.bump_generation()
            return i

        return fn

    def failing(tx: Tx) -> None:
        tx.insert(A, "user", "bad", "n", {})
        tx.put(A, "user", "ok0", "n", {"clobbered": True})
        tx.bump_generation()
        raise ValueError("this one fails")

    async def main() -> list[Any]:
        _, release = _gate(store)
        commits = store.stats.commits
        futures = [
            asyncio.ensure_future(store.write(ok(0))),
            asyncio.ensure_future(store.write(failing)),
            asyncio.ensure_future(store.write(ok(1))),
            asyncio.ensure_future(store.write(lambda tx: tx.insert(A, "user", "ok0", "n", {}))),
            asyncio.ensure_future(store.write(ok(2))),
        ]
        await asyncio.sleep(0.05)  # every write is queued behind the gate
        release.set()
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert store.stats.commits - commits == 2  # the gate's group, then ours: one commit
        return results

    generation = store.generation
    results = asyncio.run(main())
    assert results[0] == 0 and results[2] == 1 and results[4] == 2
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], Conflict)
    assert store.read(lambda tx: [e.key for e in tx.scan(A, "user")]) == ["ok0", "ok1", "ok2"]
    assert store.read(lambda tx: tx.get(A, "user", "ok0")) == {"i": 0}
    assert store.generation == generation + 3


def test_group_commit_batches_concurrent_writes(sqlite_store: SqliteStore) -> None:
    store = sqlite_store

    async def main() -> None:
        await asyncio.gather(
            *(store.write(_put(f"{i:04d}")) for i in range(200))
        )

    before = store.stats.commits
    asyncio.run(main())
    assert store.read(lambda tx: tx.count(A, "user")) == 200
    assert store.stats.commits - before < 50  # grouped: far fewer fsyncs than writes


def test_readers_never_wait_for_the_writer(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    store.write_sync(lambda tx: tx.put(A, "user", "a", "a", {"v": 1}))
    entered, release = threading.Event(), threading.Event()

    def slow(tx: Tx) -> None:
        tx.put(A, "user", "a", "a", {"v": 2})
        entered.set()
        release.wait(10)

    writer = threading.Thread(target=store.write_sync, args=(slow,))
    writer.start()
    try:
        assert entered.wait(10)
        started = time.monotonic()
        seen = store.read(lambda tx: tx.get(A, "user", "a"))  # the write tx is open right now
        assert time.monotonic() - started < 1
        assert seen == {"v": 1}  # uncommitted changes are invisible
    finally:
        release.set()
        writer.join()
    assert store.read(lambda tx: tx.get(A, "user", "a")) == {"v": 2}


def test_cancelled_before_running_is_skipped(sqlite_store: SqliteStore) -> None:
    store = sqlite_store

    async def main() -> None:
        _, release = _gate(store)
        task = asyncio.ensure_future(store.write(lambda tx: tx.put(A, "user", "c", "c", {})))
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.01)
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        await store.write(lambda tx: None)  # the writer went past the cancelled one

    asyncio.run(main())
    assert store.read(lambda tx: tx.get(A, "user", "c")) is None


def test_write_sync_inside_a_write_fails_instead_of_deadlocking(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    with pytest.raises(StoreError):
        store.write_sync(lambda tx: store.write_sync(lambda tx2: None))
    assert store.write_sync(lambda tx: 42) == 42


def test_reader_connections_of_finished_threads_are_closed(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    for _ in range(20):
        thread = threading.Thread(target=store.read, args=(lambda tx: tx.count(A, "user"),))
        thread.start()
        thread.join()
    store.read(lambda tx: None)
    assert len(store._readers) <= 2


def _raw(tx: Tx) -> sqlite3.Connection:
    conn: sqlite3.Connection = tx._conn  # type: ignore[attr-defined]
    return conn


def _group(store: SqliteStore, fns: list[Callable[[Tx], Any]]) -> list[Any]:
    """Run ``fns`` as one group; their outcomes (results or exceptions), in order."""

    async def main() -> list[Any]:
        _, release = _gate(store)
        futures = [asyncio.ensure_future(store.write(fn)) for fn in fns]
        await asyncio.sleep(0.05)
        release.set()
        return list(await asyncio.gather(*futures, return_exceptions=True))

    return asyncio.run(main())


def test_whole_transaction_lost_mid_group_fails_earlier_writes(sqlite_store: SqliteStore) -> None:
    """If SQLite itself aborts the group's transaction (I/O error, disk full: simulated by a
    raw ROLLBACK), the writes before it must not be reported as successful."""
    store = sqlite_store

    def sabotage(tx: Tx) -> None:
        _raw(tx).execute("ROLLBACK")
        raise OSError("disk full")

    before, bad, after = _group(store, [_put("before"), sabotage, _put("after")])
    assert isinstance(before, StoreError)
    assert isinstance(bad, OSError)
    assert after is None
    assert store.read(lambda tx: [e.key for e in tx.scan(A, "user")]) == ["after"]
    assert store.write_sync(lambda tx: 1) == 1  # the writer is fine


def test_failed_commit_fails_the_whole_group(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    generation = store.generation

    def breaks_commit(tx: Tx) -> None:  # a deferred constraint makes COMMIT itself fail
        tx.bump_generation()
        _raw(tx).execute("PRAGMA defer_foreign_keys = ON")
        _raw(tx).execute("INSERT INTO ids VALUES ('X', 'a', 'user', 'missing')")

    outcomes = _group(store, [_put("one"), breaks_commit, _put("two")])
    assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes), outcomes
    assert store.read(lambda tx: tx.count(A, "user")) == 0
    assert store.generation == generation
    store.write_sync(_put("three"))
    assert store.read(lambda tx: [e.key for e in tx.scan(A, "user")]) == ["three"]


def test_events_after_returns_records_exactly_in_order(sqlite_store: SqliteStore) -> None:
    """events_after fetches a batch as one aggregated row: records with newlines, tabs,
    spaces, NULs and non-ASCII text in their values come back equal, in seq order, with
    ``upto``, ``limit`` and the account filter (in SQL up to 500 accounts, in Python above)
    applied as before."""
    odd = ["a\nb", "tab\there", "sp ace", "nul\x00", "ümlaut ✓ 𝄞", "", "\\n"]
    made = [(f"{100000000000 + n % 3:012d}", f"2026-11-29T00:00:{n:02d}Z", f"id-{n}",
             {"n": n, "v": odd[n % len(odd)], "nested": {"k": [odd[n % 2], n]}})
            for n in range(40)]

    def store(tx: Tx) -> list[int]:
        return [tx.append_event(*row) for row in made]

    seqs = sqlite_store.write_sync(store)
    every = [(seq, row[0], row[3]) for seq, row in zip(seqs, made, strict=True)]
    read = sqlite_store.read
    assert read(lambda tx: tx.events_after(0, limit=1000)) == every
    assert read(lambda tx: tx.events_after(seqs[4], limit=3)) == every[5:8]
    assert read(lambda tx: tx.events_after(seqs[4], upto=seqs[6], limit=100)) == every[5:7]
    assert read(lambda tx: tx.events_after(seqs[-1], limit=10)) == []
    one = made[1][0]
    assert read(lambda tx: tx.events_after(0, limit=5, accounts=[one])) == [
        e for e in every if e[1] == one][:5]
    many = [one, *(f"{n:012d}" for n in range(600))]  # filtered in Python
    assert read(lambda tx: tx.events_after(seqs[2], limit=4, accounts=many)) == [
        e for e in every[3:] if e[1] == one][:4]
    assert read(lambda tx: tx.events_after(0, limit=5, accounts=[])) == []


@pytest.mark.parametrize("sizes", [(1,), (3, 1), (137, 251), (1000,), (1137, 2)])
def test_append_events_in_batches_of_any_size(sqlite_store: SqliteStore,
                                              sizes: tuple[int, ...]) -> None:
    """Every batch gets consecutive seqs after the events before it (a call's own event
    among them), its records stored byte for byte; a batch holding a known eventID, wherever
    it is in the batch, stores nothing and raises Conflict."""
    first_own = sqlite_store.write_sync(
        lambda tx: tx.append_event("111111111111", "2026-11-29T00:00:00Z", "own", {"n": -1}))
    expected: list[tuple[int, str, dict[str, Any]]] = [(first_own, "111111111111", {"n": -1})]
    made = 0
    for size in sizes:
        batch = [("222222222222", "2026-11-29T00:00:01Z", f"id-{made + n}",
                  b'{"n":%d,"pad":"%s"}' % (made + n, b"x" * (n % 7))) for n in range(size)]
        first = sqlite_store.write_sync(lambda tx, b=batch: tx.append_events(b))
        assert first == expected[-1][0] + 1
        expected += [(first + n, row[0], orjson.loads(row[3])) for n, row in enumerate(batch)]
        made += size
    got = sqlite_store.read(lambda tx: tx.events_after(0, limit=10_000))
    assert got == expected
    raw = sqlite_store.read(lambda tx: tx._conn.execute(
        "SELECT data FROM events WHERE event_id = 'id-0'").fetchone()[0])
    assert raw == b'{"n":0,"pad":""}'
    for at in (0, 260, 500):  # in the first, a later, the last statement of the batch
        clash = [("333333333333", "2026-11-29T00:00:02Z", f"new-{n}", b"{}") for n in range(501)]
        clash[at] = ("333333333333", "2026-11-29T00:00:02Z", "id-0", b"{}")
        with pytest.raises(Conflict):
            sqlite_store.write_sync(lambda tx, c=clash: tx.append_events(c))
        assert sqlite_store.read(lambda tx: tx.events_after(0, limit=10_000)) == expected
    # inside a transaction that goes on after the Conflict, nothing of the batch stays
    def go_on(tx: Tx) -> int:
        clash = [("333333333333", "t", f"x-{n}", b"{}") for n in range(300)] + [
            ("333333333333", "t", "id-0", b"{}")]
        with pytest.raises(Conflict):
            tx.append_events(clash)
        return tx.append_events([("333333333333", "t", "after", b"{}")])
    after = sqlite_store.write_sync(go_on)
    assert after == expected[-1][0] + 1  # the rolled-back rows took no seqs
    assert [e[2] for e in sqlite_store.read(
        lambda tx: tx.events_after(expected[-1][0], limit=100))] == [{}]


def _event(event_id: str, n: int) -> tuple[str, str, str, bytes]:
    return ("444444444444", "2026-11-29T00:00:03Z", event_id, b'{"n":%d}' % n)


def _with_events(key: str, *event_ids: str, fail: bool = False) -> Callable[[Tx], str]:
    """A write that changes an entity and appends its events at commit (then maybe fails)."""
    def fn(tx: Tx) -> str:
        tx.put(A, "user", key, key, {})
        tx.append_events_at_commit([_event(e, i) for i, e in enumerate(event_ids)])
        if fail:
            raise ValueError(f"{key} fails")
        return key

    return fn


def _stored_events(store: SqliteStore) -> list[tuple[int, str, bytes]]:
    return store.read(lambda tx: [(r[0], r[1], bytes(r[2])) for r in tx._conn.execute(
        "SELECT seq, event_id, data FROM events ORDER BY seq")])


def test_events_at_commit_follow_the_groups_other_events(sqlite_store: SqliteStore) -> None:
    """The successful writes' events at commit are appended when the group commits, in the
    writes' order and after every event the group appended otherwise; a failed write's are
    dropped with its changes."""
    store = sqlite_store

    def direct(tx: Tx) -> int:
        return tx.append_events([_event("direct", 9)])

    outcomes = _group(store, [
        _with_events("one", "e1", "e2"), _with_events("bad", "e3", fail=True), direct,
        _with_events("two", "e4"), _with_events("none")])
    assert outcomes[0] == "one" and isinstance(outcomes[1], ValueError)
    assert outcomes[3:] == ["two", "none"]
    events = _stored_events(store)
    first = outcomes[2]
    assert events == [(first, "direct", b'{"n":9}'), (first + 1, "e1", b'{"n":0}'),
                      (first + 2, "e2", b'{"n":1}'), (first + 3, "e4", b'{"n":0}')]
    assert store.read(lambda tx: [e.key for e in tx.scan(A, "user")]) == ["none", "one", "two"]


def test_events_at_commit_that_cannot_be_appended_fail_the_group(
        sqlite_store: SqliteStore) -> None:
    """An event at commit whose eventID exists: the whole group fails (its changes and its
    events are gone, never a change without its event), and the writer goes on."""
    store = sqlite_store
    store.write_sync(lambda tx: tx.append_events([_event("taken", 0)]))
    generation = store.generation

    def bumps(tx: Tx) -> None:
        tx.bump_generation()
        tx.put(A, "user", "bumped", "bumped", {})

    outcomes = _group(store, [_with_events("one", "fresh"), bumps,
                              _with_events("two", "taken")])
    assert all(isinstance(o, Conflict) for o in outcomes), outcomes
    assert store.read(lambda tx: tx.count(A, "user")) == 0
    assert [e[1] for e in _stored_events(store)] == ["taken"]
    assert store.generation == generation
    assert store.write_sync(_with_events("three", "fresh")) == "three"
    assert [e[1] for e in _stored_events(store)] == ["taken", "fresh"]


def test_events_at_commit_only_in_writes(sqlite_store: SqliteStore) -> None:
    with pytest.raises(ReadOnlyTx):
        sqlite_store.read(lambda tx: tx.append_events_at_commit([_event("x", 0)]))
    assert _stored_events(sqlite_store) == []
