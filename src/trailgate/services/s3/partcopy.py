"""UploadPartCopy: a part of a multipart upload copied from an object S3 already holds.

``prepare_UploadPartCopy`` checks the upload and the source on a snapshot, then copies the
source's bytes (all of them, or the ``x-amz-copy-source-range``) to a new blob outside the
transaction; the transaction records it as the part, exactly as UploadPart records an uploaded
one.  Errors follow S3: ``NoSuchUpload``, ``NoSuchBucket`` / ``NoSuchKey`` for the source,
``PreconditionFailed`` for the ``x-amz-copy-source-if-*`` headers, and ``InvalidArgument`` for
a range that is not ``bytes=first-last`` or does not fit in the source.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.blobs import BlobStore
from ...store.interface import Tx
from ..base import Call
from .bodies import (
    DEFAULT_CHECKSUM,
    BlobBody,
    Prepared,
    check_copy_conditions,
    open_blob,
    run_prepared,
    write_copy,
)
from .common import (
    SSE_S3,
    after_commit,
    invalid_argument,
    load_bucket,
    part_number,
    when,
)
from .multipart import load_upload, store_part
from .objects import Reader, parse_copy_source
from .versions import copy_source, shown_version, source_version

_COPY_RANGE: Final = re.compile(r"bytes=(\d+)-(\d+)")


def copy_range(header: Any, size: int) -> tuple[int, int]:
    """``x-amz-copy-source-range`` -> ``(start, length)``; the whole source when absent."""
    if header is None:
        return 0, size
    match = _COPY_RANGE.fullmatch(str(header))
    if match is None:
        raise invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            header,
        )
    first, last = int(match.group(1)), int(match.group(2))
    if last < first or last >= size:
        raise invalid_argument(
            f"Range specified is not valid for source object of size: {size}",
            "x-amz-copy-source-range",
            header,
        )
    return first, last - first + 1


class PartCopyOps:
    blobs: BlobStore
    read: Reader | None

    def prepare_UploadPartCopy(self, call: Call) -> Prepared | None:
        if self.read is None:
            return None  # the transaction copies the bytes itself
        return self._prepare_part_copy(call, self.read)

    def _prepare_part_copy(self, call: Call, read: Reader) -> Prepared:
        params = call.params
        try:
            src_bucket, src_key = parse_copy_source(params.get("CopySource"))
            version = source_version(params.get("CopySource"))
            lookup = {
                "Bucket": src_bucket,
                "ExpectedBucketOwner": params.get("ExpectedSourceBucketOwner"),
            }

            def snapshot(tx: Tx) -> tuple[str | None, dict[str, Any], Any, dict[str, str]]:
                _bucket, upload = load_upload(tx, params)
                part_number(params.get("PartNumber"))
                source = load_bucket(tx, lookup)
                record = copy_source(tx, source, src_key, version)
                algorithm = upload.get("ChecksumAlgorithm") or DEFAULT_CHECKSUM
                return algorithm, record, open_blob(
                    self.blobs, record["BlobId"]
                ), shown_version(source, record)

            algorithm, record, file, shown = read(snapshot)
        except ServiceError as err:
            return Prepared(self.blobs, error=err)
        try:
            check_copy_conditions(params, record)
            start, length = copy_range(params.get("CopySourceRange"), int(record["Size"]))
            ready = write_copy(self.blobs, BlobBody(file, start, length), algorithm)
            ready.extra = {"shown": shown}
            return ready
        except ServiceError as err:
            return Prepared(self.blobs, error=err)
        finally:
            file.close()

    def UploadPartCopy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return run_prepared(
            call.prepared,
            lambda: self._prepare_part_copy(call, lambda fn: fn(tx)),
            lambda prepared: self._upload_part_copy(call, tx, prepared),
        )

    def _upload_part_copy(self, call: Call, tx: Tx, prepared: Prepared) -> dict[str, Any]:
        params = call.params
        bucket, upload = load_upload(tx, params)
        number = part_number(params.get("PartNumber"))
        prepared.raise_error()
        record, doomed = store_part(tx, bucket, upload, number, prepared, call.now)
        result = {
            "ETag": record["ETag"],
            "LastModified": when(record["LastModified"]),
            **prepared.checksums,
        }
        out: dict[str, Any] = {"CopyPartResult": result, "ServerSideEncryption": SSE_S3}
        shown = prepared.extra.get("shown") or {}
        if shown:  # a versioned source bucket: the version copied
            out["CopySourceVersionId"] = shown["VersionId"]
        return after_commit(out, self.blobs, doomed)
