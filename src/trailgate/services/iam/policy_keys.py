"""The context keys a policy document references: the keys of its Condition blocks and the
policy variables (``${aws:username}``) anywhere in its statements, in document order.

Shared by GetContextKeysFor*Policy and by the simulator's MissingContextValues."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

# ${key} or ${key, 'default'}; ${*}, ${?} and ${$} are escapes for literal characters.
_VARIABLE = re.compile(r"\$\{([^}*?$,\s][^},]*?)\s*(?:,[^}]*)?\}")
_CONDITION_MEMBERS = ("Condition",)


def _strings_and_keys(value: Any, in_condition: bool = False) -> Iterator[tuple[str, bool]]:
    """Walk a JSON value in document order: (text, is_condition_key) pairs."""
    if isinstance(value, str):
        yield value, False
    elif isinstance(value, list):
        for item in value:
            yield from _strings_and_keys(item, in_condition)
    elif isinstance(value, dict):
        for key, item in value.items():
            if in_condition and isinstance(item, dict):
                # operator -> {key: values}
                for cond_key, values in item.items():
                    yield cond_key, True
                    yield from _strings_and_keys(values)
                continue
            yield from _strings_and_keys(item, key in _CONDITION_MEMBERS)


def keys_of(text: str) -> Iterator[str]:
    """Every context key one (valid JSON) document references, repeats included."""
    document = json.loads(text)
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for found, is_key in _strings_and_keys(statement):
            if is_key:
                yield found
            yield from (m.group(1) for m in _VARIABLE.finditer(found))


def referenced_keys(texts: Iterable[str]) -> list[str]:
    """The keys of several documents, each once (compared case-insensitively, shown as first
    written), in the order they appear."""
    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        for key in keys_of(text):
            if key.lower() not in seen:
                seen.add(key.lower())
                out.append(key)
    return out
