"""S3 (rest-xml).  For now only the error document (spec 6.4); request parsing, operation
dispatch and success bodies come later.

::

    <?xml version="1.0" encoding="UTF-8"?>
    <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>
    <Key>k</Key><RequestId>..</RequestId><HostId>..</HostId></Error>

``ServiceError.extra`` items become elements between ``Message`` and ``RequestId`` (names that
are not plain XML names are skipped).  Responses to ``HEAD`` carry no body, as S3's don't:
botocore then reports the HTTP status as the code (``404``/``403``).
"""

from __future__ import annotations

import base64
import hashlib

from .errors import ServiceError
from .xmltext import encode, escape, is_name

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
CONTENT_TYPE = "application/xml"


def host_id(request_id: str) -> str:
    """A stable opaque ``x-amz-id-2`` / ``HostId`` derived from the request id."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode("ascii")


def serialize_error(err: ServiceError, request_id: str, *, head: bool = False) -> bytes:
    if head:
        return b""
    parts = [XML_DECL, "<Error><Code>", escape(err.code), "</Code><Message>"]
    parts += [escape(err.message), "</Message>"]
    for name, value in err.extra.items():
        if is_name(name) and name not in ("Code", "Message", "RequestId", "HostId"):
            parts.append(f"<{name}>{escape(str(value))}</{name}>")
    parts += ["<RequestId>", escape(request_id), "</RequestId><HostId>"]
    parts += [host_id(request_id), "</HostId></Error>"]
    return encode("".join(parts))


def error_headers(request_id: str, *, head: bool = False) -> dict[str, str]:
    headers = {"x-amz-request-id": request_id, "x-amz-id-2": host_id(request_id)}
    if not head:
        headers["content-type"] = CONTENT_TYPE
    return headers
