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
"""

from __future__ import annotations

from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.blobs import BlobStore
from ...store.interface import Tx
from ..base import Call
from .common import after_commit, load_bucket, malformed_xml, object_owner
from .versions import add_delete_marker, delete_version, requested_version, versioned

MAX_DELETE: Final = 1000
DENIED: Final = "__denied_keys"
"""The gateway's per-entry refusals: a set of ``(key, version id or None)``."""


def delete_one(
    tx: Tx, call: Call, bucket: dict[str, Any], key: str, version: str | None
) -> tuple[dict[str, Any], list[str]]:
    """Delete ``key`` (or one version of it); returns what S3 tells about it (``DeleteMarker``,
    ``VersionId``: the version removed or the marker made) and the blobs to delete."""
    if version is not None:
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
        told, doomed = delete_one(tx, call, bucket, str(call.params.get("Key") or ""), version)
        return after_commit({**told, "__status": 204}, self.blobs, doomed)

    def DeleteObjects(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        request = call.params.get("Delete") or {}
        objects = request.get("Objects") or []
        if not objects or len(objects) > MAX_DELETE:
            raise malformed_xml()
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
            told, gone = delete_one(tx, call, bucket, key, wanted)
            doomed += gone
            deleted.append(_entry(key, version, told))
        out: dict[str, Any] = {}
        if not request.get("Quiet") and deleted:
            out["Deleted"] = deleted
        if errors:
            out["Errors"] = errors
        return after_commit(out, self.blobs, doomed)
