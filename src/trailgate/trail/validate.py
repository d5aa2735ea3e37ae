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
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import hashlib
import itertools
import json
import multiprocessing
import os
import re
import sys
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .keys import SIGNATURE_ALGORITHM, PublicKey, fingerprint, parse_seconds, string_to_sign
from .logcheck import (
    GUNZIP,
    VALID,
    LogJob,
    LogOutcome,
    Missing,
    check_log,
    forget_connections,
)
from .sources import DirectorySource, ObjectSource, S3Source, SourceSpec

__all__ = [
    "GUNZIP", "DirectorySource", "KeyRing", "LogJob", "LogOutcome", "Missing", "ObjectSource",
    "Report", "S3Source", "SourceSpec", "Target", "Validator", "check_log",
]

REQUIRED: Final = (
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
)
KEY_SLACK: Final = timedelta(minutes=5)
PROCESS_THRESHOLD: Final = 64
"""From this many log files on, they are checked in worker processes (else threads)."""


# -- results -----------------------------------------------------------------------------------


@dataclass
class DigestResult:
    bucket: str
    key: str
    message: str  # "valid" or "INVALID: ..."
    start: str | None = None
    end: str | None = None
    log_files: int = 0

    @property
    def valid(self) -> bool:
        return self.message == VALID

    def line(self) -> str:
        return f"Digest file\ts3://{self.bucket}/{self.key}\t{self.message}"


@dataclass
class LogResult:
    bucket: str
    key: str
    message: str
    digest: str  # key of the digest listing it
    size: int = 0  # uncompressed bytes
    records: int = 0

    @property
    def valid(self) -> bool:
        return self.message == VALID

    def line(self) -> str:
        return f"Log file\ts3://{self.bucket}/{self.key}\t{self.message}"


@dataclass
class Gap:
    """No digest covers ``[start, end)``: logging or validation was off, or digests are gone."""

    start: str
    end: str

    def line(self) -> str:
        return f"No log files were delivered by CloudTrail between {self.start} and {self.end}"


@dataclass
class Report:
    trail_arn: str
    requested_start: str
    requested_end: str
    digests: list[DigestResult] = field(default_factory=list)
    logs: list[LogResult] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # checks beyond the AWS CLI's
    found_start: str | None = None
    found_end: str | None = None
    seconds: float = 0.0

    @property
    def valid(self) -> bool:
        """True only when at least one digest was found and everything checked is valid."""
        return (
            bool(self.digests)
            and all(d.valid for d in self.digests)
            and all(g.valid for g in self.logs)
            and not self.problems
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["valid"] = self.valid
        out["summary"] = {
            "digestFiles": _counts(self.digests),
            "logFiles": _counts(self.logs),
            "records": sum(g.records for g in self.logs),
            "uncompressedBytes": sum(g.size for g in self.logs),
        }
        return out


def _counts(items: Iterable[DigestResult | LogResult]) -> dict[str, int]:
    seq = list(items)
    good = sum(1 for i in seq if i.valid)
    return {"total": len(seq), "valid": good, "invalid": len(seq) - good}


# -- public keys -------------------------------------------------------------------------------


class KeyRing:
    """Public keys by fingerprint, from ListPublicKeys or an exported key file."""

    def __init__(self, keys: Iterable[PublicKey]) -> None:
        self.keys = {k.fingerprint: k for k in keys}

    @staticmethod
    def from_cloudtrail(client: Any, start: datetime, end: datetime, region: str) -> KeyRing:
        found: list[PublicKey] = []
        kwargs: dict[str, Any] = {"StartTime": start, "EndTime": end}
        while True:
            page = client.list_public_keys(**kwargs)
            for item in page.get("PublicKeyList", []):
                der = bytes(item["Value"])
                found.append(PublicKey(region, str(item.get("Fingerprint") or fingerprint(der)),
                                       der, item["ValidityStartTime"], item["ValidityEndTime"]))
            if not page.get("NextToken"):
                return KeyRing(found)
            kwargs["NextToken"] = page["NextToken"]

    @staticmethod
    def from_file(path: Path, region: str | None = None) -> KeyRing:
        data = json.loads(path.read_text())
        items = data.get("keys", []) if isinstance(data, dict) else data
        keys = [PublicKey.from_json(i) for i in items]
        return KeyRing(k for k in keys if region is None or k.region in ("", region))


# -- one digest --------------------------------------------------------------------------------


@dataclass
class _Digest:
    result: DigestResult
    data: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    signature: str | None = None
    raw: bytes = b""
    verified: bool = False


def _verify(key: PublicKey, message: bytes, signature: str) -> bool:
    public = key.load()
    assert isinstance(public, rsa.RSAPublicKey)
    try:
        public.verify(bytes.fromhex(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _invalid(item: _Digest, why: str) -> _Digest:
    item.result.message = f"INVALID: {why}"
    return item


def _load_digest(source: ObjectSource, bucket: str, key: str) -> _Digest:
    item = _Digest(DigestResult(bucket, key, VALID))
    try:
        raw, meta = source.get(bucket, key)
    except Missing:
        return _invalid(item, "not found")
    except Exception as err:  # an S3 error other than NoSuchKey
        return _invalid(item, str(err))
    try:
        item.raw = zlib.decompress(raw, zlib.MAX_WBITS | 16)
        data = json.loads(item.raw.decode())
    except (ValueError, zlib.error):
        return _invalid(item, "invalid format")
    if not isinstance(data, dict) or any(k not in data for k in REQUIRED):
        return _invalid(item, "invalid format")
    item.data = data
    item.result.start, item.result.end = data.get("digestStartTime"), data.get("digestEndTime")
    item.sha256 = hashlib.sha256(item.raw).hexdigest()
    if meta.get("signature-algorithm", SIGNATURE_ALGORITHM) != SIGNATURE_ALGORITHM:
        return _invalid(item, "signature verification failed")
    item.signature = meta.get("signature")
    if data["digestS3Bucket"] != bucket or data["digestS3Object"] != key:
        return _invalid(item, "has been moved from its original location")
    return item


def _check_signature(item: _Digest, keys: KeyRing, home_region: str) -> None:
    """Verify ``item`` (already loaded and with a signature) against ``keys``."""
    data = item.data
    fp = str(data["digestPublicKeyFingerprint"])
    key = keys.keys.get(fp)
    if key is None:
        _invalid(item, f"public key not found in region {home_region} for fingerprint {fp}")
        return
    if item.signature is None:
        _invalid(item, "signature verification failed (no signature metadata)")
        return
    try:
        key.load()
    except ValueError:
        _invalid(item, f"Unable to load PKCS #1 key with fingerprint {fp}")
        return
    message = string_to_sign(str(data["digestEndTime"]), str(data["digestS3Bucket"]),
                             str(data["digestS3Object"]), item.sha256,
                             data["previousDigestSignature"])
    if not _verify(key, message, item.signature):
        _invalid(item, "signature verification failed")
        return
    try:
        ended = parse_seconds(str(data["digestEndTime"]))
    except ValueError:
        _invalid(item, "invalid format")
        return
    if not key.valid_from - KEY_SLACK <= ended <= key.valid_until + KEY_SLACK:
        _invalid(item, f"signed with key {fp} outside its validity")
        return
    item.verified = True
    item.result.log_files = len(data.get("logFiles") or [])


# -- log files ---------------------------------------------------------------------------------


def top_level(source: ObjectSource, bucket: str, key: str) -> list[dict[str, Any]]:
    """The file's records, parsed in full (to confirm a finding of the fast scan)."""
    _size, pieces = source.body(bucket, key)
    raw = zlib.decompress(b"".join(pieces), zlib.MAX_WBITS | 16)
    records = orjson.loads(raw).get("Records") or []
    return [r for r in records if isinstance(r, dict)]


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


@dataclass
class Target:
    """What to validate (the AWS CLI's arguments, resolved)."""

    trail_arn: str
    start: datetime
    end: datetime
    bucket: str
    prefix: str | None = None
    account_id: str | None = None  # default: the trail's account
    region: str | None = None  # the region whose digests are read; default: home region
    org_id: str | None = None

    @property
    def home_region(self) -> str:
        return self.trail_arn.split(":")[3]

    @property
    def name(self) -> str:
        return self.trail_arn.split("/")[-1]

    @property
    def account(self) -> str:
        return self.account_id or self.trail_arn.split(":")[4]

    @property
    def source_region(self) -> str:
        return self.region or self.home_region

    def digest_prefix(self) -> str:
        org = f"{self.org_id}/" if self.org_id else ""
        head = f"{self.prefix}/" if self.prefix else ""
        return f"{head}AWSLogs/{org}{self.account}/CloudTrail-Digest/{self.source_region}"

    def marker(self) -> str:
        """The key a digest ending a minute before ``start`` would have (the CLI's marker)."""
        moment = self.start - timedelta(minutes=1)
        return (
            f"{self.digest_prefix()}/{moment:%Y/%m/%d}/{self.account}_CloudTrail-Digest_"
            f"{self.source_region}_{self.name}_{self.home_region}_{moment:%Y%m%dT%H%M%SZ}.json.gz"
        )

    def key_pattern(self) -> re.Pattern[str]:
        return re.compile(
            "^" + re.escape(self.digest_prefix()) + r"/\d+/\d+/\d+/"
            + re.escape(f"{self.account}_CloudTrail-Digest_{self.source_region}_{self.name}_"
                        f"{self.home_region}_")
            + r"(\d{8}T\d{6}Z)\.json\.gz$"
        )


Progress = Callable[[int, int, int], None]
"""``progress(files_done, files_total, uncompressed_bytes_done)``."""


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_time(key: str) -> datetime:
    return datetime.strptime(key[-24:-8], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


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
        digests = self._digests(target)
        self._chain(target, digests, report)
        jobs = self._jobs(digests)
        self._logs(jobs, report)
        self._found(target, report)
        report.seconds = (datetime.now(UTC) - began).total_seconds()
        return report

    # -- digests --------------------------------------------------------------------------

    def _listed(self, target: Target) -> list[str]:
        pattern = target.key_pattern()
        low = _fmt(target.start).replace("-", "").replace(":", "")
        high = _fmt(target.end + timedelta(hours=1)).replace("-", "").replace(":", "")
        keys = []
        for key in self.source.list_keys(target.bucket, target.digest_prefix(), target.marker()):
            match = pattern.match(key)
            if match and low <= match.group(1) <= high:
                keys.append(key)
        return sorted(keys, key=lambda k: (k[-24:-8], k))

    def _digests(self, target: Target) -> dict[tuple[str, str], _Digest]:
        listed = self._listed(target)
        with cf.ThreadPoolExecutor(max_workers=8) as pool:
            loaded = list(pool.map(lambda k: _load_digest(self.source, target.bucket, k), listed))
        return {(d.result.bucket, d.result.key): d for d in loaded}

    def _chain(
        self, target: Target, digests: dict[tuple[str, str], _Digest], report: Report
    ) -> None:
        """Verify newest first (so a successor's ``previousDigestSignature`` can stand in for
        a signature an offline copy lacks), following every link; then check the links."""
        queue = sorted(digests.values(), key=lambda d: _key_time(d.result.key), reverse=True)
        seen: set[tuple[str, str]] = set()
        while queue:
            item = queue.pop(0)
            ident = (item.result.bucket, item.result.key)
            if ident in seen:
                continue
            seen.add(ident)
            if item.result.valid:
                _check_signature(item, self.keys, target.home_region)
            report.digests.append(item.result)
            prev = self._previous(target, item, digests) if item.verified else None
            if prev is not None:
                queue.insert(0, prev)
        report.digests.sort(key=lambda r: (r.key[-24:-8], r.key))
        for item in digests.values():
            if item.verified:
                self._check_link(item, digests, report)
        self._gaps(digests, report)

    def _previous(
        self, target: Target, item: _Digest, digests: dict[tuple[str, str], _Digest]
    ) -> _Digest | None:
        """The previous digest ``item`` links to (fetched when not listed), unless it lies
        before the requested range or there is none."""
        data = item.data
        bucket, key = data.get("previousDigestS3Bucket"), data.get("previousDigestS3Object")
        if not bucket or not key:
            return None
        prev = digests.get((bucket, key))
        if prev is None:
            if _key_time(key) < target.start:
                return None
            prev = _load_digest(self.source, bucket, key)
            digests[(bucket, key)] = prev
        if prev.signature is None and prev.data:
            prev.signature = data.get("previousDigestSignature")
        return prev

    @staticmethod
    def _check_link(
        item: _Digest, digests: dict[tuple[str, str], _Digest], report: Report
    ) -> None:
        """A verified digest and the verified previous digest it names must agree."""
        data = item.data
        prev = digests.get((str(data.get("previousDigestS3Bucket")),
                            str(data.get("previousDigestS3Object"))))
        if prev is None or not prev.verified:
            return
        here = f"s3://{item.result.bucket}/{item.result.key}"
        there = f"Digest file\ts3://{prev.result.bucket}/{prev.result.key}\t"
        if prev.sha256 != data.get("previousDigestHashValue"):
            report.problems.append(f"{there}hash differs from previousDigestHashValue of {here}")
        if prev.signature != data.get("previousDigestSignature"):
            report.problems.append(
                f"{there}signature differs from previousDigestSignature of {here}"
            )
        if prev.data.get("digestEndTime") != data.get("digestStartTime"):
            report.problems.append(
                f"{there}ends at {prev.data.get('digestEndTime')} but {here} starts at "
                f"{data.get('digestStartTime')}"
            )

    @staticmethod
    def _gaps(digests: dict[tuple[str, str], _Digest], report: Report) -> None:
        """A starting digest (no previous) after an older digest: the chain was broken."""
        timeline = sorted(
            (d for d in digests.values() if d.data),
            key=lambda d: (str(d.data["digestEndTime"]), d.result.key),
        )
        for older, newer in itertools.pairwise(timeline):
            if newer.data.get("previousDigestS3Object") is None:
                report.gaps.append(Gap(str(older.data["digestEndTime"]),
                                       str(newer.data["digestStartTime"])))

    # -- log files ------------------------------------------------------------------------

    def _jobs(self, digests: dict[tuple[str, str], _Digest]) -> list[LogJob]:
        return self._listed_logs(digests)

    @staticmethod
    def _listed_logs(digests: dict[tuple[str, str], _Digest]) -> list[LogJob]:
        jobs: dict[tuple[str, str], LogJob] = {}
        ordered = sorted(digests.values(), key=lambda d: d.result.key, reverse=True)
        for item in ordered:
            if not item.verified:
                continue
            for entry in item.data.get("logFiles") or []:
                ident = (str(entry.get("s3Bucket")), str(entry.get("s3Object")))
                jobs.setdefault(ident, LogJob(
                    ident[0], ident[1], str(entry.get("hashValue")),
                    entry.get("oldestEventTime"), entry.get("newestEventTime"),
                    str(item.data["digestEndTime"]), item.result.key,
                ))
        return list(jobs.values())

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
                self._confirm_times(job, report)
        self._confirm_dupes(ids.dupes, report)

    def _confirm_times(self, job: LogJob, report: Report) -> None:
        for record in top_level(self.source, job.bucket, job.key):
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

    def _confirm_dupes(self, dupes: dict[str, list[str]], report: Report) -> None:
        """The fast scan also sees nested keys: count top-level eventIDs only."""
        if not dupes:
            return
        files = {k for keys in dupes.values() for k in keys}
        counts: dict[str, list[str]] = {}
        by_key = {g.key: g for g in report.logs}
        for key in sorted(files):
            for record in top_level(self.source, by_key[key].bucket, key):
                ident = record.get("eventID")
                if isinstance(ident, str) and ident in dupes:
                    counts.setdefault(ident, []).append(key)
        for ident, keys in sorted(counts.items()):
            if len(keys) > 1:
                report.problems.append(
                    f"eventID {ident} appears {len(keys)} times: "
                    + ", ".join(f"s3://{by_key[k].bucket}/{k}" for k in keys)
                )

    @staticmethod
    def _found(target: Target, report: Report) -> None:
        starts = [max(parse_seconds(r.start), target.start)
                  for r in report.digests if r.valid and r.start]
        ends = [min(parse_seconds(r.end), target.end)
                for r in report.digests if r.valid and r.end]
        if starts and ends:
            report.found_start, report.found_end = _fmt(min(starts)), _fmt(max(ends))


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
