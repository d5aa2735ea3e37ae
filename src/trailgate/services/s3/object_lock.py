"""S3 Object Lock: the rules (write once, read many), without the operations (:mod:`.lock_ops`).

Where the state lives:

* a bucket with Object Lock has ``ObjectLock: {"Enabled": true, "Rule": {Mode, Days | Years}}``
  (``Rule`` only with a default retention); it is set by CreateBucket with
  ``x-amz-bucket-object-lock-enabled: true`` (which also enables versioning) or by
  PutObjectLockConfiguration on a bucket whose versioning is Enabled, and never removed; such
  a bucket's versioning can no longer be suspended;
* an object version (current or not, see :mod:`.versions`) may hold ``Retention: {Mode,
  RetainUntilDate}`` (ISO text, milliseconds) and ``LegalHold: "ON" | "OFF"``.

What is protected: a *version*.  While its retention date is in the future or its legal hold
is ON, deleting that version (DeleteObject / DeleteObjects with a version id) is refused with
403 AccessDenied "Access Denied because object protected by object lock." — a GOVERNANCE
retention gives way to a caller who sends ``x-amz-bypass-governance-retention: true`` and may
``s3:BypassGovernanceRetention``; a COMPLIANCE retention and a legal hold give way to nobody.
A delete without a version id only adds a delete marker and is always allowed; delete markers
are never protected.  A retention may be extended by anyone allowed to set it; shortening it,
removing it or changing its mode needs the GOVERNANCE bypass, and is impossible in COMPLIANCE.

New versions get the retention a write asks for (``x-amz-object-lock-mode`` and
``-retain-until-date``), else the bucket's default rule (the write time plus its Days, or its
Years counted as 365 days), and the legal hold it asks for.  A PutObject that sets either —
the default rule included — must carry Content-MD5 or an ``x-amz-checksum-*`` header or
trailer, and so must each UploadPart of a multipart upload that will be locked.

Sources: moto's tests recorded against AWS (``tests/test_s3/test_s3_lock.py``: the 409 for an
unversioned bucket, the delete refusals and their message), adobe/S3Mock's tests verified
against S3 in 2025 (``NoSuchObjectLockConfiguration`` 404 "The specified object does not have a
ObjectLock configuration", ``InvalidRequest`` "Bucket is missing Object Lock Configuration",
"The retain until date must be in the future!"), issue threads quoting S3's answers
(aws-sdk-php#1694 and versity/versitygw#1776 for the integrity rule, with a default rule
too), and S3's Service Authorization Reference (actions and condition keys).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ...protocol.errors import ServiceError
from .common import invalid_argument, invalid_request, malformed_xml

GOVERNANCE: Final = "GOVERNANCE"
COMPLIANCE: Final = "COMPLIANCE"
MODES: Final = (GOVERNANCE, COMPLIANCE)
HOLD_STATES: Final = ("ON", "OFF")
DAYS_PER_YEAR: Final = 365  # UNSURE: how S3 counts a default rule's Years (365 days assumed)
MAX_DAYS: Final = 36_500  # UNSURE: the limits S3 enforces (100 years, as its documents say)
MAX_YEARS: Final = 100
LOCKED: Final = "Access Denied because object protected by object lock."
BYPASS: Final = "__may_bypass"
"""The gateway's answer to "may the caller use s3:BypassGovernanceRetention on this key?": a
callable taking the key (set only when the request asks for the bypass)."""
MAY_SEE: Final = "__may_see_lock"
"""GetObject / HeadObject: a callable answering whether the caller may read the version's
retention (``s3:GetObjectRetention``) or legal hold (``s3:GetObjectLegalHold``)."""
TRAILER_CHECKSUM: Final = "__trailer_checksum"
"""True when the request's ``x-amz-trailer`` announces an ``x-amz-checksum-*`` trailer."""
MODE_HEADER: Final = "x-amz-object-lock-mode"
DATE_HEADER: Final = "x-amz-object-lock-retain-until-date"
HOLD_HEADER: Final = "x-amz-object-lock-legal-hold"
BYPASS_HEADER: Final = "x-amz-bypass-governance-retention"
_INTEGRITY_PARAMS: Final = ("ContentMD5", "ChecksumCRC32", "ChecksumCRC32C",
                            "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256",
                            "ChecksumSHA512", "ChecksumMD5", "ChecksumXXHASH64",
                            "ChecksumXXHASH3", "ChecksumXXHASH128")
_EVENT_HOLD_PARAMS: Final = ("ObjectLockEventHold", "ObjectLockEventHoldDurationDays",
                             "ObjectLockEventHoldDurationYears")


# -- errors ------------------------------------------------------------------------------------


def locked() -> ServiceError:
    return ServiceError("AccessDenied", LOCKED, 403)


def missing_bucket_lock() -> ServiceError:
    """Retention / legal-hold operations on a bucket without Object Lock (S3Mock, verified
    against S3 in 2025)."""
    return invalid_request("Bucket is missing Object Lock Configuration")


def no_object_lock() -> ServiceError:
    return ServiceError("NoSuchObjectLockConfiguration",
                        "The specified object does not have a ObjectLock configuration", 404)


def invalid_bucket_state(message: str) -> ServiceError:
    return ServiceError("InvalidBucketState", message, 409)


def not_implemented(header: str) -> ServiceError:
    return ServiceError("NotImplemented",
                        "A header you provided implies functionality that is not implemented",
                        501, {"Header": header})


# -- time --------------------------------------------------------------------------------------


def date_text(value: datetime) -> str:
    """A retain-until date as stored: ISO 8601 in UTC, to the millisecond."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def as_date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        return as_date(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return None


def remaining_days(until: datetime, now: datetime) -> int:
    """``s3:object-lock-remaining-retention-days``: whole days left, a started day counting
    (UNSURE: S3 documents no rounding)."""
    return max(0, math.ceil((until - now).total_seconds() / 86_400))


# -- the bucket --------------------------------------------------------------------------------


def lock_enabled(bucket: dict[str, Any]) -> bool:
    return bool((bucket.get("ObjectLock") or {}).get("Enabled"))


def creation_lock(params: dict[str, Any]) -> dict[str, Any]:
    """The bucket fields CreateBucket sets for ``x-amz-bucket-object-lock-enabled: true``:
    Object Lock, and versioning with it."""
    if params.get("ObjectLockEnabledForBucket") is not True:
        return {}
    return {"Versioning": "Enabled", "ObjectLock": {"Enabled": True}}


def _positive(rule: dict[str, Any], name: str, top: int) -> int:
    value = rule[name]
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise malformed_xml() from None
    if number <= 0:
        raise invalid_argument("Default retention period must be a positive integer value",
                               name, value)
    if number > top:
        raise invalid_argument("Default retention period too large.", name, value)
    return number


def parse_configuration(config: Any) -> dict[str, Any]:
    """An ``ObjectLockConfiguration`` document as stored (``{"Enabled": true[, "Rule"]}``);
    MalformedXML unless ``ObjectLockEnabled`` is ``Enabled`` and a rule, when given, has a
    mode and exactly one of Days and Years."""
    if not isinstance(config, dict) or config.get("ObjectLockEnabled") != "Enabled":
        raise malformed_xml()
    if "Rule" not in config:
        return {"Enabled": True}
    rule = (config.get("Rule") or {}).get("DefaultRetention")
    if not isinstance(rule, dict) or rule.get("Mode") not in MODES:
        raise malformed_xml()
    if rule.get("DefaultEventHold") is not None:
        raise not_implemented("DefaultEventHold")
    periods = [name for name in ("Days", "Years") if rule.get(name) is not None]
    if len(periods) != 1:
        raise malformed_xml()
    name = periods[0]
    number = _positive(rule, name, MAX_DAYS if name == "Days" else MAX_YEARS)
    return {"Enabled": True, "Rule": {"Mode": rule["Mode"], name: number}}


def configuration_view(lock: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
    if lock.get("Rule"):
        view["Rule"] = {"DefaultRetention": dict(lock["Rule"])}
    return view


def check_versioning_change(bucket: dict[str, Any], status: str) -> None:
    """Versioning of a bucket with Object Lock stays Enabled."""
    if lock_enabled(bucket) and status != "Enabled":
        raise invalid_bucket_state("An Object Lock configuration is present on this bucket, so "
                                   "the versioning state cannot be changed.")


def check_can_configure(bucket: dict[str, Any]) -> None:
    """PutObjectLockConfiguration on a bucket without Object Lock: allowed (it enables it)
    only when versioning is Enabled (moto's test recorded against AWS)."""
    if not lock_enabled(bucket) and bucket.get("Versioning") != "Enabled":
        raise invalid_bucket_state(
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")


def default_retention(bucket: dict[str, Any], now: datetime) -> dict[str, str] | None:
    rule = (bucket.get("ObjectLock") or {}).get("Rule")
    if not rule:
        return None
    days = int(rule["Days"]) if rule.get("Days") else int(rule["Years"]) * DAYS_PER_YEAR
    return {"Mode": rule["Mode"], "RetainUntilDate": date_text(now + timedelta(days=days))}


# -- a write's lock ----------------------------------------------------------------------------


def _requested_retention(params: dict[str, Any], now: datetime) -> dict[str, str] | None:
    mode, until = params.get("ObjectLockMode"), params.get("ObjectLockRetainUntilDate")
    if mode is None and until is None:
        return None
    if mode is None or until is None:
        missing = MODE_HEADER if mode is None else DATE_HEADER
        raise invalid_argument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode "
                               "must both be supplied", missing, None)
    if mode not in MODES:
        raise invalid_argument("Unknown wormMode directive.", MODE_HEADER, mode)
    date = as_date(until)
    if date is None or date <= now:
        raise invalid_argument("The retain until date must be in the future!", DATE_HEADER,
                               until)
    return {"Mode": str(mode), "RetainUntilDate": date_text(date)}


def requested_lock(params: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The lock a write's headers ask for (``Retention``, ``LegalHold``), checked as S3
    checks them before it looks at the bucket."""
    for name in _EVENT_HOLD_PARAMS:
        if params.get(name) is not None:
            raise not_implemented("x-amz-object-lock-event-hold")
    out: dict[str, Any] = {}
    retention = _requested_retention(params, now)
    if retention is not None:
        out["Retention"] = retention
    hold = params.get("ObjectLockLegalHoldStatus")
    if hold is not None:
        if hold not in HOLD_STATES:
            raise invalid_argument("Legal Hold must be either of 'ON' or 'OFF'", HOLD_HEADER,
                                   hold)
        out["LegalHold"] = str(hold)
    return out


def has_integrity_header(params: dict[str, Any]) -> bool:
    """Content-MD5 or an ``x-amz-checksum-*`` value (header or announced trailer); the
    algorithm header alone does not count, nor does SigV4's payload hash."""
    return bool(params.get(TRAILER_CHECKSUM)) or any(params.get(p) for p in _INTEGRITY_PARAMS)


def lock_for_write(
    bucket: dict[str, Any], params: dict[str, Any], now: datetime, *, needs_integrity: bool
) -> dict[str, Any]:
    """The ``Retention`` / ``LegalHold`` fields of a new version: as asked, else the bucket's
    default rule.  InvalidRequest when a lock is asked of a bucket without Object Lock, or
    (``needs_integrity``: PutObject) when a lock applies and no integrity header came."""
    asked = requested_lock(params, now)
    if not lock_enabled(bucket):
        if asked:
            # UNSURE: the wording S3 uses here (versitygw reports it; S3Mock's differs)
            raise invalid_request("Bucket is missing ObjectLockConfiguration")
        return {}
    fields = dict(asked)
    if "Retention" not in fields:
        default = default_retention(bucket, now)
        if default is not None:
            fields["Retention"] = default
    if fields and needs_integrity and not has_integrity_header(params):
        raise invalid_request("Content-MD5 OR x-amz-checksum- HTTP header is required for Put "
                              "Object requests with Object Lock parameters")
    return fields


def check_part_integrity(upload: dict[str, Any], params: dict[str, Any]) -> None:
    """UploadPart of an upload that will be locked (its own headers or the bucket's default)
    needs the integrity header too (s3tools/s3cmd#1436 quotes S3's answer)."""
    if upload.get("Lock") and not has_integrity_header(params):
        raise invalid_request("Content-MD5 OR x-amz-checksum- HTTP header is required for Put "
                              "Part requests with Object Lock parameters")


# -- protection --------------------------------------------------------------------------------


def may_bypass(params: dict[str, Any], key: str) -> bool:
    """The request asks for the GOVERNANCE bypass and the caller may use it on ``key``."""
    may = params.get(BYPASS)
    return params.get("BypassGovernanceRetention") is True and callable(may) and bool(may(key))


def retention_in_force(record: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    retention = record.get("Retention")
    if not retention:
        return None
    until = as_date(retention.get("RetainUntilDate"))
    return retention if until is not None and until > now else None


def delete_refusal(
    record: dict[str, Any], now: datetime, bypass: Callable[[], bool]
) -> ServiceError | None:
    """Why a version may not be deleted for good: a legal hold ON, a COMPLIANCE retention in
    force, or a GOVERNANCE one without an allowed bypass (None: it may go)."""
    if record.get("DeleteMarker"):
        return None  # delete markers are never protected
    if record.get("LegalHold") == "ON":
        return locked()
    retention = retention_in_force(record, now)
    if retention is None:
        return None
    if retention.get("Mode") == GOVERNANCE and bypass():
        return None
    return locked()


def retention_change_refusal(
    current: dict[str, Any], new: dict[str, Any] | None, now: datetime,
    bypass: Callable[[], bool],
) -> ServiceError | None:
    """May a version's retention become ``new`` (None: removed)?  Keeping the mode and not
    moving the date earlier is always allowed; anything else needs the GOVERNANCE bypass, and
    a COMPLIANCE retention in force allows nothing else at all."""
    retention = retention_in_force(current, now)
    if retention is None:
        return None
    if new is not None and new["Mode"] == retention["Mode"]:
        old_until, new_until = as_date(retention["RetainUntilDate"]), as_date(
            new["RetainUntilDate"])
        if old_until is not None and new_until is not None and new_until >= old_until:
            return None
    if retention["Mode"] == GOVERNANCE and bypass():
        return None
    return locked()


def lock_view(record: dict[str, Any], may_see: Callable[[str], bool] | None) -> dict[str, Any]:
    """The lock headers of GetObject / HeadObject: the retention to a caller allowed
    ``s3:GetObjectRetention``, a legal hold ever set to one allowed ``s3:GetObjectLegalHold``."""
    out: dict[str, Any] = {}
    retention = record.get("Retention")
    if retention and (may_see is None or may_see("s3:GetObjectRetention")):
        out["ObjectLockMode"] = retention["Mode"]
        out["ObjectLockRetainUntilDate"] = as_date(retention["RetainUntilDate"])
    if record.get("LegalHold") and (may_see is None or may_see("s3:GetObjectLegalHold")):
        out["ObjectLockLegalHoldStatus"] = record["LegalHold"]
    return out
