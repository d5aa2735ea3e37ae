"""Checking one CloudTrail log file: fetch, gunzip, SHA-256 of the uncompressed bytes, and a
scan of the records' ``eventID`` and ``eventTime`` values.  This is the per-byte work of
``trailgate validate-logs`` (:mod:`trailgate.trail.validate` is the rest), run in worker
processes, so it imports nothing heavy: the standard library, and ISA-L's inflate (``isal``).

Cost per uncompressed byte, roughly equal shares: gunzip (ISA-L: 3-4x zlib's speed), SHA-256
(OpenSSL), and two regular-expression passes that collect the ``eventID`` and ``eventTime``
values (C code; no per-record Python step).  Files are handled whole
(one buffer, no copies) up to :data:`WHOLE` compressed bytes, streamed beyond.  Online, a
worker GETs pre-signed URLs over one keep-alive ``http.client`` connection per host.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib
import itertools
import os
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit


def _inflater() -> Any:
    """ISA-L's inflate (``isal``, a dependency: 3-4x zlib's speed here), else zlib; same API."""
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:  # pragma: no cover - depends on the environment
        return zlib


_inflate: Final[Any] = _inflater()
INFLATE_ERRORS: Final[tuple[type[Exception], ...]] = (zlib.error, _inflate.error)
GUNZIP: Final = "zlib" if _inflate is zlib else "isal"
CHUNK: Final = 1 << 20
WHOLE: Final = 16 << 20
"""Log files up to this many compressed bytes are gunzipped in one piece; larger ones are
streamed (bounded memory)."""
TAIL_LIMIT: Final = 8 << 20
VALID: Final = "valid"
TRAILING: Final = "INVALID: unexpected data after end of compressed stream"

_ID: Final = re.compile(rb'ID":"(?<="eventID":")([^"]*")')
_TIME: Final = re.compile(rb'Time":"(?<="eventTime":")([^"]*")')
"""``eventID`` and ``eventTime`` string values, at any depth (nested keys are told apart later
by a full parse), each WITH its closing quote.  Each pattern starts at a letter rare in
CloudTrail JSON ('I', 'T'; '"' is everywhere), the rest checked behind: the regex engine skips
to candidates fast, twice as fast as with ``"eventID":"`` in front."""


class Missing(Exception):
    """The object does not exist (S3 ``NoSuchKey``)."""


@dataclass(frozen=True)
class LogJob:
    bucket: str
    key: str
    hash: str
    oldest: str | None
    newest: str | None
    digest_end: str
    digest: str


@dataclass
class LogOutcome:
    job: LogJob
    message: str
    size: int = 0
    compressed: int = 0
    ids: bytes = b""  # the eventIDs found, newline-separated (one object: cheap to pass back)
    records: int = 0
    oldest: str | None = None
    newest: str | None = None

    def id_list(self) -> list[bytes]:
        return self.ids.split(b"\n") if self.records else []


class Readable(Protocol):
    def body(self, bucket: str, key: str) -> tuple[int | None, Iterator[bytes]]:
        """The object's size (None: unknown) and bytes in pieces; :class:`Missing`."""
        ...


# -- the record scan -----------------------------------------------------------------------


class _Scan:
    """``eventID`` values (with their closing quote) and ``eventTime`` values (likewise)."""

    __slots__ = ("ids", "times")

    def __init__(self) -> None:
        self.ids: list[bytes] = []
        self.times: list[bytes] = []

    def add(self, data: bytes | memoryview) -> None:
        ids, times = _ID.findall(data), _TIME.findall(data)
        if self.ids or self.times:
            self.ids.extend(ids)
            self.times.extend(times)
        else:
            self.ids, self.times = ids, times

    def finish(self, out: LogOutcome) -> None:
        out.records = len(self.ids)
        # every value ends with '"' and holds no other: dropping the quotes leaves the values
        out.ids = b"\n".join(self.ids).replace(b'"', b"")
        times = self.times
        if not times:
            return
        low, high = min(times), max(times)
        if b" " in (joined := b"".join(times)) or b"!" in joined:
            # with the closing quote (0x22) ordering differs from the values' only where a
            # value has ' ' or '!' (0x20, 0x21) right after another value's end: be exact
            bare = [t[:-1] for t in times]
            low, high = min(bare) + b'"', max(bare) + b'"'
        out.oldest, out.newest = low[:-1].decode(errors="replace"), high[:-1].decode(
            errors="replace")


def _scan_stream(scan: _Scan, buffer: bytes, final: bool) -> bytes:
    """Streaming form: scan ``buffer`` up to its last ``"eventID":"`` (all of it when
    ``final``); return the rest, to be scanned with the next piece.  In valid JSON that is a
    key, so no value matched before it ends after it (a buffer without one is kept, up to
    :data:`TAIL_LIMIT`, then scanned but for its last 64 KiB)."""
    cut = len(buffer) if final else buffer.rfind(b'"eventID":"')
    if cut < 0 and len(buffer) > TAIL_LIMIT:
        cut = len(buffer) - (64 << 10)
    if cut <= 0:
        return b"" if final else buffer
    scan.add(buffer if cut == len(buffer) else memoryview(buffer)[:cut])
    return buffer[cut:]


# -- fetching ------------------------------------------------------------------------------


_LOCAL: Final = threading.local()
_CODE: Final = re.compile(r"<Code>([^<]+)</Code>")
_RETRIES: Final = 3


def forget_connections() -> None:
    """In a forked worker: leave the parent's connections (sockets) to the parent."""
    _LOCAL.__dict__.clear()


def _connection(scheme: str, netloc: str) -> http.client.HTTPConnection:
    """This thread's keep-alive connection to ``netloc``."""
    pool: dict[tuple[str, str], http.client.HTTPConnection] | None = getattr(
        _LOCAL, "pool", None)
    if pool is None:
        pool = _LOCAL.pool = {}
    conn = pool.get((scheme, netloc))
    if conn is None:
        maker = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = pool[(scheme, netloc)] = maker(netloc, timeout=120)
    return conn


def _response(url: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """GET ``url`` over this thread's keep-alive connection to its host (reconnecting and
    retrying a dropped connection or a 5xx)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    for attempt in range(_RETRIES + 1):
        conn = _connection(parts.scheme, parts.netloc)
        try:
            conn.request("GET", target)
            response = conn.getresponse()
            if response.status >= 500 and attempt < _RETRIES:
                response.read()
                continue
        except (OSError, http.client.HTTPException):
            conn.close()
            if attempt == _RETRIES:
                raise
            continue
        return conn, response
    raise AssertionError("unreachable")  # pragma: no cover


def url_body(url: str) -> tuple[int | None, Iterator[bytes]]:
    """A pre-signed GET: (its Content-Length, the body in pieces); :class:`Missing` on
    ``NoSuchKey``.  A body of known size up to :data:`WHOLE` comes as one piece."""
    conn, response = _response(url)
    if response.status != 200:
        text = response.read().decode("utf-8", "replace")
        match = _CODE.search(text)
        code = match.group(1) if match else f"HTTP {response.status}"
        raise Missing(url) if code == "NoSuchKey" else RuntimeError(code)
    length = response.length

    def pieces() -> Iterator[bytes]:
        done = False
        try:
            if length is not None and length <= WHOLE:
                yield response.read()
            else:
                while piece := response.read(CHUNK):
                    yield piece
            done = True
        finally:
            if not done:  # a body left unread: the connection cannot be reused
                conn.close()

    return length, pieces()


def file_body(path: str) -> tuple[int, Iterator[bytes]]:
    """A file: (its size, its bytes in pieces; whole up to :data:`WHOLE`)."""
    handle = open(path, "rb")  # noqa: SIM115 - closed by the generator
    size = os.fstat(handle.fileno()).st_size

    def pieces() -> Iterator[bytes]:
        with handle:
            if size <= WHOLE:
                yield handle.read()
                return
            while piece := handle.read(CHUNK):
                yield piece

    return size, pieces()


# -- one file ------------------------------------------------------------------------------


def _inflate_whole(compressed: bytes, out: LogOutcome) -> bytes | None:
    inflater = _inflate.decompressobj(zlib.MAX_WBITS | 16)
    data: bytes = inflater.decompress(compressed)
    if inflater.unused_data:
        out.message = TRAILING
        return None
    rest: bytes = inflater.flush()
    return data + rest if rest else data


def _inflate_stream(pieces: Iterator[bytes], out: LogOutcome, scan: _Scan | None) -> str | None:
    """A large file piece by piece (bounded memory); its SHA-256, None when invalid."""
    inflater = _inflate.decompressobj(zlib.MAX_WBITS | 16)
    digest = hashlib.sha256()
    tail = b""
    for piece in pieces:
        out.compressed += len(piece)
        data = inflater.decompress(piece)
        if inflater.unused_data:
            out.message = TRAILING
            return None
        digest.update(data)
        out.size += len(data)
        if scan is not None:
            tail = _scan_stream(scan, tail + data if tail else data, False)
    rest = inflater.flush()
    digest.update(rest)
    out.size += len(rest)
    if scan is not None:
        _scan_stream(scan, tail + rest, True)
    return digest.hexdigest()


def _hash(opened: tuple[int | None, Iterator[bytes]], out: LogOutcome,
          scan: _Scan | None) -> str | None:
    size, pieces = opened
    if size is not None and size > WHOLE:
        return _inflate_stream(pieces, out, scan)
    first: list[bytes] = []
    total = 0
    for piece in pieces:  # up to WHOLE compressed bytes are handled in one piece
        first.append(piece)
        total += len(piece)
        if total > WHOLE:
            return _inflate_stream(itertools.chain(first, pieces), out, scan)
    compressed = first[0] if len(first) == 1 else b"".join(first)
    out.compressed = len(compressed)
    data = _inflate_whole(compressed, out)
    if data is None:
        return None
    out.size = len(data)
    if scan is not None:
        scan.add(data)
    return hashlib.sha256(data).hexdigest()


def check_log(source: Readable, job: LogJob, record_checks: bool = True) -> LogOutcome:
    """Fetch, gunzip and hash one log file; collect its eventIDs and eventTime range."""
    out = LogOutcome(job, VALID)
    scan = _Scan() if record_checks else None
    try:
        found = _hash(source.body(job.bucket, job.key), out, scan)
    except Missing:
        out.message = "INVALID: not found"
        return out
    except INFLATE_ERRORS:
        out.message = "INVALID: invalid format"
        return out
    except Exception as err:  # an S3 or network error other than NoSuchKey
        out.message = f"INVALID: {err}"
        return out
    if found is None:
        return out
    if found != job.hash:
        out.message = "INVALID: hash value doesn't match"
        return out
    if scan is not None:
        scan.finish(out)
    return out
