"""The record step: every call of an authenticated principal (success, error or denial) becomes
CloudTrail records in the store's ``events`` table.  A state-changing call's records are
appended inside the call's own transaction, so a call that returned success is never missing
from the log, even after ``kill -9``."""

from __future__ import annotations

from typing import Any, Final, NamedTuple

import orjson

from .. import clock
from ..services.cloudtrail.common import NS, STATUS, TRAIL
from ..services.cloudtrail.events import index_keys
from ..services.cloudtrail.selectors import selects
from ..store.event_templates import EventTemplate, compact, join, make_template
from ..store.interface import Tx
from ..store.journal import EventJournal, IndexKeys
from ..trail.callinfo import CallInfo
from ..trail.records import (
    CREDENTIAL_CALLS,
    build_records,
    event_stamp_bytes,
    event_time_now,
    identity_json,
    is_data_call,
    is_data_event,
    new_event_id,
    operation_facts,
)
from .context import RequestContext

Records = list[tuple[str, dict[str, Any]]]


def should_record(ctx: RequestContext) -> bool:
    """Every call of an authenticated principal; an anonymous one only as an S3 data event on
    an existing bucket (recorded for its owner, as AWS does); never a service's own calls (the
    log delivery's writes must not feed back into the log)."""
    p = ctx.principal
    if p is None or not ctx.operation or p.kind == "service":
        return False
    if p.kind == "anonymous":
        return ctx.resource_account is not None and is_data_call(ctx.service, ctx.operation)
    return True


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
        extra=_extra(ctx, result),
    )


def _extra(ctx: RequestContext, result: dict[str, Any] | None) -> dict[str, Any]:
    extra = _transfer(ctx, result)
    if ctx.host_id:
        extra["x-amz-id-2"] = ctx.host_id  # S3: additionalEventData, as the header said
    return extra


def _transfer(ctx: RequestContext, result: dict[str, Any] | None) -> dict[str, Any]:
    if ctx.service != "s3":
        return {}
    body = ctx.request.body_source
    size_in = body.size if body is not None else len(ctx.request.body)
    size_out = 0
    if (result is not None and isinstance(result.get("ContentLength"), int)
            and ctx.operation != "HeadObject"):  # HEAD answers the size, sends no bytes
        size_out = int(result["ContentLength"])
    return {"bytesTransferredIn": size_in, "bytesTransferredOut": size_out}


# -- the journal line of a read, from a template ------------------------------------------------

# A caller that makes the same read again and again gets the same record each time but for
# eventTime, requestID and eventID (and for S3 additionalEventData's x-amz-id-2).  Its record
# is built once, with marks in those places, and kept as JSON cut at the marks; later calls
# only join the pieces with their own values.  The templates are keyed by the caller's
# userIdentity (as JSON) and every other input of the record, and kept in one bounded table.
_TIME: Final = b'"@@trailgate:eventTime@@"'
_HOST: Final = b'"@@trailgate:x-amz-id-2@@"'
_REQUEST: Final = b'"@@trailgate:requestID@@"'
_EVENT: Final = b'"@@trailgate:eventID@@"'
_MARKS: Final = (_TIME, _REQUEST, _EVENT)
_S3_MARKS: Final = (_TIME, _HOST, _REQUEST, _EVENT)  # the order of the record's fields
TEMPLATE_LIMIT: Final = 4096
"""Most templates kept (all callers); the table starts over when it is full."""
_read_templates: dict[tuple[Any, ...], _Template | None] = {}
_write_templates: dict[tuple[Any, ...], _Template | None] = {}
_read_ops: dict[tuple[str, str], bool] = {}  # (service, operation): may use a read template
_write_ops: dict[tuple[str, str], bool] = {}  # ... a write template


class _Template(NamedTuple):
    account: str
    # Its pieces: the JSON before, between and after the values (quotes of eventTime,
    # x-amz-id-2 and eventID included, requestID goes in JSON-encoded), 4 or 5 for S3; and
    # the id under which compact records name them.
    stored: EventTemplate
    keys: IndexKeys  # its event-history index keys (the same for every call)
    head: bytes  # the journal line's start: the account and a tab
    mark: bytes  # the compact record's start: "~" and the template's id
    s3: bool  # the record holds an x-amz-id-2 (S3's): 5 pieces, not 4


_NEW: Final = _Template("", EventTemplate(0, (), b""), (), b"", b"", False)
"""Not in the table yet (a template no call has: compared by identity)."""


JournalLine = tuple[str, str, str, bytes, IndexKeys]
"""(account, eventTime, eventID, the record as stored, its index keys): the record is compact
(see :mod:`trailgate.store.event_templates`) when the line comes with its template."""
TemplatedLine = tuple[JournalLine, EventTemplate | None]


def journal_rows(records: Records) -> list[JournalLine]:
    """Records as the event journal takes them, with their event-history index keys."""
    return [(account, record["eventTime"], record["eventID"], orjson.dumps(record),
             index_keys(account, record)) for account, record in records]


def read_line(ctx: RequestContext) -> TemplatedLine | None:
    """The journal line of a successful read (one management record, no responseElements)
    by a principal that has recorded before, from its template; None when the call is not
    such a read (the caller builds its records the normal way)."""
    template = _read_template(ctx)
    return None if template is None else _line_from(ctx, template, True)


def write_line(ctx: RequestContext, result: dict[str, Any]) -> TemplatedLine | None:
    """:func:`read_line` for a successful management write whose result is empty (so its
    record has no responseElements, whatever the state it changed), e.g. TagUser; its
    record is appended in the write's own transaction, whole (in compact form it would cost
    the write a statement more: the template's check)."""
    if ctx.error is not None or ctx.principal is None or result:
        return None
    eligible = _write_ops.get((ctx.service, ctx.operation))
    if eligible is None:
        eligible = _write_ops[(ctx.service, ctx.operation)] = _eligible(ctx, False)
    template = _lookup(ctx, result, _write_templates) if eligible else None
    return None if template is None else _line_from(ctx, template, False)


def journal_read(ctx: RequestContext, journal: EventJournal) -> bool:
    """:func:`read_line` and :meth:`EventJournal.append_one` in one go, in fewer steps (this
    runs for most calls, on the event loop thread): eventTime and eventID from one clock read
    (as bytes), the journal line with its compact record made by one formatting step.  False when
    the call is not such a read (nothing was appended; the caller records it the normal
    way).  The journal gets the same bytes as from :func:`read_line` and ``append_one``."""
    template = _read_template(ctx)
    if template is None:
        return False
    event_time, event_id = event_stamp_bytes()  # neither holds a space (see compact())
    if not template.s3:
        line = b"%s%s\t%s\t%s %s %s %s" % (template.head, event_time, event_id, template.mark,
                                           event_time, event_id, orjson.dumps(ctx.request_id))
    else:  # S3: with x-amz-id-2
        host = ctx.host_id.encode()
        if not host or b" " in host:
            return False
        line = b"%s%s\t%s\t%s %s %s %s %s" % (template.head, event_time, event_id,
                                              template.mark, event_time, event_id, host,
                                              orjson.dumps(ctx.request_id))
    journal.append_line(line, template.stored, template.keys)
    return True


def _read_template(ctx: RequestContext) -> _Template | None:
    """The template of a successful read that may have one (:func:`_eligible`), else None."""
    if ctx.error is not None or ctx.principal is None:
        return None
    eligible = _read_ops.get((ctx.service, ctx.operation))
    if eligible is None:
        eligible = _read_ops[(ctx.service, ctx.operation)] = _eligible(ctx, True)
    return _lookup(ctx, ctx.result, _read_templates) if eligible else None


def _lookup(ctx: RequestContext, result: dict[str, Any] | None,
            table: dict[tuple[Any, ...], _Template | None]) -> _Template | None:
    """The call's template (made now if new), None if its record cannot have one.  The
    template's key holds every input of the record but eventTime, requestID and eventID (for
    S3 also the signature, the authentication method and the bytes transferred).  This runs
    for most calls, so it is written for few steps: one key, one lookup."""
    p = ctx.principal
    assert p is not None
    params = b""
    if ctx.params:
        try:
            params = orjson.dumps(ctx.params, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
    request = ctx.request
    headers = request.headers
    service = ctx.service
    key = (p.__dict__.get("_ct_identity_json") or identity_json(p), service, ctx.operation,
           ctx.region, request.client_ip, headers.get("user-agent", ""),
           headers.get("host", ""), request.secure, ctx.resource_account, params,
           ctx.signature_version, ctx.auth_type,
           tuple(_transfer(ctx, result).values()) if service == "s3" else ())
    # One dict operation to look up: the writer thread (write_line) and the event loop thread
    # share the tables, and either may clear one between a membership test and a read.
    template = table.get(key, _NEW)
    if template is _NEW:
        template = _template(ctx, result)
        if len(table) >= TEMPLATE_LIMIT:
            table.clear()
        table[key] = template
    return template


def _line_from(ctx: RequestContext, template: _Template, compact_form: bool) -> TemplatedLine:
    """The call's line from its template: the record in compact form (its template's id and
    the call's values; see :mod:`trailgate.store.event_templates`) if ``compact_form``,
    else whole."""
    event_time = event_time_now()
    event_id = new_event_id()
    stored = template.stored
    data = (compact(stored, event_time, event_id, orjson.dumps(ctx.request_id), ctx.host_id)
            if compact_form else None)
    if data is not None:
        return (template.account, event_time, event_id, data, template.keys), stored
    data = join(stored.pieces, event_time.encode(), event_id.encode(),
                orjson.dumps(ctx.request_id), ctx.host_id.encode())
    return (template.account, event_time, event_id, data, template.keys), None


def _eligible(ctx: RequestContext, read: bool) -> bool:
    """Whether the call may be recorded from a template: a management read (not one that
    hands out credentials), or a management write."""
    _, _, read_only, data = operation_facts(ctx.service, ctx.operation)
    if data or read_only != read:
        return False
    return not (read and ctx.service == "sts" and ctx.operation in CREDENTIAL_CALLS)


def _template(ctx: RequestContext, result: dict[str, Any] | None) -> _Template | None:
    """The call's record as JSON cut at the marks (inside the quotes of eventTime and
    eventID); None if it is not one plain record."""
    records = build_records(call_info(ctx, result))
    if len(records) != 1:
        return None
    account, record = records[0]
    if is_data_event(record) or record.get("responseElements") is not None:
        return None
    marked = dict(record, eventTime=_TIME[1:-1].decode(), requestID=_REQUEST[1:-1].decode(),
                  eventID=_EVENT[1:-1].decode())
    marks: tuple[bytes, ...] = _MARKS
    extra = record.get("additionalEventData")
    if ctx.host_id and isinstance(extra, dict) and extra.get("x-amz-id-2") == ctx.host_id:
        marked["additionalEventData"] = dict(extra, **{"x-amz-id-2": _HOST[1:-1].decode()})
        marks = _S3_MARKS
    raw = orjson.dumps(marked)
    if any(raw.count(mark) != 1 for mark in marks):
        return None  # a value of the call holds a mark: no template
    at = [raw.index(mark) for mark in marks]
    if at != sorted(at):
        return None  # not in the order of the marks
    # The values' quotes stay in the pieces, but requestID's: it goes in JSON-encoded.
    cuts = [(start, start + len(mark)) if mark == _REQUEST else (start + 1, start + len(mark) - 1)
            for start, mark in zip(at, marks, strict=True)]
    starts = [0] + [end for _, end in cuts]
    ends = [begin for begin, _ in cuts] + [len(raw)]
    pieces = tuple(raw[a:b] for a, b in zip(starts, ends, strict=True))
    stored = make_template(pieces)
    return _Template(account, stored, index_keys(account, record), account.encode() + b"\t",
                     b"~%d" % stored.tid, marks is _S3_MARKS)


def append_records(tx: Tx, records: Records) -> None:
    """Store the records (the event-history index follows in batches: see
    :func:`trailgate.services.cloudtrail.events.index_pending`)."""
    for account, record in records:
        tx.append_event(account, record["eventTime"], record["eventID"], record)


def encoded_rows(records: Records) -> list[tuple[str, str, str, bytes]]:
    """Records as :meth:`Tx.append_events` takes them (``TypeError`` if one is not JSON)."""
    return [(account, record["eventTime"], record["eventID"], orjson.dumps(record))
            for account, record in records]


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
            trails = self._trails = read(data_trails)
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


def data_trails(tx: Tx) -> list[dict[str, Any]]:
    """The trails (any account, any state) whose selectors may log data events."""
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
