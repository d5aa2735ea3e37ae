"""Object bytes as files, written atomically; their metadata lives in the database.

A blob is written to a temporary file under ``root/tmp``, fsynced, renamed to its final name
``root/<id[:2]>/<id>`` and the directory fsynced: after :meth:`BlobWriter.commit` returned the
blob survives a crash, and a crash before that leaves at most a temporary file (swept later),
never a partial blob.  Blobs are immutable and named by a random id, so a reader never sees a
blob change; the caller records ``id`` in the store (in the same transaction as the object's
metadata) and deletes the file once no record points at it.

Bytes stream through in chunks: nothing here holds a whole object in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final, NamedTuple

__all__ = ["BlobInfo", "BlobStore", "BlobWriter", "fsync_dir"]

_ID_RE: Final = re.compile(r"[0-9a-f]{32}")
TEMP_DIR: Final = "tmp"
READ_CHUNK: Final = 1024 * 1024


class BlobInfo(NamedTuple):
    """A stored blob: its id, size in bytes and digests (MD5 gives S3's ETag)."""

    id: str
    size: int
    md5_hex: str
    sha256_hex: str


def fsync_dir(path: Path) -> None:
    """Make the creations, renames and removals of entries in directory ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """An in-progress blob: ``write`` chunks, then ``commit`` (or ``abort``).

    Usable as a context manager: leaving the block without ``commit`` aborts.  ``write`` is
    blocking file I/O; async code can call it through ``asyncio.to_thread`` per chunk.
    """

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.root / TEMP_DIR, prefix="blob-", suffix=".part")
        self._temp = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self._size = 0

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._file is None:
            raise ValueError("blob writer is closed")
        self._file.write(chunk)
        self._md5.update(chunk)
        self._sha256.update(chunk)
        self._size += len(chunk) if isinstance(chunk, bytes | bytearray) else chunk.nbytes

    def commit(self) -> BlobInfo:
        """Make the blob durable under a new id and return its description."""
        file = self._file
        if file is None:
            raise ValueError("blob writer is closed")
        try:
            file.flush()
            os.fsync(file.fileno())
        except BaseException:
            self.abort()
            raise
        file.close()
        self._file = None
        blob_id = uuid.uuid4().hex
        final = self._store._path(blob_id)
        try:
            self._store._ensure_dir(final.parent)
            os.replace(self._temp, final)
            fsync_dir(final.parent)
        except BaseException:
            with contextlib.suppress(OSError):
                self._temp.unlink()
            raise
        return BlobInfo(blob_id, self._size, self._md5.hexdigest(), self._sha256.hexdigest())

    def abort(self) -> None:
        """Discard what was written.  Idempotent; a no-op after ``commit``."""
        if self._file is None:
            return
        self._file.close()
        self._file = None
        with contextlib.suppress(OSError):
            self._temp.unlink()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


class BlobStore:
    """Immutable blobs under ``root``.  Safe to use from several threads."""

    def __init__(self, root: Path, *, sweep_older_than: float = 3600.0) -> None:
        """Create the layout if needed and remove temporary files older than
        ``sweep_older_than`` seconds (left by a crash mid-write)."""
        self.root = Path(root)
        created = not self.root.exists()
        (self.root / TEMP_DIR).mkdir(parents=True, exist_ok=True)
        if created:
            fsync_dir(self.root.parent)
        fsync_dir(self.root)
        self.sweep_temp(sweep_older_than)

    def _path(self, blob_id: str) -> Path:
        if not _ID_RE.fullmatch(blob_id):
            raise ValueError(f"not a blob id: {blob_id!r}")
        return self.root / blob_id[:2] / blob_id

    def _ensure_dir(self, directory: Path) -> None:
        if directory.is_dir():
            return
        directory.mkdir(exist_ok=True)
        fsync_dir(self.root)  # the new directory's entry must be durable before the blob's

    def writer(self) -> BlobWriter:
        """Start a blob to be fed chunk by chunk."""
        return BlobWriter(self)

    def write_stream(self, chunks: Iterable[bytes]) -> BlobInfo:
        """Store the concatenation of ``chunks``; durable when this returns."""
        with self.writer() as writer:
            for chunk in chunks:
                writer.write(chunk)
            return writer.commit()

    def write_bytes(self, data: bytes) -> BlobInfo:
        """Store a small blob given whole."""
        return self.write_stream((data,))

    def open_read(self, blob_id: str) -> BinaryIO:
        """Open the blob for reading (the caller closes it).  FileNotFoundError if absent."""
        return self._path(blob_id).open("rb")

    def iter_chunks(
        self, blob_id: str, start: int = 0, end: int | None = None, chunk_size: int = READ_CHUNK
    ) -> Iterator[bytes]:
        """The bytes ``[start, end)`` of the blob (``end`` None: to the end), in chunks."""
        with self.open_read(blob_id) as file:
            file.seek(start)
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                want = chunk_size if remaining is None else min(chunk_size, remaining)
                chunk = file.read(want)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def size(self, blob_id: str) -> int:
        """The blob's size in bytes.  FileNotFoundError if absent."""
        return self._path(blob_id).stat().st_size

    def exists(self, blob_id: str) -> bool:
        return self._path(blob_id).is_file()

    def delete(self, blob_id: str) -> bool:
        """Remove the blob; True if it existed."""
        try:
            self._path(blob_id).unlink()
        except FileNotFoundError:
            return False
        return True

    def sweep_temp(self, older_than: float = 3600.0) -> int:
        """Remove temporary files not modified for ``older_than`` seconds; returns how many."""
        cutoff = time.time() - older_than
        removed = 0
        for entry in (self.root / TEMP_DIR).iterdir():
            try:
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
