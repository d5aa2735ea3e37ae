"""GetObjectAttributes: an object's metadata without its bytes (what HeadObject and ListParts
tell, in one answer), only the attributes asked for in ``x-amz-object-attributes``.

As S3 answers it: the ETag without its quotes; ``Checksum`` for an object stored with a
checksum, with its ``ChecksumType`` (a COMPOSITE value without its ``-N`` part count);
``ObjectParts`` only for a multipart object, its parts (number, size and, for a COMPOSITE
object, each part's checksum) paged by ``x-amz-max-parts`` / ``x-amz-part-number-marker``;
the storage class; the size.  A missing key is NoSuchKey only to
a caller that may list the bucket (the gateway's ``__may_list``), as for GetObject.
"""

from __future__ import annotations

from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import STANDARD, invalid_argument, load_bucket, when
from .upload_checksums import attributes_checksum
from .versions import requested_version, resolve, shown_version

ATTRIBUTES: Final = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")
MAX_PARTS: Final = 1000


def _wanted(params: dict[str, Any]) -> set[str]:
    asked = params.get("ObjectAttributes") or []
    if isinstance(asked, str):
        asked = asked.split(",")
    names = {str(a).strip() for a in asked if str(a).strip()}
    if not names:
        raise invalid_argument("Empty value provided for x-amz-object-attributes",
                               "x-amz-object-attributes", "")
    bad = sorted(names - set(ATTRIBUTES))
    if bad:
        raise invalid_argument("Invalid attribute name specified.", "x-amz-object-attributes",
                               bad[0])
    return names


def _number(params: dict[str, Any], name: str, header: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise invalid_argument(f"Invalid value for {header}", header, value)
    return number


def _parts(record: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    sizes = [int(s) for s in record.get("PartSizes") or []]
    total = int(record.get("PartsCount") or len(sizes))
    limit = min(_number(params, "MaxParts", "x-amz-max-parts", MAX_PARTS), MAX_PARTS)
    marker = _number(params, "PartNumberMarker", "x-amz-part-number-marker", 0)
    numbered = [(n, s) for n, s in enumerate(sizes, 1) if n > marker]
    page = numbered[:limit]
    out: dict[str, Any] = {
        "TotalPartsCount": total,
        "PartNumberMarker": marker,
        "NextPartNumberMarker": page[-1][0] if page else marker,
        "MaxParts": limit,
        "IsTruncated": len(numbered) > len(page),
    }
    if page:
        out["Parts"] = [{"PartNumber": n, "Size": s} for n, s in page]
    kept = record.get("PartChecksums") or []
    stored = record.get("Checksums") or {}
    if kept and stored and record.get("ChecksumType") == "COMPOSITE":
        member = next(iter(stored))
        for part in out.get("Parts", []):
            value = kept[part["PartNumber"] - 1] if part["PartNumber"] <= len(kept) else ""
            if value:
                part[member] = value
    return out


class AttributesOps:
    def GetObjectAttributes(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        bucket = load_bucket(tx, params)
        version = requested_version(params.get("VersionId"))
        wanted = _wanted(params)
        key = str(params.get("Key") or "")
        try:
            record = resolve(tx, bucket, key, version, "GET").record
        except ServiceError as err:
            may_list = params.get("__may_list")
            refused = may_list() if err.code == "NoSuchKey" and callable(may_list) else None
            raise (refused or err) from None
        out: dict[str, Any] = {"LastModified": when(record["LastModified"])}
        if "ETag" in wanted:
            out["ETag"] = str(record["ETag"]).strip('"')
        checksum = attributes_checksum(record)
        if "Checksum" in wanted and checksum:
            out["Checksum"] = checksum
        if "ObjectParts" in wanted and record.get("PartsCount"):
            out["ObjectParts"] = _parts(record, params)
        if "StorageClass" in wanted:
            out["StorageClass"] = record.get("StorageClass") or STANDARD
        if "ObjectSize" in wanted:
            out["ObjectSize"] = int(record["Size"])
        return {**out, **shown_version(bucket, record)}
