"""Request bodies: small ones in memory, large ones (S3 uploads) spooled to a temporary file
while MD5 and SHA-256 are computed, so no large body is ever held in memory."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

IN_MEMORY_LIMIT = 1 << 20  # bodies up to 1 MiB stay in memory


class SpooledBody:
    """A received body on disk (implements ``services.base.RequestBody``).

    The file lives in the data dir's ``tmp/`` folder and is removed by :meth:`discard` (the
    HTTP adapter calls it when the request is answered); a consumer that wants to keep the bytes
    copies them (or, on the same file system, hard-links the file).
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="body-", dir=directory)
        self.path = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.md5_hex = ""
        self.sha256_hex = ""

    def write(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self._md5.update(data)
        self._sha256.update(data)
        self.size += len(data)

    def finish(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.md5_hex = self._md5.hexdigest()
        self.sha256_hex = self._sha256.hexdigest()

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        with self.open() as fh:
            while True:
                chunk = fh.read(chunk_size)
                if not chunk:
                    return
                yield chunk

    def take_over(self, other: SpooledBody) -> None:
        """Become ``other`` (finished): its file replaces this one's, with its size and hashes
        (an aws-chunked upload replaced by its decoded bytes); ``other`` is then empty."""
        os.replace(other.path, self.path)
        self.size, self.md5_hex, self.sha256_hex = other.size, other.md5_hex, other.sha256_hex

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)
