"""GetContextKeysForCustomPolicy / GetContextKeysForPrincipalPolicy: the context keys that
policies reference, as the keys of their Condition blocks and as policy variables
(``${aws:username}``) anywhere in their statements, in the order they appear in each document,
each key once (compared case-insensitively, shown as first written)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...policy import MalformedPolicyError, PolicyType, parse_policy
from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .policy_keys import referenced_keys
from .simulate import principal_policies


def context_keys(texts: Iterable[str], policy_type: PolicyType) -> list[str]:
    documents = list(texts)
    for text in documents:
        try:
            parse_policy(text, policy_type)
        except MalformedPolicyError as err:
            raise ServiceError("InvalidInput", err.message, 400) from None  # UNSURE: wording
    return referenced_keys(documents)


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
