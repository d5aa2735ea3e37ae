"""Read-side S3 helpers for the gateway's authorize step (small and fast), and the record
layouts of the S3 provider.

Every S3 record lives in the store account ``"__s3__"`` (bucket names are global).  AWS-visible
attributes use AWS's member names; timestamps are ISO 8601 strings in UTC with milliseconds.

``s3.bucket``            key = bucket name
    Name, Owner (account id), Region, CreationDate, Policy (text as submitted | None),
    PublicAccessBlock ({BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
    RestrictPublicBuckets: bool} | None; all true for new buckets), OwnershipControls (the rule's
    ObjectOwnership | None when deleted), ObjectOwnership (effective: the rule, or
    "ObjectWriter" without controls), Acl ([Grant] in the output shape), Versioning
    ("Enabled" | "Suspended"; absent until versioning is first set)
``s3.owned/<account>``   key = bucket name: {Name} (the account's buckets, for ListBuckets)
``s3.object/<bucket>``   key = object key (ordered: UTF-8 byte order)
    Key, Size, ETag (quoted), LastModified, ContentType, Metadata {lower-cased name: value},
    Headers {CacheControl, ContentDisposition, ContentEncoding, ContentLanguage,
    WebsiteRedirectLocation, Expires (ISO)}, Tags {key: value}, BlobId, Owner (account id),
    StorageClass, Checksums {ChecksumCRC32|ChecksumSHA1|ChecksumSHA256: base64} (verified at
    upload; full-object), Acl ([Grant] | None: ACLs disabled or none given), PartsCount and
    PartSizes ([int], the assembled parts' sizes in order: GetObject/HeadObject ``partNumber``)
    (multipart objects; objects completed before PartSizes was kept have PartsCount only and
    are served as one part), ChecksumType and, for a COMPOSITE multipart object, PartChecksums
    ([base64], each assembled part's checksum in order: GetObjectAttributes, GetObject
    ``partNumber``); in a versioned bucket also VersionId and Seq (see below)
``s3.version/<bucket>``  key = ``<object key>\\x00<16 hex digits: Seq counted down>`` (a key's
    versions newest first): the noncurrent versions (object records as above) and the delete
    markers {Key, VersionId, Seq, DeleteMarker: true, LastModified, Owner}; the current object
    stays in ``s3.object`` (layout and invariants: :mod:`.versions`)
``s3.upload/<bucket>``   key = UploadId (hex initiation time + random, so ids sort by age)
    UploadId, Key, Initiated, Initiator {ID, DisplayName}, Writer (account id), ACL (canned |
    None), Source {ContentType, Metadata, Headers, Tags, Acl}, StorageClass, ChecksumAlgorithm
``s3.part/<bucket>``     key = ``<UploadId>/<PartNumber:05d>``
    PartNumber, ETag (quoted MD5), Size, LastModified, BlobId, Checksums

The ``ids`` index maps ``s3blob:<blob id>`` to the one record (object, version or part)
referring to each blob: deleting the record removes the entry, and a blob without one is garbage.
"""

from __future__ import annotations

from typing import Any

from ...store.interface import Tx
from .common import BUCKET, NS, canonical_id, objects_kind
from .versions import find

__all__ = ["bucket", "canonical_id", "object_acl", "object_tags"]


def bucket(tx: Tx, name: str) -> dict[str, Any] | None:
    """The bucket record (layout above; ``Owner`` is the owning account id), or None."""
    data = tx.get(NS, BUCKET, name)
    if data is None:
        return None
    data.setdefault("ObjectOwnership", "ObjectWriter")
    data["OwnerCanonicalId"] = canonical_id(str(data["Owner"]))
    return data


def _object(tx: Tx, bucket: str, key: str, version: str | None) -> dict[str, Any] | None:
    """The object record (or its version ``version``'s), or None."""
    if version is None:
        return tx.get(NS, objects_kind(bucket), key)
    found = find(tx, {"Name": bucket, "Versioning": "Enabled"}, key, version)
    return None if found is None else found.record


def object_tags(
    tx: Tx, bucket: str, key: str, version: str | None = None
) -> dict[str, str] | None:
    """The tags of the object (or of its version ``version``: ``s3:ExistingObjectTag/<key>``),
    or None when it does not exist."""
    data = _object(tx, bucket, key, version)
    if data is None:
        return None
    return dict(data.get("Tags") or {})


def object_acl(
    tx: Tx, bucket: str, key: str, version: str | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """The owner (account id) of the object (or of its version ``version``) and its ACL's
    grants: ``(None, [])`` when it does not exist or is a delete marker; no grants when it was
    written while the bucket's ACLs were disabled."""
    data = _object(tx, bucket, key, version)
    if data is None or data.get("DeleteMarker"):
        return None, []
    return str(data.get("Owner") or "") or None, list(data.get("Acl") or [])
