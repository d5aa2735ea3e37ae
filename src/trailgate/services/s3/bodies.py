"""Object bytes: writing request bodies to blobs (outside the transaction) with their digests
checked, streaming blobs back out, ranges and conditional requests.

What ``prepare_<Operation>`` returns is a :class:`Prepared`: the blob it wrote (or the error it
found).  The transactional method raises the error, or records the blob.  If the transaction
fails the gateway calls :meth:`Prepared.discard`, which deletes the blob only when it is certain
nothing refers to it (the provider's own function raised, so its changes were rolled back);
otherwise the blob is left to :func:`trailgate.services.s3.provider.S3Provider.sweep_orphans`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, BinaryIO, Final

from ...protocol import checksums
from ...protocol.errors import ServiceError
from ...store.blobs import READ_CHUNK, BlobInfo, BlobStore
from .common import (
    MAX_OBJECT_SIZE,
    b64_digest,
    decode_b64,
    internal_error,
    no_such_key,
    not_modified,
    precondition_failed,
    when,
)

# -- prepared work -----------------------------------------------------------------------------


@dataclass
class Prepared:
    """A blob written before the transaction, or the error that stopped it."""

    blobs: BlobStore
    info: BlobInfo | None = None
    error: ServiceError | None = None
    checksums: dict[str, str] = field(default_factory=dict)  # verified, e.g. ChecksumCRC32
    extra: dict[str, Any] = field(default_factory=dict)  # operation-specific results
    failed: bool = False  # set when the transaction function raised (nothing refers to info)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    @property
    def blob(self) -> BlobInfo:
        if self.info is None:  # pragma: no cover - raise_error() runs first
            raise internal_error()
        return self.info

    def discard(self) -> None:
        """Called by the gateway when the transaction did not succeed."""
        if self.failed and self.info is not None:
            self.blobs.delete(self.info.id)
            self.info = None


def run_prepared(
    prepared: Prepared | None,
    prepare: Callable[[], Prepared],
    work: Callable[[Prepared], dict[str, Any]],
) -> dict[str, Any]:
    """Run the transactional part; without a gateway-made ``prepared`` (tests, or no reader
    for the store outside the transaction) prepare inline first."""
    inline = prepared is None
    ready = prepare() if prepared is None else prepared
    try:
        return work(ready)
    except BaseException:
        ready.failed = True
        if inline:
            ready.discard()
        raise


def early_error(
    blobs: BlobStore,
    read: Callable[[Callable[[Any], None]], None] | None,
    check: Callable[[Any], None],
) -> Prepared | None:
    """Run ``check`` on a snapshot (when a reader is available) before writing any bytes: a
    failed check becomes the prepared error, raised by the transaction after its own checks."""
    if read is None:
        return None
    try:
        read(check)
    except ServiceError as err:
        return Prepared(blobs, error=err)
    return None


# -- digests -----------------------------------------------------------------------------------

_Digest = checksums.Digest

#: The checksum S3 adds to an object (or part) uploaded without one (AWS S3 API reference,
#: ChecksumCRC64NVME: "... or if it was uploaded without a checksum (and Amazon S3 added the
#: default checksum, CRC64NVME, to the uploaded object)").
DEFAULT_CHECKSUM: Final = "CRC64NVME"

CHECKSUMS: Final[dict[str, tuple[str, Callable[[], _Digest]]]] = {
    # request member -> (name in messages, digest factory)
    checksums.member(name): (name, functools.partial(checksums.new_digest, name))
    for name in checksums.ALGORITHMS
}


def _invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def _requested_checksums(params: dict[str, Any]) -> dict[str, str]:
    """The checksum the request carries (at most one, S3 refuses several), valid and agreeing
    with ``x-amz-sdk-checksum-algorithm`` when that is sent."""
    out: dict[str, str] = {}
    for member, (name, _factory) in CHECKSUMS.items():
        value = params.get(member)
        if not value:
            continue
        if checksums.decode(name, str(value)) is None:
            raise _invalid_request(f"Value for {checksums.header(name)} header is invalid.")
        out[member] = str(value)
    if len(out) > 1:
        raise _invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    announced = str(params.get("ChecksumAlgorithm") or "").upper()
    if out and announced and checksums.member(announced) not in out:
        raise _invalid_request("Value for x-amz-sdk-checksum-algorithm header is invalid.")
    if not out and announced in checksums.ALGORITHMS:  # (a trailer's is in params by now)
        # UNSURE: quoted alike by several S3 implementations, not recorded against AWS here.
        raise _invalid_request(
            "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
            "x-amz-trailer headers were found."
        )
    return out


def sent_algorithm(params: dict[str, Any]) -> str | None:
    """The checksum algorithm of an upload request: its ``x-amz-checksum-*`` member, else
    its ``x-amz-sdk-checksum-algorithm`` (a trailer to come); None without either."""
    for member, (name, _factory) in CHECKSUMS.items():
        if params.get(member):
            return name
    announced = params.get("ChecksumAlgorithm")
    return str(announced).upper() if announced else None


def _content_md5(params: dict[str, Any]) -> str | None:
    """The Content-MD5 header as hex, or None; InvalidDigest when it is not an MD5."""
    value = params.get("ContentMD5")
    if not value:
        return None
    raw = decode_b64(str(value))
    if raw is None or len(raw) != 16:
        raise ServiceError("InvalidDigest", "The Content-MD5 you specified is not valid.", 400)
    return raw.hex()


def _bad_digest() -> ServiceError:
    return ServiceError(
        "BadDigest", "The Content-MD5 you specified did not match what we received.", 400
    )


def _chunks(body: Any) -> Iterable[bytes]:
    """The bytes of a request ``Body``: a RequestBody, bytes, text or a file object."""
    if body is None:
        return ()
    if isinstance(body, bytes | bytearray | memoryview):
        return (bytes(body),)
    if isinstance(body, str):
        return (body.encode("utf-8"),)
    if hasattr(body, "iter_chunks"):
        chunks: Iterable[bytes] = body.iter_chunks()
        return chunks
    if hasattr(body, "read"):
        return iter(lambda: body.read(READ_CHUNK) or b"", b"")
    raise TypeError(f"unsupported body type {type(body).__name__}")


def write_body(
    blobs: BlobStore,
    params: dict[str, Any],
    *,
    limit: int = MAX_OBJECT_SIZE,
    compute: str | None = None,
) -> Prepared:
    """Write ``params["Body"]`` to a new blob, checking Content-MD5 and the checksums given;
    without one, the ``compute`` algorithm's checksum (if any) is computed and kept."""
    try:
        expected_md5 = _content_md5(params)
        wanted = _requested_checksums(params)
    except ServiceError as err:
        return Prepared(blobs, error=err)
    body = params.get("Body")
    size = getattr(body, "size", None)
    if isinstance(size, int) and size > limit:
        return Prepared(blobs, error=_too_large(size, limit))
    known_md5 = getattr(body, "md5_hex", None)
    if expected_md5 and isinstance(known_md5, str) and known_md5 and known_md5 != expected_md5:
        return Prepared(blobs, error=_bad_digest())  # refused before writing anything
    digests = {member: CHECKSUMS[member][1]() for member in wanted}
    extra = checksums.member(compute) if compute and not wanted else None
    if extra is not None:
        digests[extra] = CHECKSUMS[extra][1]()
    info = blobs.write_stream(_hashed(_chunks(body), digests.values()))
    error: ServiceError | None = None
    if info.size > limit:
        error = _too_large(info.size, limit)
    elif expected_md5 and info.md5_hex != expected_md5:
        error = _bad_digest()
    if extra is not None:
        wanted = {extra: _b64(digests.pop(extra).digest())}
    for member, digest in digests.items():
        if error is None and _b64(digest.digest()) != wanted[member]:
            name = CHECKSUMS[member][0]
            error = ServiceError(
                "BadDigest", f"The {name} you specified did not match the calculated checksum.", 400
            )
    if error is not None:
        blobs.delete(info.id)
        return Prepared(blobs, error=error)
    return Prepared(blobs, info=info, checksums=wanted)


def write_copy(blobs: BlobStore, chunks: Iterable[bytes], algorithm: str | None) -> Prepared:
    """Write bytes S3 already holds (a copied range) to a new blob, with their checksum when
    ``algorithm`` (e.g. ``CRC32``) is one trailgate computes."""
    member = f"Checksum{algorithm}" if algorithm else ""
    factory = CHECKSUMS.get(member)
    digest = factory[1]() if factory is not None else None
    info = blobs.write_stream(_hashed(chunks, [digest] if digest is not None else []))
    computed = {member: _b64(digest.digest())} if digest is not None else {}
    return Prepared(blobs, info=info, checksums=computed)


def _too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        400,
        {"ProposedSize": str(size), "MaxSizeAllowed": str(limit)},
    )


def _b64(raw: bytes) -> str:
    return b64_digest(raw.hex())


def _hashed(chunks: Iterable[bytes], digests: Iterable[_Digest]) -> Iterator[bytes]:
    active = list(digests)
    for chunk in chunks:
        for digest in active:
            digest.update(chunk)
        yield chunk


# -- reading -----------------------------------------------------------------------------------


class BlobBody:
    """The ``Body`` of GetObject: bytes ``[start, start + length)`` of an already opened blob
    (opened inside the read transaction, so a concurrent overwrite that deletes the file after
    its commit cannot take the bytes away).  ``close()`` releases the file."""

    def __init__(self, file: BinaryIO, start: int, length: int) -> None:
        self._file: BinaryIO | None = file
        self._remaining = length
        file.seek(start)

    def __iter__(self) -> BlobBody:
        return self

    def __next__(self) -> bytes:
        file = self._file
        if file is None or self._remaining <= 0:
            self.close()
            raise StopIteration
        chunk = file.read(min(READ_CHUNK, self._remaining))
        if not chunk:
            self.close()
            raise StopIteration
        self._remaining -= len(chunk)
        return chunk

    def read(self) -> bytes:
        """Everything that is left (for tests and small bodies)."""
        return b"".join(self)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()


def open_blob(blobs: BlobStore, blob_id: str) -> BinaryIO:
    try:
        return blobs.open_read(blob_id)
    except FileNotFoundError:  # replaced and reclaimed between the snapshot and the open
        raise internal_error() from None


# -- ranges ------------------------------------------------------------------------------------

_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` -> ``(start, end)`` (end inclusive), or None for the whole object
    (no header, a syntax S3 ignores, several ranges, a suffix range of an empty object);
    InvalidRange when unsatisfiable."""
    if not header:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            raise _invalid_range(header, size)
        if size == 0:
            # S3 answers a suffix range on an empty object with the whole (empty) object,
            # 200 without Content-Range (observed answers quoted in apache/arrow-rs-object-store
            # issue 846); a range with a first byte stays unsatisfiable there.
            return None
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise _invalid_range(header, size)
    return start, min(end, size - 1)


def _invalid_range(header: str, size: int) -> ServiceError:
    return ServiceError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        {"RangeRequested": header, "ActualObjectSize": str(size)},
    )


# -- conditional requests ----------------------------------------------------------------------


def etag_matches(header: str, etag: str) -> bool:
    target = etag.strip('"')
    for candidate in header.split(","):
        value = candidate.strip()
        if value == "*":
            return True
        if value.startswith("W/"):
            value = value[2:]
        if value.strip('"') == target:
            return True
    return False


def _seconds(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def check_read_conditions(params: dict[str, Any], record: dict[str, Any]) -> None:
    """GET/HEAD preconditions in RFC 7232 order: If-Match, If-Unmodified-Since (412), then
    If-None-Match, If-Modified-Since (304).  Dates compare at whole seconds."""
    etag = str(record["ETag"])
    modified = _seconds(when(record["LastModified"]))
    if_match = params.get("IfMatch")
    if if_match is not None:
        if not etag_matches(str(if_match), etag):
            raise precondition_failed("If-Match")
    else:
        since = params.get("IfUnmodifiedSince")
        if isinstance(since, datetime) and modified > _seconds(since):
            raise precondition_failed("If-Unmodified-Since")
    if_none = params.get("IfNoneMatch")
    if if_none is not None:
        unchanged = etag_matches(str(if_none), etag)
    else:
        since = params.get("IfModifiedSince")
        unchanged = isinstance(since, datetime) and modified <= _seconds(since)
    if unchanged:
        # A 304 still names the representation it stands for (RFC 7232 4.1), as S3's do.
        err = not_modified()
        err.headers = {"etag": etag, "last-modified": format_datetime(modified, usegmt=True)}
        raise err


def check_copy_conditions(params: dict[str, Any], record: dict[str, Any]) -> None:
    """``x-amz-copy-source-if-*``: every failure is a 412 (no 304 for copies)."""
    etag = str(record["ETag"])
    modified = _seconds(when(record["LastModified"]))
    if_match = params.get("CopySourceIfMatch")
    if if_match is not None and not etag_matches(str(if_match), etag):
        raise precondition_failed("x-amz-copy-source-If-Match")
    since = params.get("CopySourceIfUnmodifiedSince")
    if if_match is None and isinstance(since, datetime) and modified > _seconds(since):
        raise precondition_failed("x-amz-copy-source-If-Unmodified-Since")
    if_none = params.get("CopySourceIfNoneMatch")
    if if_none is not None and etag_matches(str(if_none), etag):
        raise precondition_failed("x-amz-copy-source-If-None-Match")
    since = params.get("CopySourceIfModifiedSince")
    if if_none is None and isinstance(since, datetime) and modified <= _seconds(since):
        raise precondition_failed("x-amz-copy-source-If-Modified-Since")


def check_write_conditions(params: dict[str, Any], record: dict[str, Any] | None, key: str) -> None:
    """Conditional writes: ``If-None-Match: *`` (the key must be free) and ``If-Match``.  S3
    supports only ``*`` in a write's If-None-Match: an ETag there is NotImplemented."""
    if_none = params.get("IfNoneMatch")
    if if_none is not None and str(if_none).strip() != "*":
        raise ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
            {"Header": "If-None-Match"},
        )
    if if_none is not None and record is not None and etag_matches(str(if_none), record["ETag"]):
        raise precondition_failed("If-None-Match")
    if_match = params.get("IfMatch")
    if if_match is not None:
        if record is None:
            raise no_such_key(key)
        if not etag_matches(str(if_match), record["ETag"]):
            raise precondition_failed("If-Match")
