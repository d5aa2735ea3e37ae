"""How a resource or trust policy statement's ``Principal``/``NotPrincipal`` names the caller,
for the naive reference evaluator (:mod:`trailgate.policy.reference`, step 3 of its decision
procedure: ``direct``, ``role`` or ``account`` grants)."""

from __future__ import annotations

import re
from typing import Any, Literal

from trailgate.policy.model import Caller
from trailgate.policy.reference_documents import Statement, as_list

GrantKind = Literal["direct", "role", "account"]
_KIND_RANK: dict[GrantKind, int] = {"account": 0, "role": 1, "direct": 2}


def _account_of_root_arn(entry: str) -> str | None:
    """``arn:<partition>:iam::ACCT:root`` -> ACCT."""
    parts = entry.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[5] == "root":
        return parts[4]
    return None


def _aws_entry_kind(entry: str, caller: Caller) -> GrantKind | None:
    """How an ``AWS`` principal entry names the caller (None: it does not)."""
    if entry == "*":
        return "direct"
    if caller.kind in ("service", "anonymous", "federated"):
        return None  # not IAM principals of any account (identity providers use "Federated")
    account = entry if re.fullmatch(r"\d{12}", entry) else _account_of_root_arn(entry)
    if account is not None:
        return "account" if account == caller.account else None
    if caller.kind in ("user", "federated_user") and entry == caller.arn:
        return "direct"
    if caller.kind == "assumed_role":
        if entry == caller.arn:
            return "direct"
        if entry == caller.role_arn or (caller.unique_id and entry == caller.unique_id):
            return "role"
    if caller.kind == "user" and caller.unique_id and entry == caller.unique_id:
        return "direct"
    return None


def _principal_kind(spec: Any, caller: Caller) -> GrantKind | None:
    """The strongest way in which a Principal/NotPrincipal value names the caller."""
    if spec == "*":
        return "direct"
    if not isinstance(spec, dict):
        return None
    kinds: list[GrantKind] = []
    for entry in as_list(spec.get("AWS", [])):
        kind = _aws_entry_kind(str(entry), caller)
        if kind is not None:
            kinds.append(kind)
    for entry in as_list(spec.get("Service", [])):
        if caller.kind == "service" and entry == caller.arn:
            kinds.append("direct")
    for entry in as_list(spec.get("Federated", [])):
        if caller.kind == "federated" and entry == caller.arn:
            kinds.append("direct")
    for entry in as_list(spec.get("CanonicalUser", [])):
        if caller.canonical_id is not None and entry == caller.canonical_id:
            kinds.append("account")
    if not kinds:
        return None
    return max(kinds, key=lambda k: _KIND_RANK[k])


def grant_kind(stmt: Statement, caller: Caller) -> GrantKind | None:
    """How a resource/trust statement's principal names the caller (None: not at all)."""
    if "Principal" in stmt.raw:
        return _principal_kind(stmt.raw["Principal"], caller)
    if "NotPrincipal" in stmt.raw:
        # Applies to everyone the element does not exclude; an Allow so applied grants like
        # "*".  AWS excludes only principals named exactly: an account entry excludes the
        # account's root, not its users or sessions; a role ARN does not exclude its sessions.
        kind = _principal_kind(stmt.raw["NotPrincipal"], caller)
        excluded = kind == "direct" or (kind == "account" and caller.kind == "root")
        return None if excluded else "direct"
    return None
