"""The record step: every call of an authenticated principal (success, error or denial) becomes
CloudTrail records in the store's ``events`` table.  A state-changing call's records are
appended inside the call's own transaction, so a call that returned success is never missing
from the log, even after ``kill -9``."""

from __future__ import annotations

from typing import Any

from .. import clock
from ..services.cloudtrail.common import NS, STATUS, TRAIL
from ..services.cloudtrail.selectors import selects
from ..store.interface import Tx
from ..trail.callinfo import CallInfo
from ..trail.records import build_records, is_data_call, is_data_event
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


class DataEventFilter:
    """Data events (S3 object-level calls) reach only trails whose event selectors ask for
    them, and never event history; AWS records them nowhere else.  So a data event is stored
    only when some trail, in any account and whatever its logging state or region, selects
    it; otherwise it is not even built.  The trails' selectors are cached until the next
    CloudTrail write (:meth:`invalidate`)."""

    def __init__(self) -> None:
        self._trails: list[dict[str, Any]] | None = None  # trails that select data events

    def invalidate(self) -> None:
        self._trails = None

    def _load(self, read: Any) -> list[dict[str, Any]]:
        trails = self._trails
        if trails is None:
            trails = self._trails = read(_data_trails)
        return trails

    def may_want(self, read: Any, service: str, operation: str) -> bool:
        """False when a call of this operation cannot be recorded for any trail."""
        return not is_data_call(service, operation) or bool(self._load(read))

    def keep(self, read: Any, records: Records) -> Records:
        if not any(is_data_event(record) for _, record in records):
            return records
        trails = self._load(read)
        return [(account, record) for account, record in records
                if not is_data_event(record) or any(selects(t, record) for t in trails)]


def _data_trails(tx: Tx) -> list[dict[str, Any]]:
    found = []
    for status in tx.list(NS, STATUS):
        trail = tx.get(str(status["Account"]), TRAIL, str(status["Key"]))
        if trail is not None and _selects_data(trail):
            found.append(trail)
    return found


def _selects_data(trail: dict[str, Any]) -> bool:
    advanced = trail.get("AdvancedEventSelectors")
    if advanced:
        for selector in advanced:
            categories = [f for f in selector.get("FieldSelectors") or []
                          if f.get("Field") == "eventCategory"]
            if not categories or any(f.get("Equals") != ["Management"] for f in categories):
                return True
        return False
    return any(item.get("DataResources") for item in trail.get("EventSelectors") or [])
