"""The checks of ``trailgate validate-logs`` beyond the AWS CLI's (:mod:`.validate`), over the
outcomes of the log files (:mod:`.logcheck`): every record's ``eventTime`` inside its file's
listed range and not after its digest's end, and no ``eventID`` twice (the bookkeeping of the
ids seen so far).  A finding of the fast scan is confirmed by a full parse of the files
involved before it becomes a problem in the :class:`~.validation_report.Report`.
"""

from __future__ import annotations

import collections
import zlib
from typing import Any

import orjson

from .logcheck import LogJob, LogOutcome
from .sources import ObjectSource
from .validation_report import Report

# -- findings of the fast scan -----------------------------------------------------------------


class _EventIds:
    """The eventIDs seen so far: one C-level pass per file (``set.update``) when nothing
    repeats.  On a repeat, the ids involved are noted in ``dupes`` (id -> files, first one
    first; the full parse of those files then confirms); the earlier file holding an id is
    looked up only then (``owner``, built incrementally from the files' id lists, first file
    wins)."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()
        self.files: list[LogOutcome] = []
        self.owner: dict[bytes, str] = {}
        self.indexed = 0
        self.dupes: dict[str, list[str]] = {}

    def add(self, out: LogOutcome) -> None:
        ids = out.id_list()
        before = len(self.seen)
        self.seen.update(ids)
        if len(self.seen) - before < len(ids):  # a repeat: in an earlier file or this one
            key = out.job.key
            owner = self._owners()
            for ident in owner.keys() & set(ids):
                self.dupes.setdefault(ident.decode(), [owner[ident]]).append(key)
            for ident, count in collections.Counter(ids).items():
                if count > 1:
                    self.dupes.setdefault(ident.decode(), []).append(key)
        self.files.append(out)

    def _owners(self) -> dict[bytes, str]:
        for out in self.files[self.indexed:]:
            fresh = dict.fromkeys(out.id_list(), out.job.key)
            for known in fresh.keys() & self.owner.keys():
                del fresh[known]  # keep the first file
            self.owner.update(fresh)
        self.indexed = len(self.files)
        return self.owner


def _out_of_range(out: LogOutcome) -> bool:
    job = out.job
    if out.oldest is None or out.newest is None:
        return False
    if job.oldest is not None and out.oldest < job.oldest:
        return True
    if job.newest is not None and out.newest > job.newest:
        return True
    return out.newest > job.digest_end


# -- confirmed by a full parse -----------------------------------------------------------------


def top_level(source: ObjectSource, bucket: str, key: str) -> list[dict[str, Any]]:
    """The file's records, parsed in full (to confirm a finding of the fast scan)."""
    _size, pieces = source.body(bucket, key)
    raw = zlib.decompress(b"".join(pieces), zlib.MAX_WBITS | 16)
    records = orjson.loads(raw).get("Records") or []
    return [r for r in records if isinstance(r, dict)]


def confirm_times(source: ObjectSource, job: LogJob, report: Report) -> None:
    """A record of ``job``'s file whose ``eventTime`` is out of its range is a problem."""
    for record in top_level(source, job.bucket, job.key):
        when = record.get("eventTime")
        if not isinstance(when, str):
            continue
        low, high = job.oldest or when, min(job.newest or when, job.digest_end)
        if not low <= when <= high:
            report.problems.append(
                f"Log file\ts3://{job.bucket}/{job.key}\tevent {record.get('eventID')} "
                f"eventTime {when} outside [{job.oldest}, {job.newest}] (digest ends "
                f"{job.digest_end})"
            )


def confirm_dupes(source: ObjectSource, dupes: dict[str, list[str]], report: Report) -> None:
    """The fast scan also sees nested keys: count top-level eventIDs only."""
    if not dupes:
        return
    files = {k for keys in dupes.values() for k in keys}
    counts: dict[str, list[str]] = {}
    by_key = {g.key: g for g in report.logs}
    for key in sorted(files):
        for record in top_level(source, by_key[key].bucket, key):
            ident = record.get("eventID")
            if isinstance(ident, str) and ident in dupes:
                counts.setdefault(ident, []).append(key)
    for ident, keys in sorted(counts.items()):
        if len(keys) > 1:
            report.problems.append(
                f"eventID {ident} appears {len(keys)} times: "
                + ", ".join(f"s3://{by_key[k].bucket}/{k}" for k in keys)
            )
