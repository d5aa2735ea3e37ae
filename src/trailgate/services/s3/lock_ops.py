"""S3 Object Lock operations: the bucket's configuration (Put/GetObjectLockConfiguration) and
one version's retention and legal hold (Put/GetObjectRetention, Put/GetObjectLegalHold).  The
rules are :mod:`.object_lock`'s.

* PutObjectLockConfiguration enables Object Lock on a bucket whose versioning is Enabled (S3
  allows it on existing buckets since November 2023) and sets or clears its default retention
  rule; it never disables Object Lock.  The ``x-amz-bucket-object-lock-token`` of the older
  support-ticket procedure is accepted and ignored (UNSURE).
* The four object operations answer 400 InvalidRequest on a bucket without Object Lock, act on
  the version named (or the latest; a delete marker is 405 MethodNotAllowed) and answer 404
  NoSuchObjectLockConfiguration for a version that never had a retention / legal hold.
* PutObjectRetention with an empty ``<Retention/>`` removes the retention (a GOVERNANCE one
  only with the bypass); a retention is otherwise checked as a write's is (mode, and a date in
  the future).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import BUCKET, NS, invalid_argument, load_bucket, malformed_xml
from .object_lock import (
    HOLD_STATES,
    MODES,
    as_date,
    check_can_configure,
    configuration_view,
    date_text,
    lock_enabled,
    may_bypass,
    missing_bucket_lock,
    no_object_lock,
    parse_configuration,
    retention_change_refusal,
)
from .versions import Found, requested_version, resolve


def _lock_target(call: Call, tx: Tx, method: str) -> Found:
    """The version a retention / legal-hold request names, in a bucket with Object Lock."""
    params = call.params
    bucket = load_bucket(tx, params)
    version = requested_version(params.get("VersionId"))
    if not lock_enabled(bucket):
        raise missing_bucket_lock()
    return resolve(tx, bucket, str(params.get("Key") or ""), version, method)


def _new_retention(call: Call) -> dict[str, str] | None:
    """The ``Retention`` a PutObjectRetention asks for; None: remove it."""
    retention = call.params.get("Retention")
    if not isinstance(retention, dict):
        raise malformed_xml()
    if retention.get("EventHold") is not None or retention.get("EventHoldDuration") is not None:
        raise malformed_xml()  # UNSURE: event holds are not served here
    mode, until = retention.get("Mode"), retention.get("RetainUntilDate")
    if mode is None and until is None:
        return None
    if mode not in MODES or until is None:
        raise malformed_xml()
    date = as_date(until)
    if date is None or date <= call.now:
        raise invalid_argument("The retain until date must be in the future!",
                               "RetainUntilDate", _pacific(date) if date else until)
    return {"Mode": str(mode), "RetainUntilDate": date_text(date)}


def _pacific(date: datetime) -> str:
    """The date as S3 shows it in this error's ArgumentValue: in US Pacific time, Java's
    ``Date.toString`` form (``Tue Dec 31 16:00:00 PST 2019``), whatever the bucket's region
    (LocalStack's tests recorded against S3)."""
    try:
        local = date.astimezone(ZoneInfo("America/Los_Angeles"))
    except ZoneInfoNotFoundError:  # no time zone database here: UTC, said so
        local = date.astimezone(UTC)
    return local.strftime("%a %b %d %H:%M:%S %Z %Y")


class ObjectLockOps:
    def PutObjectLockConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        if "ObjectLockConfiguration" not in call.params:  # no body (moto's test against AWS)
            raise ServiceError("MissingRequestBodyError", "Request Body is empty", 400)
        lock = parse_configuration(call.params.get("ObjectLockConfiguration"))
        check_can_configure(bucket)
        bucket["ObjectLock"] = lock
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {}

    def GetObjectLockConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        if not lock_enabled(bucket):
            raise ServiceError("ObjectLockConfigurationNotFoundError",
                               "Object Lock configuration does not exist for this bucket", 404,
                               {"BucketName": bucket["Name"]})
        return {"ObjectLockConfiguration": configuration_view(bucket["ObjectLock"])}

    def PutObjectRetention(self, call: Call, tx: Tx) -> dict[str, Any]:
        found = _lock_target(call, tx, "PUT")
        new = _new_retention(call)
        key = str(found.record["Key"])
        refusal = retention_change_refusal(found.record, new, call.now,
                                           lambda: may_bypass(call.params, key))
        if refusal is not None:
            raise refusal
        if new is None:
            found.record.pop("Retention", None)
        else:
            found.record["Retention"] = new
        found.save(tx)
        return {}

    def GetObjectRetention(self, call: Call, tx: Tx) -> dict[str, Any]:
        record = _lock_target(call, tx, "GET").record
        retention = record.get("Retention")
        if not retention:
            raise no_object_lock()
        return {"Retention": {"Mode": retention["Mode"],
                              "RetainUntilDate": as_date(retention["RetainUntilDate"])}}

    def PutObjectLegalHold(self, call: Call, tx: Tx) -> dict[str, Any]:
        found = _lock_target(call, tx, "PUT")
        hold = call.params.get("LegalHold")
        status = hold.get("Status") if isinstance(hold, dict) else None
        if status not in HOLD_STATES:
            raise malformed_xml()
        found.record["LegalHold"] = str(status)
        found.save(tx)
        return {}

    def GetObjectLegalHold(self, call: Call, tx: Tx) -> dict[str, Any]:
        record = _lock_target(call, tx, "GET").record
        if not record.get("LegalHold"):
            raise no_object_lock()
        return {"LegalHold": {"Status": record["LegalHold"]}}
