"""SigV4/SigV2 authentication failures: :class:`AuthError`, its kinds, and the exact AWS error
(code, HTTP status, message) each kind maps to per wire protocol (spec 6.6).
"""

from __future__ import annotations

from typing import Final, Literal

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
    "auth_mechanism",  # two auth mechanisms at once, or an unknown Authorization scheme
    "bad_request_date",  # header auth whose X-Amz-Date / Date is missing or not a date
    "request_expired",  # presigned URL past its expiry
    "request_not_yet_valid",  # S3 presigned URL dated more than 15 minutes ahead
    "missing_content_sha256",  # S3 SigV4 header auth without x-amz-content-sha256
    "payload_hash_mismatch",  # hex x-amz-content-sha256 != sha256(body)
    "invalid_content_sha256",  # x-amz-content-sha256 neither hex nor a known mode
    "bad_chunk",  # aws-chunked body framing errors
    "malformed_trailer",  # an aws-chunked trailer malformed or not the one x-amz-trailer names
]
WireProtocol = Literal["query", "json", "s3"]


class AuthError(Exception):
    """An authentication failure of ``kind``; render with :meth:`to_service_error`.

    ``detail`` is the human message for kinds whose wording depends on the case (malformed
    headers, skew); ``extra`` holds S3's additional error elements (StringToSign, ...).
    """

    def __init__(
        self, kind: AuthKind, detail: str = "", extra: dict[str, str] | None = None,
        *, s3_detail: str = "",
    ):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind: AuthKind = kind
        self.detail = detail
        self.extra: dict[str, str] = extra or {}
        self.s3_detail = s3_detail  # S3's own wording of the detail, where it differs

    def to_service_error(self, protocol: WireProtocol) -> ServiceError:
        detail = self.s3_detail if protocol == "s3" and self.s3_detail else self.detail
        return auth_error(self.kind, protocol, detail, self.extra)


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

_TRAILER_MSG: Final = (
    "The request contained trailing data that was not well-formed or did not conform to our "
    "published schema."
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
    # S3's answers quoted in catalyst/moodle-tool_objectfs#303 (header and query auth at once)
    # and versitygw#1512 (an unknown scheme), with ArgumentName/ArgumentValue.
    "auth_mechanism": {**_QJ_MALFORMED, "s3": ("InvalidArgument", 400, "{detail}|")},
    # S3's answer quoted in hubrick/vertx-s3-client#5 (a SigV4 request whose x-amz-date was
    # "20170509T154625+01"); query/JSON services call the header incomplete.
    "bad_request_date": {
        **_QJ_MALFORMED,
        "s3": (
            "AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header"
        ),
    },
    "request_expired": {
        "query": ("RequestExpired", 400, "Request has expired."),
        "json": ("RequestExpired", 400, "Request has expired."),
        "s3": ("AccessDenied", 403, "Request has expired"),
    },
    # S3's answer quoted in minio#2638 and dmjio/s3-signer#16 (with X-Amz-Date in epoch
    # milliseconds, Expires and ServerTime); query/JSON services answer as for clock skew.
    "request_not_yet_valid": {
        "query": ("SignatureDoesNotMatch", 403, "{detail}|Signature not yet current."),
        "json": ("InvalidSignatureException", 400, "{detail}|Signature not yet current."),
        "s3": ("AccessDenied", 403, "Request is not yet valid"),
    },
    # S3's answer quoted in avi-wish/aws4-signature-php#1 and aws-sdk-rust#291; the S3 docs:
    # "The x-amz-content-sha256 header is required for all AWS Signature Version 4 requests".
    "missing_content_sha256": {
        **_QJ_SIG,
        "s3": (
            "InvalidRequest",
            400,
            "Missing required header for this request: x-amz-content-sha256",
        ),
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
    # S3's answer, quoted in versitygw#1600/#1690/#1691 and Arsenal#2596: a trailer that is not
    # well-formed, is not the one x-amz-trailer announces, or comes without x-amz-trailer.
    "malformed_trailer": {**_QJ_MALFORMED, "s3": ("MalformedTrailerError", 400, _TRAILER_MSG)},
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
