"""Scalar forms on S3's wire: timestamps in bodies and headers, header-safe text."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

from .. import values

_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def as_datetime(value: Any) -> datetime:
    """An aware UTC datetime from a datetime (naive = UTC), ISO-8601 text or epoch seconds
    (``ValueError`` else)."""
    if isinstance(value, datetime):
        if value.tzinfo is UTC:
            return value
        return values.to_utc(value).replace(tzinfo=UTC)
    parsed = values.parse_timestamp(value)
    if parsed is None and isinstance(value, str):
        parsed = parse_http_date(value)
    if parsed is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed


_ISO_CACHE: dict[datetime, str] = {}
_ISO_CACHE_SIZE: Final = 16384


def iso_ms(value: Any) -> str:
    """``2026-11-28T12:00:00.000Z`` (S3 bodies).  Listings repeat the same objects' dates, so
    texts of datetimes are cached (bounded)."""
    cacheable = type(value) is datetime
    if cacheable:
        text = _ISO_CACHE.get(value)
        if text is not None:
            return text
    dt = as_datetime(value)
    iso = dt.isoformat()  # 2026-11-28T12:00:00[.ffffff]+00:00
    text = (iso[:23] if dt.microsecond else iso[:19] + ".000") + "Z"
    if cacheable:
        if len(_ISO_CACHE) >= _ISO_CACHE_SIZE:
            _ISO_CACHE.clear()
        _ISO_CACHE[value] = text
    return text


def http_date(value: Any) -> str:
    """``Thu, 01 Jan 2026 00:00:00 GMT`` (RFC 7231 IMF-fixdate; S3 headers)."""
    dt = as_datetime(value)
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month]} {dt.year:04d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def timestamp_text(value: Any, ts_format: str, default: str) -> str:
    fmt = ts_format or default
    if fmt == "rfc822":
        return http_date(value)
    if fmt == "unixTimestamp":
        return str(int(as_datetime(value).timestamp()))
    return iso_ms(value)


def parse_http_date(text: str) -> datetime | None:
    """RFC 1123 / RFC 850 / asctime dates -> aware UTC datetime, else ``None``."""
    if not text or len(text) > 64:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return values.to_utc(parsed)


def parse_header_timestamp(text: str) -> datetime | None:
    """A header date in any of the forms clients send: HTTP date, ISO-8601, epoch seconds."""
    text = text.strip()
    return parse_http_date(text) or values.parse_timestamp(text)


_URL_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.~/-]+")
_PERCENT: Final = tuple(f"%{b:02X}" for b in range(256))


_PERCENT_CACHE: dict[str, str] = {}


def _percent(match: re.Match[str]) -> str:
    text = match.group()
    encoded = _PERCENT_CACHE.get(text)
    if encoded is None:
        encoded = "".join([_PERCENT[b] for b in text.encode("utf-8", "replace")])
        if len(text) < 4 and len(_PERCENT_CACHE) < 4096:
            _PERCENT_CACHE[text] = encoded
    return encoded


def url_encode(text: str) -> str:
    """S3's ``encoding-type=url`` form: UTF-8 percent-encoding of everything but
    ``A-Z a-z 0-9 _ . ~ - /`` (so a space is ``%20`` and ``+`` is ``%2B``)."""
    return _URL_UNSAFE.sub(_percent, text)


class Verbatim(str):
    """Text a timestamp header member answers as is (an object's ``Expires`` that was sent as
    no date: S3 keeps it and answers it back unchanged)."""


def header_safe(text: str) -> str:
    """``text`` as a header value: printable ASCII as is, anything else RFC 2047-encoded
    (``=?UTF-8?B?...?=``, as S3 returns non-ASCII user metadata)."""
    if text.isascii() and text.isprintable():
        return text
    encoded = base64.b64encode(text.encode("utf-8", "replace")).decode("ascii")
    return f"=?UTF-8?B?{encoded}?="


def header_text(kind: str, value: Any, ts_format: str = "", jsonvalue: bool = False) -> str:
    """An output member's value as header text (per type, then :func:`header_safe`)."""
    if kind == "boolean":
        return "true" if value is True or value == "true" else "false"
    if kind in ("integer", "long"):
        return str(int(value))
    if kind == "timestamp":
        if isinstance(value, Verbatim):
            return header_safe(value)
        return timestamp_text(value, ts_format, "rfc822")
    if kind == "list":
        return ",".join(header_safe(str(v)) for v in value)
    if jsonvalue:
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode("utf-8")).decode(
            "ascii"
        )
    if kind in ("float", "double"):
        return repr(float(value))
    return header_safe(value if isinstance(value, str) else str(value))
