"""Loads every policy relevant to a request into PolicyInputs: the only place authorization
reads the store."""

from __future__ import annotations

from typing import Any

from ..gateway.context import Principal
from ..policy import PolicyDoc, PolicyInputs, PolicyType
from ..services.iam import queries
from ..services.organizations.policies import scp_levels


def _docs(pairs: list[tuple[str, str]], ptype: PolicyType) -> tuple[PolicyDoc, ...]:
    return tuple(PolicyDoc(pid, ptype, text) for pid, text in pairs)


def caller_policies(tx: Any, p: Principal) -> PolicyInputs:
    """Identity policies, boundary and session policies of the caller, and the SCPs of its
    account's organization (root and service callers: none)."""
    identity: tuple[PolicyDoc, ...] = ()
    boundary: PolicyDoc | None = None
    if p.kind == "user":
        name = p.arn.rsplit("/", 1)[1]
        pairs = queries.identity_policies_for_user(tx, p.account, name)
        identity = _docs(pairs, PolicyType.IDENTITY)
        found = queries.boundary_for(tx, p.account, "user", name)
        if found is not None:
            boundary = PolicyDoc(found[0], PolicyType.BOUNDARY, found[1])
    elif p.kind == "federated_user":
        identity, boundary = _issuer_policies(tx, p)
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
    scps: tuple[tuple[PolicyDoc, ...], ...] = ()
    if p.kind in ("user", "federated_user", "assumed_role"):
        scps = tuple(_docs(list(level), PolicyType.SCP) for level in scp_levels(tx, p.account))
    return PolicyInputs(identity=identity, boundary=boundary, session=session, scps=scps)


# A federated user of the root user: root's identity grants everything (the session policies
# passed to GetFederationToken narrow it).
_ROOT_GRANTS = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
)


def _issuer_policies(tx: Any, p: Principal) -> tuple[tuple[PolicyDoc, ...], PolicyDoc | None]:
    """A federated user's identity side: the identity policies and boundary of the IAM user
    who called GetFederationToken (everything for the root user)."""
    issuer = p.issuer_arn or ""
    if issuer.endswith(":root"):
        return (PolicyDoc("root", PolicyType.IDENTITY, _ROOT_GRANTS),), None
    name = issuer.rsplit("/", 1)[-1]
    identity = _docs(queries.identity_policies_for_user(tx, p.account, name), PolicyType.IDENTITY)
    found = queries.boundary_for(tx, p.account, "user", name)
    boundary = None if found is None else PolicyDoc(found[0], PolicyType.BOUNDARY, found[1])
    return identity, boundary
