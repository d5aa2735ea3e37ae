"""Log file delivery (spec 7.7): per trail, events -> gzip JSON files -> S3, written AS
``cloudtrail.amazonaws.com`` through the S3 provider, so the bucket policy decides.

Which events a trail delivers
    Events of the trail's account (organization trails: of every account of the organization,
    each written under its own account folder) recorded after the trail's cursor, that its
    selectors select (:mod:`trailgate.services.cloudtrail.selectors`), from its home region
    unless it is multi-region, without global-service events when IncludeGlobalServiceEvents
    is off.  Delivery itself records nothing (it bypasses the gateway).

Files
    One file per (account, region) per batch, ``{"Records": [...]}`` gzipped, under
    ``[PREFIX/]AWSLogs/[o-ORGID/]ACCT/CloudTrail/REGION/YYYY/MM/DD/``, named
    ``ACCT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`` (delivery time in UTC, UNIQUE = 16
    random letters and digits).  A batch scans at most :data:`BATCH` events, so a file holds at
    most that many records and memory stays bounded.

Exactly once per trail
    The trail's cursor (the highest ``seq`` it is done with) lives in its status record.  A
    batch's objects, the cursor advance and LatestDeliveryTime are ONE store transaction
    (:func:`trailgate.trail.service_access.put_log_objects` with ``also``).  The transaction
    first re-reads the status and the trail and refuses (rolls back) unless the cursor, the
    trail's identity and its configuration revision are still those the batch was planned
    from, so two workers, a StartLogging/StopLogging or an UpdateTrail in between can never
    make a batch count twice or land in a stale place.  A crash before the commit leaves
    neither objects nor cursor (the blobs written beforehand are orphans the S3 sweep removes)
    and the next run delivers the same events again; after the commit they are never delivered
    again.  Events get their ``seq`` from the store's single writer in commit order, so no
    event can later appear below a cursor.

Failures
    A refusal (``AccessDenied``, ``NoSuchBucket``, or another S3 error) rolls the batch back,
    records LatestDeliveryError and LatestDeliveryAttemptTime, and keeps the cursor: the events
    wait and are delivered, all of them, by the first run after the problem is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import secrets
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

import orjson

from .. import clock as default_clock
from ..services.cloudtrail.common import NS, STATUS, TRAIL, org_members, stamp
from ..services.cloudtrail.eventlog import EventRow, events_after, last_event_seq
from ..store.interface import Store, Tx
from .delivery_events import trail_selects
from .digest import logfile_record, record_logfiles
from .records import is_global_service_event, record_region
from .service_access import Source, logs_base, put_log_objects

log = logging.getLogger("trailgate.delivery")

BATCH: Final = 5000
"""Events scanned per batch: the most records one file can hold."""
MAX_BATCHES: Final = 20
"""Batches per trail per run, so one busy trail does not starve the others."""
_UNIQUE: Final = string.ascii_letters + string.digits


def object_key(
    prefix: str | None, org_id: str | None, account: str, region: str, when: datetime
) -> str:
    """Where one log file goes (spec 7.7)."""
    utc = when.astimezone(UTC)
    unique = "".join(secrets.choice(_UNIQUE) for _ in range(16))
    folder = f"{logs_base(prefix, account, org_id)}CloudTrail/{region}/{utc:%Y/%m/%d}/"
    return f"{folder}{account}_CloudTrail_{region}_{utc:%Y%m%dT%H%MZ}_{unique}.json.gz"


def encode_file(records: list[dict[str, Any]]) -> bytes:
    return gzip.compress(orjson.dumps({"Records": records}))


@dataclass(frozen=True)
class DeliveredFile:
    trail_arn: str
    bucket: str
    key: str
    account: str
    region: str
    records: int


@dataclass
class DeliveryReport:
    """What one :meth:`DeliveryWorker.run_once` did."""

    files: list[DeliveredFile] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # trail ARN -> error code
    scanned: int = 0  # events looked at (selected or not)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)


class _Stale(Exception):
    """The trail changed between planning a batch and committing it: the batch is dropped."""


@dataclass
class _Plan:
    """One batch of one trail, read on one snapshot."""

    arn: str
    name: str
    owner: str
    key: str
    trail_id: str
    revision: int
    cursor: int  # the status record's cursor when planned (checked at commit)
    upto: int  # the new cursor: every event <= upto is done with
    bucket: str
    prefix: str | None
    org_id: str | None
    more: bool  # the scan hit BATCH or stopped at a gap: more may be waiting
    scanned: int  # events read (selected or not)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)


def _start(status: dict[str, Any]) -> tuple[int, int | None]:
    """Where the next scan starts (the cursor, moved past gaps it reached) and its upper
    bound (the next gap, the final event of a stopped trail) or None."""
    start = int(status["Cursor"])
    gaps = sorted((int(lo), int(hi)) for lo, hi in status.get("Gaps") or [])
    for lo, hi in gaps:
        if start >= lo:
            start = max(start, hi)
    bounds = [lo for lo, _ in gaps if lo > start]
    if not status.get("IsLogging"):
        stop = status.get("StopSeq")
        bounds.append(start if stop is None else int(stop))
    return start, min(bounds) if bounds else None


class DeliveryWorker:
    """Delivers every logging trail's events; :meth:`run_once` is one pass (synchronous,
    blocking: run it in a thread from async code), :meth:`run_forever` repeats it every
    ``interval`` seconds until :meth:`stop` (which also ends a pass in progress after its
    current batch).  ``region`` is the server's region; ``clock`` gives the delivery time.
    ``batch`` bounds the events scanned per batch (the records per file), ``max_batches`` the
    batches per trail per pass."""

    def __init__(
        self,
        store: Store,
        s3_provider: Any,
        region: str,
        interval: float,
        clock: Callable[[], datetime] = default_clock.now,
        *,
        batch: int = BATCH,
        max_batches: int = MAX_BATCHES,
    ) -> None:
        self.store = store
        self.s3 = s3_provider
        self.region = region
        self.interval = interval
        self.clock = clock
        self.batch = batch
        self.max_batches = max_batches
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Awaited before each pass of run_forever (the app moves the event journal into the
        # store there, so a pass sees every call recorded before it).
        self.before_pass: Callable[[], Awaitable[object]] | None = None

    # -- one pass -------------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> DeliveryReport:
        moment = now or self.clock()
        report = DeliveryReport()
        statuses = self.store.read(lambda tx: tx.list(NS, STATUS))
        for status in statuses:
            if self._stopping:
                break
            if not status.get("IsLogging") and status.get("StopSeq") is None:
                continue
            arn = str(status["TrailARN"])
            try:
                self._deliver_trail(arn, moment, report)
            except Exception:
                log.exception("delivery for %s failed", arn)
                report.failures[arn] = "InternalError"
        return report

    def _deliver_trail(self, arn: str, now: datetime, report: DeliveryReport) -> None:
        for _ in range(self.max_batches):
            if self._stopping:
                return
            plan = self.store.read(partial(self._plan, arn=arn))
            if plan is None:
                return
            try:
                code = self._commit(plan, now, report)
            except _Stale:
                return
            if code is not None:
                self.store.write_sync(partial(_record_failure, plan=plan, code=code, now=now))
                report.failures[arn] = code
                return
            report.scanned += plan.scanned
            if not plan.more:
                return

    # -- planning -------------------------------------------------------------------------

    def _plan(self, tx: Tx, arn: str) -> _Plan | None:
        status = tx.get(NS, STATUS, arn)
        if status is None:
            return None
        owner, key = str(status["Account"]), str(status["Key"])
        trail = tx.get(owner, TRAIL, key)
        if trail is None or trail.get("TrailId") != status.get("TrailId"):
            return None
        cursor = int(status["Cursor"])
        start, bound = _start(status)
        newest = last_event_seq(tx)
        ceiling = newest if bound is None else min(bound, newest)
        if ceiling <= start and start <= cursor:
            return None  # nothing new
        org_id = trail.get("OrganizationId") if trail.get("IsOrganizationTrail") else None
        accounts = org_members(tx) if org_id else [owner]
        rows = events_after(tx, start, upto=ceiling, limit=self.batch, accounts=accounts)
        full = len(rows) >= self.batch
        plan = _Plan(
            arn=arn,
            name=str(trail["Name"]),
            owner=owner,
            key=key,
            trail_id=str(trail["TrailId"]),
            revision=int(trail.get("Revision", 0)),
            cursor=cursor,
            upto=rows[-1].seq if full else max(ceiling, start),
            bucket=str(trail["S3BucketName"]),
            prefix=trail.get("S3KeyPrefix") or None,
            org_id=str(org_id) if org_id else None,
            more=full or ceiling < newest,
            scanned=len(rows),
        )
        for row in rows:
            if self._wanted(trail, row):
                region = record_region(row.record)
                plan.groups.setdefault((row.account, region), []).append(row.record)
        return plan

    def _wanted(self, trail: dict[str, Any], row: EventRow) -> bool:
        record = row.record
        if not trail.get("IsMultiRegionTrail") and record_region(record) != trail["HomeRegion"]:
            return False
        if not trail.get("IncludeGlobalServiceEvents", True) and is_global_service_event(record):
            return False
        return trail_selects(trail, record)

    # -- committing -----------------------------------------------------------------------

    def _commit(self, plan: _Plan, now: datetime, report: DeliveryReport) -> str | None:
        """Write the batch's files and advance the cursor in one transaction; the S3 error
        code when the bucket refused.  :class:`_Stale` when the trail changed meanwhile."""
        if not plan.groups:
            self.store.write_sync(partial(_advance, plan=plan, now=now, files=0, records=0))
            return None
        files: list[DeliveredFile] = []
        objects: list[tuple[str, bytes]] = []
        logfiles: list[dict[str, Any]] = []  # for the digests (trail/digest.py)
        for (account, region), records in plan.groups.items():
            key = object_key(plan.prefix, plan.org_id, account, region, now)
            raw = orjson.dumps({"Records": records})
            objects.append((key, gzip.compress(raw)))
            files.append(DeliveredFile(plan.arn, plan.bucket, key, account, region, len(records)))
            logfiles.append(logfile_record(plan.arn, plan.trail_id, plan.bucket, key, account,
                                           region, raw, records, now))
        count = sum(f.records for f in files)
        code = put_log_objects(
            self.s3,
            self.store,
            plan.bucket,
            objects,
            Source(plan.arn, plan.owner, plan.org_id),
            now=now,
            also=lambda tx: _advance(
                tx, plan, now, files=len(files), records=count, logfiles=logfiles
            ),
        )
        if code is None:
            report.files.extend(files)
        return code

    # -- forever --------------------------------------------------------------------------

    async def run_forever(self) -> None:
        """Run a pass every ``interval`` seconds (in a worker thread) until :meth:`stop`.

        Cancelling the task stops it too, but only once the pass in progress has finished (its
        thread cannot be interrupted): ``stop()`` then awaiting the task (or cancelling and
        awaiting it) before closing the store is always safe."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not self._stopping:
            if self.before_pass is not None:
                try:
                    await self.before_pass()
                except Exception:
                    log.exception("preparing the delivery pass failed")
            running = asyncio.ensure_future(asyncio.to_thread(self.run_once, self.clock()))
            try:
                await asyncio.shield(running)
            except asyncio.CancelledError:
                self._stopping = True
                with contextlib.suppress(Exception):
                    await running
                raise
            except Exception:
                log.exception("delivery pass failed")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
        self._wake = None

    def stop(self) -> None:
        """Ask :meth:`run_forever` to return after the pass in progress (any thread)."""
        self._stopping = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)


def _advance(
    tx: Tx,
    plan: _Plan,
    now: datetime,
    *,
    files: int,
    records: int,
    logfiles: Sequence[dict[str, Any]] = (),
) -> None:
    """Inside the delivery transaction: move the cursor (and the delivery times); remember
    the delivered files for the trail's digests."""
    status = tx.get(NS, STATUS, plan.arn)
    trail = tx.get(plan.owner, TRAIL, plan.key)
    if (
        status is None
        or trail is None
        or status.get("TrailId") != plan.trail_id
        or trail.get("TrailId") != plan.trail_id
        or int(status["Cursor"]) != plan.cursor
        or int(trail.get("Revision", 0)) != plan.revision
    ):
        raise _Stale(plan.arn)
    status["Cursor"] = max(plan.upto, plan.cursor)
    status["Gaps"] = [[lo, hi] for lo, hi in status.get("Gaps") or [] if hi > status["Cursor"]]
    if files:
        moment = stamp(now)
        status.update(
            LatestDeliveryTime=moment,
            LatestDeliveryAttemptTime=moment,
            LatestDeliveryAttemptSucceeded=moment,
            LatestDeliveryError=None,
        )
        status["DeliveredFiles"] = int(status.get("DeliveredFiles", 0)) + files
        status["DeliveredEvents"] = int(status.get("DeliveredEvents", 0)) + records
    tx.put(NS, STATUS, plan.arn, plan.name, status)
    record_logfiles(tx, trail, logfiles)


def _record_failure(tx: Tx, plan: _Plan, code: str, now: datetime) -> None:
    status = tx.get(NS, STATUS, plan.arn)
    if status is None or status.get("TrailId") != plan.trail_id:
        return
    status.update(LatestDeliveryError=code, LatestDeliveryAttemptTime=stamp(now))
    tx.put(NS, STATUS, plan.arn, plan.name, status)
