"""``aws:PrincipalTag/KEY``: the tags attached to the calling principal.

AWS documents where they come from: an IAM user's own tags; for a role session the role's
tags, overridden (key compared case-insensitively) by the session tags passed at AssumeRole,
including the transitive tags the session inherited through role chaining.  Root, anonymous
callers and services carry none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..gateway.context import Principal
from ..services.iam import queries


def entity_tags(tx: Any, p: Principal) -> tuple[tuple[str, str], ...]:
    """The tags of the IAM user or role behind ``p`` (a read in the store)."""
    entity: dict[str, Any] | None = None
    if p.kind == "user":
        entity = queries.get_user(tx, p.account, p.arn.rsplit("/", 1)[1])
    elif p.kind == "federated_user" and p.issuer_arn and ":user/" in p.issuer_arn:
        entity = queries.get_user(tx, p.account, p.issuer_arn.rsplit("/", 1)[1])
    elif p.kind == "assumed_role" and p.role_arn:
        entity = queries.get_role(tx, p.account, p.role_arn.rsplit("/", 1)[1])
    if entity is None:
        return ()
    return tuple((str(t["Key"]), str(t.get("Value", ""))) for t in entity.get("Tags") or [])


def merge_tags(
    base: Iterable[tuple[str, str]], override: Iterable[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """``base`` with every key of ``override`` replaced (keys compared case-insensitively)."""
    merged: dict[str, tuple[str, str]] = {key.lower(): (key, value) for key, value in base}
    for key, value in override:
        merged[key.lower()] = (key, value)
    return tuple(merged.values())


def principal_tag_keys(
    tags: Iterable[tuple[str, str]],
) -> dict[str, tuple[str, ...]]:
    """The request-context entries for the principal's tags (key names lower-cased)."""
    return {f"aws:principaltag/{key.lower()}": (value,) for key, value in tags}
