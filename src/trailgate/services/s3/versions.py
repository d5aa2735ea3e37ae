"""Object versions in the store (S3 bucket versioning).

Where versions live:

* the key's *current object* stays where every object of an unversioned bucket lives, in
  ``s3.object/<bucket>`` under its key: listings, reads without a version id and unversioned
  buckets never look anywhere else;
* every other version — noncurrent objects and delete markers, including a delete marker that
  is the latest version — lives in ``s3.version/<bucket>`` under ``<key>\\x00<rank>``, where
  the rank (16 hex digits) is the version's sequence number counted down, so a key's versions
  follow each other newest first and the keys in the same order as in ``s3.object``.

So ``s3.object`` holds a record for a key exactly when the key's latest version is an object;
when the latest is a delete marker it is the newest ``s3.version`` row of the key.  A version
record is an object record (see :mod:`.queries`) plus ``VersionId`` and ``Seq`` (its number
among the key's versions, growing); a delete marker is ``{Key, VersionId, Seq, DeleteMarker:
true, LastModified, Owner}``.  Records written before the bucket was versioned have neither:
they are the ``null`` version, older than any other.

Every blob is referenced (``ids`` index ``s3blob:<id>``) by the one record holding it, current
or not; moving a version between the two kinds moves its reference, and removing a version
returns its blob for deletion after the commit.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Final
from urllib.parse import parse_qsl

from ...protocol.errors import ServiceError
from ...store.interface import Entity, Tx
from .common import (
    ARCHIVED,
    NS,
    invalid_argument,
    no_such_key,
    objects_kind,
    reference_blob,
    stamp,
    unreference_blob,
    versions_kind,
    when,
)

NULL: Final = "null"
ENABLED: Final = "Enabled"
SUSPENDED: Final = "Suspended"
ID_LENGTH: Final = 32
_ID_CHARS: Final = string.ascii_letters + string.digits + "._"
_ID: Final = re.compile(r"[A-Za-z0-9._]{32}")
_SEP: Final = "\x00"
_SEQ_TOP: Final = 16**16 - 1


def new_version_id() -> str:
    """An opaque version id as S3 shapes them: 32 characters of letters, digits, ``.``, ``_``."""
    return "".join(secrets.choice(_ID_CHARS) for _ in range(ID_LENGTH))


def well_formed(version: str) -> bool:
    return version == NULL or _ID.fullmatch(version) is not None


def requested_version(value: Any, argument: str = "versionId") -> str | None:
    """A ``versionId`` parameter: None when absent; InvalidArgument when it cannot be a
    version id (S3 tells a malformed id, 400, from an unknown one, 404 NoSuchVersion)."""
    if value is None:
        return None
    text = str(value)
    if not text:
        raise invalid_argument("Version id cannot be the empty string", argument, text)
    if not well_formed(text):
        raise invalid_argument("Invalid version id specified", argument, text)
    return text


def no_such_version(key: str, version: str) -> ServiceError:
    return ServiceError(
        "NoSuchVersion",
        "The specified version does not exist.",
        404,
        {"Key": key, "VersionId": version},
    )


def marker_error(
    key: str, marker: dict[str, Any], method: str | None, *, dated: bool = True
) -> ServiceError:
    """A read that meets a delete marker: 404 NoSuchKey when it is the latest version and no
    version was asked for (``method`` None), 405 MethodNotAllowed when it was asked for by id;
    both say ``x-amz-delete-marker: true`` and name the marker's version.  The 405 carries
    ``Allow: DELETE`` (the one method a marker takes), and, unless ``dated`` is False (the ACL
    calls: S3 leaves it out there), the marker's ``Last-Modified``."""
    headers = {"x-amz-delete-marker": "true", "x-amz-version-id": version_of(marker)}
    if method is None:
        err = no_such_key(key)
        err.headers = headers
        return err
    if dated:
        headers["last-modified"] = format_datetime(when(marker["LastModified"]), usegmt=True)
    headers["allow"] = "DELETE"
    return ServiceError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        {"Method": method, "ResourceType": "DeleteMarker"},
        headers,
    )


def version_of(record: dict[str, Any]) -> str:
    return str(record.get("VersionId") or NULL)


def is_marker(record: dict[str, Any]) -> bool:
    return bool(record.get("DeleteMarker"))


def versioned(bucket: dict[str, Any]) -> bool:
    """True once versioning was ever set (Enabled or Suspended: it never goes back)."""
    return bool(bucket.get("Versioning"))


def shown_version(bucket: dict[str, Any], record: dict[str, Any]) -> dict[str, str]:
    """``{"VersionId": ...}`` for a response about ``record`` when the bucket is versioned."""
    return {"VersionId": version_of(record)} if versioned(bucket) else {}


def version_key(key: str, seq: int) -> str:
    return f"{key}{_SEP}{_SEQ_TOP - seq:016x}"


def past_versions(key: str) -> str:
    """A store cursor after every ``s3.version`` row of ``key``."""
    return f"{key}{_SEP}g"


@dataclass
class Found:
    """One version and where it is stored."""

    record: dict[str, Any]
    kind: str
    store_key: str
    latest: bool

    def save(self, tx: Tx) -> None:
        tx.put(NS, self.kind, self.store_key, str(self.record["Key"]), self.record)


def older(tx: Tx, bucket: str, key: str, limit: int | None = None) -> list[Entity]:
    """The key's versions kept in ``s3.version`` (all but a current object), newest first."""
    return tx.scan(NS, versions_kind(bucket), prefix=key + _SEP, limit=limit,
                   where=lambda data: data.get("Key") == key)


def latest(tx: Tx, bucket: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The key's latest version: its current object, else a delete marker, else None."""
    found = tx.get(NS, objects_kind(bucket["Name"]), key)
    if found is not None or not versioned(bucket):
        return found
    rows = older(tx, bucket["Name"], key, 1)
    return rows[0].data if rows else None


def find(tx: Tx, bucket: dict[str, Any], key: str, version: str) -> Found | None:
    name = bucket["Name"]
    current = tx.get(NS, objects_kind(name), key)
    if current is not None and version_of(current) == version:
        return Found(current, objects_kind(name), key, True)
    if not versioned(bucket):
        return None
    for index, row in enumerate(older(tx, name, key)):
        if version_of(row.data) == version:
            return Found(row.data, versions_kind(name), row.key, current is None and index == 0)
    return None


def resolve(
    tx: Tx, bucket: dict[str, Any], key: str, version: str | None, method: str,
    *, dated: bool = True,
) -> Found:
    """The version a request names (by id, or the latest); NoSuchKey, NoSuchVersion, or the
    delete marker's error (:func:`marker_error`)."""
    if version is None:
        record = latest(tx, bucket, key)
        if record is None:
            raise no_such_key(key)
        if is_marker(record):
            raise marker_error(key, record, None)
        return Found(record, objects_kind(bucket["Name"]), key, True)
    found = find(tx, bucket, key, version)
    if found is None:
        raise no_such_version(key, version)
    if is_marker(found.record):
        raise marker_error(key, found.record, method, dated=dated)
    return found


def copy_source(
    tx: Tx, bucket: dict[str, Any], key: str, version: str | None
) -> dict[str, Any]:
    """The object a copy reads: the latest (NoSuchKey when there is none; with
    ``x-amz-delete-marker`` and the marker's version id when it is a delete marker) or the
    version named (NoSuchVersion; a delete marker is an InvalidRequest).  An archived object
    cannot be copied (403 InvalidObjectState)."""
    if version is None:
        record = latest(tx, bucket, key)
        if record is None:
            raise no_such_key(key)
        if is_marker(record):  # NoSuchKey naming the marker, as a read of the key says
            raise marker_error(key, record, None)
    else:
        found = find(tx, bucket, key, version)
        if found is None:
            raise no_such_version(key, version)
        if is_marker(found.record):
            raise ServiceError(
                "InvalidRequest",
                "The source of a copy request may not specifically refer to a delete marker by "
                "version id.",
                400,
            )
        record = found.record
    if record.get("StorageClass") in ARCHIVED:
        raise ServiceError("InvalidObjectState",
                           "Operation is not valid for the source object's storage class", 403)
    return record


def source_version(value: Any) -> str | None:
    """The ``versionId`` of a ``CopySource`` (``bucket/key?versionId=...`` or a dict)."""
    if isinstance(value, dict):
        return requested_version(value.get("VersionId"), "x-amz-copy-source")
    _, sep, query = str(value or "").partition("?")
    if not sep:
        return None
    found = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "versionId"]
    return requested_version(found[0], "x-amz-copy-source") if found else None


# -- writes ------------------------------------------------------------------------------------


def _next_seq(tx: Tx, bucket: str, key: str, current: dict[str, Any] | None) -> int:
    rows = older(tx, bucket, key, 1)
    top = int(rows[0].data.get("Seq") or 0) if rows else 0
    return max(top, int((current or {}).get("Seq") or 0)) + 1


def _demote(tx: Tx, bucket: str, record: dict[str, Any]) -> None:
    """Keep a replaced current object as a noncurrent version (its blob reference follows)."""
    seq = int(record.get("Seq") or 0)
    record["Seq"] = seq
    store_key = version_key(str(record["Key"]), seq)
    tx.put(NS, versions_kind(bucket), store_key, str(record["Key"]), record)
    blob = record.get("BlobId")
    if blob:
        unreference_blob(tx, blob)
        reference_blob(tx, blob, versions_kind(bucket), store_key)


def _drop_null(tx: Tx, bucket: str, key: str, current: dict[str, Any] | None) -> list[str]:
    """Remove the key's null version, current or not (a suspended bucket's write replaces
    it); returns its blob."""
    if current is not None and version_of(current) == NULL:
        tx.delete(NS, objects_kind(bucket), key)
        return [current["BlobId"]] if current.get("BlobId") else []
    for row in older(tx, bucket, key):
        if version_of(row.data) == NULL:
            tx.delete(NS, versions_kind(bucket), row.key)
            return [row.data["BlobId"]] if row.data.get("BlobId") else []
    return []


def _make_room(tx: Tx, bucket: dict[str, Any], key: str) -> tuple[str, int, list[str]]:
    """A new version's id and number; a suspended bucket's null version is removed, the
    current object (if any) becomes noncurrent."""
    name = bucket["Name"]
    current = tx.get(NS, objects_kind(name), key)
    doomed: list[str] = []
    version = new_version_id()
    if bucket.get("Versioning") == SUSPENDED:
        doomed = _drop_null(tx, name, key, current)
        current = tx.get(NS, objects_kind(name), key)
        version = NULL
    seq = _next_seq(tx, name, key, current)
    if current is not None:
        tx.delete(NS, objects_kind(name), key)  # its blob's reference goes with it ...
        _demote(tx, name, current)  # ... and comes back on the noncurrent copy
    return version, seq, doomed


def write_version(
    tx: Tx, bucket: dict[str, Any], key: str, record: dict[str, Any]
) -> tuple[list[str], str | None]:
    """Make ``record`` the key's current object; returns the blobs no record refers to any
    more and the new version's id (None in an unversioned bucket, where it replaces the
    object)."""
    kind = objects_kind(bucket["Name"])
    if not versioned(bucket):
        old = tx.get(NS, kind, key)
        tx.put(NS, kind, key, key, record)
        doomed: list[str] = []
        if old is not None and old.get("BlobId") and old["BlobId"] != record["BlobId"]:
            unreference_blob(tx, old["BlobId"])
            doomed.append(old["BlobId"])
        reference_blob(tx, record["BlobId"], kind, key)
        return doomed, None
    version, seq, doomed = _make_room(tx, bucket, key)
    record["VersionId"], record["Seq"] = version, seq
    tx.put(NS, kind, key, key, record)
    reference_blob(tx, record["BlobId"], kind, key)
    return doomed, version


def add_delete_marker(
    tx: Tx, bucket: dict[str, Any], key: str, owner: str, now: datetime
) -> tuple[list[str], str]:
    """A delete without a version id in a versioned bucket: a delete marker becomes the
    latest version; returns the blobs to delete (a suspended bucket's null version) and the
    marker's id."""
    version, seq, doomed = _make_room(tx, bucket, key)
    marker = {"Key": key, "VersionId": version, "Seq": seq, "DeleteMarker": True,
              "LastModified": stamp(now), "Owner": owner}
    tx.put(NS, versions_kind(bucket["Name"]), version_key(key, seq), key, marker)
    return doomed, version


def _promote(tx: Tx, bucket: str, key: str) -> None:
    """After the latest version went: a newest noncurrent object becomes the current one."""
    if tx.get(NS, objects_kind(bucket), key) is not None:
        return
    rows = older(tx, bucket, key, 1)
    if not rows or is_marker(rows[0].data):
        return
    record = rows[0].data
    tx.delete(NS, versions_kind(bucket), rows[0].key)
    tx.put(NS, objects_kind(bucket), key, key, record)
    if record.get("BlobId"):
        reference_blob(tx, record["BlobId"], objects_kind(bucket), key)


def delete_version(
    tx: Tx, bucket: dict[str, Any], key: str, version: str
) -> tuple[dict[str, Any] | None, list[str]]:
    """Remove one version for good; returns it (None: no such version) and its blob.  When
    it was the latest, the next version takes its place."""
    found = find(tx, bucket, key, version)
    if found is None:
        return None, []
    tx.delete(NS, found.kind, found.store_key)
    blob = found.record.get("BlobId")
    if found.latest and versioned(bucket):
        _promote(tx, bucket["Name"], key)
    return found.record, [blob] if blob else []


def has_versions(tx: Tx, bucket: str) -> bool:
    """True when the bucket keeps any noncurrent version or delete marker."""
    return bool(tx.scan(NS, versions_kind(bucket), limit=1))
