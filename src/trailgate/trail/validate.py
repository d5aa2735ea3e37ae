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
files are checked in parallel worker processes (threads for small runs), streamed in chunks
(bounded memory).  Offline, a digest's signature comes from a ``<key>.metadata.json`` side file
(its S3 user metadata) or, failing that, from the next digest's ``previousDigestSignature``.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import gzip
import hashlib
import importlib
import itertools
import json
import multiprocessing
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .keys import SIGNATURE_ALGORITHM, PublicKey, fingerprint, parse_seconds, string_to_sign

REQUIRED: Final = (
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
)
CHUNK: Final = 1 << 20
WHOLE: Final = 16 << 20
"""Log files up to this many compressed bytes are gunzipped in one piece; larger ones are
streamed (bounded memory)."""
KEY_SLACK: Final = timedelta(minutes=5)
SIDE_FILE: Final = ".metadata.json"
_ID: Final = re.compile(rb'"eventID":"([^"\\]*)"')
_TIME: Final = re.compile(rb'"eventTime":"([^"\\]*)"')
VALID: Final = "valid"


def _inflater() -> Any:
    """ISA-L's gunzip (2-3x faster than zlib's) when the optional ``isal`` package is
    installed, else zlib; same API."""
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:  # pragma: no cover - depends on the environment
        return zlib


_inflate: Final[Any] = _inflater()
_INFLATE_ERRORS: Final[tuple[type[Exception], ...]] = (zlib.error, _inflate.error)
GUNZIP: Final = "isal" if _inflate is not zlib else "zlib"
PROCESS_THRESHOLD: Final = 64
"""From this many log files on, they are checked in worker processes (else threads)."""


class Missing(Exception):
    """The object does not exist (S3 ``NoSuchKey``)."""


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


# -- where objects come from -------------------------------------------------------------------


class ObjectSource(Protocol):
    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]: ...

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        """Bytes and user metadata; :class:`Missing` when absent."""
        ...

    def chunks(self, bucket: str, key: str) -> Iterator[bytes]:
        """The object's bytes in pieces; :class:`Missing` when absent."""
        ...


@dataclass(frozen=True)
class SourceSpec:
    """How to (re)open a source, also in a worker process: ``s3`` with a boto3 client
    configuration, or ``dir`` with a directory holding a copy of the bucket(s)."""

    kind: str
    root: str = ""  # dir: the bucket copy; ``bucket`` names what it is a copy of
    bucket: str = ""
    client: tuple[tuple[str, Any], ...] = ()  # s3: boto3.client keyword arguments

    def open(self) -> ObjectSource:
        if self.kind == "dir":
            return DirectorySource(Path(self.root), self.bucket)
        return S3Source(dict(self.client))


class S3Source:
    """Objects through boto3 (a thread-safe client, made on first use); log files through
    pre-signed GET URLs (:meth:`presign`), which cost far less per request than the SDK."""

    def __init__(self, client_args: dict[str, Any]) -> None:
        self.args = dict(client_args)
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            config = Config(max_pool_connections=32, retries={"max_attempts": 3})
            self._client = boto3.client("s3", **{"config": config, **self.args})
        return self._client

    def presign(self, bucket: str, key: str) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=6 * 3600
        )
        return url

    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, StartAfter=start_after
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def _get(self, bucket: str, key: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        try:
            result: dict[str, Any] = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise Missing(key) from None
            raise
        return result

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        result = self._get(bucket, key)
        return result["Body"].read(), dict(result.get("Metadata") or {})

    def chunks(self, bucket: str, key: str) -> Iterator[bytes]:
        body = self._get(bucket, key)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()


_HTTP: dict[str, Any] = {}
_CODE: Final = re.compile(r"<Code>([^<]+)</Code>")


def url_chunks(url: str) -> Iterator[bytes]:
    """A pre-signed GET's body in pieces; :class:`Missing` on ``NoSuchKey``."""
    import urllib3

    pool = _HTTP.get("pool")
    if pool is None:
        pool = _HTTP["pool"] = urllib3.PoolManager(maxsize=4)
    response = pool.request("GET", url, preload_content=False, retries=urllib3.Retry(3))
    try:
        if response.status != 200:
            text = response.read(64 * 1024).decode("utf-8", "replace")
            match = _CODE.search(text)
            code = match.group(1) if match else f"HTTP {response.status}"
            if code == "NoSuchKey":
                raise Missing(url)
            raise RuntimeError(code)
        yield from response.stream(CHUNK)
    finally:
        response.release_conn()


class DirectorySource:
    """A downloaded copy of a bucket: ``root/<key>``; a digest's S3 user metadata may sit
    beside it in ``root/<key>.metadata.json``.  Other buckets are looked for in
    ``root/../<bucket>``."""

    def __init__(self, root: Path, bucket: str) -> None:
        self.root = root.resolve()
        self.bucket = bucket

    def _path(self, bucket: str, key: str) -> Path:
        base = self.root if bucket == self.bucket else (self.root.parent / bucket).resolve()
        path = (base / key).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            raise Missing(key)
        return path

    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]:
        base = self.root if bucket == self.bucket else self.root.parent / bucket
        folder = base / prefix
        if not folder.is_dir():
            folder = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base
        if not folder.is_dir():
            return
        found = sorted(
            p.relative_to(base).as_posix()
            for p in folder.rglob("*.json.gz")
            if p.is_file()
        )
        yield from (k for k in found if k.startswith(prefix) and k > start_after)

    def get(self, bucket: str, key: str) -> tuple[bytes, dict[str, str]]:
        path = self._path(bucket, key)
        side = path.with_name(path.name + SIDE_FILE)
        meta: dict[str, str] = {}
        if side.is_file():
            loaded = json.loads(side.read_text())
            loaded = loaded.get("Metadata", loaded) if isinstance(loaded, dict) else {}
            meta = {str(k).lower(): str(v) for k, v in loaded.items()}
        return path.read_bytes(), meta

    def chunks(self, bucket: str, key: str) -> Iterator[bytes]:
        path = self._path(bucket, key)
        with path.open("rb") as handle:
            while piece := handle.read(CHUNK):
                yield piece


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


@dataclass(frozen=True)
class LogJob:
    bucket: str
    key: str
    hash: str
    oldest: str | None
    newest: str | None
    digest_end: str
    digest: str
    url: str | None = None  # a pre-signed GET (online), else read through the source


@dataclass
class LogOutcome:
    job: LogJob
    message: str
    size: int = 0
    compressed: int = 0
    ids: bytes = b""  # the eventIDs found, newline-separated (one object: cheap to pass back)
    records: int = 0
    oldest: str | None = None
    newest: str | None = None


def _values(data: bytes, key: bytes) -> list[bytes]:
    """The string values of ``"<key>":"..."`` in compact JSON, at any depth (nested keys are
    told apart later by :func:`top_level`).  ``bytes.split`` is the fastest exact scan here."""
    parts = data.split(b'"' + key + b'":"')
    return [p[: p.find(b'"')] for p in parts[1:]]


def _scan(buffer: bytes, final: bool, ids: list[bytes], times: list[bytes]) -> bytes:
    """Streaming form of the scan: up to the last ``"event`` of ``buffer`` (all of it when
    ``final``); returns the rest, to be scanned with the next piece.  In valid JSON no value
    starting before that point ends after it."""
    cut = len(buffer) if final else buffer.rfind(b'"event')
    if cut <= 0:
        return b"" if final else buffer
    head = buffer if cut == len(buffer) else buffer[:cut]
    ids.extend(_values(head, b"eventID"))
    times.extend(_values(head, b"eventTime"))
    return buffer[cut:]


def _inflate_whole(compressed: bytes, out: LogOutcome) -> bytes | None:
    inflater = _inflate.decompressobj(zlib.MAX_WBITS | 16)
    data: bytes = inflater.decompress(compressed)
    if inflater.unused_data:
        out.message = "INVALID: unexpected data after end of compressed stream"
        return None
    rest: bytes = inflater.flush()
    return data + rest if rest else data


def _inflate_stream(
    first: list[bytes], pieces: Iterator[bytes], out: LogOutcome, checks: bool,
    ids: list[bytes], times: list[bytes],
) -> str | None:
    """A large file piece by piece (bounded memory); its SHA-256, None when invalid."""
    inflater = _inflate.decompressobj(zlib.MAX_WBITS | 16)
    digest = hashlib.sha256()
    tail = b""
    counted = len(first)
    for index, piece in enumerate(itertools.chain(first, pieces)):
        if index >= counted:
            out.compressed += len(piece)
        data = inflater.decompress(piece)
        if inflater.unused_data:
            out.message = "INVALID: unexpected data after end of compressed stream"
            return None
        digest.update(data)
        out.size += len(data)
        if checks:
            tail = _scan(tail + data if tail else data, False, ids, times)
    rest = inflater.flush()
    digest.update(rest)
    out.size += len(rest)
    if checks:
        _scan(tail + rest, True, ids, times)
    return digest.hexdigest()


def _fetch_and_hash(
    source: ObjectSource, job: LogJob, out: LogOutcome, checks: bool,
    ids: list[bytes], times: list[bytes],
) -> str | None:
    pieces = url_chunks(job.url) if job.url else source.chunks(job.bucket, job.key)
    first: list[bytes] = []
    for piece in pieces:  # files up to WHOLE compressed bytes are handled in one piece
        first.append(piece)
        out.compressed += len(piece)
        if out.compressed > WHOLE:
            return _inflate_stream(first, pieces, out, checks, ids, times)
    data = _inflate_whole(b"".join(first), out)
    if data is None:
        return None
    out.size = len(data)
    if checks:
        ids.extend(_values(data, b"eventID"))
        times.extend(_values(data, b"eventTime"))
    return hashlib.sha256(data).hexdigest()


def check_log(source: ObjectSource, job: LogJob, record_checks: bool = True) -> LogOutcome:
    """Fetch, gunzip and hash one log file; collect its eventIDs and eventTime range."""
    out = LogOutcome(job, VALID)
    ids: list[bytes] = []
    times: list[bytes] = []
    try:
        found = _fetch_and_hash(source, job, out, record_checks, ids, times)
    except Missing:
        out.message = "INVALID: not found"
        return out
    except _INFLATE_ERRORS:
        out.message = "INVALID: invalid format"
        return out
    except Exception as err:  # an S3 or network error other than NoSuchKey
        out.message = f"INVALID: {err}"
        return out
    if found is None:
        return out
    if found != job.hash:
        out.message = "INVALID: hash value doesn't match"
        return out
    out.ids, out.records = b"\n".join(ids), len(ids)
    if times:
        out.oldest, out.newest = min(times).decode(), max(times).decode()
    return out


def top_level(source: ObjectSource, bucket: str, key: str) -> list[dict[str, Any]]:
    """The file's records, parsed in full (to confirm a finding of the fast scan)."""
    raw = gzip.decompress(b"".join(source.chunks(bucket, key)))
    records = orjson.loads(raw).get("Records") or []
    return [r for r in records if isinstance(r, dict)]


_WORKER: dict[str, Any] = {}


def _worker_init(spec: SourceSpec, record_checks: bool) -> None:
    _WORKER["source"] = spec.open()
    _WORKER["checks"] = record_checks


def _worker_check(job: LogJob) -> LogOutcome:
    return check_log(_WORKER["source"], job, _WORKER["checks"])


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
        jobs = self._listed_logs(digests)
        if isinstance(self.source, S3Source):
            source = self.source
            jobs = [replace(j, url=source.presign(j.bucket, j.key)) for j in jobs]
        return jobs

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
        if not jobs:
            return
        if self.workers == 1 or len(jobs) < PROCESS_THRESHOLD:
            with cf.ThreadPoolExecutor(max_workers=self.workers) as threads:
                yield from threads.map(
                    lambda j: check_log(self.source, j, self.record_checks), jobs
                )
            return
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_worker_init,
            initargs=(self.spec, self.record_checks),
        ) as pool:
            yield from pool.map(_worker_check, jobs, chunksize=1)

    def _logs(self, jobs: list[LogJob], report: Report) -> None:
        seen: dict[bytes, str] = {}
        dupes: dict[str, list[str]] = {}
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
            _collect(out, seen, dupes)
            if _out_of_range(out):
                self._confirm_times(job, report)
        self._confirm_dupes(dupes, report)

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


def _collect(out: LogOutcome, seen: dict[bytes, str], dupes: dict[str, list[str]]) -> None:
    """Add a file's eventIDs to ``seen`` (id -> first file), noting repeats in ``dupes``
    (set operations: one Python step per repeat, not per id)."""
    ids = out.ids.split(b"\n") if out.ids else []
    key = out.job.key
    fresh = dict.fromkeys(ids, key)
    unique = len(fresh)
    for ident in seen.keys() & fresh.keys():  # also in an earlier file
        dupes.setdefault(ident.decode(), [seen[ident]]).append(key)
        del fresh[ident]  # keep the first file
    if unique < len(ids):  # twice in this file
        for ident, count in collections.Counter(ids).items():
            if count > 1:
                dupes.setdefault(ident.decode(), []).append(key)
    seen.update(fresh)


def _out_of_range(out: LogOutcome) -> bool:
    job = out.job
    if out.oldest is None or out.newest is None:
        return False
    if job.oldest is not None and out.oldest < job.oldest:
        return True
    if job.newest is not None and out.newest > job.newest:
        return True
    return out.newest > job.digest_end
