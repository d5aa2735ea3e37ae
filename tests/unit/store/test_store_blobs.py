"""BlobStore: streamed, atomic, durable object bytes."""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from trailgate.store.blobs import TEMP_DIR, BlobInfo, BlobStore

MIB = 1024 * 1024


def _chunks(count: int, size: int = MIB) -> Iterator[bytes]:
    """Deterministic, incompressible-looking chunks, produced lazily."""
    for i in range(count):
        seed = hashlib.sha256(i.to_bytes(4, "big")).digest()
        yield (seed * (size // len(seed) + 1))[:size]


def _temp_files(store: BlobStore) -> list[Path]:
    return list((store.root / TEMP_DIR).iterdir())


def test_round_trip_20_mib_streamed(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    for chunk in _chunks(20):
        md5.update(chunk)
        sha256.update(chunk)

    tracemalloc.start()
    try:
        info = store.write_stream(_chunks(20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * MIB  # a couple of chunks, never the whole 20 MiB
    assert info == BlobInfo(info.id, 20 * MIB, md5.hexdigest(), sha256.hexdigest())
    assert store.size(info.id) == 20 * MIB
    assert store.exists(info.id)
    assert _temp_files(store) == []

    read_back = hashlib.sha256()
    total = 0
    with store.open_read(info.id) as file:
        while chunk := file.read(MIB):
            read_back.update(chunk)
            total += len(chunk)
    assert (total, read_back.hexdigest()) == (20 * MIB, info.sha256_hex)
    expected = b"".join(_chunks(20))
    assert b"".join(store.iter_chunks(info.id, 3 * MIB - 5, 5 * MIB + 7, chunk_size=65536)) == (
        expected[3 * MIB - 5 : 5 * MIB + 7]
    )
    assert b"".join(store.iter_chunks(info.id, 20 * MIB - 3)) == expected[-3:]


def test_small_and_empty_blobs(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    empty = store.write_bytes(b"")
    assert empty.size == 0
    assert empty.md5_hex == "d41d8cd98f00b204e9800998ecf8427e"
    assert empty.sha256_hex == hashlib.sha256(b"").hexdigest()
    hello = store.write_stream([b"hel", b"", bytearray(b"lo")])  # type: ignore[list-item]
    assert hello.size == 5 and hello.md5_hex == hashlib.md5(b"hello").hexdigest()
    assert hello.id != empty.id
    with store.open_read(hello.id) as file:
        assert file.read() == b"hello"


def test_delete_and_missing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    info = store.write_bytes(b"x" * 10)
    assert store.delete(info.id) is True
    assert store.delete(info.id) is False
    assert not store.exists(info.id)
    with pytest.raises(FileNotFoundError):
        store.open_read(info.id)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "", "ABCDEF" * 6, "0" * 31, "0" * 32 + "/"])
def test_ids_are_validated(tmp_path: Path, bad: str) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(ValueError):
        store.open_read(bad)
    with pytest.raises(ValueError):
        store.delete(bad)


def test_failed_stream_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)

    def broken() -> Iterator[bytes]:
        yield b"some bytes"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.write_stream(broken())
    assert _temp_files(store) == []
    assert [p for p in tmp_path.iterdir() if p.name != TEMP_DIR] == []


def test_writer_incremental_and_abort(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with store.writer() as writer:
        writer.write(b"abc")
        writer.write(memoryview(b"def"))
        info = writer.commit()
    assert info.size == 6
    assert b"".join(store.iter_chunks(info.id)) == b"abcdef"

    writer = store.writer()
    writer.write(b"discard me")
    writer.abort()
    writer.abort()
    with pytest.raises(ValueError):
        writer.write(b"more")
    assert _temp_files(store) == []


def test_sweep_removes_stale_temp_files(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    stale = tmp_path / TEMP_DIR / "blob-crashed.part"
    fresh = tmp_path / TEMP_DIR / "blob-inflight.part"
    stale.write_bytes(b"left by a crash")
    fresh.write_bytes(b"being written")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    BlobStore(tmp_path)  # opening sweeps
    assert not stale.exists()
    assert fresh.exists()
    assert store.sweep_temp(older_than=0) == 1
