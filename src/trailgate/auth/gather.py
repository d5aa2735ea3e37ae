"""Loads every policy relevant to a request into PolicyInputs: the only place authorization
reads the store."""

from __future__ import annotations

from typing import Any

from ..gateway.context import Principal
from ..policy import PolicyDoc, PolicyInputs, PolicyType
from ..services.iam import queries


def _docs(pairs: list[tuple[str, str]], ptype: PolicyType) -> tuple[PolicyDoc, ...]:
    return tuple(PolicyDoc(pid, ptype, text) for pid, text in pairs)


def caller_policies(tx: Any, p: Principal) -> PolicyInputs:
    """Identity policies, boundary and session policies of the caller."""
    identity: tuple[PolicyDoc, ...] = ()
    boundary: PolicyDoc | None = None
    if p.kind == "user":
        name = p.arn.rsplit("/", 1)[1]
        pairs = queries.identity_policies_for_user(tx, p.account, name)
        identity = _docs(pairs, PolicyType.IDENTITY)
        found = queries.boundary_for(tx, p.account, "user", name)
        if found is not None:
            boundary = PolicyDoc(found[0], PolicyType.BOUNDARY, found[1])
    elif p.kind == "assumed_role" and p.role_arn:
        name = p.role_arn.rsplit("/", 1)[1]
        pairs = queries.identity_policies_for_role(tx, p.account, name)
        identity = _docs(pairs, PolicyType.IDENTITY)
        found = queries.boundary_for(tx, p.account, "role", name)
        if found is not None:
            boundary = PolicyDoc(found[0], PolicyType.BOUNDARY, found[1])
    session: tuple[PolicyDoc, ...] | None = None
    if p.session_policies is not None:
        docs = [PolicyDoc(f"session-policy-{i}", PolicyType.SESSION, text)
                for i, text in enumerate(p.session_policies)]
        for arn in p.session_policy_arns:
            text = queries.managed_policy_document(tx, arn)
            if text is not None:
                docs.append(PolicyDoc(arn, PolicyType.SESSION, text))
        session = tuple(docs)
    return PolicyInputs(identity=identity, boundary=boundary, session=session)
