"""aws-chunked payloads (spec 5.5), decoded incrementally from a stream, so an upload spooled
to disk is never held in memory: ``<hex-size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n`` ...,
a zero-size chunk, then trailer lines (``x-amz-checksum-crc32c:<base64>``) and an empty line.

Signed chunks (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``) are verified one by one, each
signature chained to the previous (the first to the header signature), and a signed trailer
section by its ``x-amz-trailer-signature``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from typing import BinaryIO, Final

from .sigv4_errors import AuthError

EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()
_READ: Final = 1 << 20
_MAX_LINE: Final = 8192  # a chunk header or trailer line longer than this is malformed


class _Stream:
    """Buffered reads of lines and exact byte counts from a binary stream."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._buf = bytearray()

    def _fill(self) -> bool:
        data = self._source.read(_READ)
        if not data:
            return False
        self._buf += data
        return True

    def line(self, missing: str) -> bytes:
        searched = 0
        while True:
            eol = self._buf.find(b"\r\n", max(0, searched - 1))
            if eol >= 0:
                line = bytes(self._buf[:eol])
                del self._buf[: eol + 2]
                return line
            searched = len(self._buf)
            if searched > _MAX_LINE or not self._fill():
                raise AuthError("bad_chunk", missing)

    def take(self, size: int) -> Iterator[bytes]:
        remaining = size
        while remaining:
            if not self._buf and not self._fill():
                raise AuthError("bad_chunk", "Chunk is truncated")
            piece = bytes(self._buf[:remaining])
            del self._buf[: len(piece)]
            remaining -= len(piece)
            yield piece

    def exact(self, size: int) -> bytes:
        while len(self._buf) < size and self._fill():
            pass
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def at_end(self) -> bool:
        return not self._buf and not self._fill()


def decode_chunked_stream(
    source: BinaryIO,
    write: Callable[[bytes], None],
    *,
    signed: bool,
    seed_signature: str = "",
    signing_key: bytes = b"",
    scope: str = "",
    amz_date: str = "",
) -> dict[str, str]:
    """Decode an aws-chunked ``source``, passing the data to ``write``; returns the trailers
    (names lower-cased, ``x-amz-trailer-signature`` verified and removed).  Raises
    :class:`AuthError` ``bad_chunk`` on framing errors (``malformed_trailer`` for a trailer
    line without a name and a colon), ``signature_mismatch`` on a wrong
    chunk or trailer signature.  Data may be written before a later error is found."""
    stream = _Stream(source)
    previous = seed_signature
    while True:
        size, chunk_sig = _chunk_header(stream.line("Missing chunk header"), signed)
        digest = hashlib.sha256()
        for piece in stream.take(size):
            if signed:
                digest.update(piece)
            write(piece)
        if signed:
            sts = (
                f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n"
                + digest.hexdigest()
            )
            check_stream_signature(signing_key, sts, chunk_sig)
            previous = chunk_sig
        if size == 0:
            break
        if stream.exact(2) != b"\r\n":
            raise AuthError("bad_chunk", "Chunk data is not followed by CRLF")
    trailers = _read_trailers(stream)
    if signed and trailers:
        trailer_sig = trailers.pop("x-amz-trailer-signature", "")
        canonical = "".join(f"{name}:{trailers[name]}\n" for name in sorted(trailers))
        sts = (
            f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n"
            + hashlib.sha256(canonical.encode()).hexdigest()
        )
        check_stream_signature(signing_key, sts, trailer_sig)
    return trailers


def _chunk_header(line: bytes, signed: bool) -> tuple[int, str]:
    size_text, _, ext = line.partition(b";")
    size_text = size_text.strip()
    if not size_text or len(size_text) > 16 or size_text.strip(b"0123456789abcdefABCDEF"):
        raise AuthError("bad_chunk", "Invalid chunk size")
    signature = ""
    if signed:
        ext = ext.strip()
        if not ext.startswith(b"chunk-signature="):
            raise AuthError("bad_chunk", "Missing chunk signature")
        signature = ext[16:].decode("ascii", "replace")
    elif ext:
        raise AuthError("bad_chunk", "Unexpected chunk extension in an unsigned payload")
    return int(size_text, 16), signature


def _read_trailers(stream: _Stream) -> dict[str, str]:
    trailers: dict[str, str] = {}
    while True:
        line = stream.line("Trailer section is not terminated")
        if not line:
            break
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise AuthError("malformed_trailer", "Malformed trailer")
        trailers[name.strip().lower().decode("ascii", "replace")] = value.strip().decode(
            "ascii", "replace"
        )
    if not stream.at_end():
        raise AuthError("bad_chunk", "Data after the final chunk")
    return trailers


def check_stream_signature(key: bytes, string_to_sign: str, provided: str) -> None:
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        raise AuthError(
            "signature_mismatch",
            "chunk signature",
            {"StringToSign": string_to_sign, "SignatureProvided": provided},
        )
