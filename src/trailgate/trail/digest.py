"""Digest files (spec 8): per trail, account and region, a signed, chained digest of the log
files delivered in each period, written AS ``cloudtrail.amazonaws.com`` through the S3 provider
(the bucket policy decides, as for log files).

Records (store account ``__cloudtrail__``)
------------------------------------------
``cloudtrail.logfile``, key ``<trail ARN>/<s3 key>``: a delivered log file not yet digested,
    put by the delivery transaction (:func:`record_logfiles`) when the trail has
    LogFileValidationEnabled: TrailARN, TrailId, S3Bucket, S3Object, Account, Region, HashValue
    (hex SHA-256 of the UNCOMPRESSED file), NewestEventTime, OldestEventTime, DeliveryTime,
    Records.  The digest that lists it deletes it in its own transaction, so every such file
    is digested exactly once.
``cloudtrail.digestchain``, key ``<trail ARN>/<account>/<region>``: one open chain: TrailARN,
    TrailId, Account, Region, Run (the trail's StartLoggingTime the chain belongs to), LastEnd
    (the previous digest's ``digestEndTime``, or the chain's start), PreviousBucket,
    PreviousObject, PreviousHash, PreviousSignature (None before the first digest), Digests
    (count), and where the trail writes: Owner, Name, HomeRegion, Bucket, Prefix, OrgId (kept
    so the final digest of a deleted trail still has a destination).

Cadence (spec 8.4)
------------------
A chain opens when a trail logs with validation on (for its account and home region; for each
other account/region as soon as a log file of it is delivered).  Every ``interval`` seconds
after its previous digest's end, a digest covering ``[LastEnd, now)`` (second precision) lists
every pending log file of the chain - also none.  A chain's first ``LastEnd`` is when it
opens, or the delivery of the earliest pending file it will list when that was earlier (a
digest lists the files DELIVERED in its range).  The first digest of a chain has null
``previousDigest*`` fields.  When the trail stops logging (after its final log is delivered),
turns validation off, is deleted or logging restarts before the chain was closed, a final
digest closes the chain; the next run starts a new chain.

Signature (spec 8.3)
--------------------
RSASSA-PKCS1-v1_5/SHA-256 with the region's current key (:mod:`.keys`) over
``digestEndTime \\n bucket/key \\n sha256(uncompressed digest) \\n previousSignature|null``, hex,
stored as the object's ``x-amz-meta-signature`` with ``x-amz-meta-signature-algorithm``.

Exactly once: a digest's object, the chain advance, the deletion of the files it lists and
the trail's LatestDigestDeliveryTime are ONE store transaction, which refuses (rolls back) if
the chain changed since it was read.  A refusal of the bucket records LatestDigestDeliveryError
and keeps everything for the next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final

import orjson

from .. import clock as default_clock
from ..services.cloudtrail.common import NS, STATUS, TRAIL, stamp
from ..store.interface import Store, Tx
from .keys import SIGNATURE_ALGORITHM, KeyStore, iso_seconds, parse_seconds, string_to_sign
from .service_access import Source, logs_base, put_digest_object

log = logging.getLogger("trailgate.digest")

LOGFILE: Final = "cloudtrail.logfile"
CHAIN: Final = "cloudtrail.digestchain"
HASH_ALGORITHM: Final = "SHA-256"
MAX_POLL: Final = 60.0
"""The longest a worker sleeps between passes (new trails and stops are noticed this soon)."""


# -- pieces shared with delivery and validation ------------------------------------------------


def digest_key(
    prefix: str | None,
    org_id: str | None,
    account: str,
    region: str,
    trail_name: str,
    home_region: str,
    end: datetime,
) -> str:
    """Where a digest goes (spec 8.1); ``end`` is its digestEndTime."""
    utc = end.astimezone(UTC)
    folder = f"{logs_base(prefix, account, org_id)}CloudTrail-Digest/{region}/{utc:%Y/%m/%d}/"
    name = f"{account}_CloudTrail-Digest_{region}_{trail_name}_{home_region}"
    return f"{folder}{name}_{utc:%Y%m%dT%H%M%SZ}.json.gz"


def logfile_key(trail_arn: str, s3_key: str) -> str:
    return f"{trail_arn}/{s3_key}"


def logfile_record(
    trail_arn: str,
    trail_id: str,
    bucket: str,
    key: str,
    account: str,
    region: str,
    raw: bytes,
    records: Sequence[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """What a digest needs to know of one delivered file; ``raw`` is its uncompressed JSON."""
    times = [str(r["eventTime"]) for r in records if isinstance(r.get("eventTime"), str)]
    return {
        "TrailARN": trail_arn,
        "TrailId": trail_id,
        "S3Bucket": bucket,
        "S3Object": key,
        "Account": account,
        "Region": region,
        "HashValue": hashlib.sha256(raw).hexdigest(),
        "NewestEventTime": max(times) if times else None,
        "OldestEventTime": min(times) if times else None,
        "DeliveryTime": stamp(now),
        "Records": len(records),
    }


def record_logfiles(tx: Tx, trail: dict[str, Any], files: Sequence[dict[str, Any]]) -> None:
    """Inside the delivery transaction: remember the delivered files for the next digest, when
    the trail validates its logs (files delivered without validation are never digested)."""
    if not trail.get("LogFileValidationEnabled"):
        return
    for item in files:
        tx.put(NS, LOGFILE, logfile_key(item["TrailARN"], item["S3Object"]), item["S3Object"],
               item)


def build_digest(
    *,
    account: str,
    start: str,
    end: str,
    bucket: str,
    key: str,
    fingerprint: str,
    previous: tuple[str, str, str, str] | None,
    files: Sequence[dict[str, Any]],
) -> bytes:
    """The digest's uncompressed JSON (field order as AWS writes it).  ``previous`` is
    (bucket, key, hash, signature) of the previous digest, None for a starting digest."""
    newest = [f["NewestEventTime"] for f in files if f.get("NewestEventTime")]
    oldest = [f["OldestEventTime"] for f in files if f.get("OldestEventTime")]
    document: dict[str, Any] = {
        "awsAccountId": account,
        "digestStartTime": start,
        "digestEndTime": end,
        "digestS3Bucket": bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": fingerprint,
        "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
        "newestEventTime": max(newest) if newest else None,
        "oldestEventTime": min(oldest) if oldest else None,
        "previousDigestS3Bucket": previous[0] if previous else None,
        "previousDigestS3Object": previous[1] if previous else None,
        "previousDigestHashValue": previous[2] if previous else None,
        "previousDigestHashAlgorithm": HASH_ALGORITHM if previous else None,
        "previousDigestSignature": previous[3] if previous else None,
        "logFiles": [
            {
                "s3Bucket": f["S3Bucket"],
                "s3Object": f["S3Object"],
                "hashValue": f["HashValue"],
                "hashAlgorithm": HASH_ALGORITHM,
                "newestEventTime": f.get("NewestEventTime"),
                "oldestEventTime": f.get("OldestEventTime"),
            }
            for f in sorted(files, key=lambda f: str(f["S3Object"]))
        ],
    }
    return orjson.dumps(document)


# -- the worker --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenDigest:
    trail_arn: str
    bucket: str
    key: str
    account: str
    region: str
    log_files: int
    starting: bool
    final: bool


@dataclass
class DigestReport:
    """What one :meth:`DigestWorker.run_once` did."""

    digests: list[WrittenDigest] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # trail ARN -> error code
    next_due: datetime | None = None  # when a chain is next due (None: no open chain)

    def due(self, moment: datetime) -> None:
        if self.next_due is None or moment < self.next_due:
            self.next_due = moment


class _Stale(Exception):
    """The chain changed between reading and committing: this digest is dropped."""


@dataclass
class _View:
    """One trail as a pass sees it (one snapshot)."""

    arn: str
    status: dict[str, Any] | None = None
    trail: dict[str, Any] | None = None  # None when deleted or replaced
    chains: dict[str, dict[str, Any]] = field(default_factory=dict)  # chain key -> record
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def trail_id(self) -> str | None:
        return None if self.trail is None else str(self.trail["TrailId"])

    @property
    def active(self) -> bool:
        return (
            self.trail is not None
            and self.status is not None
            and bool(self.trail.get("LogFileValidationEnabled"))
            and bool(self.status.get("IsLogging"))
        )

    @property
    def final_log_pending(self) -> bool:
        """Stopped, but the final log (events up to the stop) is not delivered yet."""
        status = self.status
        if status is None or self.trail is None or status.get("IsLogging"):
            return False
        stop = status.get("StopSeq")
        return stop is not None and int(status["Cursor"]) < int(stop)

    def files_of(self, chain: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            f
            for f in self.pending
            if f.get("TrailId") == chain["TrailId"]
            and f["Account"] == chain["Account"]
            and f["Region"] == chain["Region"]
        ]


def chain_key(trail_arn: str, account: str, region: str) -> str:
    return f"{trail_arn}/{account}/{region}"


DESTINATION: Final = ("Owner", "Name", "HomeRegion", "Bucket", "Prefix", "OrgId")


def _destination_of(view: _View, chain: dict[str, Any]) -> dict[str, Any]:
    """Where a chain's digests go: its trail's destination, or (the trail is gone: a final
    digest) the one the chain kept."""
    if view.trail is not None:
        return _destination(view.trail)
    return {name: chain.get(name) for name in DESTINATION}


def _previous_digest(chain: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """The chain's previous digest: (bucket, object, SHA-256, signature); None for the first."""
    if not chain.get("PreviousObject"):
        return None
    return (str(chain["PreviousBucket"]), str(chain["PreviousObject"]),
            str(chain["PreviousHash"]), str(chain["PreviousSignature"]))


def _destination(trail: dict[str, Any]) -> dict[str, Any]:
    org = trail.get("OrganizationId") if trail.get("IsOrganizationTrail") else None
    return {
        "Owner": str(trail["Account"]),
        "Name": str(trail["Name"]),
        "HomeRegion": str(trail["HomeRegion"]),
        "Bucket": str(trail["S3BucketName"]),
        "Prefix": trail.get("S3KeyPrefix") or None,
        "OrgId": str(org) if org else None,
    }


def _chain_start(view: _View, account: str, region: str, end: datetime) -> datetime:
    """Where a new chain's first digest starts: a digest covers the log files DELIVERED in
    [digestStartTime, digestEndTime] (CloudTrail User Guide, "CloudTrail digest file
    structure"), so no later than the delivery of the earliest pending file it will list
    (one delivered before the chain opened: another account's or region's first file)."""
    times = [
        datetime.fromisoformat(str(f["DeliveryTime"])).astimezone(UTC).replace(microsecond=0)
        for f in view.pending
        if f.get("TrailId") == view.trail_id and f["Account"] == account
        and f["Region"] == region and f.get("DeliveryTime")
    ]
    return min([end, *times])


def _snapshot(tx: Tx) -> dict[str, _View]:
    views: dict[str, _View] = {}
    for status in tx.list(NS, STATUS):
        view = views.setdefault(str(status["TrailARN"]), _View(str(status["TrailARN"])))
        view.status = status
        trail = tx.get(str(status["Account"]), TRAIL, str(status["Key"]))
        if trail is not None and trail.get("TrailId") == status.get("TrailId"):
            view.trail = trail
    for entity in tx.scan(NS, CHAIN):
        arn = str(entity.data["TrailARN"])
        views.setdefault(arn, _View(arn)).chains[entity.key] = entity.data
    for item in tx.list(NS, LOGFILE):
        arn = str(item["TrailARN"])
        views.setdefault(arn, _View(arn)).pending.append(item)
    return views


class DigestWorker:
    """Writes every trail's digests; :meth:`run_once` is one pass (blocking: run it in a
    thread from async code), :meth:`run_forever` repeats it until :meth:`stop`, waking when a
    chain is due and at least every ``min(interval, 60)`` seconds.  ``interval`` is the digest
    period in seconds (AWS: 3600); ``keys`` signs."""

    def __init__(
        self,
        store: Store,
        s3_provider: Any,
        keys: KeyStore,
        interval: float,
        clock: Callable[[], datetime] = default_clock.now,
    ) -> None:
        self.store = store
        self.s3 = s3_provider
        self.keys = keys
        self.interval = max(float(interval), 1.0)
        self.clock = clock
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- one pass -------------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> DigestReport:
        moment = (now or self.clock()).astimezone(UTC)
        report = DigestReport()
        views = self.store.read(_snapshot)
        for view in views.values():
            if self._stopping:
                break
            try:
                self._trail_pass(view, moment, report)
            except Exception:
                log.exception("digest for %s failed", view.arn)
                report.failures[view.arn] = "InternalError"
        return report

    def _trail_pass(self, view: _View, now: datetime, report: DigestReport) -> None:
        end = now.replace(microsecond=0)
        closed: set[str] = set()
        for key, chain in sorted(view.chains.items()):
            if not self._ended(view, chain):
                continue
            if chain["TrailId"] == view.trail_id and view.final_log_pending:
                report.due(now + timedelta(seconds=1))  # wait for the final log
                continue
            if parse_seconds(str(chain["LastEnd"])) >= end:
                report.due(end + timedelta(seconds=1))
                continue
            self._write(view, key, chain, view.files_of(chain), end, report, final=True)
            closed.add(key)
        if view.trail is None:
            self._purge(view, closed)
            return
        if not view.active:
            return
        for key, chain in self._open_chains(view, closed, end).items():
            due = parse_seconds(str(chain["LastEnd"])) + timedelta(seconds=self.interval)
            if due <= end + timedelta(milliseconds=500):
                self._write(view, key, chain, view.files_of(chain), end, report, final=False)
                due = end + timedelta(seconds=self.interval)
            report.due(due)

    def _ended(self, view: _View, chain: dict[str, Any]) -> bool:
        if chain["TrailId"] != view.trail_id or not view.active:
            return True
        assert view.status is not None
        return chain.get("Run") != view.status.get("StartLoggingTime")

    def _open_chains(
        self, view: _View, closed: set[str], end: datetime
    ) -> dict[str, dict[str, Any]]:
        """The trail's open chains, opening those it needs (owner + home region, and every
        account/region a pending log file belongs to)."""
        assert view.trail is not None and view.status is not None
        trail = view.trail
        chains = {k: c for k, c in view.chains.items() if k not in closed}
        wanted = {(str(trail["Account"]), str(trail["HomeRegion"]))}
        wanted |= {
            (str(f["Account"]), str(f["Region"]))
            for f in view.pending
            if f.get("TrailId") == view.trail_id
        }
        fresh: dict[str, dict[str, Any]] = {}
        for account, region in sorted(wanted):
            key = chain_key(view.arn, account, region)
            if key in chains:
                continue
            fresh[key] = {
                "TrailARN": view.arn,
                "TrailId": view.trail_id,
                "Account": account,
                "Region": region,
                "Run": view.status.get("StartLoggingTime"),
                # a chain closed in this pass took its files into its final digest
                "LastEnd": iso_seconds(
                    end if key in closed else _chain_start(view, account, region, end)),
                "PreviousBucket": None,
                "PreviousObject": None,
                "PreviousHash": None,
                "PreviousSignature": None,
                "Digests": 0,
                **_destination(trail),
            }
        if fresh:
            self.store.write_sync(partial(_open, chains=fresh))
            chains.update(fresh)
        return chains

    def _purge(self, view: _View, closed: set[str]) -> None:
        """A deleted trail: drop the pending files no chain took."""
        left = [
            f for f in view.pending
            if chain_key(view.arn, f["Account"], f["Region"]) not in closed
        ]
        if left and not (set(view.chains) - closed):
            self.store.write_sync(partial(_forget, files=left))

    # -- one digest -----------------------------------------------------------------------

    def _write(
        self,
        view: _View,
        key: str,
        chain: dict[str, Any],
        files: list[dict[str, Any]],
        end: datetime,
        report: DigestReport,
        *,
        final: bool,
    ) -> None:
        dest = _destination_of(view, chain)
        account, region = str(chain["Account"]), str(chain["Region"])
        bucket, prefix, org_id = str(dest["Bucket"]), dest.get("Prefix"), dest.get("OrgId")
        end_text = iso_seconds(end)
        object_key = digest_key(prefix, org_id, account, region, str(dest["Name"]),
                                str(dest["HomeRegion"]), end)
        signer = self.keys.current(region, end)
        previous = _previous_digest(chain)
        body = build_digest(
            account=account, start=str(chain["LastEnd"]), end=end_text, bucket=bucket,
            key=object_key, fingerprint=signer.public.fingerprint, previous=previous,
            files=files,
        )
        body_hash = hashlib.sha256(body).hexdigest()
        signature = signer.sign(string_to_sign(end_text, bucket, object_key, body_hash,
                                               previous[3] if previous else None))
        after = {
            **chain,
            **dest,
            "LastEnd": end_text,
            "PreviousBucket": bucket,
            "PreviousObject": object_key,
            "PreviousHash": body_hash,
            "PreviousSignature": signature,
            "Digests": int(chain["Digests"]) + 1,
        }
        also = partial(_commit, key=key, expected=chain, after=None if final else after,
                       files=files, arn=view.arn, now=end)
        try:
            code = put_digest_object(
                self.s3, self.store, bucket, object_key, gzip.compress(body),
                {"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM},
                Source(view.arn, str(dest["Owner"]), org_id), now=end, also=also,
            )
        except _Stale:
            return
        if code is not None:
            self.store.write_sync(partial(_failure, arn=view.arn, trail_id=chain["TrailId"],
                                          code=code, now=end))
            report.failures[view.arn] = code
            return
        report.digests.append(WrittenDigest(view.arn, bucket, object_key, account, region,
                                            len(files), previous is None, final))

    # -- forever --------------------------------------------------------------------------

    async def run_forever(self) -> None:
        """Run passes (in a worker thread) until :meth:`stop`; see
        :meth:`trailgate.trail.delivery.DeliveryWorker.run_forever` for cancellation."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        poll = min(self.interval, MAX_POLL)
        while not self._stopping:
            running = asyncio.ensure_future(asyncio.to_thread(self.run_once, self.clock()))
            report: DigestReport | None = None
            try:
                report = await asyncio.shield(running)
            except asyncio.CancelledError:
                self._stopping = True
                with contextlib.suppress(Exception):
                    await running
                raise
            except Exception:
                log.exception("digest pass failed")
            if self._stopping:
                break
            wait = poll
            if report is not None and report.next_due is not None:
                until = (report.next_due - self.clock()).total_seconds() + 0.02
                wait = min(poll, max(0.05, until))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
        self._wake = None

    def stop(self) -> None:
        """Ask :meth:`run_forever` to return after the pass in progress (any thread)."""
        self._stopping = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)


# -- transactions ------------------------------------------------------------------------------


def _open(tx: Tx, chains: dict[str, dict[str, Any]]) -> None:
    for key, chain in chains.items():
        if tx.get(NS, CHAIN, key) is None:
            tx.put(NS, CHAIN, key, str(chain["Region"]), chain)


def _forget(tx: Tx, files: list[dict[str, Any]]) -> None:
    for item in files:
        tx.delete(NS, LOGFILE, logfile_key(str(item["TrailARN"]), str(item["S3Object"])))


def _commit(
    tx: Tx,
    key: str,
    expected: dict[str, Any],
    after: dict[str, Any] | None,
    files: list[dict[str, Any]],
    arn: str,
    now: datetime,
) -> None:
    """Inside the digest's transaction: advance (or close) the chain, forget the listed files,
    stamp the trail's status."""
    current = tx.get(NS, CHAIN, key)
    if (
        current is None
        or current.get("TrailId") != expected.get("TrailId")
        or current.get("Digests") != expected.get("Digests")
        or current.get("LastEnd") != expected.get("LastEnd")
    ):
        raise _Stale(key)
    if after is None:
        tx.delete(NS, CHAIN, key)
    else:
        tx.put(NS, CHAIN, key, str(after["Region"]), after)
    _forget(tx, files)
    status = tx.get(NS, STATUS, arn)
    if status is not None and status.get("TrailId") == expected.get("TrailId"):
        status.update(LatestDigestDeliveryTime=stamp(now), LatestDigestDeliveryError=None)
        tx.put(NS, STATUS, arn, str(status.get("Key", arn)).split("/", 1)[-1], status)


def _failure(tx: Tx, arn: str, trail_id: str, code: str, now: datetime) -> None:
    status = tx.get(NS, STATUS, arn)
    if status is None or status.get("TrailId") != trail_id:
        return
    status.update(LatestDigestDeliveryError=code)
    tx.put(NS, STATUS, arn, str(status.get("Key", arn)).split("/", 1)[-1], status)
