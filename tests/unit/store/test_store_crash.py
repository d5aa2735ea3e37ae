"""Real crashes: a child process is killed with SIGKILL and the store is reopened.

* durability: every write whose success the child printed (after ``write``/``write_sync``
  returned) is present after ``kill -9``: "durable before the response left";
* atomicity: a transaction killed halfway (with its pages already spilled into the WAL) leaves
  nothing behind, and each committed write's entity, event and generation bump are all there.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from trailgate.store.sqlite import SqliteStore

A = "111111111111"

CHILD = r"""
import asyncio, os, signal, sys, threading
from pathlib import Path
from trailgate.store.sqlite import SqliteStore

A = "111111111111"
path, mode = Path(sys.argv[1]), sys.argv[2]
store = SqliteStore.open(path)

def report(key):
    os.write(1, (key + "\n").encode())  # one unbuffered write: the "response" leaves

def work(key):
    def fn(tx):
        tx.insert(A, "user", key, key, {"pad": "x" * 300})
        tx.append_event(A, "2024-01-01T00:00:00Z", key, {"eventName": "CreateUser"})
        tx.bump_generation()
    return fn

if mode == "async":
    async def writer(w):
        i = 0
        while True:
            key = f"a{w:03d}-{i:06d}"
            await store.write(work(key))
            report(key)
            i += 1

    async def main():
        await asyncio.gather(*(writer(w) for w in range(200)))

    asyncio.run(main())
elif mode == "threads":
    def writer(w):
        i = 0
        while True:
            key = f"t{w:03d}-{i:06d}"
            store.write_sync(work(key))
            report(key)
            i += 1

    for w in range(8):
        threading.Thread(target=writer, args=(w,)).start()
elif mode == "self-kill":
    for i in range(1000):
        key = f"s{i:06d}"
        store.write_sync(work(key))
        report(key)
        if i == 250:
            os.kill(os.getpid(), signal.SIGKILL)
elif mode == "mid-transaction":
    store.write_sync(work("committed"))
    report("committed")

    def huge(tx):
        for i in range(30000):
            tx.insert(A, "user", f"big{i:06d}", "big", {"pad": os.urandom(512).hex()})
        tx.bump_generation()
        report("killing")
        os.kill(os.getpid(), signal.SIGKILL)

    store.write_sync(huge)
"""


def _run_child(db: Path, mode: str, kill_after: int | None) -> tuple[list[str], int]:
    """Run the child; SIGKILL it after ``kill_after`` reported keys (None: it kills itself).
    Returns every complete line it printed, and its exit status."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watchdog = threading.Timer(120, child.kill)
    watchdog.start()
    assert child.stdout is not None and child.stderr is not None
    received = b""
    try:
        if kill_after is not None:
            lines = 0
            while lines < kill_after:
                line = child.stdout.readline()
                assert line, child.stderr.read().decode()
                received += line
                lines += 1
            os.kill(child.pid, signal.SIGKILL)  # kill -9, mid-stream: writes are in flight
        received += child.stdout.read()  # what was already printed is a response that left
        status = child.wait()
        errors = child.stderr.read().decode()
    finally:
        watchdog.cancel()
        child.stdout.close()
        child.stderr.close()
    assert status == -signal.SIGKILL, errors
    return received.decode().split("\n")[:-1], status  # drop a trailing partial line


def _check_consistent(db: Path, printed: list[str]) -> int:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with SqliteStore.open(db) as store:
        missing = store.read(lambda tx: [k for k in printed if tx.get(A, "user", k) is None])
        assert missing == [], f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
        users = store.read(lambda tx: tx.count(A, "user"))
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        user_keys = {r[0] for r in conn.execute("SELECT key FROM entities WHERE kind='user'")}
        event_ids = {r[0] for r in conn.execute("SELECT event_id FROM events")}
    # Each write = entity + event + bump in one transaction: all or nothing.
    assert user_keys == event_ids
    assert events == users
    assert store.generation == users
    return users


@pytest.mark.parametrize(("mode", "kill_after"), [("async", 3000), ("threads", 400)])
def test_acknowledged_writes_survive_kill_9(tmp_path: Path, mode: str, kill_after: int) -> None:
    db = tmp_path / "data" / "trailgate.db"
    printed, _ = _run_child(db, mode, kill_after)
    assert len(printed) >= kill_after
    stored = _check_consistent(db, printed)
    assert stored >= len(printed)


def test_self_kill_after_write_sync(tmp_path: Path) -> None:
    db = tmp_path / "trailgate.db"
    printed, _ = _run_child(db, "self-kill", None)
    assert len(printed) == 251
    assert _check_consistent(db, printed) == 251


def test_kill_mid_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = tmp_path / "trailgate.db"
    printed, _ = _run_child(db, "mid-transaction", None)
    assert printed == ["committed", "killing"]
    wal = db.with_name(db.name + "-wal")
    # The uncommitted transaction outgrew the page cache and was spilled into the WAL: the
    # crash really happened with partial state on disk.
    assert wal.stat().st_size > 8 * 1024 * 1024
    assert _check_consistent(db, ["committed"]) == 1
    with SqliteStore.open(db) as store:
        assert store.read(lambda tx: tx.count(A, "user")) == 1
        assert store.generation == 1
