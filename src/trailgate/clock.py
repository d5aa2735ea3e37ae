"""The only source of time, so tests (and the demo) can move it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_offset_seconds = 0.0  # _offset as seconds (for epoch())


def now() -> datetime:
    """Current UTC time (timezone-aware), shifted by :func:`advance`."""
    return datetime.now(UTC) + _offset


def epoch() -> float:
    """:func:`now` as seconds since the epoch (cheaper than building a datetime)."""
    return time.time() + _offset_seconds


def advance(delta: timedelta) -> None:
    global _offset, _offset_seconds
    _offset += delta
    _offset_seconds = _offset.total_seconds()


def reset() -> None:
    global _offset, _offset_seconds
    _offset = timedelta(0)
    _offset_seconds = 0.0


def iso(dt: datetime) -> str:
    """``2026-11-28T12:00:00Z``"""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
