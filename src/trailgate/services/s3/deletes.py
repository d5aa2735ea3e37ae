"""DeleteObject and DeleteObjects, unversioned and versioned.

* Unversioned bucket, no version id: the object goes (204 even when there was none).
* Versioned bucket (Enabled or Suspended), no version id: a delete marker becomes the latest
  version (``x-amz-delete-marker: true`` and its ``x-amz-version-id``); a suspended bucket's
  marker is the ``null`` version and replaces the previous null version.
* A version id: that version goes for good (``x-amz-delete-marker: true`` when it was a
  marker); deleting the latest lets the next version become the latest (deleting a delete
  marker "undeletes").  An unknown version id is no error: there is nothing to delete.

DeleteObjects reports each key as DeleteObject would (``DeleteMarker``,
``DeleteMarkerVersionId``); a malformed version id is that key's ``NoSuchVersion`` error.
The blobs of removed versions are deleted after the commit.

Conditional deletes (``If-Match`` on DeleteObject, an entry's ``ETag`` in DeleteObjects) are
checked against the key's current object, as S3 documents for general purpose buckets: a
different ETag is 412 PreconditionFailed, no current object (none, or a delete marker) is
404 NoSuchKey; ``*`` matches any current object.

Object Lock (:mod:`.object_lock`): a version id naming a version under a legal hold or a
retention in force is refused (403 AccessDenied "Access Denied because object protected by
object lock.", in DeleteObjects that key's error); a GOVERNANCE retention gives way to
``x-amz-bypass-governance-retention: true`` from a caller allowed
``s3:BypassGovernanceRetention``.  The bypass header on a bucket without Object Lock is 400
InvalidArgument.
"""

from __future__ import annotations

from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.blobs import BlobStore
from ...store.interface import Tx
from ..base import Call
from .bodies import etag_matches
from .common import (
    NS,
    after_commit,
    load_bucket,
    malformed_xml,
    no_such_key,
    object_owner,
    objects_kind,
    precondition_failed,
)
from .object_lock import BYPASS_HEADER, delete_refusal, lock_enabled, may_bypass
from .versions import add_delete_marker, delete_version, find, requested_version, versioned

MAX_DELETE: Final = 1000
DENIED: Final = "__denied_keys"
"""The gateway's per-entry refusals: a set of ``(key, version id or None)``."""


def _check_bypass_header(params: dict[str, Any], bucket: dict[str, Any]) -> None:
    if params.get("BypassGovernanceRetention") is not None and not lock_enabled(bucket):
        # As LocalStack's tests recorded it from S3: the argument's name, no value.
        raise ServiceError(
            "InvalidArgument",
            "x-amz-bypass-governance-retention is only applicable to Object Lock enabled "
            "buckets.", 400, {"ArgumentName": BYPASS_HEADER})


def _check_lock(tx: Tx, call: Call, bucket: dict[str, Any], key: str, version: str) -> None:
    if not lock_enabled(bucket):
        return
    found = find(tx, bucket, key, version)
    if found is None:
        return
    refusal = delete_refusal(found.record, call.now, lambda: may_bypass(call.params, key))
    if refusal is not None:
        raise refusal


def check_delete_condition(tx: Tx, bucket: dict[str, Any], key: str, if_match: Any) -> None:
    """A conditional delete's ETag against the key's current object."""
    if if_match is None:
        return
    # UNSURE: with a version id too, S3 says conditions apply to the current version only;
    # they are checked against it here whatever version the request names.
    current = tx.get(NS, objects_kind(bucket["Name"]), key)
    if current is None:
        raise no_such_key(key)
    if not etag_matches(str(if_match), str(current["ETag"])):
        raise precondition_failed("If-Match")


def delete_one(
    tx: Tx, call: Call, bucket: dict[str, Any], key: str, version: str | None
) -> tuple[dict[str, Any], list[str]]:
    """Delete ``key`` (or one version of it); returns what S3 tells about it (``DeleteMarker``,
    ``VersionId``: the version removed or the marker made) and the blobs to delete.  A locked
    version is refused (:func:`.object_lock.delete_refusal`)."""
    if version is not None:
        _check_lock(tx, call, bucket, key, version)
        removed, doomed = delete_version(tx, bucket, key, version)
        told: dict[str, Any] = {"VersionId": version}
        if removed is not None and removed.get("DeleteMarker"):
            told["DeleteMarker"] = True
        return told, doomed
    if versioned(bucket):
        owner = object_owner(bucket, call.account, None)
        doomed, marker = add_delete_marker(tx, bucket, key, owner, call.now)
        return {"DeleteMarker": True, "VersionId": marker}, doomed
    _, doomed = delete_version(tx, bucket, key, "null")  # the object, if there is one
    return {}, doomed


def _entry(key: str, version: Any, told: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Key": key}
    if version is not None:
        entry["VersionId"] = version
    if told.get("DeleteMarker"):
        entry["DeleteMarker"] = True
        entry["DeleteMarkerVersionId"] = told["VersionId"]
    return entry


def _version_error(key: str, version: Any) -> dict[str, Any]:
    return {"Key": key, "VersionId": version, "Code": "NoSuchVersion",
            "Message": "The specified version does not exist."}


class DeleteOps:
    blobs: BlobStore

    def DeleteObject(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        version = requested_version(call.params.get("VersionId"))
        _check_bypass_header(call.params, bucket)
        key = str(call.params.get("Key") or "")
        check_delete_condition(tx, bucket, key, call.params.get("IfMatch"))
        told, doomed = delete_one(tx, call, bucket, key, version)
        return after_commit({**told, "__status": 204}, self.blobs, doomed)

    def DeleteObjects(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        request = call.params.get("Delete") or {}
        objects = request.get("Objects") or []
        if not objects or len(objects) > MAX_DELETE:
            raise malformed_xml()
        _check_bypass_header(call.params, bucket)
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        doomed: list[str] = []
        refused = call.params.get(DENIED) or set()
        for item in objects:
            key = str(item.get("Key") or "")
            version = item.get("VersionId")
            if (key, version) in refused:  # the gateway's per-key authorization refused it
                error = {"Key": key, "Code": "AccessDenied", "Message": "Access Denied"}
                errors.append(error if version is None else {**error, "VersionId": version})
                continue
            try:
                wanted = requested_version(version)
            except ServiceError:
                errors.append(_version_error(key, version))
                continue
            try:
                check_delete_condition(tx, bucket, key, item.get("ETag"))
                told, gone = delete_one(tx, call, bucket, key, wanted)
            except ServiceError as err:  # a failed condition or a locked version
                errors.append({"Key": key, "VersionId": version, "Code": err.code,
                               "Message": err.message})
                continue
            doomed += gone
            deleted.append(_entry(key, version, told))
        out: dict[str, Any] = {}
        if not request.get("Quiet") and deleted:
            out["Deleted"] = deleted
        if errors:
            out["Errors"] = errors
        return after_commit(out, self.blobs, doomed)
