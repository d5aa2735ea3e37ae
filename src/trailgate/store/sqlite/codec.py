"""Records as stored: JSON objects, encoded by orjson."""

from __future__ import annotations

from typing import Any

import orjson

from trailgate.store.interface import StoreError


def encode(data: dict[str, Any]) -> bytes:
    if not isinstance(data, dict):
        raise TypeError(f"record data must be a dict, not {type(data).__name__}")
    return orjson.dumps(data)


def decode(blob: bytes | str) -> dict[str, Any]:
    value = orjson.loads(blob)
    if not isinstance(value, dict):
        raise StoreError("stored record is not a JSON object")
    return value
