"""Validation of CloudTrail log files and digests (spec 8.6, 8.7), against a server (any
S3 + CloudTrail endpoint, through boto3) or offline on a copy of the bucket.

What is checked, per trail, account and region, for digests whose end lies in
``[start, end + 1 h]`` (the window ``aws cloudtrail validate-logs`` uses):

* every digest: gzip + JSON with the required fields, read from the place it names, signed
  (SHA256withRSA over the string of spec 8.3) by a key ListPublicKeys (or the exported key
  file) knows, valid when the digest ended;
* the chain: each ``previousDigest*`` link leads to an existing digest whose uncompressed
  SHA-256 and signature are the ones named, and whose end is the next one's start; a starting
  digest after older ones is a gap (named with its time range); a link to a digest that is gone
  makes that digest ``INVALID: not found``;
* every log file a valid digest lists: present, a single gzip stream, SHA-256 of the
  uncompressed bytes as listed;
* beyond the AWS CLI: every record's ``eventTime`` inside the listed file's
  [oldestEventTime, newestEventTime] and not after its digest's end, no ``eventID`` twice.

Messages use the AWS CLI's wording (``Digest file\\ts3://B/K\\tINVALID: not found``).  Log
files are checked (:mod:`.logcheck`) in worker processes, one per core (forked where that is
safe; threads for small runs), each reading or GETting its files itself; large files are
streamed (bounded memory).  Objects come from :mod:`.sources`.  Offline, a digest's
signature comes from a ``<key>.metadata.json`` side file (its S3 user metadata) or, failing
that, from the next digest's ``previousDigestSignature``.

The parts live in :mod:`.digest_chain` (the target, the public keys, one digest, the chain),
:mod:`.record_checks` (the checks beyond the AWS CLI) and :mod:`.validation_report` (the
results and their JSON form); this module runs them, with the log files' workers.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Final

from .digest_chain import KeyRing, Target, _fmt, listed_logs, load_digests, walk_chain
from .keys import parse_seconds
from .logcheck import (
    GUNZIP,
    VALID,
    LogJob,
    LogOutcome,
    Missing,
    check_log,
    forget_connections,
)
from .record_checks import _EventIds as _EventIds
from .record_checks import _out_of_range, confirm_dupes, confirm_times
from .sources import DirectorySource, ObjectSource, S3Source, SourceSpec
from .validation_report import LogResult, Report

__all__ = [
    "GUNZIP", "DirectorySource", "KeyRing", "LogJob", "LogOutcome", "Missing", "ObjectSource",
    "Report", "S3Source", "SourceSpec", "Target", "Validator", "check_log",
]

PROCESS_THRESHOLD: Final = 64
"""From this many log files on, they are checked in worker processes (else threads)."""


# -- the log files' workers --------------------------------------------------------------------


_WORKER: dict[str, Any] = {}


def _worker_init(source: ObjectSource | SourceSpec, record_checks: bool) -> None:
    """A worker process: its source (inherited when forked, else opened from its spec)."""
    forget_connections()
    _WORKER["source"] = source.open() if isinstance(source, SourceSpec) else source
    _WORKER["checks"] = record_checks


def _worker_check(job: LogJob) -> LogOutcome:
    return check_log(_WORKER["source"], job, _WORKER["checks"])


def _start_method() -> str:
    """``fork`` where it is cheap and safe (Linux, no other thread running): a worker starts
    in milliseconds with everything already imported; else ``spawn``."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


# -- the whole run -----------------------------------------------------------------------------


Progress = Callable[[int, int, int], None]
"""``progress(files_done, files_total, uncompressed_bytes_done)``."""


class Validator:
    """Validates one trail's digests and log files from ``spec``'s source with ``keys``."""

    def __init__(
        self,
        spec: SourceSpec,
        keys: KeyRing,
        *,
        workers: int | None = None,
        record_checks: bool = True,
        progress: Progress | None = None,
    ) -> None:
        self.spec = spec
        self.source = spec.open()
        self.keys = keys
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.record_checks = record_checks
        self.progress = progress

    def run(self, target: Target) -> Report:
        began = datetime.now(UTC)
        report = Report(target.trail_arn, _fmt(target.start), _fmt(target.end))
        digests = load_digests(self.source, target)
        walk_chain(self.source, self.keys, target, digests, report)
        jobs = listed_logs(digests)
        self._logs(jobs, report)
        self._found(target, report)
        report.seconds = (datetime.now(UTC) - began).total_seconds()
        return report

    def _outcomes(self, jobs: list[LogJob]) -> Iterator[LogOutcome]:
        """Each job's outcome, in order.  Workers read (or GET) the files themselves: only
        the jobs and the compact outcomes cross between processes."""
        if not jobs:
            return
        if self.workers == 1 or len(jobs) < PROCESS_THRESHOLD:
            with cf.ThreadPoolExecutor(max_workers=self.workers) as threads:
                yield from threads.map(
                    lambda j: check_log(self.source, j, self.record_checks), jobs
                )
            return
        method = _start_method()
        chunk = max(1, min(8, len(jobs) // (self.workers * 16)))
        with cf.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context(method),
            initializer=_worker_init,
            initargs=(self.source if method == "fork" else self.spec, self.record_checks),
        ) as pool:
            yield from pool.map(_worker_check, jobs, chunksize=chunk)

    def _logs(self, jobs: list[LogJob], report: Report) -> None:
        ids = _EventIds()
        done = size = 0
        for out in self._outcomes(jobs):
            job = out.job
            report.logs.append(LogResult(job.bucket, job.key, out.message, job.digest,
                                         out.size, out.records))
            done += 1
            size += out.size
            if self.progress is not None:
                self.progress(done, len(jobs), size)
            if out.message != VALID or not self.record_checks:
                continue
            ids.add(out)
            if _out_of_range(out):
                confirm_times(self.source, job, report)
        confirm_dupes(self.source, ids.dupes, report)

    @staticmethod
    def _found(target: Target, report: Report) -> None:
        starts = [max(parse_seconds(r.start), target.start)
                  for r in report.digests if r.valid and r.start]
        ends = [min(parse_seconds(r.end), target.end)
                for r in report.digests if r.valid and r.end]
        if starts and ends:
            report.found_start, report.found_end = _fmt(min(starts)), _fmt(max(ends))
