"""CloudTrail event history: the lookup index and ``LookupEvents`` (spec 7.6).

Every management event stored in ``events`` gets index rows (:func:`index_rows`), one per lookup
attribute value: ``(account, region, attr, value, event_time, seq)``:

* ``account`` is the recipient account (the copy of a cross-account call that account owns);
* ``region`` is the record's ``awsRegion`` (IAM, STS and Organizations events: us-east-1);
* ``attr``/``value`` is one of EventName, ReadOnly, Username, ResourceType, ResourceName,
  EventSource, AccessKeyId with its value, or ``''``/``''`` for the unfiltered listing
  (EventId lookups use the events table's own unique index);
* ``event_time`` is epoch seconds, ``seq`` the ``events`` row.

The SQLite store keeps them in blocks (migration 6): per batch of indexed events, one row per
``(account, region, attr, value)`` with up to a few hundred ``(event_time, seq)`` entries and
their time range; a lookup reads the key's blocks newest first and stops once it holds
``MaxResults + 1`` matches newer than the next block, however many events are stored.  Paging
is by key (the NextToken holds the last ``(event_time, seq)`` returned plus a digest of the
query it belongs to).  Data events are never indexed: event history does not show them.

The rows are not written by the call that records an event (that would put index writes, and
the pages they dirty, on every request's commit).  Records moved from the event journal are
indexed in the transaction that stores them (:mod:`.journal_move`); the calls' own records
are indexed by :func:`index_pending`, in one write, every event stored after the cursor
``meta.event_index_seq``; the server runs it about once a second (``app.py``).
``LookupEvents`` reads the index AND the events after the cursor in the same snapshot, so an
event is found as soon as the call that recorded it returned.

Storage access goes through three methods of the store's transaction (:class:`EventIndexTx`,
declared in :mod:`trailgate.store.interface` and implemented by each backend).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple, Protocol, cast, runtime_checkable

import orjson

from ...protocol.errors import ServiceError
from ...store.journal import IndexKeys, KeyedEvent
from ...trail.records import is_data_event, record_region
from ..base import Call

__all__ = [
    "ATTRIBUTE_KEYS",
    "EventHistoryOps",
    "EventIndexTx",
    "IndexRow",
    "LookupView",
    "index_cursor",
    "index_keys",
    "index_pending",
    "index_rows",
    "lookup_view",
]

ATTRIBUTE_KEYS: Final = (
    "EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
    "EventSource", "AccessKeyId",
)
ALL: Final = ""  # attr and value of the unfiltered-listing row
HISTORY_DAYS: Final = 90
MAX_RESULTS: Final = 50
TOKEN_VERSION: Final = 1
_FAR_FUTURE: Final = 2**62


class IndexRow(NamedTuple):
    account: str
    region: str
    attr: str
    value: str
    event_time: int  # epoch seconds
    seq: int


@runtime_checkable
class EventIndexTx(Protocol):
    """What the event history needs from a store transaction."""

    def event_index_add(self, rows: Sequence[tuple[str, str, str, str, int, int]]) -> None:
        """Insert index rows (an identical row already present is not an error)."""
        ...

    def event_index_put(
        self, groups: Mapping[tuple[str, str, str, str], list[tuple[int, int]]]
    ) -> None:
        """Insert index entries grouped by key: ``(event_time, seq)`` lists (which the
        store may sort and extend)."""
        ...

    def event_index_scan(
        self,
        account: str,
        region: str,
        attr: str,
        value: str,
        start: int,
        end: int,
        before: tuple[int, int] | None,
        limit: int,
    ) -> list[tuple[int, int]]:
        """``(event_time, seq)`` of matching rows with ``start <= event_time <= end`` and,
        when ``before`` is given, ``(event_time, seq) < before``; newest first, at most
        ``limit``."""
        ...

    def events_by_seq(self, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The stored records of the given ``events`` rows."""
        ...

    def event_by_id(self, event_id: str) -> tuple[int, str, dict[str, Any]] | None:
        """``(seq, recipient account, record)`` of the event with this eventID, or None."""
        ...

    def take_keyed_events(self) -> list[KeyedEvent]:
        """``(seq, eventTime, index keys or None)`` of events stored since the last take,
        as far as the store kept them (it may keep none)."""
        ...


# -- what a record looks like in event history --------------------------------------------------


@dataclass(frozen=True)
class LookupView:
    event_id: str
    event_name: str
    read_only: str  # "true" | "false"
    access_key_id: str | None
    event_time: datetime
    event_source: str
    username: str | None
    resources: tuple[tuple[str, str], ...]  # (ResourceType, ResourceName)


def lookup_view(record: dict[str, Any]) -> LookupView:
    """The event-history fields of a record (used to index it and to answer lookups)."""
    identity = record.get("userIdentity") or {}
    key = identity.get("accessKeyId")
    return LookupView(
        event_id=str(record.get("eventID", "")),
        event_name=str(record.get("eventName", "")),
        read_only="true" if record.get("readOnly") is True else "false",
        access_key_id=key if isinstance(key, str) and key else None,
        event_time=_parse_time(str(record.get("eventTime", ""))),
        event_source=str(record.get("eventSource", "")),
        username=_username(identity),
        resources=tuple(_lookup_resources(record)),
    )


def _parse_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)  # "2026-11-28T12:00:00Z" (3.11 reads the Z)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _username(identity: dict[str, Any]) -> str | None:
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    if kind == "IAMUser":
        name = identity.get("userName")
        return name if isinstance(name, str) else None
    if kind in ("AssumedRole", "FederatedUser"):
        arn = identity.get("arn")
        return arn.rsplit("/", 1)[-1] if isinstance(arn, str) and "/" in arn else None
    if kind == "AWSService":
        service = identity.get("invokedBy")
        return service if isinstance(service, str) else None
    return None


_IAM_NAME_PARAMS: Final = (
    ("userName", "AWS::IAM::User"),
    ("roleName", "AWS::IAM::Role"),
    ("groupName", "AWS::IAM::Group"),
    ("policyArn", "AWS::IAM::Policy"),
    ("instanceProfileName", "AWS::IAM::InstanceProfile"),
    ("accessKeyId", "AWS::IAM::AccessKey"),
)


def _lookup_resources(record: dict[str, Any]) -> list[tuple[str, str]]:
    """Resources as event history names them: the record's ``resources`` (S3 buckets by
    name, others by ARN) plus the IAM entities, trails and credentials the call names."""
    found: list[tuple[str, str]] = []
    for res in record.get("resources") or ():
        kind, arn = res.get("type"), res.get("ARN")
        if not isinstance(kind, str) or not isinstance(arn, str):
            continue
        if kind == "AWS::S3::Bucket":
            found.append((kind, arn.removeprefix("arn:aws:s3:::")))
        elif kind != "AWS::S3::Object":
            found.append((kind, arn))
    params = record.get("requestParameters")
    params = params if isinstance(params, dict) else {}
    response = record.get("responseElements")
    response = response if isinstance(response, dict) else {}
    source = record.get("eventSource")
    if source == "iam.amazonaws.com":
        found.extend(_iam_resources(params, response))
    elif source == "sts.amazonaws.com":
        creds = response.get("credentials") or {}
        if isinstance(creds.get("accessKeyId"), str):
            found.append(("AWS::IAM::AccessKey", creds["accessKeyId"]))
        if response.get("assumedRoleUser") and isinstance(params.get("roleSessionName"), str):
            found.append(("AWS::STS::AssumedRole", params["roleSessionName"]))
    elif source == "cloudtrail.amazonaws.com":
        for name in ("name", "trailName"):
            if isinstance(params.get(name), str):
                found.append(("AWS::CloudTrail::Trail", params[name]))
    return list(dict.fromkeys(found))


def _iam_resources(params: dict[str, Any], response: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(kind, params[name]) for name, kind in _IAM_NAME_PARAMS
             if isinstance(params.get(name), str) and params[name]]
    key = (response.get("accessKey") or {}).get("accessKeyId")
    if isinstance(key, str):
        found.append(("AWS::IAM::AccessKey", key))
    policy_arn = (response.get("policy") or {}).get("arn")
    if isinstance(policy_arn, str):
        found.append(("AWS::IAM::Policy", policy_arn))
    return found


# -- indexing -----------------------------------------------------------------------------------


def index_rows(seq: int, account: str, record: dict[str, Any]) -> list[IndexRow]:
    """The event-history index rows of one stored record (none for data events)."""
    return [IndexRow._make(row) for row in _rows(seq, account, record)]


Row = tuple[str, str, str, str, int, int]  # IndexRow's fields, as a plain (cheaper) tuple


def _rows(seq: int, account: str, record: dict[str, Any]) -> list[Row]:
    """:func:`index_rows` as plain tuples (without building the view: this runs for every
    management event)."""
    keys = index_keys(account, record)
    if not keys:
        return []
    when = epoch_of(str(record.get("eventTime", "")))
    return [(a, region, attr, value, when, seq) for a, region, attr, value in keys]


def index_keys(account: str, record: dict[str, Any]) -> IndexKeys:
    """The (account, region, attr, value) keys of a record's index rows, from its fields as
    :func:`lookup_view` reads them; none for data events."""
    if is_data_event(record):
        return ()
    region = record_region(record)
    identity = record.get("userIdentity") or {}
    pairs: list[tuple[str, str]] = [  # EventId: the events table's own unique index
        (ALL, ALL),
        ("EventName", str(record.get("eventName", ""))),
        ("ReadOnly", "true" if record.get("readOnly") is True else "false"),
        ("EventSource", str(record.get("eventSource", ""))),
    ]
    username = _username(identity)
    if username:
        pairs.append(("Username", username))
    key = identity.get("accessKeyId")
    if isinstance(key, str) and key:
        pairs.append(("AccessKeyId", key))
    for kind, name in _lookup_resources(record):
        pairs.append(("ResourceType", kind))
        pairs.append(("ResourceName", name))
    unique = dict.fromkeys(pairs)
    return tuple((account, region, attr, value) for attr, value in unique
                 if attr == ALL or value)


@functools.lru_cache(maxsize=256)  # events come in time order: most share a recent second
def epoch_of(text: str) -> int:
    return int(_parse_time(text).timestamp())


CURSOR: Final = "event_index_seq"  # meta: events up to this seq are indexed
INDEX_BATCH: Final = 5000


def index_cursor(tx: Any) -> int:
    """The highest event seq whose index rows are stored."""
    return int(tx.meta_get(CURSOR) or 0)


def index_pending(tx: Any, limit: int = INDEX_BATCH) -> int:
    """Index up to ``limit`` events stored after the cursor, in one transaction; returns how
    many sequence numbers were taken (fewer than ``limit``: the index has caught up)."""
    index = index_tx(tx)
    cursor = index_cursor(tx)
    upto = min(int(tx.last_event_seq()), cursor + limit)
    if upto <= cursor:
        return 0
    rows: list[Row] = []
    for seq, account, record in tx.events_after(cursor, upto=upto, limit=limit):
        rows.extend(_rows(seq, account, record))
    index.event_index_add(rows)
    tx.meta_set(CURSOR, str(upto))
    return upto - cursor


def index_tx(tx: Any) -> EventIndexTx:
    """``tx`` as a transaction with the event history index's methods."""
    kind = type(tx)
    if kind in _INDEXING:  # isinstance of a runtime-checkable Protocol looks up every method
        return cast(EventIndexTx, tx)
    if isinstance(tx, EventIndexTx):
        _INDEXING.add(kind)
        return tx
    raise TypeError(f"{type(tx).__name__} does not support the event history index")


_INDEXING: set[type] = set()
"""Transaction classes found to implement :class:`EventIndexTx`."""


# -- LookupEvents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Query:
    account: str
    region: str
    attr: str
    value: str
    start: int
    end: int
    limit: int
    insight: bool
    binding: str  # digest of the parameters a NextToken is valid for


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 400)


class EventHistoryOps:
    """``LookupEvents``, mixed into the CloudTrail provider."""

    def LookupEvents(self, call: Call, tx: Any) -> dict[str, Any]:
        query = _query(call)
        # A token is checked first: one from another query is refused, Insights or not.
        before = _read_token(call.params.get("NextToken"), query)
        if query.insight:
            return {"Events": []}  # trailgate produces no Insights events
        index = index_tx(tx)
        if query.attr == "EventId":
            return {"Events": _by_event_id(index, query, before)}
        fresh = _unindexed(tx, query, before)  # matches newer than the index
        records = {seq: record for _, seq, record in fresh}
        hits = [(when, seq) for when, seq, _ in fresh]
        hits.extend(index.event_index_scan(
            query.account, query.region, query.attr, query.value, query.start, query.end,
            before, query.limit + 1,
        ))
        hits = sorted(set(hits), reverse=True)[: query.limit + 1]
        page = hits[: query.limit]
        missing = [seq for _, seq in page if seq not in records]
        records.update(index.events_by_seq(missing))
        events = [_event_item(records[seq]) for _, seq in page if seq in records]
        out: dict[str, Any] = {"Events": events}
        if len(hits) > query.limit:
            out["NextToken"] = _make_token(query, page[-1])
        return out


def _by_event_id(
    index: EventIndexTx, query: _Query, before: tuple[int, int] | None
) -> list[dict[str, Any]]:
    found = index.event_by_id(query.value)
    if found is None:
        return []
    seq, account, record = found
    when = int(lookup_view(record).event_time.timestamp())
    if (
        account != query.account
        or is_data_event(record)
        or record_region(record) != query.region
        or not query.start <= when <= query.end
        or (before is not None and (when, seq) >= before)
    ):
        return []
    return [_event_item(record)]


def _unindexed(
    tx: Any, query: _Query, before: tuple[int, int] | None
) -> list[tuple[int, int, dict[str, Any]]]:
    """``(event_time, seq, record)`` of the query's matches among the events stored after the
    index cursor (normally the last second's)."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    after = index_cursor(tx)
    while True:
        batch = tx.events_after(after, limit=INDEX_BATCH, accounts=(query.account,))
        for seq, account, record in batch:
            for _, region, attr, value, when, _ in _rows(seq, account, record):
                if (
                    region == query.region
                    and attr == query.attr
                    and value == query.value
                    and query.start <= when <= query.end
                    and (before is None or (when, seq) < before)
                ):
                    found.append((when, seq, record))
                    break
        if len(batch) < INDEX_BATCH:
            return found
        after = batch[-1][0]


def _query(call: Call) -> _Query:
    params = call.params
    limit = params.get("MaxResults")
    limit = MAX_RESULTS if limit is None else limit
    if not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
        raise _error("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    attr, value = _attribute(params.get("LookupAttributes"))
    start_param = _epoch(params.get("StartTime"), up=True)
    end_param = _epoch(params.get("EndTime"), up=False)
    if start_param is not None and end_param is not None and start_param > end_param:
        raise _error("InvalidTimeRangeException", "Start time must be earlier than end time.")
    oldest = math.ceil((call.now - timedelta(days=HISTORY_DAYS)).timestamp())
    start = oldest if start_param is None else max(start_param, oldest)
    end = _FAR_FUTURE if end_param is None else end_param
    category = params.get("EventCategory")
    binding = _digest([call.account, call.region, attr, value, start_param, end_param,
                       category])
    return _Query(call.account, call.region, attr, value, start, end, limit,
                  category == "insight", binding)


def _attribute(attributes: Any) -> tuple[str, str]:
    if not attributes:
        return ALL, ALL
    if not isinstance(attributes, list) or len(attributes) > 1:
        raise _error(
            "InvalidLookupAttributesException",
            "You can specify at most one lookup attribute.",
        )
    item = attributes[0] if isinstance(attributes[0], dict) else {}
    key, value = item.get("AttributeKey"), item.get("AttributeValue")
    if key not in ATTRIBUTE_KEYS:
        raise _error(
            "InvalidLookupAttributesException",
            f"Lookup attribute key must be one of: {', '.join(ATTRIBUTE_KEYS)}.",
        )
    if not isinstance(value, str) or not value:
        raise _error("InvalidLookupAttributesException", "Lookup attribute value is required.")
    return str(key), value


def _epoch(value: Any, *, up: bool) -> int | None:
    """Whole seconds: a start rounds up, an end down (both bounds are inclusive)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        stamp = when.timestamp()
    elif isinstance(value, int | float):
        stamp = float(value)
    else:
        raise _error("InvalidTimeRangeException", f"Invalid time: {value!r}.")
    return math.ceil(stamp) if up else math.floor(stamp)


def _digest(parts: list[Any]) -> str:
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:24]


def _make_token(query: _Query, last: tuple[int, int]) -> str:
    body = orjson.dumps({"v": TOKEN_VERSION, "t": last[0], "s": last[1], "q": query.binding})
    return base64.urlsafe_b64encode(body).decode("ascii")


def _read_token(token: Any, query: _Query) -> tuple[int, int] | None:
    if token is None:
        return None
    invalid = _error("InvalidNextTokenException", "Invalid NextToken.")
    if not isinstance(token, str) or not token:
        raise invalid
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise invalid from None
    if (
        not isinstance(data, dict)
        or data.get("v") != TOKEN_VERSION
        or data.get("q") != query.binding
        or not isinstance(data.get("t"), int)
        or not isinstance(data.get("s"), int)
    ):
        raise invalid
    return int(data["t"]), int(data["s"])


def _event_item(record: dict[str, Any]) -> dict[str, Any]:
    view = lookup_view(record)
    item: dict[str, Any] = {
        "EventId": view.event_id,
        "EventName": view.event_name,
        "ReadOnly": view.read_only,
    }
    if view.access_key_id:
        item["AccessKeyId"] = view.access_key_id
    item["EventTime"] = view.event_time
    item["EventSource"] = view.event_source
    if view.username:
        item["Username"] = view.username
    item["Resources"] = [{"ResourceType": k, "ResourceName": n} for k, n in view.resources]
    item["CloudTrailEvent"] = orjson.dumps(record).decode("utf-8")
    return item
