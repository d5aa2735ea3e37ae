"""Bucket versioning: PutBucketVersioning, GetBucketVersioning and ListObjectVersions.

A bucket's ``Versioning`` is absent (never set: GetBucketVersioning answers an empty
configuration), ``Enabled`` or ``Suspended``; once set it never goes back to absent.  MFA
delete is not served: asking to enable it without ``x-amz-mfa`` is refused as S3 refuses it
(403 "Mfa Authentication must be used for this request"), and with the header it is
``NotImplemented``.

ListObjectVersions lists every version and delete marker, by key (UTF-8 byte order) and newest
first within a key, the first of each key ``IsLatest``; ``max-keys`` counts versions, delete
markers and common prefixes; ``key-marker`` / ``version-id-marker`` resume after the version
named (after the whole key without a version id marker).  A bucket never versioned holds only
null versions and is listed as :mod:`.listing` lists objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import (
    BUCKET,
    NS,
    STANDARD,
    invalid_argument,
    listed_checksum,
    load_bucket,
    malformed_xml,
    objects_kind,
    owner_view,
    versions_kind,
    when,
)
from .listing import NULL_VERSION, encoding_type, list_page, max_keys_of, past, rollup
from .object_lock import check_versioning_change
from .versions import (
    ENABLED,
    SUSPENDED,
    is_marker,
    older,
    past_versions,
    version_of,
    versioned,
    well_formed,
)

MFA_STATES: Final = (None, "Enabled", "Disabled")


def _check_mfa(params: dict[str, Any], mfa_delete: Any) -> None:
    """MFA delete is not served here: refused as S3 refuses it without the header, and
    NotImplemented with it."""
    header = params.get("MFA")
    if header is not None:
        if len(str(header).split()) != 2:
            raise invalid_argument(
                "Mfa header is invalid -- the header should be formatted as "
                "{serialNumber}(space){tokenCode}", "x-amz-mfa", str(header))
        raise ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
            {"Header": "x-amz-mfa"},
        )
    if mfa_delete == "Enabled":
        raise ServiceError("AccessDenied", "Mfa Authentication must be used for this request", 403)


@dataclass
class _Page:
    versions: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: tuple[str, str | None] | None = None  # (key or common prefix, version id)
    limit: int = 0
    order: list[str] = field(default_factory=list)  # "V" / "D": versions and markers in order

    def full(self) -> bool:
        if len(self.versions) + len(self.markers) + len(self.prefixes) < self.limit:
            return False
        self.truncated = True
        return True


def _entry(record: dict[str, Any], latest: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": record["Key"],
        "VersionId": version_of(record),
        "IsLatest": latest,
        "LastModified": when(record["LastModified"]),
        "Owner": owner_view(record["Owner"]),
    }
    if not is_marker(record):
        entry.update(ETag=record["ETag"], Size=record["Size"],
                     StorageClass=record.get("StorageClass") or STANDARD,
                     **listed_checksum(record))
    return entry


def _key_versions(tx: Tx, bucket: str, key: str) -> list[dict[str, Any]]:
    """The key's versions, newest first: the current object (if any), then the others."""
    current = tx.get(NS, objects_kind(bucket), key)
    rest = [row.data for row in older(tx, bucket, key)]
    return rest if current is None else [current, *rest]


def _add(page: _Page, records: list[dict[str, Any]], first_is_latest: bool) -> bool:
    """Add a key's versions; False when the page filled up before the end."""
    for index, record in enumerate(records):
        if page.full():
            return False
        marker = is_marker(record)
        target = page.markers if marker else page.versions
        target.append(_entry(record, first_is_latest and index == 0))
        page.order.append("D" if marker else "V")
        page.last = (str(record["Key"]), version_of(record))
    return True


def _next_key(tx: Tx, bucket: str, prefix: str, after: str | None, jumped: bool) -> str | None:
    """The first key after ``after`` with any version (``jumped``: ``after`` is a cursor past
    a common prefix, not a key)."""
    plain = tx.scan(NS, objects_kind(bucket), prefix=prefix or None, after=after, limit=1)
    cursor = after if after is None or jumped else past_versions(after)
    other = tx.scan(NS, versions_kind(bucket), prefix=prefix or None, after=cursor, limit=1)
    found = [plain[0].key] if plain else []
    if other:
        found.append(str(other[0].data["Key"]))
    return min(found) if found else None


def version_page(
    tx: Tx, bucket: str, *, prefix: str, delimiter: str, key_marker: str,
    version_marker: str, limit: int,
) -> _Page:
    page = _Page(limit=limit)
    after: str | None = key_marker or None
    jumped = False
    if key_marker and version_marker:  # the rest of the marker key's versions first
        records = _key_versions(tx, bucket, key_marker)
        ids = [version_of(r) for r in records]
        rest = records[ids.index(version_marker) + 1:] if version_marker in ids else []
        if not _add(page, rest, False):
            return page
    if after is not None and after.startswith(prefix):
        group = rollup(after, prefix, delimiter)
        if group is not None:
            after, jumped = past(group), True
    while (key := _next_key(tx, bucket, prefix, after, jumped)) is not None:
        group = rollup(key, prefix, delimiter)
        if group is not None:
            if page.full():
                return page
            page.prefixes.append(group)
            page.last = (group, None)
            after, jumped = past(group), True
            continue
        if not _add(page, _key_versions(tx, bucket, key), True):
            return page
        after, jumped = key, False
    return page


def _markers(params: dict[str, Any]) -> tuple[str, str]:
    key_marker = str(params.get("KeyMarker") or "")
    version_marker = params.get("VersionIdMarker")
    if version_marker is not None and not key_marker:
        raise invalid_argument("A version-id marker cannot be specified without a key marker.",
                               "version-id-marker", version_marker)
    if version_marker and not well_formed(str(version_marker)):
        raise invalid_argument("Invalid version id specified", "version-id-marker",
                               version_marker)
    return key_marker, str(version_marker or "")


class VersioningOps:
    def PutBucketVersioning(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        config = call.params.get("VersioningConfiguration")
        status = config.get("Status") if isinstance(config, dict) else None
        mfa_delete = config.get("MFADelete") if isinstance(config, dict) else None
        if status not in (ENABLED, SUSPENDED) or mfa_delete not in MFA_STATES:
            raise malformed_xml()
        _check_mfa(call.params, mfa_delete)
        check_versioning_change(bucket, status)
        bucket["Versioning"] = status
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {}

    def GetBucketVersioning(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        # Never set: an empty <VersioningConfiguration/>, as S3 answers.
        return {"Status": bucket["Versioning"]} if versioned(bucket) else {}

    def ListObjectVersions(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        bucket = load_bucket(tx, params)
        key_marker, version_marker = _markers(params)
        prefix = str(params.get("Prefix") or "")
        delimiter = str(params.get("Delimiter") or "")
        limit = max_keys_of(params, versions=True)
        encoding = encoding_type(params)
        if versioned(bucket):
            page = version_page(tx, bucket["Name"], prefix=prefix, delimiter=delimiter,
                                key_marker=key_marker, version_marker=version_marker,
                                limit=limit)
        else:
            page = _null_page(tx, bucket["Name"], prefix, delimiter, key_marker, limit)
        out: dict[str, Any] = {
            "Name": bucket["Name"], "Prefix": prefix, "MaxKeys": limit,
            "IsTruncated": page.truncated, "KeyMarker": key_marker,
            "VersionIdMarker": version_marker,
        }
        if delimiter:
            out["Delimiter"] = delimiter
        if encoding is not None:
            out["EncodingType"] = encoding
        if page.versions:
            out["Versions"] = page.versions
        if page.markers:
            out["DeleteMarkers"] = page.markers
            # S3 writes <Version> and <DeleteMarker> elements in listing order, interleaved.
            out["__order"] = "".join(page.order)
        if page.prefixes:
            out["CommonPrefixes"] = [{"Prefix": p} for p in page.prefixes]
        if page.truncated and page.last is not None:
            out["NextKeyMarker"] = page.last[0]
            if page.last[1] is not None:
                out["NextVersionIdMarker"] = page.last[1]
        return out


def _null_page(
    tx: Tx, bucket: str, prefix: str, delimiter: str, key_marker: str, limit: int
) -> _Page:
    """A bucket never versioned: each key's one version is its null version, read as a
    listing of objects reads (a key marker resumes after its key)."""
    found = list_page(tx, objects_kind(bucket), prefix=prefix, delimiter=delimiter,
                      after=key_marker or None, max_keys=limit)
    page = _Page(limit=limit, truncated=found.truncated, prefixes=found.prefixes)
    page.versions = [_entry({**row.data, "VersionId": NULL_VERSION}, True)
                     for row in found.contents]
    if found.last is not None:
        is_prefix = bool(found.prefixes) and found.last == found.prefixes[-1]
        page.last = (found.last, None if is_prefix else NULL_VERSION)
    return page
