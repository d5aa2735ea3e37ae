"""Multipart uploads: create, upload part, complete, abort, list parts and uploads.

Each part is a blob (written by ``prepare_UploadPart``).  ``prepare_CompleteMultipartUpload``
checks the part list against a snapshot of the upload and streams the parts, in order, into one
new blob; the transaction re-checks that the parts are still the ones concatenated, records the
object and drops the upload; the part blobs (and a replaced object's blob) are deleted after the
commit.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

from ...protocol.errors import ServiceError
from ...store.blobs import BlobStore
from ...store.interface import Tx
from ..base import Call
from .bodies import (
    Prepared,
    check_write_conditions,
    early_error,
    run_prepared,
    write_body,
    write_copy,
)
from .common import (
    MIN_PART_SIZE,
    NS,
    SSE_S3,
    STANDARD,
    after_commit,
    check_key,
    internal_error,
    load_bucket,
    malformed_xml,
    no_such_upload,
    object_owner,
    objects_kind,
    owner_view,
    part_key,
    part_number,
    parts_kind,
    reference_blob,
    stamp,
    unreference_blob,
    uploads_kind,
    when,
)
from .listing import encoding_type, non_negative, rollup
from .object_lock import check_part_integrity, lock_for_write
from .objects import Reader, new_record, object_acl, request_source
from .upload_checksums import (
    COMPOSITE,
    FULL_OBJECT,
    check_complete_part,
    check_complete_request,
    check_part_algorithm,
    check_part_checksums,
    checksum_type,
    composite_checksum,
    kept_part_checksums,
    object_checksum_kind,
    object_checksum_mismatch,
)
from .versions import write_version

MAX_PARTS_LISTED: Final = 1000
MAX_UPLOADS_LISTED: Final = 1000


def multipart_etag(part_md5s: list[str]) -> str:
    """S3's ETag of a multipart object: MD5 of the concatenated binary part MD5s, ``-N``."""
    digest = hashlib.md5(b"".join(bytes.fromhex(m) for m in part_md5s), usedforsecurity=False)
    return f'"{digest.hexdigest()}-{len(part_md5s)}"'


def _invalid_part(upload_id: str, number: int, etag: str) -> ServiceError:
    return ServiceError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag.",
        400,
        {"UploadId": upload_id, "PartNumber": str(number), "ETag": etag},
    )


def load_upload(tx: Tx, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    bucket = load_bucket(tx, params)
    upload_id = str(params.get("UploadId") or "")
    upload = tx.get(NS, uploads_kind(bucket["Name"]), upload_id)
    if upload is None or upload["Key"] != params.get("Key"):
        raise no_such_upload(upload_id)
    return bucket, upload


def _initiator(call: Call) -> dict[str, str]:
    """Who started an upload: an account (its root) is shown as the Owner is (canonical user
    id), an IAM identity by its ARN and name, as S3 documents the Initiator element."""
    principal = call.principal
    if principal.kind == "root":
        return owner_view(principal.account)
    name = principal.session_name or principal.arn.rsplit("/", 1)[-1]
    return {"ID": principal.arn, "DisplayName": name}


def check_parts(
    upload_id: str, requested: list[dict[str, Any]], stored: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The stored parts a CompleteMultipartUpload names, in order, or its error."""
    if not requested:
        raise malformed_xml()
    numbers = [part_number(p.get("PartNumber")) for p in requested]
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        raise ServiceError(
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
            400,
            {"UploadId": upload_id},
        )
    chosen: list[dict[str, Any]] = []
    for number, part in zip(numbers, requested, strict=True):
        etag = str(part.get("ETag") or "")
        found = stored.get(number)
        if found is None or etag.strip('"') != str(found["ETag"]).strip('"'):
            raise _invalid_part(upload_id, number, etag)
        check_complete_part(part, found, _invalid_part(upload_id, number, etag))
        chosen.append(found)
    for found in chosen[:-1]:
        if int(found["Size"]) < MIN_PART_SIZE:
            raise ServiceError(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
                400,
                {
                    "ProposedSize": str(found["Size"]),
                    "MinSizeAllowed": str(MIN_PART_SIZE),
                    "PartNumber": str(found["PartNumber"]),
                    "ETag": str(found["ETag"]),
                },
            )
    return chosen


def store_part(
    tx: Tx,
    bucket: dict[str, Any],
    upload: dict[str, Any],
    number: int,
    prepared: Prepared,
    now: datetime,
) -> tuple[dict[str, Any], list[str]]:
    """Record the prepared blob as part ``number`` of ``upload``; returns the part record and
    the blobs to delete after the commit (a part it replaces)."""
    info = prepared.blob
    kind, key = parts_kind(bucket["Name"]), part_key(upload["UploadId"], number)
    old = tx.get(NS, kind, key)
    record = {
        "PartNumber": number,
        "ETag": f'"{info.md5_hex}"',
        "Size": info.size,
        "LastModified": stamp(now),
        "BlobId": info.id,
        "Checksums": dict(prepared.checksums),
    }
    tx.put(NS, kind, key, key, record)
    doomed: list[str] = []
    if old is not None:
        unreference_blob(tx, old["BlobId"])
        doomed.append(old["BlobId"])
    reference_blob(tx, info.id, kind, key)
    return record, doomed


def _stored_parts(tx: Tx, bucket: str, upload_id: str) -> dict[int, dict[str, Any]]:
    rows = tx.list(NS, parts_kind(bucket), prefix=f"{upload_id}/")
    return {int(row["PartNumber"]): row for row in rows}


def _check_object_size(expected: Any, parts: list[dict[str, Any]]) -> None:
    """``x-amz-mp-object-size``: the object size the client expects; a mismatch is a 400
    InvalidRequest (CompleteMultipartUpload reference)."""
    if expected is None:
        return
    # UNSURE: both messages are versitygw's (an S3 gateway that copies S3's wording), not
    # recorded against AWS here; the code and status are the API reference's.
    if int(expected) < 0:
        raise ServiceError(
            "InvalidRequest", f"Value for x-amz-mp-object-size header is less than zero: "
            f"'{expected}'", 400,
        )
    actual = sum(int(p["Size"]) for p in parts)
    if int(expected) != actual:
        raise ServiceError(
            "InvalidRequest", f"The provided 'x-amz-mp-object-size' header value {expected} "
            f"does not match what was computed: {actual}", 400,
        )


class MultipartOps:
    blobs: BlobStore
    read: Reader | None

    def CreateMultipartUpload(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        bucket = load_bucket(tx, params)
        key = str(params.get("Key") or "")
        check_key(key)
        source = request_source(params)
        owner = object_owner(bucket, call.account, params.get("ACL"))
        source["Acl"] = object_acl(call, bucket, owner)
        upload_id = new_upload_id(call.now)
        upload: dict[str, Any] = {
            "UploadId": upload_id,
            "Key": key,
            "Initiated": stamp(call.now),
            "Initiator": _initiator(call),
            "Writer": call.account,
            "ACL": params.get("ACL"),
            "Source": source,
            "StorageClass": str(params.get("StorageClass") or STANDARD),
            "ChecksumAlgorithm": params.get("ChecksumAlgorithm"),
            "ChecksumType": checksum_type(params),
            # Object Lock: as asked, else the bucket's default counted from the initiation
            "Lock": lock_for_write(bucket, params, call.now, needs_integrity=False),
        }
        tx.insert(NS, uploads_kind(bucket["Name"]), upload_id, key, upload)
        out: dict[str, Any] = {
            "Bucket": bucket["Name"], "Key": key, "UploadId": upload_id,
            "ServerSideEncryption": SSE_S3,
        }
        if params.get("ChecksumAlgorithm"):
            out["ChecksumAlgorithm"] = params["ChecksumAlgorithm"]
            out["ChecksumType"] = upload["ChecksumType"]
        return out

    def prepare_UploadPart(self, call: Call) -> Prepared:
        compute: list[str | None] = [None]

        def check(tx: Tx) -> None:  # refuse early rather than write bytes nobody keeps
            _bucket, upload = load_upload(tx, call.params)
            part_number(call.params.get("PartNumber"))
            check_part_integrity(upload, call.params)
            compute[0] = check_part_algorithm(upload, call.params)

        early = early_error(self.blobs, self.read, check)
        return early or write_body(self.blobs, call.params, compute=compute[0])

    def UploadPart(self, call: Call, tx: Tx) -> dict[str, Any]:
        def inline() -> Prepared:  # no snapshot reader: the transaction's own view
            try:
                _bucket, upload = load_upload(tx, call.params)
                compute = check_part_algorithm(upload, call.params)
            except ServiceError as err:
                return Prepared(self.blobs, error=err)
            return write_body(self.blobs, call.params, compute=compute)

        return run_prepared(
            call.prepared, inline, lambda prepared: self._upload_part(call, tx, prepared)
        )

    def _upload_part(self, call: Call, tx: Tx, prepared: Prepared) -> dict[str, Any]:
        params = call.params
        bucket, upload = load_upload(tx, params)
        number = part_number(params.get("PartNumber"))
        check_part_integrity(upload, params)
        check_part_algorithm(upload, params)
        prepared.raise_error()
        record, doomed = store_part(tx, bucket, upload, number, prepared, call.now)
        out = {"ETag": record["ETag"], "ServerSideEncryption": SSE_S3, **prepared.checksums}
        return after_commit(out, self.blobs, doomed)

    # -- complete -----------------------------------------------------------------------------

    def prepare_CompleteMultipartUpload(self, call: Call) -> Prepared | None:
        if self.read is None:
            return None  # the transaction concatenates the parts itself
        return self._prepare_complete(call, self.read)

    def _prepare_complete(self, call: Call, read: Reader) -> Prepared:
        params = call.params
        try:
            upload_id = str(params.get("UploadId") or "")

            def snapshot(tx: Tx) -> tuple[dict[str, Any], list[dict[str, Any]]]:
                bucket, upload = load_upload(tx, params)
                stored = _stored_parts(tx, bucket["Name"], upload_id)
                requested = (params.get("MultipartUpload") or {}).get("Parts") or []
                chosen = check_parts(upload_id, requested, stored)
                check_part_checksums(upload, requested)
                check_complete_request(upload, params)
                _check_object_size(params.get("MpuObjectSize"), chosen)
                return upload, chosen

            upload, parts = read(snapshot)
            algorithm, kind = object_checksum_kind(upload)
            whole = kind == FULL_OBJECT
            ready = write_copy(self.blobs, self._concatenate(parts), algorithm if whole else None)
        except ServiceError as err:
            return Prepared(self.blobs, error=err)
        if not whole:
            ready.checksums = composite_checksum(algorithm, parts)
        mismatch = object_checksum_mismatch(upload, params, ready.checksums)
        if mismatch is not None:
            self.blobs.delete(ready.blob.id)
            return Prepared(self.blobs, error=mismatch)
        ready.extra = {
            "parts": {int(p["PartNumber"]): p["BlobId"] for p in parts},
            "etag": multipart_etag([str(p["ETag"]).strip('"') for p in parts]),
        }
        return ready

    def _concatenate(self, parts: list[dict[str, Any]]) -> Iterator[bytes]:
        for part in parts:
            try:
                chunks = self.blobs.iter_chunks(part["BlobId"])
                yield from chunks
            except FileNotFoundError:  # a part replaced or aborted meanwhile: retry
                raise internal_error() from None

    def CompleteMultipartUpload(self, call: Call, tx: Tx) -> dict[str, Any]:
        return run_prepared(
            call.prepared,
            lambda: self._prepare_complete(call, lambda fn: fn(tx)),
            lambda prepared: self._complete(call, tx, prepared),
        )

    def _complete(self, call: Call, tx: Tx, prepared: Prepared) -> dict[str, Any]:
        params = call.params
        bucket, upload = load_upload(tx, params)
        prepared.raise_error()
        info = prepared.blob
        upload_id, key = upload["UploadId"], upload["Key"]
        stored = _stored_parts(tx, bucket["Name"], upload_id)
        used: dict[int, str] = prepared.extra["parts"]
        if any(stored.get(n, {}).get("BlobId") != blob for n, blob in used.items()):
            raise internal_error()  # a part was re-uploaded after the snapshot: retry
        existing = tx.get(NS, objects_kind(bucket["Name"]), key)
        check_write_conditions(params, existing, key)
        source = dict(upload["Source"])
        record = new_record(
            _as_writer(call, upload),
            bucket,
            key,
            blob_id=info.id,
            size=info.size,
            etag=str(prepared.extra["etag"]),
            source=source,
            checksums=prepared.checksums,
            part_sizes=[int(stored[number]["Size"]) for number in used],
        )
        record["StorageClass"] = upload.get("StorageClass") or STANDARD
        record.update(upload.get("Lock") or {})
        if prepared.checksums:
            record["ChecksumType"] = object_checksum_kind(upload)[1]
            kept = kept_part_checksums(
                upload.get("ChecksumAlgorithm"), record["ChecksumType"], [stored[n] for n in used]
            )
            if kept is not None:
                record["PartChecksums"] = kept
        doomed, version = write_version(tx, bucket, key, record)
        for number, part in stored.items():
            tx.delete(NS, parts_kind(bucket["Name"]), part_key(upload_id, number))
            doomed.append(part["BlobId"])
        tx.delete(NS, uploads_kind(bucket["Name"]), upload_id)
        out = {
            "Location": params.get("__location") or f"/{bucket['Name']}/{quote(key)}",
            "Bucket": bucket["Name"],
            "Key": key,
            "ETag": record["ETag"],
            "ServerSideEncryption": SSE_S3,
            **prepared.checksums,
        }
        if prepared.checksums:
            out["ChecksumType"] = record["ChecksumType"]
        if version is not None:
            out["VersionId"] = version
        return after_commit(out, self.blobs, doomed)

    # -- abort and listings -------------------------------------------------------------------

    def AbortMultipartUpload(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket, upload = load_upload(tx, call.params)
        upload_id = upload["UploadId"]
        doomed: list[str] = []
        for number, part in _stored_parts(tx, bucket["Name"], upload_id).items():
            tx.delete(NS, parts_kind(bucket["Name"]), part_key(upload_id, number))
            doomed.append(part["BlobId"])
        tx.delete(NS, uploads_kind(bucket["Name"]), upload_id)
        return after_commit({"__status": 204}, self.blobs, doomed)

    def ListParts(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        bucket, upload = load_upload(tx, params)
        upload_id = upload["UploadId"]
        limit = min(non_negative(params, "MaxParts", "max-parts") or MAX_PARTS_LISTED,
                    MAX_PARTS_LISTED)
        marker = non_negative(params, "PartNumberMarker", "part-number-marker") or 0
        after = part_key(upload_id, marker) if marker else None
        rows = tx.list(
            NS, parts_kind(bucket["Name"]), prefix=f"{upload_id}/", after=after, limit=limit + 1
        )
        truncated = len(rows) > limit
        rows = rows[:limit]
        parts = []
        for row in rows:
            part = {
                "PartNumber": row["PartNumber"],
                "LastModified": when(row["LastModified"]),
                "ETag": row["ETag"],
                "Size": row["Size"],
            }
            part.update(row.get("Checksums") or {})
            parts.append(part)
        out: dict[str, Any] = {
            "Bucket": bucket["Name"],
            "Key": upload["Key"],
            "UploadId": upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": truncated,
            "Parts": parts,
            "Initiator": upload["Initiator"],
            "Owner": owner_view(object_owner(bucket, upload["Writer"], upload.get("ACL"))),
            "StorageClass": upload["StorageClass"],
        }
        if truncated and parts:
            out["NextPartNumberMarker"] = parts[-1]["PartNumber"]
        if upload.get("ChecksumAlgorithm"):
            out["ChecksumAlgorithm"] = upload["ChecksumAlgorithm"]
            out["ChecksumType"] = upload.get("ChecksumType") or COMPOSITE
        return out

    def ListMultipartUploads(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        bucket = load_bucket(tx, params)
        prefix = str(params.get("Prefix") or "")
        delimiter = str(params.get("Delimiter") or "")
        key_marker = str(params.get("KeyMarker") or "")
        id_marker = str(params.get("UploadIdMarker") or "")
        limit = min(non_negative(params, "MaxUploads", "max-uploads") or MAX_UPLOADS_LISTED,
                    MAX_UPLOADS_LISTED)
        encoding = encoding_type(params)
        # Incomplete uploads are few: order them all by key, then initiation.
        uploads = sorted(
            (u for u in tx.list(NS, uploads_kind(bucket["Name"])) if u["Key"].startswith(prefix)),
            key=lambda u: (u["Key"], u["UploadId"]),  # upload ids sort by initiation
        )
        items: list[tuple[str, dict[str, Any] | None]] = []
        for upload in uploads:
            if not _after_marker(upload, key_marker, id_marker):
                continue
            group = rollup(upload["Key"], prefix, delimiter)
            if group is None:
                items.append((upload["Key"], upload))
            elif (not items or items[-1][0] != group) and not (key_marker and group <= key_marker):
                items.append((group, None))
        truncated = len(items) > limit
        items = items[:limit]
        out: dict[str, Any] = {
            "Bucket": bucket["Name"],
            "KeyMarker": key_marker,
            "UploadIdMarker": id_marker,
            "Prefix": prefix,
            "MaxUploads": limit,
            "IsTruncated": truncated,
            "Uploads": [_upload_view(bucket, u) for _, u in items if u is not None],
            "CommonPrefixes": [{"Prefix": name} for name, u in items if u is None],
        }
        if delimiter:
            out["Delimiter"] = delimiter
        if encoding is not None:
            out["EncodingType"] = encoding
        if truncated and items:
            name, last = items[-1]
            out["NextKeyMarker"] = name
            out["NextUploadIdMarker"] = last["UploadId"] if last is not None else ""
        return out


def _upload_view(bucket: dict[str, Any], upload: dict[str, Any]) -> dict[str, Any]:
    return {
        "UploadId": upload["UploadId"],
        "Key": upload["Key"],
        "Initiated": when(upload["Initiated"]),
        "StorageClass": upload["StorageClass"],
        "Owner": owner_view(object_owner(bucket, upload["Writer"], upload.get("ACL"))),
        "Initiator": upload["Initiator"],
        **_checksum_view(upload),
    }


def _checksum_view(upload: dict[str, Any]) -> dict[str, str]:
    """ListMultipartUploads: an upload's checksum algorithm and type, when it has one."""
    if not upload.get("ChecksumAlgorithm"):
        return {}
    return {
        "ChecksumAlgorithm": str(upload["ChecksumAlgorithm"]),
        "ChecksumType": str(upload.get("ChecksumType") or COMPOSITE),
    }


def _after_marker(upload: dict[str, Any], key_marker: str, id_marker: str) -> bool:
    """Uploads after ``key-marker`` (and, for that key, after ``upload-id-marker``)."""
    if not key_marker or upload["Key"] > key_marker:
        return True
    return upload["Key"] == key_marker and bool(id_marker) and upload["UploadId"] > id_marker


def new_upload_id(now: datetime) -> str:
    """A random upload id whose text order is its initiation order (microseconds, in hex)."""
    micros = int(now.timestamp() * 1_000_000)
    return f"{micros:014x}" + secrets.token_urlsafe(40)


def _as_writer(call: Call, upload: dict[str, Any]) -> Call:
    """The call that completes an upload, acting for the account that started it (ownership
    and the canned ACL come from the initiation)."""
    params = dict(call.params)
    if upload.get("ACL"):
        params["ACL"] = upload["ACL"]
    else:
        params.pop("ACL", None)
    return replace(call, account=upload["Writer"], params=params)
