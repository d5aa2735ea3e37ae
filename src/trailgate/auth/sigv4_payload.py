"""Request payloads: the payload hash a SigV4 signature covers, the ``x-amz-content-sha256``
check against the body (spec 5.4) and S3's aws-chunked streaming payloads (spec 5.5).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from collections.abc import Callable
from typing import BinaryIO, Final

from ..gateway.context import HttpRequest
from .sigv4_canonical import signing_key
from .sigv4_chunked import decode_chunked_stream
from .sigv4_errors import AuthError
from .sigv4_parse import SignedRequestInfo

UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
STREAMING_MODES: Final = frozenset(
    {
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    }
)
EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()
_HEX64_RE: Final = re.compile(r"[0-9a-fA-F]{64}")


def canonical_payload_hash(req: HttpRequest, info: SignedRequestInfo) -> str:
    """The payload hash line of the SigV4 canonical request."""
    declared = req.headers.get("x-amz-content-sha256")
    if info.presigned:
        if declared is not None and "x-amz-content-sha256" in info.signed_headers:
            return declared
        if info.service == "s3":
            return UNSIGNED_PAYLOAD
    elif declared is not None:
        return declared
    return _body_sha256(req)


def _body_sha256(req: HttpRequest) -> str:
    """Hex SHA-256 of the body; a spooled body's hash was computed while it was received."""
    if req.body_source is not None:
        return req.body_source.sha256_hex
    return hashlib.sha256(req.body).hexdigest()


def check_payload(req: HttpRequest) -> None:
    """A hex ``x-amz-content-sha256`` must match the body; streaming modes are accepted."""
    declared = req.headers.get("x-amz-content-sha256")
    if declared is None or declared == UNSIGNED_PAYLOAD or declared in STREAMING_MODES:
        return
    if declared == EMPTY_SHA256 and not req.body and req.body_source is None:
        return
    if not _HEX64_RE.fullmatch(declared):
        raise AuthError("invalid_content_sha256", declared)
    actual = _body_sha256(req)
    if not hmac.compare_digest(actual, declared.lower()):
        raise AuthError(
            "payload_hash_mismatch",
            "",
            {"ClientComputedContentSHA256": declared, "S3ComputedContentSHA256": actual},
        )


# --------------------------------------------------------------------------------------------
# aws-chunked payloads (spec 5.5; the decoder is :mod:`.sigv4_chunked`)


def decode_aws_chunked(
    body: bytes,
    *,
    signed: bool,
    seed_signature: str = "",
    signing_key: bytes = b"",
    scope: str = "",
    amz_date: str = "",
) -> tuple[bytes, dict[str, str]]:
    """Decode an in-memory aws-chunked body into (data, trailers); see
    :func:`.sigv4_chunked.decode_chunked_stream`."""
    chunks: list[bytes] = []
    trailers = decode_chunked_stream(
        io.BytesIO(body), chunks.append, signed=signed, seed_signature=seed_signature,
        signing_key=signing_key, scope=scope, amz_date=amz_date,
    )
    return b"".join(chunks), trailers


def is_streaming(req: HttpRequest) -> bool:
    """Whether the request's body is aws-chunked (its ``x-amz-content-sha256`` mode)."""
    return req.headers.get("x-amz-content-sha256", "") in STREAMING_MODES


def decode_s3_payload(
    req: HttpRequest, info: SignedRequestInfo | None, secret: str | None
) -> tuple[bytes, dict[str, str]]:
    """The object bytes of an S3 request per its ``x-amz-content-sha256`` mode (spec 5.5).

    Non-streaming modes return the body unchanged.  Streaming modes are decoded (signed ones
    need the verified ``info`` and ``secret``); the length is checked against
    ``x-amz-decoded-content-length`` and the trailers against ``x-amz-trailer``.
    """
    if not is_streaming(req):
        return req.body, {}
    chunks: list[bytes] = []
    trailers = decode_s3_stream(req, info, secret, io.BytesIO(req.body), chunks.append)
    return b"".join(chunks), trailers


def decode_s3_stream(
    req: HttpRequest,
    info: SignedRequestInfo | None,
    secret: str | None,
    source: BinaryIO,
    write: Callable[[bytes], None],
) -> dict[str, str]:
    """:func:`decode_s3_payload` for a streaming body read from ``source`` (e.g. an upload
    spooled to disk), the decoded bytes going to ``write``; returns the trailers."""
    mode = req.headers.get("x-amz-content-sha256", "")
    if "ECDSA" in mode:
        raise AuthError("incomplete_signature", "SigV4a (ECDSA) streaming is not supported")
    size = 0

    def counted(data: bytes) -> None:
        nonlocal size
        size += len(data)
        write(data)

    if mode.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"):
        if info is None or info.version != "v4" or info.presigned or secret is None:
            raise AuthError("incomplete_signature", f"{mode} requires header SigV4 auth")
        key = signing_key(secret, info.scope_date, info.region, info.service)
        trailers = decode_chunked_stream(
            source, counted, signed=True, seed_signature=info.signature, signing_key=key,
            scope=info.scope, amz_date=info.amz_date,
        )
    else:
        trailers = decode_chunked_stream(source, counted, signed=False)
    expected = [n.strip().lower() for n in req.headers.get("x-amz-trailer", "").split(",")]
    expected = [n for n in expected if n]
    if not mode.endswith("-TRAILER") and trailers:
        raise AuthError("malformed_trailer", "Trailers are not allowed in this payload mode")
    if sorted(expected) != sorted(trailers):
        raise AuthError("malformed_trailer", "Trailers do not match the x-amz-trailer header")
    declared = req.headers.get("x-amz-decoded-content-length")
    if declared is not None and declared.strip() != str(size):
        raise AuthError("bad_chunk", "Decoded length does not match x-amz-decoded-content-length")
    return trailers
