"""The S3 service provider: one method per S3 operation, named as botocore names it.

Each method has the signature ``(self, call: Call, tx: Tx) -> dict`` (see
:mod:`trailgate.services.base`) and returns the operation's output shape, plus optionally
``__status`` (e.g. 204, 206), ``__headers`` (raw extra headers) and ``__after_commit`` (zero-arg
callables the gateway runs once the transaction committed: deleting the blobs of replaced or
deleted objects).  Record layouts are documented in :mod:`trailgate.services.s3.queries`.

Object bytes never pass through the store's writer thread: ``prepare_PutObject``,
``prepare_UploadPart``, ``prepare_CopyObject`` and ``prepare_CompleteMultipartUpload`` write
blobs beforehand (see :mod:`.bodies`).  Copy and Complete read the store outside the transaction
through ``read`` (``Store.read``); without it they do that work inside the transaction.

Blob reclamation:

* a blob a committed transaction stopped referring to is deleted right after the commit
  (``__after_commit``);
* a blob written by a prepare whose transaction raised is deleted by ``Prepared.discard``;
* anything else (a crash between a commit and its clean-up, a commit that failed after the
  function ran) is found by :meth:`S3Provider.sweep_orphans`: a blob file older than an hour
  that no record refers to (``ids`` index ``s3blob:<id>``).  Run it at start-up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from ...store.blobs import TEMP_DIR, BlobStore
from ...store.interface import Tx
from .attributes import AttributesOps
from .bucket_settings import BucketSettingsOps
from .buckets import BucketOps
from .common import blob_ref, drop_blobs
from .configs import ConfigOps
from .deletes import DeleteOps
from .listing import ListingOps
from .lock_ops import ObjectLockOps
from .multipart import MultipartOps
from .objects import ObjectOps, Reader
from .partcopy import PartCopyOps
from .versioning import VersioningOps

SWEEP_BATCH: Final = 1000


class S3Provider(
    BucketOps, ConfigOps, BucketSettingsOps, ListingOps, ObjectOps, AttributesOps,
    MultipartOps, PartCopyOps, DeleteOps, VersioningOps, ObjectLockOps,
):
    """S3 in region ``region`` over ``blobs`` (which must hold S3's blobs only: the sweep
    deletes every old blob no S3 record refers to)."""

    def __init__(self, blobs: BlobStore, region: str, *, read: Reader | None = None) -> None:
        self.blobs = blobs
        self.region = region
        self.read = read

    def sweep_orphans(self, read: Reader | None = None, *, older_than: float = 3600.0) -> int:
        """Delete blobs older than ``older_than`` seconds that no record refers to; returns how
        many.  Safe while the server runs: younger blobs may belong to requests in flight."""
        reader = read or self.read
        if reader is None:
            raise ValueError("sweep_orphans needs Store.read")
        cutoff = time.time() - older_than
        removed = 0
        batch: list[str] = []
        for path in self._blob_files():
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            batch.append(path.name)
            if len(batch) >= SWEEP_BATCH:
                removed += self._drop_unreferenced(reader, batch)
                batch = []
        if batch:
            removed += self._drop_unreferenced(reader, batch)
        return removed

    def _blob_files(self) -> Iterator[Path]:
        for directory in self.blobs.root.iterdir():
            if directory.name == TEMP_DIR or len(directory.name) != 2 or not directory.is_dir():
                continue
            yield from (p for p in directory.iterdir() if len(p.name) == 32)

    def _drop_unreferenced(self, reader: Reader, blob_ids: list[str]) -> int:
        def unreferenced(tx: Tx) -> list[str]:
            return [b for b in blob_ids if tx.index_get(blob_ref(b)) is None]

        garbage: list[str] = reader(unreferenced)
        drop_blobs(self.blobs, garbage)
        return len(garbage)
