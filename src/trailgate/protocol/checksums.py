"""S3's additional checksums (``x-amz-checksum-*``): CRC32, CRC32C, CRC64NVME, SHA1, SHA256,
SHA512, MD5, XXHASH64, XXHASH3 and XXHASH128 (botocore's ``ChecksumAlgorithm`` values).

Every digest is incremental (``update`` then ``digest``) and its value on the wire is the
base64 of the big-endian digest, as botocore's ``httpchecksum`` computes it.  CRC32C,
CRC64NVME and the XXHashes (seed 0) come from ``awscrt.checksums`` (AWS's C runtime, the
library botocore itself uses for them); CRC32, the SHAs and MD5 from the standard library.

A value is *valid* (else S3 answers "Value for x-amz-checksum-<name> header is invalid.") when it
is canonical base64 of exactly the digest's size: ``4waSgx==`` (non-zero padding bits) and
values of another length are refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable
from typing import Final, Protocol

from awscrt import checksums as crt


class Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A CRC kept as an integer, fed chunk by chunk."""

    def __init__(self, step: Callable[[bytes, int], int], size: int) -> None:
        self._step = step
        self._size = size
        self.value = 0

    def update(self, data: bytes, /) -> None:
        self.value = self._step(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self._size, "big")


def _crc32(data: bytes, previous: int) -> int:
    return zlib.crc32(data, previous)


def _crc32c(data: bytes, previous: int) -> int:
    return int(crt.crc32c(data, previous)) & 0xFFFFFFFF


def _crc64nvme(data: bytes, previous: int) -> int:
    return int(crt.crc64nvme(data, previous)) & 0xFFFFFFFFFFFFFFFF


class _XXHash:
    """An XXHash of ``awscrt`` (``finalize`` gives the canonical big-endian digest)."""

    def __init__(self, new: Callable[[], crt.XXHash]) -> None:
        self._hash = new()

    def update(self, data: bytes, /) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return bytes(self._hash.finalize())


_FACTORIES: Final[dict[str, Callable[[], Digest]]] = {
    "CRC32": lambda: _Crc(_crc32, 4),
    "CRC32C": lambda: _Crc(_crc32c, 4),
    "CRC64NVME": lambda: _Crc(_crc64nvme, 8),
    "SHA1": lambda: hashlib.sha1(usedforsecurity=False),
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
    "MD5": lambda: hashlib.md5(usedforsecurity=False),
    "XXHASH64": lambda: _XXHash(crt.XXHash.new_xxhash64),
    "XXHASH3": lambda: _XXHash(crt.XXHash.new_xxhash3_64),
    "XXHASH128": lambda: _XXHash(crt.XXHash.new_xxhash3_128),
}
#: Digest size in bytes per algorithm.
SIZES: Final[dict[str, int]] = {
    "CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32, "SHA512": 64, "MD5": 16,
    "XXHASH64": 8, "XXHASH3": 8, "XXHASH128": 16,
}
#: The algorithms trailgate computes, in the order S3 lists them.
ALGORITHMS: Final = tuple(_FACTORIES)
#: Which multipart checksum types each algorithm allows (S3 "Checking object integrity":
#: CRC64NVME is full-object only, CRC32 and CRC32C both; a full-object checksum of a multipart
#: upload needs a CRC, which parts' values combine into, so the SHAs, MD5 and the XXHashes are
#: composite only).
TYPES: Final[dict[str, frozenset[str]]] = {
    "CRC32": frozenset({"COMPOSITE", "FULL_OBJECT"}),
    "CRC32C": frozenset({"COMPOSITE", "FULL_OBJECT"}),
    "CRC64NVME": frozenset({"FULL_OBJECT"}),
    "SHA1": frozenset({"COMPOSITE"}),
    "SHA256": frozenset({"COMPOSITE"}),
    "SHA512": frozenset({"COMPOSITE"}),
    "MD5": frozenset({"COMPOSITE"}),
    "XXHASH64": frozenset({"COMPOSITE"}),
    "XXHASH3": frozenset({"COMPOSITE"}),
    "XXHASH128": frozenset({"COMPOSITE"}),
}


def new_digest(algorithm: str) -> Digest:
    """An empty digest of ``algorithm`` (one of :data:`ALGORITHMS`)."""
    return _FACTORIES[algorithm]()


def compute(algorithm: str, data: bytes) -> bytes:
    digest = new_digest(algorithm)
    digest.update(data)
    return digest.digest()


def encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def member(algorithm: str) -> str:
    """The API member of a checksum: ``CRC32C`` -> ``ChecksumCRC32C``."""
    return f"Checksum{algorithm}"


def header(algorithm: str) -> str:
    """Its HTTP header: ``CRC32C`` -> ``x-amz-checksum-crc32c``."""
    return f"x-amz-checksum-{algorithm.lower()}"


def decode(algorithm: str, value: str) -> bytes | None:
    """The digest a header value carries, or None when it is not a valid value."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(raw) != SIZES[algorithm] or encode(raw) != value:
        return None
    return raw
