"""Jinja filters: dates, sizes, pretty JSON, URL pieces."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from jinja2 import Environment


def when(value: Any) -> str:
    """``2026-11-28 12:00:00 UTC`` from a datetime, an ISO string or epoch seconds."""
    if isinstance(value, bool):
        return str(value)
    if not value:  # None, "", or a missing (undefined) attribute
        return "—"
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        moment: datetime = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def size(value: Any) -> str:
    try:
        n = float(value)
    except (TypeError, ValueError):
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{int(n)} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(value)


def pretty(value: Any) -> str:
    """Indented JSON of a value or of a JSON (or URL-encoded JSON) string."""
    if isinstance(value, str):
        text = value
        if text.startswith("%7B") or text.startswith("%7b"):
            text = unquote(text)
        try:
            value = json.loads(text)
        except ValueError:
            return text
    return json.dumps(value, indent=2, sort_keys=False, default=str)


def urlpart(value: Any) -> str:
    return quote(str(value), safe="")


def install(env: Environment) -> None:
    env.filters["when"] = when
    env.filters["size"] = size
    env.filters["pretty"] = pretty
    env.filters["urlpart"] = urlpart
