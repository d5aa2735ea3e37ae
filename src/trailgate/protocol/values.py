"""Scalar conversions shared by the protocols: timestamps, blobs, integers."""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime
from typing import Any, Final

INT32: Final = (-(2**31), 2**31 - 1)
INT64: Final = (-(2**63), 2**63 - 1)
_INTEGER: Final = re.compile(r"[+-]?[0-9]{1,20}")
_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EPOCH_MIN: Final = -62135596800.0  # 0001-01-01T00:00:00Z
_EPOCH_MAX: Final = 253402300799.0  # 9999-12-31T23:59:59Z


def parse_int(text: str, bits: int = 32) -> int | None:
    """A decimal integer in Java's range for ``integer`` (32) or ``long`` (64), else None."""
    if _INTEGER.fullmatch(text) is None:
        return None
    value = int(text)
    lo, hi = INT32 if bits == 32 else INT64
    return value if lo <= value <= hi else None


def parse_float(text: str) -> float | None:
    if _NUMBER.fullmatch(text) is not None:
        return float(text)
    if text in ("NaN", "Infinity", "-Infinity"):
        return float(text.replace("Infinity", "inf"))
    return None


def from_epoch(value: float) -> datetime | None:
    if not math.isfinite(value) or not _EPOCH_MIN <= value <= _EPOCH_MAX:
        return None
    return datetime.fromtimestamp(value, UTC)


def parse_timestamp(value: Any) -> datetime | None:
    """ISO-8601 text (``Z`` or an offset; naive means UTC) or epoch seconds -> aware UTC."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return from_epoch(float(value))
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    number = parse_float(value)
    if number is not None:
        return from_epoch(number)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return to_utc(parsed)


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso8601(value: Any) -> str:
    """``2026-11-28T12:00:00Z`` (whole seconds, as IAM and STS print them)."""
    dt = value if isinstance(value, datetime) else parse_timestamp(value)
    if dt is None:
        return str(value)
    return to_utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(value: Any) -> float:
    """Epoch seconds with millisecond precision (JSON protocols)."""
    dt = value if isinstance(value, datetime) else parse_timestamp(value)
    if dt is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return round(to_utc(dt).timestamp(), 3)


def b64decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def b64encode(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(bytes(value)).decode("ascii")
