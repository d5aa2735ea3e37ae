"""Tags of a trail (CreateTrail's ``TagsList``, AddTags, RemoveTags): checking and merging.

A key is 1-128 characters, a value at most 256; both use AWS's tag character set (letters,
numbers and separators of any script, plus ``_ . : / = + - @``), and ``aws:`` keys are
reserved.  A list that names a key twice is refused when it adds tags (a key is unique on its
resource); a trail has at most 50 tags.  Each refusal is ``InvalidTagParameterException``, the
limit ``TagsLimitExceededException``.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final

from .common import MAX_TAGS, error

_TAG_PUNCTUATION: Final = frozenset("_.:/=+-@")


def _tag_text_ok(text: str) -> bool:
    """Whether every character is a letter, number or separator (Unicode categories L*, N*,
    Z*) or one of ``_ . : / = + - @``."""
    return all(
        ch in _TAG_PUNCTUATION or unicodedata.category(ch)[0] in "LNZ" for ch in text
    )


def checked_tags(
    items: list[dict[str, Any]] | None, *, adding: bool = True
) -> list[tuple[str, str]]:
    """``(key, value)`` pairs of a request's tag list; with ``adding``, a repeated key is an
    error too."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in items or []:
        key, value = str(item.get("Key") or ""), str(item.get("Value") or "")
        if (
            not 1 <= len(key) <= 128
            or len(value) > 256
            or key.lower().startswith("aws:")
            or not _tag_text_ok(key)
            or not _tag_text_ok(value)
        ):
            raise error("InvalidTagParameterException", f"Tag key or value is invalid: {key}")
        if adding and key in seen:
            raise error("InvalidTagParameterException", f"Duplicate tag key: {key}")
        seen.add(key)
        out.append((key, value))
    return out


def merge_tags(current: dict[str, str], items: list[tuple[str, str]]) -> dict[str, str]:
    """``current`` with ``items`` added (a key already there takes the new value)."""
    merged = dict(current)
    merged.update(items)
    if len(merged) > MAX_TAGS:
        raise error(
            "TagsLimitExceededException",
            f"The number of tags on the trail exceeds the maximum of {MAX_TAGS}.",
        )
    return merged
