"""S3 requests signed for another region than their bucket's (authenticate step).

AWS S3 refuses a SigV4 request whose credential scope names a region other than the one the
bucket lives in, before it looks at the key or the signature:

- header auth: 400 ``AuthorizationHeaderMalformed`` "The authorization header is malformed;
  the region 'X' is wrong; expecting 'Y'";
- presigned URL (query auth): 400 ``AuthorizationQueryParametersError`` "Error parsing the
  X-Amz-Credential parameter; the region 'X' is wrong; expecting 'Y'";

both with ``<Region>Y</Region>`` after the message and the ``x-amz-bucket-region: Y`` header.
A HEAD request (HeadBucket, HeadObject) gets the 400 and the header without a body.
botocore's S3 region redirector (``S3RegionRedirectorv2.redirect_from_error``) reads exactly
these (the code and ``Error.Region``, the header, or a bodiless 400 on HeadBucket/HeadObject),
then signs again for region Y and resends to the same endpoint.

Not checked (the request goes on as before):

- requests naming no bucket (ListBuckets, ListDirectoryBuckets): trailgate is one endpoint
  for every region, so any region is the right one;
- CreateBucket: the bucket does not exist yet; the location constraint rules decide
  (``IllegalLocationConstraintException``), or BucketAlreadyOwnedByYou / BucketAlreadyExists;
- a bucket that does not exist: NoSuchBucket after authentication, as today;
- SigV2 and SigV4a requests, whose signatures name no region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ..auth.sigv4_errors import auth_error
from ..auth.sigv4_parse import SignedRequestInfo
from ..protocol.errors import ServiceError
from ..services.s3 import queries as s3q

#: Operations whose bucket may not exist yet or which name none.
EXEMPT: Final = frozenset({"CreateBucket", "ListBuckets", "ListDirectoryBuckets"})
CACHE_LIMIT: Final = 10_000


def wrong_region(signed: str, expected: str, *, presigned: bool) -> ServiceError:
    """S3's answer to a request signed for ``signed`` sent to a bucket in ``expected``."""
    what = f"the region '{signed}' is wrong; expecting '{expected}'"
    if presigned:
        err = auth_error(
            "malformed_query", "s3", f"Error parsing the X-Amz-Credential parameter; {what}"
        )
    else:
        err = auth_error("incomplete_signature", "s3", what)
    err.extra["Region"] = expected
    err.headers["x-amz-bucket-region"] = expected
    return err


class BucketRegions:
    """Checks a signed S3 request's region against its bucket's.

    A bucket's region never changes while it exists, so the region last seen for a name is
    kept: a request signed for that region needs no store read.  Any other region is checked
    against the store (the bucket may have gone, or come back elsewhere), so a stale entry
    can never refuse a request."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def clear(self) -> None:
        self._seen.clear()

    def check(
        self, operation: str, bucket: str, info: SignedRequestInfo,
        read: Callable[[Callable[[Any], Any]], Any],
    ) -> None:
        """Raise the region error of :func:`wrong_region` when ``info`` is scoped to another
        region than ``bucket``'s."""
        signed = info.region
        if not signed or info.version != "v4" or not bucket or operation in EXEMPT:
            return
        if self._seen.get(bucket) == signed:
            return
        found = read(lambda tx: s3q.bucket(tx, bucket))
        if found is None:
            self._seen.pop(bucket, None)
            return  # NoSuchBucket comes later
        region = str(found["Region"])
        if len(self._seen) >= CACHE_LIMIT:
            self._seen.clear()
        self._seen[bucket] = region
        if region != signed:
            raise wrong_region(signed, region, presigned=info.presigned)
