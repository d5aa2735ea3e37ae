"""The only source of time, so tests (and the demo) can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    """Current UTC time (timezone-aware), shifted by :func:`advance`."""
    return datetime.now(UTC) + _offset


def advance(delta: timedelta) -> None:
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


def iso(dt: datetime) -> str:
    """``2026-11-28T12:00:00Z``"""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
