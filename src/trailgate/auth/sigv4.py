"""Request signature verification: SigV4 (header and presigned), S3's SigV2 (header and presigned)
and S3's aws-chunked payloads (spec 5.1-5.6).  Errors per protocol follow spec 6.6.

Pure functions: no store access.  The caller looks the secret up from
``SignedRequestInfo.access_key_id`` between :func:`parse_auth` and :func:`verify`.

Hot path (every request): :func:`parse_auth` + :func:`verify`.  Derived signing keys are cached
(:func:`signing_key`); no regex is built per request; botocore is not used here (only in tests,
as the oracle).

This module is the entry point; the parts live beside it and are re-exported here:

- ``sigv4_errors``     :class:`AuthError`, its kinds and the AWS error per protocol (spec 6.6)
- ``sigv4_parse``      locating credentials -> :class:`SignedRequestInfo` (spec 5.1)
- ``sigv4_canonical``  canonical request pieces and the cached signing key (spec 5.2-5.3)
- ``sigv4_checks``     time window (skew, presigned expiry) and the signature-mismatch error
- ``sigv4_payload``    payload hash, ``x-amz-content-sha256`` check, aws-chunked (spec 5.4-5.5)
- ``sigv4_v2``         S3's SigV2 verification (spec 5.6)
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from ..gateway.context import HttpRequest
from .sigv4_canonical import (
    canonical_headers,
    canonical_query_string,
    clear_signing_key_cache,
    signing_key,
    uri_candidates,
)
from .sigv4_checks import MAX_SKEW as MAX_SKEW
from .sigv4_checks import check_v4_time, mismatch_error
from .sigv4_errors import AuthError, AuthKind, WireProtocol, auth_error
from .sigv4_parse import (
    ALGORITHM,
    MAX_PRESIGN_EXPIRES,
    SignedRequestInfo,
    parse_v2_header,
    parse_v2_query,
    parse_v4_header,
    parse_v4_query,
    query_params,
)
from .sigv4_payload import (
    EMPTY_SHA256,
    STREAMING_MODES,
    UNSIGNED_PAYLOAD,
    canonical_payload_hash,
    check_payload,
    decode_aws_chunked,
    decode_s3_payload,
    decode_s3_stream,
    is_streaming,
)
from .sigv4_v2 import V2_SUBRESOURCES as V2_SUBRESOURCES
from .sigv4_v2 import verify_v2


def parse_auth(req: HttpRequest) -> SignedRequestInfo | None:
    """Find the credentials of ``req``; ``None`` when the request is unsigned.

    Raises :class:`AuthError` (``incomplete_signature`` / ``malformed_query`` /
    ``auth_mechanism`` / ``bad_request_date``) when a signature is present but malformed.
    No secret is needed and nothing is verified here.
    """
    authz = req.headers.get("authorization", "")
    qs = req.query_string
    params = query_params(qs) if ("X-Amz-" in qs or "AWSAccessKeyId" in qs) else {}
    v4_query = "X-Amz-Algorithm" in params or "X-Amz-Credential" in params
    v2_query = "AWSAccessKeyId" in params
    if authz:
        argument = {"ArgumentName": "Authorization", "ArgumentValue": authz}
        if v4_query or v2_query:
            raise AuthError(
                "auth_mechanism",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified",
                argument,
            )
        if authz.startswith(ALGORITHM + " "):
            return parse_v4_header(req, authz)
        if authz.startswith("AWS "):
            return parse_v2_header(req, authz)
        raise AuthError("auth_mechanism", "Unsupported Authorization Type", argument)
    if v4_query:
        return parse_v4_query(params)
    if v2_query:
        return parse_v2_query(req, params)
    return None


def verify(
    req: HttpRequest,
    info: SignedRequestInfo,
    secret: str,
    now: datetime,
    *,
    virtual_bucket: str | None = None,
) -> None:
    """Check ``req``'s signature with ``secret`` at time ``now``; raise :class:`AuthError`.

    Checks, in order: scope date / time window (skew or presigned expiry), S3's required
    ``x-amz-content-sha256`` header (header auth), the signature (constant-time), then a hex
    ``x-amz-content-sha256`` against the body.  Streaming payload
    modes are accepted here; decode them with :func:`decode_s3_payload`.
    ``virtual_bucket`` (SigV2 only) is the bucket taken from a virtual-host ``Host``.
    """
    if info.version == "v2":
        verify_v2(req, info, secret, now, virtual_bucket)
        return
    check_v4_time(info, now)
    if info.service == "s3" and not info.presigned and "x-amz-content-sha256" not in req.headers:
        raise AuthError("missing_content_sha256")
    key = signing_key(secret, info.scope_date, info.region, info.service)
    payload_hash = canonical_payload_hash(req, info)
    tail = "\n".join(
        (
            canonical_query_string(req.query_string, presigned=info.presigned),
            canonical_headers(req.headers, info.signed_headers),
            ";".join(info.signed_headers),
            payload_hash,
        )
    )
    sts_head = f"{ALGORITHM}\n{info.amz_date}\n{info.scope}\n"
    provided = info.signature.encode("utf-8", "replace")
    first: tuple[str, str] | None = None
    for uri in uri_candidates(req.raw_path, info.service == "s3"):
        creq = f"{req.method}\n{uri}\n{tail}"
        sts = sts_head + hashlib.sha256(creq.encode("utf-8", "surrogateescape")).hexdigest()
        expected = hmac.digest(key, sts.encode(), "sha256").hex().encode()
        if hmac.compare_digest(expected, provided):
            break
        first = first or (creq, sts)
    else:
        assert first is not None
        raise mismatch_error(info, first[1], first[0])
    check_payload(req)


__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "MAX_PRESIGN_EXPIRES",
    "STREAMING_MODES",
    "UNSIGNED_PAYLOAD",
    "AuthError",
    "AuthKind",
    "SignedRequestInfo",
    "WireProtocol",
    "auth_error",
    "canonical_query_string",
    "clear_signing_key_cache",
    "decode_aws_chunked",
    "decode_s3_payload",
    "decode_s3_stream",
    "is_streaming",
    "parse_auth",
    "signing_key",
    "verify",
]
