"""CloudTrail's own deliveries as S3 data events (AWS's "recursive events").

When CloudTrail writes a log or digest file it makes an S3 ``PutObject`` call as the service
principal ``cloudtrail.amazonaws.com``.  On AWS that call is a data event like any other: a
trail whose selectors log data events for the bucket receives it, with ``userIdentity``
``{"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}`` and the bucket owner as
``recipientAccountId``; the record is delivered in a later file, whose own delivery is logged in
turn (AWS documents this loop).  AWS's default ``RecursiveLogging`` is true; trailgate's is
false (the CloudTrail issue requires that deliveries never feed back into an endless loop), so
only a trail created or updated with ``RecursiveLogging`` true receives these events
(:func:`trail_selects`).  Nothing is recorded when no trail would receive the event.

The records are appended inside the delivery's own transaction, as a call's records are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..gateway.request_ids import new_s3_host_id, new_s3_request_id
from ..services.base import Call
from ..services.cloudtrail.selectors import selects
from ..store.interface import Tx
from .callinfo import CallInfo
from .records import build_records, is_data_event

SIGV4 = "AWS4-HMAC-SHA256"
SERVICE = "cloudtrail.amazonaws.com"


def is_delivery_event(record: dict[str, Any]) -> bool:
    """A record of CloudTrail's own S3 write (what ``RecursiveLogging`` false suppresses)."""
    identity = record.get("userIdentity") or {}
    return (identity.get("invokedBy") == SERVICE and record.get("eventName") == "PutObject"
            and record.get("eventSource") == "s3.amazonaws.com")


def trail_selects(trail: dict[str, Any], record: dict[str, Any]) -> bool:
    """Whether the trail's selectors log the record, its ``RecursiveLogging`` considered."""
    if trail.get("RecursiveLogging") is not True and is_delivery_event(record):
        return False
    return selects(trail, record)


def record_deliveries(
    tx: Tx, calls: Sequence[Call], results: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Append the data events of CloudTrail's ``PutObject`` calls that some trail selects."""
    from ..gateway.recording import append_records, data_trails  # import cycle otherwise

    trails = data_trails(tx)
    if not trails:
        return
    for call, result in zip(calls, results, strict=True):
        records = build_records(_call_info(call, result, now))
        kept = [(account, record) for account, record in records
                if is_data_event(record) and any(trail_selects(t, record) for t in trails)]
        append_records(tx, kept)


def _call_info(call: Call, result: dict[str, Any], now: datetime) -> CallInfo:
    bucket = str(call.params["Bucket"])
    body = call.params.get("Body")
    return CallInfo(
        request_id=new_s3_request_id(),
        event_time=now,
        service="s3",
        operation="PutObject",
        region=call.region,
        source_ip=SERVICE,
        user_agent=SERVICE,
        principal=call.principal,
        params=call.params,
        result=result,
        # UNSURE: the Host AWS logs for a service's own S3 call (virtual-hosted style here)
        host=f"{bucket}.s3.{call.region}.amazonaws.com",
        tls=True,
        signature_version=SIGV4,
        auth_type="REST-HEADER",
        resource_account=call.principal.account,
        extra={
            "bytesTransferredIn": len(body) if isinstance(body, bytes) else 0,
            "bytesTransferredOut": 0,
            "x-amz-id-2": new_s3_host_id(),
        },
    )
