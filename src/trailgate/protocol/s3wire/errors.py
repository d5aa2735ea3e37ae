"""S3's own error codes for wire-level failures (S3 never answers ``ValidationError``).

Codes, HTTP statuses and messages as S3 sends them (AWS "Error responses" list); the extra
elements (``ArgumentName``, ``Method``...) become children of ``<Error>`` via
:attr:`ServiceError.extra`.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

from ..errors import ServiceError
from ..xmltext import encode, escape, is_name

XML_DECL: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
CONTENT_TYPE: Final = "application/xml"
MALFORMED_XML: Final = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)
#: Largest non-streaming request body (XML configuration, bucket policy) read into memory.
MAX_XML_BYTES: Final = 8 * 1024 * 1024
#: S3's limit on key length, in UTF-8 bytes.
MAX_KEY_BYTES: Final = 1024


def malformed_xml() -> ServiceError:
    return ServiceError("MalformedXML", MALFORMED_XML, 400)


def invalid_argument(message: str, name: str, value: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument", message, 400, extra={"ArgumentName": name, "ArgumentValue": value}
    )


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def invalid_uri(uri: str) -> ServiceError:
    return ServiceError("InvalidURI", "Couldn't parse the specified URI.", 400, extra={"URI": uri})


def method_not_allowed(method: str, resource_type: str) -> ServiceError:
    return ServiceError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        extra={"Method": method, "ResourceType": resource_type},
    )


def not_implemented(header: str = "", value: str = "") -> ServiceError:
    extra = {"Header": header, "AdditionalMessage": value} if header else {}
    return ServiceError(
        "NotImplemented",
        "A header you provided implies functionality that is not implemented",
        501,
        extra={k: v for k, v in extra.items() if v},
    )


def missing_content_length() -> ServiceError:
    return ServiceError(
        "MissingContentLength", "You must provide the Content-Length HTTP header.", 411
    )


def missing_body() -> ServiceError:
    return ServiceError("MissingRequestBodyError", "Request Body is empty", 400)


def too_large(size: int) -> ServiceError:
    return ServiceError(
        "MaxMessageLengthExceeded",
        "Your request was too big.",
        400,
        extra={"MaxMessageLengthBytes": str(MAX_XML_BYTES), "Size": str(size)},
    )


def key_too_long(size: int) -> ServiceError:
    return ServiceError(
        "KeyTooLongError",
        "Your key is too long",
        400,
        extra={"MaxSizeAllowed": str(MAX_KEY_BYTES), "Size": str(size)},
    )


def invalid_digest(value: str) -> ServiceError:
    message = "The Content-MD5 you specified is not valid."
    return ServiceError("InvalidDigest", message, 400, extra={"Content-MD5": value})


def bad_digest(what: str, expected: str, calculated: str) -> ServiceError:
    if what == "Content-MD5":
        message = "The Content-MD5 you specified did not match what we received."
        extra = {"ExpectedDigest": expected, "CalculatedDigest": calculated}
    else:
        message = f"The {what} you specified did not match the calculated checksum."
        extra = {}
    return ServiceError("BadDigest", message, 400, extra=extra)


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, 400)


# --------------------------------------------------------------------------- the error document


def host_id(request_id: str) -> str:
    """A stable opaque ``x-amz-id-2`` / ``HostId`` derived from the request id, for callers
    that have none of their own (the gateway gives every S3 call one: ``host=``)."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode("ascii")


def serialize_error(
    err: ServiceError, request_id: str, *, head: bool = False, host: str | None = None
) -> bytes:
    """``<Error><Code/><Message/>[extra elements]<RequestId/><HostId/></Error>``; empty for
    HEAD (S3 sends no body, botocore then reports the status as the code)."""
    if head:
        return b""
    parts = [XML_DECL, "<Error><Code>", escape(err.code), "</Code><Message>"]
    parts += [escape(err.message), "</Message>"]
    for name, value in err.extra.items():
        if is_name(name) and name not in ("Code", "Message", "RequestId", "HostId"):
            parts.append(f"<{name}>{escape(str(value))}</{name}>")
    parts += ["<RequestId>", escape(request_id), "</RequestId><HostId>"]
    parts += [host or host_id(request_id), "</HostId></Error>"]
    return encode("".join(parts))


def error_headers(
    request_id: str, *, head: bool = False, host: str | None = None
) -> dict[str, str]:
    headers = {"x-amz-request-id": request_id, "x-amz-id-2": host or host_id(request_id)}
    if not head:
        headers["content-type"] = CONTENT_TYPE
    return headers
