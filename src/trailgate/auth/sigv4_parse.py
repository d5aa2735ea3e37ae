"""Locating a request's credentials (spec 5.1): the ``Authorization`` header (SigV4, S3's SigV2)
and presigned-URL query parameters (SigV4, S3's SigV2) -> :class:`SignedRequestInfo`.

Malformed signatures raise :class:`AuthError` (``incomplete_signature`` / ``malformed_query``);
nothing is verified here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final, Literal
from urllib.parse import unquote

from ..gateway.context import HttpRequest
from .sigv4_errors import AuthError, AuthKind

ALGORITHM: Final = "AWS4-HMAC-SHA256"
MAX_PRESIGN_EXPIRES: Final = 604800
_DIGITS_RE: Final = re.compile(r"[0-9]+")


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


def query_params(qs: str) -> dict[str, str]:
    """Decoded name -> decoded value (first occurrence wins)."""
    out: dict[str, str] = {}
    for part in qs.split("&"):
        if part:
            name, _, value = part.partition("=")
            out.setdefault(unquote(name), unquote(value))
    return out


def parse_v4_header(req: HttpRequest, authz: str) -> SignedRequestInfo:
    """SigV4 ``Authorization`` header -> :class:`SignedRequestInfo`."""
    fields: dict[str, str] = {}
    # AWS splits the parameters at commas and whitespace; each piece must be name=value.
    for item in authz[len(ALGORITHM) + 1 :].replace(",", " ").split():
        name, sep, value = item.partition("=")
        if not sep:
            raise AuthError(
                "incomplete_signature",
                f"'{item}' not a valid key=value pair (missing equal-sign) in Authorization "
                f"header: '{authz}'.",
            )
        fields[name] = value
    amz_date = req.headers.get("x-amz-date", "")
    if not amz_date and "date" in req.headers:
        amz_date = _rfc1123_to_amz(req.headers["date"])
    if not all(fields.get(name) for name in ("Credential", "Signature", "SignedHeaders")):
        raise _incomplete_header(fields, amz_date, authz)
    if not amz_date:
        raise AuthError("bad_request_date", _incomplete_header(fields, "", authz).detail)
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
        signed_at=_parse_amz_date(amz_date, "bad_request_date"),
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
    return AuthError(
        "incomplete_signature",
        " ".join([*problems, f"Authorization={authz}"]),
        # S3's wording, quoted in ex-aws/ex_aws#537 and robmcvey/cakephp-amazon-s3#15
        s3_detail="the authorization header requires three components: Credential, "
        "SignedHeaders, and Signature.",
    )


def parse_v4_query(params: dict[str, str]) -> SignedRequestInfo:
    """SigV4 presigned-URL parameters -> :class:`SignedRequestInfo`."""
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
        expires = _parse_expires(expires_s)
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


def _parse_expires(value: str | None) -> int:
    """``X-Amz-Expires`` -> seconds, with S3's refusals (bryanjos/aws_auth#31, fog#3528)."""
    text = value or ""
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not digits or not _DIGITS_RE.fullmatch(digits):
        raise AuthError("malformed_query", "X-Amz-Expires should be a number")
    expires = int(digits)
    if negative and expires:
        raise AuthError("malformed_query", "X-Amz-Expires must be non-negative")
    if expires > MAX_PRESIGN_EXPIRES:
        raise AuthError(
            "malformed_query",
            "X-Amz-Expires must be less than a week (in seconds); that is, the given "
            f"X-Amz-Expires must be less than {MAX_PRESIGN_EXPIRES} seconds",
        )
    return expires


def _parse_credential(cred: str, kind: AuthKind) -> tuple[str, str, str, str]:
    parts = cred.split("/")
    if len(parts) != 5 or not all(parts):
        # S3's wording: aws-sdk-ruby#1276 and krobertson/deb-s3#157 (header); a presigned
        # URL's names the parameter as S3's region refusal does.
        s3_detail = 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/' \
            'SERVICE/aws4_request".'
        if kind == "malformed_query":
            s3_detail = "Error parsing the X-Amz-Credential parameter; " + s3_detail
        raise AuthError(
            kind,
            f"Credential should be scoped to a valid region. Malformed credential '{cred}'; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
            s3_detail=s3_detail,
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


def parse_v2_header(req: HttpRequest, authz: str) -> SignedRequestInfo:
    """S3 SigV2 ``Authorization: AWS key:signature`` header -> :class:`SignedRequestInfo`."""
    akid, sep, signature = authz[4:].strip().rpartition(":")
    if not sep or not akid or not signature:
        raise AuthError("incomplete_signature", f"Authorization={authz}")
    date = req.headers.get("x-amz-date") or req.headers.get("date", "")
    signed_at = _parse_http_date(date) if date else None
    if signed_at is None and date:
        signed_at = _parse_amz_date(date, "bad_request_date")
    if signed_at is None:
        raise AuthError(
            "bad_request_date", "AWS authentication requires a valid Date or x-amz-date header"
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


def parse_v2_query(req: HttpRequest, params: dict[str, str]) -> SignedRequestInfo:
    """S3 SigV2 presigned-URL parameters -> :class:`SignedRequestInfo`."""
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
