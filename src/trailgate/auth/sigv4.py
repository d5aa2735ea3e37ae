"""Request signature verification: SigV4 (header and presigned), S3's SigV2 (header and presigned)
and S3's aws-chunked payloads (spec 5.1-5.6).  Errors per protocol follow spec 6.6.

Pure functions: no store access.  The caller looks the secret up from
``SignedRequestInfo.access_key_id`` between :func:`parse_auth` and :func:`verify`.

Hot path (every request): :func:`parse_auth` + :func:`verify`.  Derived signing keys are cached
(:func:`signing_key`); no regex is built per request; botocore is not used here (only in tests,
as the oracle).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Final, Literal
from urllib.parse import quote, unquote, unquote_to_bytes

from ..gateway.context import HttpRequest
from ..protocol.errors import ServiceError

AuthKind = Literal[
    "incomplete_signature",  # malformed Authorization header / credential scope / date
    "malformed_query",  # malformed presigned-URL parameters (S3: AuthorizationQueryParametersError)
    "unknown_key",
    "bad_token",
    "expired_token",
    "signature_mismatch",
    "clock_skew",
    "missing_auth",
    "request_expired",  # presigned URL past its expiry
    "payload_hash_mismatch",  # hex x-amz-content-sha256 != sha256(body)
    "invalid_content_sha256",  # x-amz-content-sha256 neither hex nor a known mode
    "bad_chunk",  # aws-chunked body framing errors
]
WireProtocol = Literal["query", "json", "s3"]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
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
MAX_SKEW: Final = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES: Final = 604800

# botocore HmacV1Auth.QSAOfInterest: the sub-resources part of SigV2's CanonicalResource.
_V2_SUBRESOURCE_NAMES: Final = (
    "accelerate acl cors defaultObjectAcl location logging partNumber policy requestPayment "
    "torrent versioning versionId versions website uploads uploadId response-content-type "
    "response-content-language response-expires response-cache-control "
    "response-content-disposition response-content-encoding delete lifecycle tagging restore "
    "storageClass notification replication analytics metrics inventory select select-type "
    "object-lock"
)
V2_SUBRESOURCES: Final = frozenset(_V2_SUBRESOURCE_NAMES.split())

# Text already in canonical form: unreserved characters and upper-case %XX escapes of
# characters that are NOT unreserved (an escaped "A" must be canonicalised to "A").
_CANONICAL_RE: Final = re.compile(
    r"(?:[A-Za-z0-9\-_.~]|%(?:[01][0-9A-F]|2[0-9ABCF]|3[A-F]|40|5[B-E]|60|7[BCDF]|[89A-F][0-9A-F]))*"
)
_HEX64_RE: Final = re.compile(r"[0-9a-fA-F]{64}")
_DIGITS_RE: Final = re.compile(r"[0-9]+")


class AuthError(Exception):
    """An authentication failure of ``kind``; render with :meth:`to_service_error`.

    ``detail`` is the human message for kinds whose wording depends on the case (malformed
    headers, skew); ``extra`` holds S3's additional error elements (StringToSign, ...).
    """

    def __init__(self, kind: AuthKind, detail: str = "", extra: dict[str, str] | None = None):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind: AuthKind = kind
        self.detail = detail
        self.extra: dict[str, str] = extra or {}

    def to_service_error(self, protocol: WireProtocol) -> ServiceError:
        return auth_error(self.kind, protocol, self.detail, self.extra)


@dataclass(frozen=True, slots=True)
class SignedRequestInfo:
    """Where and how a request is signed (output of :func:`parse_auth`)."""

    version: Literal["v4", "v2"]
    presigned: bool  # query-string auth
    access_key_id: str
    signature: str  # hex (v4) or base64 (v2), as provided
    session_token: str | None = None
    scope_date: str = ""  # v4: YYYYMMDD from the credential scope
    region: str = ""  # v4 scope region
    service: str = "s3"  # v4 scope service; always "s3" for v2
    signed_headers: tuple[str, ...] = ()  # v4: lower-cased, in the order given
    amz_date: str = ""  # v4: YYYYMMDDTHHMMSSZ; v2 header: date header as sent; v2 query: Expires
    signed_at: datetime | None = None  # request time (v4 all, v2 header); None for v2 presigned
    expires: int | None = None  # v4 presigned: X-Amz-Expires seconds; v2 presigned: epoch seconds

    @property
    def scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/aws4_request"

    @property
    def signature_version(self) -> str:
        """``RequestContext.signature_version``: "AWS4-HMAC-SHA256" or "AWS"."""
        return ALGORITHM if self.version == "v4" else "AWS"

    @property
    def auth_type(self) -> str:
        """``RequestContext.auth_type``: "REST-QUERY-STRING" or "REST-HEADER"."""
        return "REST-QUERY-STRING" if self.presigned else "REST-HEADER"


# --------------------------------------------------------------------------------------------
# Error table (spec 6.6)

_SIG_MSG: Final = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_S3_SIG_MSG: Final = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_BAD_TOKEN_MSG: Final = "The security token included in the request is invalid."
_EXPIRED_MSG: Final = "The security token included in the request is expired"
_BAD_SHA_MSG: Final = (
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER "
    "or a valid sha256 value."
)

# kind -> protocol -> (code, status, message); a message containing "{detail}" takes the
# detail (falling back to the text after "|" when the detail is empty).
_Entry = tuple[str, int, str]
_QJ_SIG: Final[dict[str, _Entry]] = {
    "query": ("SignatureDoesNotMatch", 403, _SIG_MSG),
    "json": ("InvalidSignatureException", 400, _SIG_MSG),
}
_QJ_MALFORMED: Final[dict[str, _Entry]] = {
    "query": ("IncompleteSignature", 400, "{detail}|Authorization header is malformed."),
    "json": ("IncompleteSignatureException", 400, "{detail}|Authorization header is malformed."),
}
_ERRORS: Final[dict[str, dict[str, _Entry]]] = {
    "unknown_key": {
        "query": ("InvalidClientTokenId", 403, _BAD_TOKEN_MSG),
        "json": ("UnrecognizedClientException", 400, _BAD_TOKEN_MSG),
        "s3": (
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
    },
    "bad_token": {
        "query": ("InvalidClientTokenId", 403, _BAD_TOKEN_MSG),
        "json": ("UnrecognizedClientException", 400, _BAD_TOKEN_MSG),
        "s3": ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
    },
    "expired_token": {
        "query": ("ExpiredToken", 403, _EXPIRED_MSG),
        "json": ("ExpiredTokenException", 400, _EXPIRED_MSG),
        "s3": ("ExpiredToken", 400, "The provided token has expired."),
    },
    "signature_mismatch": {**_QJ_SIG, "s3": ("SignatureDoesNotMatch", 403, _S3_SIG_MSG)},
    "clock_skew": {
        "query": ("SignatureDoesNotMatch", 403, "{detail}|Signature expired."),
        "json": ("InvalidSignatureException", 400, "{detail}|Signature expired."),
        "s3": (
            "RequestTimeTooSkewed",
            403,
            "The difference between the request time and the current time is too large.",
        ),
    },
    "missing_auth": {
        "query": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        "json": ("MissingAuthenticationTokenException", 400, "Missing Authentication Token"),
        "s3": ("AccessDenied", 403, "Access Denied"),
    },
    "incomplete_signature": {
        **_QJ_MALFORMED,
        "s3": (
            "AuthorizationHeaderMalformed",
            400,
            "The authorization header is malformed; {detail}|The authorization header is "
            "malformed.",
        ),
    },
    "malformed_query": {
        **_QJ_MALFORMED,
        "s3": ("AuthorizationQueryParametersError", 400, "{detail}|Invalid query parameters."),
    },
    "request_expired": {
        "query": ("RequestExpired", 400, "Request has expired."),
        "json": ("RequestExpired", 400, "Request has expired."),
        "s3": ("AccessDenied", 403, "Request has expired"),
    },
    "payload_hash_mismatch": {
        **_QJ_SIG,
        "s3": (
            "XAmzContentSHA256Mismatch",
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
    },
    "invalid_content_sha256": {**_QJ_SIG, "s3": ("InvalidArgument", 400, _BAD_SHA_MSG)},
    "bad_chunk": {**_QJ_MALFORMED, "s3": ("InvalidRequest", 400, "{detail}|Invalid chunk.")},
}


def auth_error(
    kind: AuthKind, protocol: WireProtocol, detail: str = "", extra: dict[str, str] | None = None
) -> ServiceError:
    """The exact AWS error for an authentication failure, per wire protocol (spec 6.6).

    ``extra`` (S3 only) becomes additional ``<Error>`` elements, e.g. StringToSign.
    """
    code, status, template = _ERRORS[kind][protocol]
    if "{detail}" in template:
        with_detail, _, fallback = template.partition("|")
        message = with_detail.replace("{detail}", detail) if detail else fallback
    else:
        message = template
    return ServiceError(code, message, status, dict(extra or {}) if protocol == "s3" else {})


# --------------------------------------------------------------------------------------------
# Locating credentials (spec 5.1)


def parse_auth(req: HttpRequest) -> SignedRequestInfo | None:
    """Find the credentials of ``req``; ``None`` when the request is unsigned.

    Raises :class:`AuthError` (``incomplete_signature`` / ``malformed_query``) when a signature
    is present but malformed.  No secret is needed and nothing is verified here.
    """
    authz = req.headers.get("authorization", "")
    qs = req.query_string
    params = _query_params(qs) if ("X-Amz-" in qs or "AWSAccessKeyId" in qs) else {}
    v4_query = "X-Amz-Algorithm" in params or "X-Amz-Credential" in params
    v2_query = "AWSAccessKeyId" in params
    if authz:
        if v4_query or v2_query:
            raise AuthError(
                "incomplete_signature",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified",
            )
        if authz.startswith(ALGORITHM + " "):
            return _parse_v4_header(req, authz)
        if authz.startswith("AWS "):
            return _parse_v2_header(req, authz)
        raise AuthError("incomplete_signature", "Unsupported Authorization Type")
    if v4_query:
        return _parse_v4_query(params)
    if v2_query:
        return _parse_v2_query(req, params)
    return None


def _query_params(qs: str) -> dict[str, str]:
    """Decoded name -> decoded value (first occurrence wins)."""
    out: dict[str, str] = {}
    for part in qs.split("&"):
        if part:
            name, _, value = part.partition("=")
            out.setdefault(unquote(name), unquote(value))
    return out


def _parse_v4_header(req: HttpRequest, authz: str) -> SignedRequestInfo:
    fields: dict[str, str] = {}
    for item in authz[len(ALGORITHM) + 1 :].split(","):
        name, sep, value = item.partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    amz_date = req.headers.get("x-amz-date", "")
    if not amz_date and "date" in req.headers:
        amz_date = _rfc1123_to_amz(req.headers["date"])
    if not (amz_date and fields.get("Credential") and fields.get("Signature")) or not fields.get(
        "SignedHeaders"
    ):
        raise _incomplete_header(fields, amz_date, authz)
    akid, date, region, service = _parse_credential(fields["Credential"], "incomplete_signature")
    signed = _parse_signed_headers(fields["SignedHeaders"], "incomplete_signature")
    return SignedRequestInfo(
        version="v4",
        presigned=False,
        access_key_id=akid,
        signature=fields["Signature"],
        session_token=req.headers.get("x-amz-security-token") or None,
        scope_date=date,
        region=region,
        service=service,
        signed_headers=signed,
        amz_date=amz_date,
        signed_at=_parse_amz_date(amz_date, "incomplete_signature"),
    )


def _incomplete_header(fields: dict[str, str], amz_date: str, authz: str) -> AuthError:
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if not amz_date:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    return AuthError("incomplete_signature", " ".join([*problems, f"Authorization={authz}"]))


def _parse_v4_query(params: dict[str, str]) -> SignedRequestInfo:
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise AuthError("malformed_query", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    required = ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
    if not all(params.get(name) for name in required):
        raise AuthError(
            "malformed_query",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters.",
        )
    akid, date, region, service = _parse_credential(params["X-Amz-Credential"], "malformed_query")
    expires_s = params.get("X-Amz-Expires")
    expires: int | None = None
    if expires_s is not None or service == "s3":
        if not expires_s or not _DIGITS_RE.fullmatch(expires_s):
            raise AuthError("malformed_query", "X-Amz-Expires should be a number")
        expires = int(expires_s)
        if expires > MAX_PRESIGN_EXPIRES:
            raise AuthError(
                "malformed_query",
                "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            )
    amz_date = params["X-Amz-Date"]
    return SignedRequestInfo(
        version="v4",
        presigned=True,
        access_key_id=akid,
        signature=params["X-Amz-Signature"],
        session_token=params.get("X-Amz-Security-Token") or None,
        scope_date=date,
        region=region,
        service=service,
        signed_headers=_parse_signed_headers(params["X-Amz-SignedHeaders"], "malformed_query"),
        amz_date=amz_date,
        signed_at=_parse_amz_date(amz_date, "malformed_query"),
        expires=expires,
    )


def _parse_credential(cred: str, kind: AuthKind) -> tuple[str, str, str, str]:
    parts = cred.split("/")
    if len(parts) != 5 or not all(parts):
        raise AuthError(
            kind,
            f"Credential should be scoped to a valid region. Malformed credential '{cred}'; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
        )
    akid, date, region, service, terminator = parts
    if terminator != "aws4_request":
        raise AuthError(
            kind,
            f"Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{terminator}'.",
        )
    if len(date) != 8 or not _DIGITS_RE.fullmatch(date):
        raise AuthError(kind, f"Invalid credential date '{date}'; expecting YYYYMMDD.")
    return akid, date, region, service


def _parse_signed_headers(value: str, kind: AuthKind) -> tuple[str, ...]:
    names = tuple(value.lower().split(";"))
    if "host" not in names:
        raise AuthError(
            kind, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    return names


def _parse_amz_date(value: str, kind: AuthKind) -> datetime:
    """``YYYYMMDDTHHMMSSZ`` -> aware UTC datetime, without strptime (slow)."""
    try:
        if len(value) != 16 or value[8] != "T" or value[15] != "Z":
            raise ValueError(value)
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        raise AuthError(
            kind,
            f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
        ) from None


def _rfc1123_to_amz(value: str) -> str:
    dt = _parse_http_date(value)
    return dt.strftime("%Y%m%dT%H%M%SZ") if dt else ""


def _parse_http_date(value: str) -> datetime | None:
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _parse_v2_header(req: HttpRequest, authz: str) -> SignedRequestInfo:
    akid, sep, signature = authz[4:].strip().rpartition(":")
    if not sep or not akid or not signature:
        raise AuthError("incomplete_signature", f"Authorization={authz}")
    date = req.headers.get("x-amz-date") or req.headers.get("date", "")
    signed_at = _parse_http_date(date) if date else None
    if signed_at is None and date:
        signed_at = _parse_amz_date(date, "incomplete_signature")
    if signed_at is None:
        raise AuthError(
            "incomplete_signature", "AWS authentication requires a valid Date or x-amz-date header"
        )
    return SignedRequestInfo(
        version="v2",
        presigned=False,
        access_key_id=akid,
        signature=signature,
        session_token=req.headers.get("x-amz-security-token") or None,
        service="s3",
        amz_date=date,
        signed_at=signed_at,
    )


def _parse_v2_query(req: HttpRequest, params: dict[str, str]) -> SignedRequestInfo:
    akid, signature = params.get("AWSAccessKeyId", ""), params.get("Signature", "")
    expires = params.get("Expires", "")
    if not akid or not signature or not expires:
        raise AuthError(
            "malformed_query",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
            "parameters",
        )
    if not _DIGITS_RE.fullmatch(expires):
        raise AuthError(
            "malformed_query", f"Invalid date (should be seconds since epoch): {expires}"
        )
    token = params.get("x-amz-security-token") or req.headers.get("x-amz-security-token")
    return SignedRequestInfo(
        version="v2",
        presigned=True,
        access_key_id=akid,
        signature=signature,
        session_token=token or None,
        service="s3",
        amz_date=expires,
        expires=int(expires),
    )


# --------------------------------------------------------------------------------------------
# Verification (spec 5.2-5.4, 5.6)

_KEY_CACHE: dict[tuple[str, str, str, str], bytes] = {}
_KEY_CACHE_MAX: Final = 4096


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning of spec 5.3, cached per (secret, date, region, service) in a bounded dict."""
    cache_key = (secret, date, region, service)
    key = _KEY_CACHE.get(cache_key)
    if key is None:
        key = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
        for part in (region, service, "aws4_request"):
            key = hmac.digest(key, part.encode(), "sha256")
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            _KEY_CACHE.clear()  # atomic; the next requests re-derive (4 HMACs each)
        _KEY_CACHE[cache_key] = key
    return key


def clear_signing_key_cache() -> None:
    _KEY_CACHE.clear()


def verify(
    req: HttpRequest,
    info: SignedRequestInfo,
    secret: str,
    now: datetime,
    *,
    virtual_bucket: str | None = None,
) -> None:
    """Check ``req``'s signature with ``secret`` at time ``now``; raise :class:`AuthError`.

    Checks, in order: scope date / time window (skew or presigned expiry), the signature
    (constant-time), then a hex ``x-amz-content-sha256`` against the body.  Streaming payload
    modes are accepted here; decode them with :func:`decode_s3_payload`.
    ``virtual_bucket`` (SigV2 only) is the bucket taken from a virtual-host ``Host``.
    """
    if info.version == "v2":
        _verify_v2(req, info, secret, now, virtual_bucket)
        return
    _check_v4_time(info, now)
    key = signing_key(secret, info.scope_date, info.region, info.service)
    payload_hash = _payload_hash(req, info)
    tail = "\n".join(
        (
            canonical_query_string(req.query_string, presigned=info.presigned),
            _canonical_headers(req.headers, info.signed_headers),
            ";".join(info.signed_headers),
            payload_hash,
        )
    )
    sts_head = f"{ALGORITHM}\n{info.amz_date}\n{info.scope}\n"
    provided = info.signature.encode("utf-8", "replace")
    first: tuple[str, str] | None = None
    for uri in _uri_candidates(req.raw_path, info.service == "s3"):
        creq = f"{req.method}\n{uri}\n{tail}"
        sts = sts_head + hashlib.sha256(creq.encode("utf-8", "surrogateescape")).hexdigest()
        expected = hmac.digest(key, sts.encode(), "sha256").hex().encode()
        if hmac.compare_digest(expected, provided):
            break
        first = first or (creq, sts)
    else:
        assert first is not None
        raise _mismatch(info, first[1], first[0])
    _check_payload(req)


def _check_v4_time(info: SignedRequestInfo, now: datetime) -> None:
    kind: AuthKind = "malformed_query" if info.presigned else "incomplete_signature"
    if info.scope_date != info.amz_date[:8]:
        raise AuthError(
            kind,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{info.scope_date}' != '{info.amz_date[:8]}', from '{info.amz_date}'.",
        )
    signed_at = info.signed_at
    assert signed_at is not None
    if info.presigned and info.expires is not None:
        if now > signed_at + timedelta(seconds=info.expires):
            raise AuthError(
                "request_expired",
                "Request has expired",
                {
                    "X-Amz-Expires": str(info.expires),
                    "Expires": _iso(signed_at + timedelta(seconds=info.expires)),
                    "ServerTime": _iso(now),
                },
            )
        if signed_at - now > MAX_SKEW:
            raise _skew(info.amz_date, signed_at, now)
        return
    if info.presigned and now - signed_at > MAX_SKEW:
        raise AuthError("request_expired", "Request has expired")
    if abs(now - signed_at) > MAX_SKEW:
        raise _skew(info.amz_date, signed_at, now)


def _skew(shown: str, signed_at: datetime, now: datetime) -> AuthError:
    if signed_at < now:
        detail = (
            f"Signature expired: {shown} is now earlier than {_basic(now - MAX_SKEW)} "
            f"({_basic(now)} - 15 min.)"
        )
    else:
        detail = (
            f"Signature not yet current: {shown} is still later than {_basic(now + MAX_SKEW)} "
            f"({_basic(now)} + 15 min.)"
        )
    extra = {"RequestTime": shown, "ServerTime": _iso(now), "MaxAllowedSkewMilliseconds": "900000"}
    return AuthError("clock_skew", detail, extra)


def _basic(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _mismatch(info: SignedRequestInfo, string_to_sign: str, canonical: str | None) -> AuthError:
    extra = {
        "AWSAccessKeyId": info.access_key_id,
        "StringToSign": string_to_sign,
        "SignatureProvided": info.signature,
        "StringToSignBytes": string_to_sign.encode("utf-8", "replace").hex(" "),
    }
    if canonical is not None:
        extra["CanonicalRequest"] = canonical
        extra["CanonicalRequestBytes"] = canonical.encode("utf-8", "replace").hex(" ")
    return AuthError("signature_mismatch", "", extra)


def _payload_hash(req: HttpRequest, info: SignedRequestInfo) -> str:
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


def _check_payload(req: HttpRequest) -> None:
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


def _canonical_headers(headers: dict[str, str], names: tuple[str, ...]) -> str:
    """Spec 5.2 CanonicalHeaders, including the block's final newline."""
    return "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names)


def canonical_query_string(qs: str, *, presigned: bool = False) -> str:
    """Spec 5.2: decode and re-encode names and values, sort, join (drop X-Amz-Signature)."""
    if not qs:
        return ""
    pairs: list[tuple[str, str]] = []
    for part in qs.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((_canon_component(name), _canon_component(value)))
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


def _canon_component(text: str) -> str:
    if _CANONICAL_RE.fullmatch(text):
        return text
    return quote(unquote_to_bytes(text), safe="-_.~")


def _uri_candidates(raw_path: str, s3: bool) -> Iterator[str]:
    """Canonical URIs to try: S3 raw path then decode-and-re-encode (computed only if the first
    does not match); other services: normalised and encoded twice."""
    path = raw_path or "/"
    if not s3:
        yield "/" if path == "/" else quote(_remove_dot_segments(path), safe="/~")
        return
    yield path
    alt = quote(unquote_to_bytes(path), safe="/~")
    if alt != path:
        yield alt


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 plus collapsing of empty segments (what botocore does for non-S3)."""
    out: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if out:
                out.pop()
        elif seg and seg != ".":
            out.append(seg)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and out else ""
    return lead + "/".join(out) + trail


# --------------------------------------------------------------------------------------------
# SigV2 (S3 only, spec 5.6)


def _verify_v2(
    req: HttpRequest, info: SignedRequestInfo, secret: str, now: datetime, bucket: str | None
) -> None:
    if info.presigned:
        assert info.expires is not None
        if now.timestamp() > info.expires:
            raise AuthError(
                "request_expired",
                "Request has expired",
                {
                    "Expires": _iso(datetime.fromtimestamp(info.expires, UTC)),
                    "ServerTime": _iso(now),
                },
            )
    else:
        assert info.signed_at is not None
        if abs(now - info.signed_at) > MAX_SKEW:
            raise _skew(info.amz_date, info.signed_at, now)
    heads = _v2_string_to_sign_heads(req, info)
    subresources = _v2_subresources(req.query_string)
    provided = info.signature.encode("utf-8", "replace")
    paths = list(_uri_candidates(req.raw_path, True))
    if not bucket and paths[0].count("/") == 1 and len(paths[0]) > 1:
        paths += [p + "/" for p in paths]  # botocore signs bucket operations as "/bucket/"
    prefix = "/" + bucket if bucket else ""
    key = secret.encode()
    candidates = [f"{head}{prefix}{path}{subresources}" for head in heads for path in paths]
    for sts in candidates:
        mac = hmac.digest(key, sts.encode("utf-8", "surrogateescape"), "sha1")
        if hmac.compare_digest(base64.b64encode(mac), provided):
            return
    raise _mismatch(info, candidates[0], None)


def _v2_string_to_sign_heads(req: HttpRequest, info: SignedRequestInfo) -> list[str]:
    """VERB, Content-MD5, Content-Type, Date/Expires and the x-amz-* lines.

    With an ``x-amz-date`` header AWS signs an empty Date line; botocore (if a caller adds
    x-amz-date) still signs its Date header, so that spelling is the fallback."""
    headers = req.headers
    amz: dict[str, str] = {
        name: value.strip() for name, value in headers.items() if name.startswith("x-amz-")
    }
    md5, ctype = headers.get("content-md5", ""), headers.get("content-type", "")
    if info.presigned:
        date = info.amz_date
        for name, value in _query_params(req.query_string).items():
            lname = name.lower()
            if lname.startswith("x-amz-"):
                amz[lname] = value
            elif lname == "content-md5" and not md5:
                md5 = value
            elif lname == "content-type" and not ctype:
                ctype = value
    else:
        date = "" if "x-amz-date" in headers else headers.get("date", "")
    lines = "".join(f"{name}:{amz[name]}\n" for name in sorted(amz))
    heads = [f"{req.method}\n{md5.strip()}\n{ctype.strip()}\n{date}\n{lines}"]
    if not info.presigned and not date and headers.get("date"):
        heads.append(f"{req.method}\n{md5.strip()}\n{ctype.strip()}\n{headers['date']}\n{lines}")
    return heads


def _v2_subresources(qs: str) -> str:
    found: list[tuple[str, str]] = []
    for part in qs.split("&"):
        name, sep, value = part.partition("=")
        if name in V2_SUBRESOURCES:
            found.append((name, f"{name}={unquote(value)}" if sep else name))
    if not found:
        return ""
    found.sort(key=lambda item: item[0])
    return "?" + "&".join(text for _, text in found)


# --------------------------------------------------------------------------------------------
# aws-chunked payloads (spec 5.5)


def decode_aws_chunked(
    body: bytes,
    *,
    signed: bool,
    seed_signature: str = "",
    signing_key: bytes = b"",
    scope: str = "",
    amz_date: str = "",
) -> tuple[bytes, dict[str, str]]:
    """Decode an aws-chunked body into (data, trailers); verify chunk and trailer signatures
    when ``signed`` (the first "previous signature" is ``seed_signature``, the header one).

    Raises :class:`AuthError` ``bad_chunk`` on framing errors and ``signature_mismatch`` on a
    wrong chunk/trailer signature.  Trailer names are lower-cased; ``x-amz-trailer-signature``
    is verified and removed.
    """
    chunks: list[bytes] = []
    previous = seed_signature
    pos, end_of_body = 0, len(body)
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise AuthError("bad_chunk", "Missing chunk header")
        size, chunk_sig = _chunk_header(body[pos:eol], signed)
        start, stop = eol + 2, eol + 2 + size
        if stop > end_of_body:
            raise AuthError("bad_chunk", "Chunk is truncated")
        data = body[start:stop]
        if signed:
            sts = (
                f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n"
                + hashlib.sha256(data).hexdigest()
            )
            _check_stream_signature(signing_key, sts, chunk_sig)
            previous = chunk_sig
        if size == 0:
            pos = start
            break
        if body[stop : stop + 2] != b"\r\n":
            raise AuthError("bad_chunk", "Chunk data is not followed by CRLF")
        chunks.append(data)
        pos = stop + 2
    trailers = _parse_trailers(body, pos)
    if signed and trailers:
        trailer_sig = trailers.pop("x-amz-trailer-signature", "")
        canonical = "".join(f"{name}:{trailers[name]}\n" for name in sorted(trailers))
        sts = (
            f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n"
            + hashlib.sha256(canonical.encode()).hexdigest()
        )
        _check_stream_signature(signing_key, sts, trailer_sig)
    return b"".join(chunks), trailers


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


def _parse_trailers(body: bytes, pos: int) -> dict[str, str]:
    trailers: dict[str, str] = {}
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise AuthError("bad_chunk", "Trailer section is not terminated")
        line, pos = body[pos:eol], eol + 2
        if not line:
            break
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise AuthError("bad_chunk", "Malformed trailer")
        trailers[name.strip().lower().decode("ascii", "replace")] = value.strip().decode(
            "ascii", "replace"
        )
    if pos != len(body):
        raise AuthError("bad_chunk", "Data after the final chunk")
    return trailers


def _check_stream_signature(key: bytes, string_to_sign: str, provided: str) -> None:
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        raise AuthError(
            "signature_mismatch",
            "chunk signature",
            {"StringToSign": string_to_sign, "SignatureProvided": provided},
        )


def decode_s3_payload(
    req: HttpRequest, info: SignedRequestInfo | None, secret: str | None
) -> tuple[bytes, dict[str, str]]:
    """The object bytes of an S3 request per its ``x-amz-content-sha256`` mode (spec 5.5).

    Non-streaming modes return the body unchanged.  Streaming modes are decoded (signed ones
    need the verified ``info`` and ``secret``); the length is checked against
    ``x-amz-decoded-content-length`` and the trailers against ``x-amz-trailer``.
    """
    mode = req.headers.get("x-amz-content-sha256", "")
    if mode not in STREAMING_MODES:
        return req.body, {}
    if "ECDSA" in mode:
        raise AuthError("incomplete_signature", "SigV4a (ECDSA) streaming is not supported")
    signed = mode.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    if signed:
        if info is None or info.version != "v4" or info.presigned or secret is None:
            raise AuthError("incomplete_signature", f"{mode} requires header SigV4 auth")
        key = signing_key(secret, info.scope_date, info.region, info.service)
        data, trailers = decode_aws_chunked(
            req.body,
            signed=True,
            seed_signature=info.signature,
            signing_key=key,
            scope=info.scope,
            amz_date=info.amz_date,
        )
    else:
        data, trailers = decode_aws_chunked(req.body, signed=False)
    expected = [n.strip().lower() for n in req.headers.get("x-amz-trailer", "").split(",")]
    expected = [n for n in expected if n]
    if not mode.endswith("-TRAILER") and trailers:
        raise AuthError("bad_chunk", "Trailers are not allowed in this payload mode")
    if sorted(expected) != sorted(trailers):
        raise AuthError("bad_chunk", "Trailers do not match the x-amz-trailer header")
    declared = req.headers.get("x-amz-decoded-content-length")
    if declared is not None and declared.strip() != str(len(data)):
        raise AuthError("bad_chunk", "Decoded length does not match x-amz-decoded-content-length")
    return data, trailers


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
    "parse_auth",
    "signing_key",
    "verify",
]
