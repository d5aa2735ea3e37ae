"""Denials phrased for a person: AWS's error, then why (the engine's decision: its reason and
deciding statements), and for a refused switch-role what the role's trust policy asks for."""

from __future__ import annotations

from typing import Any

from ..gateway.chain import CallError
from ..gateway.context import Principal
from ..policy import Decision, MalformedPolicyError, MatchedStatement, PolicyType, parse_policy
from ..services import catalog
from ..services.iam import queries
from ..services.s3_actions import s3_action

_TYPE_NAMES = {
    PolicyType.IDENTITY: "identity-based policy",
    PolicyType.RESOURCE: "resource-based policy",
    PolicyType.TRUST: "trust policy",
    PolicyType.SCP: "service control policy",
    PolicyType.BOUNDARY: "permissions boundary",
    PolicyType.SESSION: "session policy",
}


def action_name(service: str, operation: str) -> str:
    """The IAM action an operation is authorized as (``s3:GetObject``, ``iam:ListRoles``)."""
    if service == "s3":
        return s3_action(operation)[0]
    action = catalog.entry(service, operation).action
    return action or f"{service}:{operation}"


def who(p: Principal) -> str:
    if p.kind == "assumed_role":
        role = (p.role_arn or p.arn).rsplit("/", 1)[-1]
        return f"the role {role} (switched role session; your own user's permissions are set " \
               "aside)"
    if p.kind == "user":
        return f"the user {p.arn.rsplit('/', 1)[-1]}"
    return p.arn


def reasons(decision: Decision | None, action: str, resource: str, p: Principal) -> list[str]:
    """One or two sentences saying why the engine decided so."""
    if decision is None:
        return []
    target = f" on {resource}" if resource else ""
    subject = who(p)
    kinds = sorted({_TYPE_NAMES.get(m.policy_type, "policy") for m in decision.statements})
    by_reason = {
        "explicit-deny": f"An explicit Deny in {' and '.join(kinds) or 'a policy'} matches "
                         f"{action}{target}. A Deny always wins.",
        "no-identity-allow": f"No identity-based policy of {subject} allows {action}{target} "
                             "(everything not allowed is denied).",
        "no-resource-allow": f"The resource's policy does not allow {subject} to perform "
                             f"{action}{target}.",
        "boundary": f"The permissions boundary of {subject} does not allow {action}.",
        "session-policy": f"The session policy of {subject} does not allow {action}.",
        "scp": f"A service control policy of the organization does not allow {action}.",
    }
    if decision.allowed:
        return [f"Allowed: {', '.join(kinds) or 'a policy'} allows {action}{target}."]
    found = by_reason.get(decision.reason)
    return [found] if found else [f"Denied: nothing allows {action}{target}."]


def statement_rows(statements: tuple[MatchedStatement, ...] | list[Any]) -> list[dict[str, str]]:
    rows = []
    for m in statements:
        rows.append({
            "policy": m.policy_id,
            "type": _TYPE_NAMES.get(m.policy_type, str(m.policy_type)),
            "statement": f"#{m.index + 1}" + (f" ({m.sid})" if m.sid else ""),
            "lines": f"lines {m.start.line}-{m.end.line}",
        })
    return rows


def failure_view(err: CallError, action: str, resource: str, p: Principal) -> dict[str, Any]:
    decision: Decision | None = err.decision if isinstance(err.decision, Decision) else None
    return {
        "code": err.code,
        "message": err.message,
        "request_id": err.request_id,
        "reasons": reasons(decision, action, resource, p) if err.code.startswith("Access")
        else [],
        "statements": statement_rows(decision.statements) if decision else [],
        "action": action,
        "resource": resource.split(" (", 1)[0],
    }


def switch_refusal(
    store: Any, err: CallError, user: Principal, role_arn: str, mfa: bool
) -> dict[str, Any]:
    """Why a switch-role was refused, for the person who tried."""
    view = failure_view(err, "sts:AssumeRole", role_arn, user)
    decision: Decision | None = err.decision if isinstance(err.decision, Decision) else None
    if not err.code.startswith("AccessDenied"):
        return view
    role = store.read(lambda tx: queries.role_by_arn(tx, role_arn))
    if role is None or decision is None:
        view["reasons"] = ["Either the role does not exist or it does not trust you. Check the "
                           "account ID and the role name (with its path, if it has one)."]
        return view
    if decision.reason == "no-resource-allow":
        view["reasons"] = [f"The role's trust policy does not allow {user.arn} to assume it."]
        view["reasons"] += trust_hints(role["AssumeRolePolicyDocument"], user, mfa)
    elif decision.reason == "no-identity-allow":
        view["reasons"] = [
            f"None of your own identity-based policies (user {user.arn.rsplit('/', 1)[-1]} in "
            f"account {user.account}) allows sts:AssumeRole on {role_arn}. Switching to a role "
            "in another account needs both its trust policy and your own account's permission."
        ]
    return view


def trust_hints(document: str, user: Principal, mfa: bool) -> list[str]:
    """What the trust policy's Allow statements ask for that this switch did not bring."""
    try:
        policy = parse_policy(document, PolicyType.TRUST)
    except (MalformedPolicyError, ValueError):
        return []
    keys: set[str] = set()
    trusted: list[str] = []
    for st in policy.statements:
        if st.effect != "Allow":
            continue
        keys.update(c.key.lower() for c in st.conditions)
        if st.principal is not None:
            trusted += list(st.principal.aws)
    hints = []
    if "aws:multifactorauthpresent" in keys and not mfa:
        hints.append("It requires MFA (aws:MultiFactorAuthPresent = true) and you signed in "
                     "without an MFA code: sign in again with your MFA device.")
    if "sts:externalid" in keys:
        hints.append("It requires an external ID (sts:ExternalId). The console cannot pass "
                     "one, as on AWS: use the CLI or an SDK with --external-id.")
    mine = {user.account, f"arn:aws:iam::{user.account}:root", user.arn}
    if trusted and not any(t in mine for t in trusted):
        hints.append(f"It does not trust your account ({user.account}) or your user.")
    return hints
