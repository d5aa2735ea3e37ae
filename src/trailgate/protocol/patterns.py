"""The models' ``pattern`` constraints (Java / Smithy regular expressions) as Python ``re``.

AWS validates patterns server-side with Java semantics; botocore's client does not validate
them at all.  The few Java-only forms found in the five models are translated:

- ``\\p{L}``, ``\\p{Z}``, ``\\p{N}`` (and any other one- or two-letter Unicode general category,
  ``\\P{..}`` outside a class) -> explicit code point ranges computed from :mod:`unicodedata`
  (once per category, lazily);
- ``\\uXXXX`` stays (Python knows it), except that a surrogate pair ``\\uD800\\uDC00`` becomes the
  one supplementary code point it denotes in Java (Python strings hold code points, not UTF-16);
- the malformed ``\\u10000-\\u10FFFF`` (meant: every supplementary character) becomes
  ``\\U00010000-\\U0010FFFF``;
- ``\\x{h..h}`` -> ``\\U........``.

``\\w``, ``\\d``, ``\\s`` are ASCII-only in Java, so patterns compile with :data:`re.ASCII`.
Java's ``String.matches`` semantics apply: the whole value must match (``fullmatch``).

Each pattern is compiled once and cached.  A pattern that cannot be translated or compiled is
reported by :func:`compile_pattern` returning ``None`` (the constraint is then not enforced) —
never an exception at request time.  A unit test compiles every pattern of the five models.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
import warnings
from collections.abc import Callable
from itertools import chain

Matcher = Callable[[str], bool]

_lock = threading.Lock()
_compiled: dict[str, re.Pattern[str] | None] = {}
_category_ranges: dict[str, str] = {}
_by_category: dict[str, list[tuple[int, int]]] | None = None

_SUPPLEMENTARY_JAVA = "\\u10000-\\u10FFFF"
_SUPPLEMENTARY_PY = "\\U00010000-\\U0010FFFF"
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")


class _Untranslatable(ValueError):
    pass


def _esc(cp: int) -> str:
    return f"\\U{cp:08X}"


def _all_ranges() -> dict[str, list[tuple[int, int]]]:
    """Code point ranges per two-letter general category, from one pass over Unicode.

    Planes 4-13 hold no assigned code point (category ``Cn``) and are not scanned.
    """
    ranges: dict[str, list[tuple[int, int]]] = {}
    cat_of = unicodedata.category
    cur = ""
    start = 0
    for cp in chain(range(0x40000), range(0xE0000, sys.maxunicode + 1)):
        cat = cat_of(chr(cp))
        if cat != cur or cp == 0xE0000:
            if cur:
                ranges.setdefault(cur, []).append((start, cp - 1))
            cur, start = cat, cp
    ranges.setdefault(cur, []).append((start, sys.maxunicode))
    ranges.setdefault("Cn", []).append((0x40000, 0xDFFFF))
    return ranges


def _ranges_for(category: str) -> str:
    """Class body (``\\U..-\\U..`` ranges) of every code point in a general category prefix."""
    cached = _category_ranges.get(category)
    if cached is not None:
        return cached
    global _by_category
    if _by_category is None:
        _by_category = _all_ranges()
    spans = sorted(
        span
        for cat, cat_spans in _by_category.items()
        if cat.startswith(category)
        for span in cat_spans
    )
    if not spans:
        raise _Untranslatable(f"unknown Unicode category {category!r}")
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo == merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    text = "".join(_range_text(lo, hi) for lo, hi in merged)
    _category_ranges[category] = text
    return text


def _range_text(lo: int, hi: int) -> str:
    return _esc(lo) if lo == hi else f"{_esc(lo)}-{_esc(hi)}"


def _property(name: str) -> str:
    name = name.removeprefix("Is")
    if not re.fullmatch(r"[A-Z][a-z]?", name):
        raise _Untranslatable(f"unsupported property \\p{{{name}}}")
    return _ranges_for(name)


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """The backslash escape at ``pattern[i]`` in Python's dialect, and the index after it."""
    n = len(pattern)
    nxt = pattern[i + 1]
    if nxt in "pP" and i + 2 < n and pattern[i + 2] == "{":
        end = pattern.find("}", i + 3)
        if end < 0:
            raise _Untranslatable("unterminated \\p{")
        body = _property(pattern[i + 3 : end])
        if in_class:
            if nxt == "P":
                raise _Untranslatable("negated property inside a class")
            return body, end + 1
        return ("[^" if nxt == "P" else "[") + body + "]", end + 1
    if nxt == "u" and _HEX4.fullmatch(pattern, i + 2, i + 6):
        cp = int(pattern[i + 2 : i + 6], 16)
        j = i + 6
        if 0xD800 <= cp <= 0xDBFF and pattern.startswith("\\u", j):
            low = pattern[j + 2 : j + 6]
            if _HEX4.fullmatch(low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                cp = 0x10000 + ((cp - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                j += 6
        return _esc(cp), j
    if nxt == "x" and i + 2 < n and pattern[i + 2] == "{":
        end = pattern.find("}", i + 3)
        if end < 0:
            raise _Untranslatable("unterminated \\x{")
        return _esc(int(pattern[i + 3 : end], 16)), end + 1
    if nxt in "QE":
        raise _Untranslatable("\\Q..\\E quoting")
    return pattern[i : i + 2], i + 2


def translate(pattern: str) -> str:
    """Java/Smithy regex -> Python regex text (see the module docstring for the forms)."""
    pattern = pattern.replace(_SUPPLEMENTARY_JAVA, _SUPPLEMENTARY_PY)
    out: list[str] = []
    in_class = False
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            text, i = _escape(pattern, i, in_class)
            out.append(text)
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            # a leading ']' or '^]' is literal in both dialects
            if pattern.startswith("^", i + 1):
                out.append("^")
                i += 1
            i += 1
            continue
        if ch == "[" and in_class:
            raise _Untranslatable("nested character class")
        if ch == "]" and in_class:
            in_class = False
        elif in_class and ch in "&~|-" and pattern.startswith(ch * 2, i):
            # Java has no special meaning for these doubled (except '&&'); Python warns.
            if ch == "&":
                raise _Untranslatable("class intersection")
            out.append("\\" + ch)
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The compiled translation of ``pattern`` (cached), or ``None`` if it can't be honoured."""
    try:
        return _compiled[pattern]
    except KeyError:
        pass
    with _lock:
        if pattern in _compiled:
            return _compiled[pattern]
        compiled: re.Pattern[str] | None
        try:
            text = translate(pattern)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                compiled = re.compile(text, re.ASCII)
        except (_Untranslatable, re.error, ValueError, FutureWarning, DeprecationWarning):
            compiled = None
        _compiled[pattern] = compiled
        return compiled


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` satisfies ``pattern`` (untranslatable patterns accept everything)."""
    compiled = compile_pattern(pattern)
    return compiled is None or compiled.fullmatch(value) is not None
