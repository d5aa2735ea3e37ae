"""The store contract: every backend of trailgate.store.interface passes these."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest

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

A = "111111111111"
B = "222222222222"


def put(store: Store, kind: str, key: str, data: dict[str, Any], account: str = A) -> None:
    store.write_sync(putter(kind, key, data, account))


def putter(
    kind: str, key: str, data: dict[str, Any] | None = None, account: str = A
) -> Callable[[Tx], None]:
    """A write function storing one record."""

    def fn(tx: Tx) -> None:
        tx.put(account, kind, key, key.upper(), data or {})

    return fn


# -- entities --------------------------------------------------------------------------------


def test_get_put_upsert_and_copies(store: Store) -> None:
    assert store.read(lambda tx: tx.get(A, "user", "alice")) is None
    store.write_sync(lambda tx: tx.put(A, "user", "alice", "Alice", {"arn": "x", "n": [1, 2]}))
    got = store.read(lambda tx: tx.get(A, "user", "alice"))
    assert got == {"arn": "x", "n": [1, 2]}
    assert got is not None
    got["arn"] = "mutated"  # a copy: the store is unaffected
    assert store.read(lambda tx: tx.get(A, "user", "alice")) == {"arn": "x", "n": [1, 2]}

    store.write_sync(lambda tx: tx.put(A, "user", "alice", "ALICE", {"arn": "y"}))
    assert store.read(lambda tx: tx.get_entity(A, "user", "alice")) == Entity(
        "alice", "ALICE", {"arn": "y"}
    )
    assert store.read(lambda tx: tx.get_entity(A, "user", "bob")) is None


def test_accounts_and_kinds_are_separate(store: Store) -> None:
    put(store, "user", "x", {"v": 1}, account=A)
    put(store, "user", "x", {"v": 2}, account=B)
    put(store, "role", "x", {"v": 3}, account=A)
    assert store.read(lambda tx: tx.get(A, "user", "x")) == {"v": 1}
    assert store.read(lambda tx: tx.get(B, "user", "x")) == {"v": 2}
    assert store.read(lambda tx: tx.get(A, "role", "x")) == {"v": 3}
    assert store.read(lambda tx: [tx.count(A, "user"), tx.count(B, "role")]) == [1, 0]


def test_insert_conflict_and_delete(store: Store) -> None:
    store.write_sync(lambda tx: tx.insert(A, "group", "admins", "Admins", {"v": 1}))
    with pytest.raises(Conflict):
        store.write_sync(lambda tx: tx.insert(A, "group", "admins", "ADMINS", {"v": 2}))
    assert store.read(lambda tx: tx.get_entity(A, "group", "admins")) == Entity(
        "admins", "Admins", {"v": 1}
    )
    assert store.write_sync(lambda tx: tx.delete(A, "group", "admins")) is True
    assert store.write_sync(lambda tx: tx.delete(A, "group", "admins")) is False
    assert store.read(lambda tx: tx.get(A, "group", "admins")) is None
    store.write_sync(lambda tx: tx.insert(A, "group", "admins", "Admins", {"v": 3}))
    assert store.read(lambda tx: tx.get(A, "group", "admins")) == {"v": 3}


def test_data_must_be_a_dict(store: Store) -> None:
    with pytest.raises(TypeError):
        store.write_sync(lambda tx: tx.put(A, "user", "a", "a", ["not", "a", "dict"]))  # type: ignore[arg-type]


# -- listing -----------------------------------------------------------------------------------


def _fill(store: Store, keys: list[str]) -> None:
    shuffled = keys[:]
    random.Random(7).shuffle(shuffled)

    def fn(tx: Tx) -> None:
        for key in shuffled:
            tx.put(A, "user", key, key.upper(), {"k": key, "even": len(key) % 2 == 0})
        tx.put(A, "role", "a-role", "a-role", {"k": "a-role"})
        tx.put(B, "user", "a-other", "a-other", {"k": "a-other"})

    store.write_sync(fn)


def test_list_is_ordered_by_key(store: Store) -> None:
    keys = [f"user{i:03d}" for i in range(50)] + ["a", "b", "zz", "Z", "é", "\U0001f600"]
    _fill(store, keys)
    listed = store.read(lambda tx: tx.list(A, "user"))
    assert [d["k"] for d in listed] == sorted(keys)
    scanned = store.read(lambda tx: tx.scan(A, "user", limit=2))
    assert scanned == [Entity("Z", "Z", {"k": "Z", "even": False}), Entity("a", "A", {"k": "a", "even": False})]
    assert store.read(lambda tx: tx.count(A, "user")) == len(keys)


@pytest.mark.parametrize("page_size", [1, 7, 50, 100])
def test_paging_with_after_and_limit(store: Store, page_size: int) -> None:
    keys = [f"k{i:04d}" for i in range(73)]
    _fill(store, keys)
    seen: list[str] = []
    marker: str | None = None
    while True:
        page = store.read(lambda tx: tx.scan(A, "user", after=marker, limit=page_size))  # noqa: B023
        seen.extend(e.key for e in page)
        if len(page) < page_size:
            break
        marker = page[-1].key
    assert seen == keys
    assert store.read(lambda tx: tx.list(A, "user", after="k0072")) == []
    assert [d["k"] for d in store.read(lambda tx: tx.list(A, "user", after="k00705"))] == ["k0071", "k0072"]


def test_prefix(store: Store) -> None:
    keys = ["dev", "dev-a", "dev-b", "dev/x", "dew", "de", "prod", "dev\U0010ffffz", "deva"]
    _fill(store, keys)

    def keys_of(**kw: Any) -> list[str]:
        return [e.key for e in store.read(lambda tx: tx.scan(A, "user", **kw))]

    assert keys_of(prefix="dev") == sorted(k for k in keys if k.startswith("dev"))
    assert keys_of(prefix="dev-") == ["dev-a", "dev-b"]
    assert keys_of(prefix="nothing") == []
    assert keys_of(prefix="") == sorted(keys)
    assert keys_of(prefix="dev", after="dev-a", limit=2) == ["dev-b", "dev/x"]
    assert keys_of(prefix="dev", after="zzz") == []
    assert keys_of(prefix="dev-", after="a") == ["dev-a", "dev-b"]


def test_where_filters_before_limit(store: Store) -> None:
    keys = [f"u{i}" for i in range(10)] + [f"uu{i}" for i in range(10)]
    _fill(store, keys)
    odd = store.read(lambda tx: tx.list(A, "user", where=lambda d: not d["even"], limit=3))
    assert [d["k"] for d in odd] == ["uu0", "uu1", "uu2"]
    assert store.read(lambda tx: tx.list(A, "user", where=lambda d: False)) == []
    assert store.read(lambda tx: tx.list(A, "user", limit=0)) == []
    with pytest.raises(ValueError):
        store.read(lambda tx: tx.list(A, "user", limit=-1))


# -- the ids index -----------------------------------------------------------------------------


def test_index_put_get_delete(store: Store) -> None:
    def create(tx: Tx) -> None:
        tx.insert(A, "access-key", "akia1", "AKIA1", {"user": "alice"})
        tx.index_put("AKIA1", A, "access-key", "akia1")
        tx.index_put("AKIA1", A, "access-key", "akia1")  # idempotent

    store.write_sync(create)
    assert store.read(lambda tx: tx.index_get("AKIA1")) == IndexTarget(A, "access-key", "akia1")
    assert store.read(lambda tx: tx.index_get("AKIA2")) is None

    store.write_sync(lambda tx: tx.put(B, "user", "bob", "bob", {}))
    with pytest.raises(Conflict):
        store.write_sync(lambda tx: tx.index_put("AKIA1", B, "user", "bob"))
    with pytest.raises(NotFound):
        store.write_sync(lambda tx: tx.index_put("AKIA9", A, "access-key", "missing"))

    # An upsert keeps the record's ids; deleting the record removes them.
    store.write_sync(lambda tx: tx.put(A, "access-key", "akia1", "AKIA1", {"user": "alice", "v": 2}))
    assert store.read(lambda tx: tx.index_get("AKIA1")) is not None
    assert store.write_sync(lambda tx: tx.delete(A, "access-key", "akia1"))
    assert store.read(lambda tx: tx.index_get("AKIA1")) is None

    store.write_sync(lambda tx: tx.index_put("BOB", B, "user", "bob"))
    assert store.write_sync(lambda tx: tx.index_delete("BOB")) is True
    assert store.write_sync(lambda tx: tx.index_delete("BOB")) is False
    assert store.read(lambda tx: tx.get(B, "user", "bob")) == {}


# -- meta, generation, events ------------------------------------------------------------------


def test_meta(store: Store) -> None:
    assert store.read(lambda tx: tx.meta_get("trail-cursor")) is None
    store.write_sync(lambda tx: tx.meta_set("trail-cursor", "12"))
    store.write_sync(lambda tx: tx.meta_set("trail-cursor", "13"))
    assert store.read(lambda tx: tx.meta_get("trail-cursor")) == "13"
    with pytest.raises(ValueError):
        store.write_sync(lambda tx: tx.meta_set("generation", "99"))


def test_generation_bumps_on_commit_only(store: Store) -> None:
    start = store.generation
    assert store.read(lambda tx: tx.meta_get("generation")) == str(start)
    assert store.write_sync(lambda tx: tx.bump_generation()) == start + 1
    assert store.generation == start + 1

    def bump_then_fail(tx: Tx) -> None:
        tx.bump_generation()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.write_sync(bump_then_fail)
    assert store.generation == start + 1

    def bump_twice(tx: Tx) -> int:
        tx.put(A, "user", "g", "g", {})
        tx.bump_generation()
        return tx.bump_generation()

    assert store.write_sync(bump_twice) == start + 3
    assert store.generation == start + 3
    store.write_sync(lambda tx: tx.put(A, "user", "h", "h", {}))  # no bump: unchanged
    assert store.generation == start + 3
    assert store.read(lambda tx: tx.meta_get("generation")) == str(start + 3)


def test_append_event(store: Store) -> None:
    first = store.write_sync(lambda tx: tx.append_event(A, "2024-01-01T00:00:00Z", "e1", {"x": 1}))
    second = store.write_sync(lambda tx: tx.append_event(B, "2024-01-01T00:00:01Z", "e2", {}))
    assert second > first

    def duplicate(tx: Tx) -> None:
        tx.put(A, "user", "dup", "dup", {})
        tx.append_event(A, "2024-01-01T00:00:02Z", "e1", {})

    with pytest.raises(Conflict):
        store.write_sync(duplicate)
    assert store.read(lambda tx: tx.get(A, "user", "dup")) is None  # the whole fn rolled back


# -- transactions ------------------------------------------------------------------------------


def test_read_transaction_is_read_only(store: Store) -> None:
    with pytest.raises(ReadOnlyTx):
        store.read(lambda tx: tx.put(A, "user", "a", "a", {}))
    with pytest.raises(ReadOnlyTx):
        store.read(lambda tx: tx.bump_generation())
    assert store.read(lambda tx: tx.get(A, "user", "a")) is None


def test_tx_unusable_after_its_function(store: Store) -> None:
    leaked: list[Tx] = []
    store.write_sync(leaked.append)
    store.read(leaked.append)
    for tx in leaked:
        with pytest.raises(StoreError):
            tx.get(A, "user", "a")


def test_failing_write_keeps_nothing_and_raises_its_own_error(store: Store) -> None:
    class Boom(Exception):
        pass

    def fn(tx: Tx) -> None:
        tx.put(A, "user", "a", "a", {})
        tx.insert(A, "user", "b", "b", {})
        tx.index_put("ID-A", A, "user", "a")
        tx.meta_set("m", "1")
        tx.append_event(A, "t", "ev", {})
        raise Boom

    with pytest.raises(Boom):
        store.write_sync(fn)
    assert store.read(
        lambda tx: (tx.count(A, "user"), tx.index_get("ID-A"), tx.meta_get("m"))
    ) == (0, None, None)
    # The event id is free again: the failed fn's event was rolled back too.
    store.write_sync(lambda tx: tx.append_event(A, "t", "ev", {}))


def test_async_write_returns_result_and_raises_errors(store: Store) -> None:
    async def main() -> None:
        await store.write(putter("user", "a", {"v": 1}))
        assert await store.write(lambda tx: tx.get(A, "user", "a")) == {"v": 1}
        with pytest.raises(Conflict):
            await store.write(lambda tx: tx.insert(A, "user", "a", "a", {}))
        with pytest.raises(KeyError):
            await store.write(lambda tx: {"a": 1}["missing"])

        async def not_sync(tx: Tx) -> None:
            tx.put(A, "user", "async", "async", {})

        with pytest.raises(TypeError):
            _ = await store.write(not_sync)  # mypy cannot tell: the store must refuse it

    asyncio.run(main())
    assert store.read(lambda tx: tx.get(A, "user", "async")) is None


def test_nested_read_shares_the_snapshot(store: Store) -> None:
    put(store, "user", "a", {"v": 1})
    inner = store.read(lambda tx: store.read(lambda tx2: tx2.get(A, "user", "a")))
    assert inner == {"v": 1}
    assert store.read(lambda tx: tx.get(A, "user", "a")) == {"v": 1}  # still usable after


def test_concurrent_async_writes_and_threaded_reads(store: Store) -> None:
    """Many writes in flight from one loop while threads read: every write lands, and every
    snapshot a reader sees is consistent (both records of one write, or neither)."""
    n = 400
    stop = threading.Event()
    problems: list[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            left, right = store.read(lambda tx: (tx.count(A, "left"), tx.count(A, "right")))
            if left != right:
                problems.append(f"torn snapshot {left} != {right}")
            reads[0] += 1

    def write_pair(i: int) -> Callable[[Tx], int]:
        def fn(tx: Tx) -> int:
            tx.insert(A, "left", f"{i:05d}", str(i), {"i": i})
            tx.insert(A, "right", f"{i:05d}", str(i), {"i": i})
            return i

        return fn

    async def main() -> list[int]:
        return list(await asyncio.gather(*(store.write(write_pair(i)) for i in range(n))))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        results = asyncio.run(main())
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert results == list(range(n))
    assert problems == []
    assert reads[0] > 0
    assert store.read(lambda tx: [d["i"] for d in tx.list(A, "left")]) == list(range(n))


def test_concurrent_write_sync_from_threads(store: Store) -> None:
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for i in range(50):
                store.write_sync(putter("user", f"t{t}-{i:03d}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.read(lambda tx: tx.count(A, "user")) == 400


def test_close_drains_then_refuses(store: Store) -> None:
    async def main() -> None:
        pending = [asyncio.ensure_future(store.write(putter("user", f"{i:03d}"))) for i in range(100)]
        await asyncio.sleep(0)  # let every write get queued
        await asyncio.to_thread(store.close)
        await asyncio.gather(*pending)

    asyncio.run(main())
    store.close()  # idempotent
    with pytest.raises(StoreClosed):
        store.write_sync(lambda tx: None)
    with pytest.raises(StoreClosed):
        store.read(lambda tx: None)


def test_reopen_keeps_state(open_store: Any) -> None:
    first = open_store()
    first.write_sync(putter("user", "a", {"v": 1}))
    first.write_sync(lambda tx: tx.bump_generation())
    generation = first.generation
    first.close()
    second = open_store()
    assert second.read(lambda tx: tx.get(A, "user", "a")) == {"v": 1}
    assert second.generation == generation
