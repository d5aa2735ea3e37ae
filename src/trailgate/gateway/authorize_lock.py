"""Object Lock's part of S3 authorization: the ``s3:object-lock-*`` condition keys a request
sets, and the questions the provider may need answered later (may the caller bypass a
GOVERNANCE retention on this key? may it see a version's retention / legal hold?), installed
as callables so a policy is evaluated only when the answer matters.

Condition keys (S3's Service Authorization Reference, ``policy/data/actions.json``):
PutObject sets ``s3:object-lock-mode``, ``s3:object-lock-retain-until-date``,
``s3:object-lock-remaining-retention-days`` and ``s3:object-lock-legal-hold`` from its
headers; PutObjectRetention the first three from its ``Retention``; PutObjectLegalHold
``s3:object-lock-legal-hold`` from its ``LegalHold``.  UNSURE: whether S3 also sets them for a
PutObject that only inherits the bucket's default retention (here: no, only from the request).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from ..services.s3.object_lock import (
    BYPASS,
    MAY_SEE,
    TRAILER_CHECKSUM,
    as_date,
    remaining_days,
)
from ..services.s3_actions import BYPASS_ACTION, object_arn
from .context import RequestContext

Allowed = Callable[[str, str], bool]
"""``allowed(action, resource_arn)``: the policy decision for this request's caller."""

_BYPASS_OPERATIONS: Final = frozenset({"DeleteObject", "DeleteObjects", "PutObjectRetention"})
_READS: Final = frozenset({"GetObject", "HeadObject"})
MODE: Final = "s3:object-lock-mode"
UNTIL: Final = "s3:object-lock-retain-until-date"
REMAINING: Final = "s3:object-lock-remaining-retention-days"
HOLD: Final = "s3:object-lock-legal-hold"


def _retention_keys(
    mode: Any, until: Any, now: datetime, keys: dict[str, tuple[str, ...]]
) -> None:
    if mode is not None:
        keys[MODE] = (str(mode),)
    date = as_date(until) if until is not None else None
    if date is not None:
        keys[UNTIL] = (date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),)
        keys[REMAINING] = (str(remaining_days(date, now)),)


def lock_keys(ctx: RequestContext, keys: dict[str, tuple[str, ...]]) -> None:
    """The Object Lock condition keys of the request, and whether it announces a checksum
    trailer (which satisfies Object Lock's integrity rule)."""
    params, operation, now = ctx.params, ctx.operation, ctx.received_at
    if operation in ("PutObject", "CopyObject", "CreateMultipartUpload"):
        _retention_keys(params.get("ObjectLockMode"), params.get("ObjectLockRetainUntilDate"),
                        now, keys)
        if params.get("ObjectLockLegalHoldStatus") is not None:
            keys[HOLD] = (str(params["ObjectLockLegalHoldStatus"]),)
    if operation in ("PutObject", "UploadPart"):
        trailer = ctx.request.headers.get("x-amz-trailer", "").lower()
        if "x-amz-checksum-" in trailer:
            params[TRAILER_CHECKSUM] = True
    if operation == "PutObjectRetention":
        retention = params.get("Retention")
        if isinstance(retention, dict):
            _retention_keys(retention.get("Mode"), retention.get("RetainUntilDate"), now, keys)
    if operation == "PutObjectLegalHold":
        hold = params.get("LegalHold")
        if isinstance(hold, dict) and hold.get("Status") is not None:
            keys[HOLD] = (str(hold["Status"]),)


def install_lock_checks(ctx: RequestContext, allowed: Allowed, bucket: str) -> None:
    """Leave the provider the lock questions it may ask: ``BYPASS`` (a key -> may the caller
    use ``s3:BypassGovernanceRetention`` on it) when the request asks for the bypass, and
    ``MAY_SEE`` (an action -> may the caller read the version's retention / legal hold) for
    GetObject and HeadObject."""
    params, operation = ctx.params, ctx.operation
    if operation in _BYPASS_OPERATIONS and params.get("BypassGovernanceRetention") is True:
        params[BYPASS] = lambda key: allowed(BYPASS_ACTION, object_arn(bucket, str(key)))
    if operation in _READS:
        arn = object_arn(bucket, str(params.get("Key") or ""))
        params[MAY_SEE] = lambda action: allowed(str(action), arn)


_WRITES: Final = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})


def extra_lock_actions(operation: str, params: dict[str, Any]) -> tuple[str, ...]:
    """The actions an allowed request also needs for the lock it asks for: CreateBucket with
    ``x-amz-bucket-object-lock-enabled: true`` ``s3:PutBucketObjectLockConfiguration`` and
    ``s3:PutBucketVersioning`` (CreateBucket's API reference); a write with retention headers
    ``s3:PutObjectRetention``, with a legal-hold header ``s3:PutObjectLegalHold`` (S3's Object
    Lock permission table: creating a version's retention / legal hold needs them; UNSURE:
    a write that only inherits the bucket's default rule needs neither)."""
    if operation == "CreateBucket":
        if params.get("ObjectLockEnabledForBucket") is not True:
            return ()
        return ("s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning")
    if operation not in _WRITES:
        return ()
    needed: list[str] = []
    if params.get("ObjectLockMode") is not None or params.get(
            "ObjectLockRetainUntilDate") is not None:
        needed.append("s3:PutObjectRetention")
    if params.get("ObjectLockLegalHoldStatus") is not None:
        needed.append("s3:PutObjectLegalHold")
    return tuple(needed)
