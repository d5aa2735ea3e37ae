"""The digest side of ``trailgate validate-logs`` (:mod:`.validate`): what to validate
(:class:`Target`: where the digests are and how their keys look), the public keys
(:class:`KeyRing`), one digest loaded and its signature verified, and the chain walked newest
first (each ``previousDigest*`` link followed and checked, gaps found); then the log files the
verified digests list, as jobs for :mod:`.logcheck`.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import itertools
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .keys import SIGNATURE_ALGORITHM, PublicKey, fingerprint, parse_seconds, string_to_sign
from .logcheck import VALID, LogJob, Missing
from .sources import ObjectSource
from .validation_report import DigestResult, Gap, Report

REQUIRED: Final = (
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
)
KEY_SLACK: Final = timedelta(minutes=5)


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


# -- what to validate --------------------------------------------------------------------------


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


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_time(key: str) -> datetime:
    return datetime.strptime(key[-24:-8], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


# -- the chain ---------------------------------------------------------------------------------


def _listed(source: ObjectSource, target: Target) -> list[str]:
    pattern = target.key_pattern()
    low = _fmt(target.start).replace("-", "").replace(":", "")
    high = _fmt(target.end + timedelta(hours=1)).replace("-", "").replace(":", "")
    keys = []
    for key in source.list_keys(target.bucket, target.digest_prefix(), target.marker()):
        match = pattern.match(key)
        if match and low <= match.group(1) <= high:
            keys.append(key)
    return sorted(keys, key=lambda k: (k[-24:-8], k))


def load_digests(source: ObjectSource, target: Target) -> dict[tuple[str, str], _Digest]:
    """The digests listed for ``target``, loaded (not yet verified), by (bucket, key)."""
    listed = _listed(source, target)
    with cf.ThreadPoolExecutor(max_workers=8) as pool:
        loaded = list(pool.map(lambda k: _load_digest(source, target.bucket, k), listed))
    return {(d.result.bucket, d.result.key): d for d in loaded}


def walk_chain(
    source: ObjectSource, keys: KeyRing, target: Target,
    digests: dict[tuple[str, str], _Digest], report: Report,
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
            _check_signature(item, keys, target.home_region)
        report.digests.append(item.result)
        prev = _previous(source, target, item, digests) if item.verified else None
        if prev is not None:
            queue.insert(0, prev)
    report.digests.sort(key=lambda r: (r.key[-24:-8], r.key))
    for item in digests.values():
        if item.verified:
            _check_link(item, digests, report)
    _gaps(digests, report)


def _previous(
    source: ObjectSource, target: Target, item: _Digest, digests: dict[tuple[str, str], _Digest]
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
        prev = _load_digest(source, bucket, key)
        digests[(bucket, key)] = prev
    if prev.signature is None and prev.data:
        prev.signature = data.get("previousDigestSignature")
    return prev


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


# -- the log files the digests list ------------------------------------------------------------


def listed_logs(digests: dict[tuple[str, str], _Digest]) -> list[LogJob]:
    """One job per log file the verified digests list (the newest digest listing it wins)."""
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
