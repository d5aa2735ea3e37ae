"""S3 (rest-xml), wire only: the public face of :mod:`trailgate.protocol.s3wire`.

- :func:`s3_operation` — ``(operation, bucket, key)`` from method, path (or virtual host) and
  sub-resource parameters (spec 6.4); :class:`S3Locator` is the same as routing's
  ``S3Resolver``;
- :func:`parse_s3` — the params of one request per botocore's input shape;
- :func:`serialize_s3` — the :class:`HttpResponse` of a result per the output shape;
- :func:`serialize_error` / :func:`error_headers` — S3's error document::

    <?xml version="1.0" encoding="UTF-8"?>
    <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>
    <Key>k</Key><RequestId>..</RequestId><HostId>..</HostId></Error>

  ``ServiceError.extra`` items become elements between ``Message`` and ``RequestId`` (names
  that are not plain XML names are skipped).  Responses to ``HEAD`` (and 304s) carry no
  body, as S3's don't: botocore then reports the HTTP status as the code (``404``/``403``).

Contract with the S3 provider (``services/s3``): params and results use botocore's member
names for the operation (``Bucket``, ``Key``, ``Body``, ``ContentLength``, ``Metadata``,
``CreateBucketConfiguration``, ``Delete``, ``MultipartUpload``...).  ``Body`` of PutObject /
UploadPart is the unread ``RequestBody`` (or ``bytes`` for small bodies); Content-MD5 was
checked.  Results hold raw values — the protocol layer formats dates, quotes nothing, and
URL-encodes listing keys itself when ``EncodingType == "url"`` (echoed from the request when
the result lacks it).  ``__status`` overrides the status, ``__headers`` adds raw headers;
GetObject's ``Body`` may be bytes, an iterator of bytes (streamed, ``close()`` called if
unsent) or a binary file.
"""

from __future__ import annotations

from . import specs
from .s3wire import dispatch, serialize
from .s3wire.dispatch import S3Locator, locate, s3_operation
from .s3wire.errors import CONTENT_TYPE, XML_DECL, error_headers, host_id, serialize_error
from .s3wire.parse import LOCATION, object_url, parse_s3
from .s3wire.plans import input_plan, output_plan
from .s3wire.serialize import serialize_s3

__all__ = [
    "CONTENT_TYPE",
    "LOCATION",
    "XML_DECL",
    "S3Locator",
    "error_headers",
    "host_id",
    "input_plan",
    "locate",
    "object_url",
    "output_plan",
    "parse_s3",
    "s3_operation",
    "serialize_error",
    "serialize_s3",
    "warm_up",
]


def warm_up() -> None:
    """Build the routing table and every operation's plans and writers now."""
    dispatch.table()
    for name in specs.operation_names("s3"):
        input_plan(name)
        serialize.prepare(output_plan(name))
