"""GetContextKeysForCustomPolicy / GetContextKeysForPrincipalPolicy: the context keys that
policies reference, as the keys of their Condition blocks and as policy variables
(``${aws:username}``) anywhere in their statements, in the order they appear in each document,
each key once (compared case-insensitively, shown as first written)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ...policy import MalformedPolicyError, PolicyType, parse_policy
from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .simulate import principal_policies

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


def _keys_of(text: str) -> Iterator[str]:
    document = json.loads(text)
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for found, is_key in _strings_and_keys(statement):
            if is_key:
                yield found
            yield from (m.group(1) for m in _VARIABLE.finditer(found))


def context_keys(texts: Iterable[str], policy_type: PolicyType) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        try:
            parse_policy(text, policy_type)
        except MalformedPolicyError as err:
            raise ServiceError("InvalidInput", err.message, 400) from None  # UNSURE: wording
        for key in _keys_of(text):
            if key.lower() not in seen:
                seen.add(key.lower())
                out.append(key)
    return out


class ContextKeyOps:
    """GetContextKeysForCustomPolicy, GetContextKeysForPrincipalPolicy."""

    def GetContextKeysForCustomPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        texts = list(call.params.get("PolicyInputList") or [])
        return {"ContextKeyNames": context_keys(texts, PolicyType.IDENTITY)}

    def GetContextKeysForPrincipalPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        _, _, identity, _ = principal_policies(tx, call.params["PolicySourceArn"])
        texts = [text for _, text in identity]
        texts += list(call.params.get("PolicyInputList") or [])
        return {"ContextKeyNames": context_keys(texts, PolicyType.IDENTITY)}
