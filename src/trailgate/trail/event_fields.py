"""Event naming, IDs and times of CloudTrail records (spec 7.8).

An operation's ``eventSource``, ``eventName``, ``readOnly`` and data-event facts (cached per
operation), new ``eventID`` values, ``eventTime`` text and the dates written inside request and
response elements.  :mod:`.records` builds records from these; the gateway's recorder uses some
directly (through :mod:`.records`).
"""

from __future__ import annotations

import itertools
import math
import random
import time
from datetime import UTC, datetime
from typing import Final

from .. import clock
from ..services.s3_actions import S3_ACTIONS

READ_PREFIXES: Final = ("Get", "List", "Describe", "Head", "Lookup", "Simulate", "Search")

# S3 bucket-level calls logged as data events (object-level calls are known from S3_ACTIONS).
S3_DATA_BUCKET_CALLS: Final = frozenset(
    {"ListObjects", "ListObjectsV2", "ListObjectVersions", "HeadBucket"}
)
# botocore operation -> CloudTrail eventName, where S3 logs a different name.
S3_EVENT_NAMES: Final = {
    "ListObjectsV2": "ListObjects",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "DeleteBucketPublicAccessBlock",
    "GetBucketLifecycleConfiguration": "GetBucketLifecycle",
    "PutBucketLifecycleConfiguration": "PutBucketLifecycle",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
}

# Services whose record dates have no comma after the year ("Aug 1, 2024 1:33:28 PM").
NO_COMMA_DATE_SERVICES: Final = frozenset({"iam"})

_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                  "Dec")


# -- the operation ----------------------------------------------------------------------------


_OPERATIONS: dict[tuple[str, str], tuple[str, str, bool, bool]] = {}


def _operation(service: str, operation: str) -> tuple[str, str, bool, bool]:
    """(eventSource, eventName, readOnly, data event) of an operation (a bounded set)."""
    found = _OPERATIONS.get((service, operation))
    if found is None:
        found = _OPERATIONS[(service, operation)] = (
            f"{service}.amazonaws.com", event_name(service, operation),
            is_read_only(service, operation), is_data_call(service, operation),
        )
    return found


operation_facts = _operation


def event_name(service: str, operation: str) -> str:
    """CloudTrail's ``eventName`` of a botocore operation (S3 renames a few)."""
    if service == "s3":
        return S3_EVENT_NAMES.get(operation, operation)
    return operation


def is_read_only(service: str, operation: str) -> bool:
    """``readOnly``: every STS call (AssumeRole included) and Get/List/Describe-type calls."""
    return service == "sts" or operation.startswith(READ_PREFIXES)


def is_data_call(service: str, operation: str) -> bool:
    """S3 object-level calls (and the listings AWS logs with them) are data events."""
    if service != "s3":
        return False
    if operation in S3_DATA_BUCKET_CALLS:
        return True
    found = S3_ACTIONS.get(operation)
    return found is not None and found[1] == "object"


# -- eventID ----------------------------------------------------------------------------------


_ids = itertools.count(random.SystemRandom().getrandbits(26))
_SALT: Final = f"-{random.SystemRandom().getrandbits(48):012x}"  # this process's


def new_event_id() -> str:
    """An eventID: a version-4 UUID, like AWS's, made of the time in milliseconds (48 bits), a
    counter (26 bits) and this process's random salt (48 bits), so that IDs recorded close in
    time sort close together (the events table's eventID index grows at its end instead of at
    a random page per event) and never repeat: within the process the counter would have to
    come round (67 million IDs) within one millisecond."""
    return _event_id_at(time.time_ns() // 1_000_000)


def _event_id_at(ms: int) -> str:
    """:func:`new_event_id` for the millisecond ``ms``, in one formatting step (at a few
    thousand calls a second the millisecond changes from one call to the next: a prefix kept
    per millisecond saves nothing)."""
    n = next(_ids) & 0x3FFFFFF
    # %-formatting: a fifth faster here than an f-string (this runs for every call).
    return "%08x-%04x-4%03x-%04x%s" % (  # noqa: UP031
        ms >> 16 & 0xFFFFFFFF, ms & 0xFFFF, n >> 14, 0x8000 | n & 0x3FFF, _SALT)


_stamp: tuple[int, int, bytes, bytes] = (-1, -1, b"", b"")
"""(second of the clock, counter // 256, eventTime text, eventID's first 21 characters) of the
last :func:`event_stamp_bytes` that made them."""
_TAILS: Final = tuple(b"%02x%s" % (low, _SALT.encode()) for low in range(256))
"""An eventID's last 15 characters for each value of the counter's low 8 bits."""


def event_stamp_bytes() -> tuple[bytes, bytes]:
    """``(event_time_now(), new_event_id())`` as bytes, from one clock read: the recorder's
    fast path calls it for every call.  The eventTime text and the eventID's first 21
    characters are made again when the second or the counter's bits above its low 8 change
    (about every 256 calls); between, a call only picks its eventID's end from a table.  Its
    first 48 bits are the millisecond of the first call of those 256 (IDs still sort by time
    and counter, and never repeat: the counter's bits are all in it)."""
    global _stamp
    now = time.time()
    n = next(_ids) & 0x3FFFFFF
    second = int(now + clock._offset_seconds)  # floor: the time is after 1970
    cached = _stamp
    if cached[0] != second or cached[1] != n >> 8:
        cached = _stamp = _restamp(second, n)
    return cached[2], cached[3] + _TAILS[n & 0xFF]


def _restamp(second: int, n: int) -> tuple[int, int, bytes, bytes]:
    ms = time.time_ns() // 1_000_000
    return (second, n >> 8, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)).encode(),
            b"%08x-%04x-4%03x-%02x" % (ms >> 16 & 0xFFFFFFFF, ms & 0xFFFF, n >> 14,
                                       0x80 | n >> 8 & 0x3F))


def event_stamp() -> tuple[str, str]:
    """:func:`event_stamp_bytes` as text."""
    event_time, event_id = event_stamp_bytes()
    return event_time.decode(), event_id.decode()


# -- times ------------------------------------------------------------------------------------


_last_iso: tuple[datetime, str] = (datetime.min.replace(tzinfo=UTC), "")


def _iso(dt: datetime) -> str:
    """``2026-11-28T19:00:00Z`` (most calls fall in the same second as the one before)."""
    global _last_iso
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    second = dt.replace(microsecond=0)
    last = _last_iso
    if last[0] == second:
        return last[1]
    text = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
        f"T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}Z"
    )
    _last_iso = (second, text)
    return text


_last_now: tuple[int, str] = (-1, "")


def event_time_now() -> str:
    """``eventTime`` of a record made now: ``_iso(clock.now())``, from the epoch seconds."""
    global _last_now
    second = math.floor(clock.epoch())
    last = _last_now
    if last[0] == second:
        return last[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    _last_now = (second, text)
    return text


def aws_date(dt: datetime, service: str = "") -> str:
    """Dates inside request/response elements (UTC): ``Nov 28, 2026, 1:00:00 PM`` as STS
    writes its credentials' expiration; IAM writes its dates (createDate...) without the comma
    after the year, ``Nov 28, 2026 1:00:00 PM``, as AWS's own IAM records show."""
    dt = dt.astimezone(UTC)
    hour = dt.hour % 12 or 12
    half = "AM" if dt.hour < 12 else "PM"
    comma = "" if service in NO_COMMA_DATE_SERVICES else ","
    return f"{_MONTHS[dt.month - 1]} {dt.day}, {dt.year}{comma} {hour}:{dt:%M:%S} {half}"
