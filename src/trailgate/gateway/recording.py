"""The record step: every call of an authenticated principal (success, error or denial) becomes
CloudTrail records in the store's ``events`` table.  A state-changing call's records are
appended inside the call's own transaction, so a call that returned success is never missing
from the log, even after ``kill -9``."""

from __future__ import annotations

from typing import Any

from .. import clock
from ..store.interface import Tx
from ..trail.callinfo import CallInfo
from ..trail.records import build_records
from .context import RequestContext

Records = list[tuple[str, dict[str, Any]]]


def should_record(ctx: RequestContext) -> bool:
    p = ctx.principal
    return p is not None and p.kind not in ("anonymous", "service") and bool(ctx.operation)


def call_info(ctx: RequestContext, result: dict[str, Any] | None) -> CallInfo:
    assert ctx.principal is not None
    err = ctx.error
    return CallInfo(
        request_id=ctx.request_id,
        event_time=clock.now(),
        service=ctx.service,
        operation=ctx.operation,
        region=ctx.region,
        source_ip=ctx.request.client_ip,
        user_agent=ctx.request.headers.get("user-agent", ""),
        principal=ctx.principal,
        params=ctx.params,
        result=None if err is not None else result,
        error_code=None if err is None else err.code,
        error_message=None if err is None else err.message,
        host=ctx.request.headers.get("host", ""),
        tls=ctx.request.secure,
        signature_version=ctx.signature_version,
        auth_type=ctx.auth_type,
        resource_account=ctx.resource_account,
        extra=_transfer(ctx, result),
    )


def _transfer(ctx: RequestContext, result: dict[str, Any] | None) -> dict[str, Any]:
    if ctx.service != "s3":
        return {}
    body = ctx.request.body_source
    size_in = body.size if body is not None else len(ctx.request.body)
    size_out = 0
    if result is not None and isinstance(result.get("ContentLength"), int):
        size_out = int(result["ContentLength"])
    return {"bytesTransferredIn": size_in, "bytesTransferredOut": size_out}


def append_records(tx: Tx, records: Records) -> None:
    """Store the records (the event-history index follows in batches: see
    :func:`trailgate.services.cloudtrail.events.index_pending`)."""
    for account, record in records:
        tx.append_event(account, record["eventTime"], record["eventID"], record)


def records_for(ctx: RequestContext, result: dict[str, Any] | None) -> Records:
    return build_records(call_info(ctx, result))
