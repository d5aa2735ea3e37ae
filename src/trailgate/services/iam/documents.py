"""Policy documents and managed-policy references shared by the IAM operations: validation
with AWS's errors, size quotas, resolving policy ARNs, usage counters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...policy import MalformedPolicyError, PolicyType, parse_policy
from ...policy.model import Policy
from ...policy.validate import policy_size
from ...store.interface import Tx
from .common import (
    AWS_USAGE,
    POLICY,
    ROLE,
    USER,
    Checks,
    check_arn,
    limit_exceeded,
    malformed,
    no_such_entity,
    split_iam_arn,
)
from .managed import aws_managed_by_arn
from .queries import customer_policy

TRUST_QUOTA = 2048
MANAGED_QUOTA = 6144


def parse_document(
    text: str, policy_type: PolicyType, member: str = "policyDocument", *, managed: bool = False
) -> Policy:
    """Characters (``ValidationError``), then grammar (``MalformedPolicyDocument``)."""
    checks = Checks()
    checks.document(text, member)
    checks.done()
    try:
        return parse_policy(text, policy_type, managed=managed)
    except MalformedPolicyError as exc:
        raise malformed(exc.message) from None


def check_managed_document(text: str) -> None:
    """CreatePolicy / CreatePolicyVersion: identity grammar, current Version, 6,144 quota."""
    parse_document(text, PolicyType.IDENTITY, managed=True)
    if policy_size(text) > MANAGED_QUOTA:
        raise limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_QUOTA}")


def check_trust_document(tx: Tx, text: str, member: str) -> dict[str, str]:
    """Validate an AssumeRolePolicyDocument (spec 3.4) and return {principal ARN: unique id}
    for the users and roles it names, which must exist."""
    policy = parse_document(text, PolicyType.TRUST, member)
    if _names_star_principal(text):
        # IAM refuses the bare string form in a trust policy ({"AWS": "*"} is accepted)
        raise malformed('AssumeRolepolicy contained an invalid principal: "STAR":"*".')
    if policy_size(text) > TRUST_QUOTA:
        raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_QUOTA}")
    ids: dict[str, str] = {}
    for statement in policy.statements:
        spec = statement.principal
        if spec is None:
            continue
        for value in spec.aws:
            parts = split_iam_arn(value)
            if parts is None or parts[1] not in ("user", "role"):
                continue
            account, kind, _path, name = parts
            record = tx.get(account, USER if kind == "user" else ROLE, name.lower())
            if record is None or record["Arn"] != value:
                raise malformed(f'Invalid principal in policy: "AWS":"{value}"')
            ids[value] = record["UserId" if kind == "user" else "RoleId"]
    return ids



def _names_star_principal(text: str) -> bool:
    """Whether a statement of the (already valid) document reads ``"Principal": "*"``."""
    try:
        document = json.loads(text)
    except ValueError:
        return False
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return isinstance(statements, list) and any(
        isinstance(st, dict) and st.get("Principal") == "*" for st in statements
    )


def displayed_trust(tx: Tx, data: dict[str, Any]) -> str:
    """A role's trust policy as IAM shows it: AWS keeps the users and roles it names by unique
    id and maps them back to their current ARN when showing it; one deleted since (or deleted
    and recreated: a new id) can no longer be mapped and appears as its unique id."""
    text = str(data["AssumeRolePolicyDocument"])
    for arn, unique_id in (data.get("TrustPrincipalIds") or {}).items():
        target = tx.index_get(unique_id)
        record = None if target is None else tx.get(target.account, target.kind, target.key)
        shown = unique_id if record is None else str(record["Arn"])
        if shown != arn:
            text = text.replace(json.dumps(arn), json.dumps(shown))
    return text

@dataclass(frozen=True)
class PolicyRef:
    """A managed policy an ARN resolved to (AWS-managed or customer)."""

    arn: str  # canonical ARN (as stored)
    name: str
    path: str
    aws: bool
    record: dict[str, Any] | None  # customer policy record


def resolve_policy(tx: Tx, account: str, arn: str) -> PolicyRef | None:
    """The managed policy ``arn`` names, visible from ``account`` (its own or AWS's)."""
    aws = aws_managed_by_arn(arn)
    if aws is not None:
        return PolicyRef(aws.arn, aws.name, aws.path, True, None)
    record = customer_policy(tx, arn)
    if record is None or record["Arn"].split(":")[4] != account:
        return None
    return PolicyRef(record["Arn"], record["PolicyName"], record["Path"], False, record)


def attachable(tx: Tx, account: str, arn: str) -> PolicyRef:
    """Attach / boundary targets: ``InvalidInput`` for a non-ARN, ``NoSuchEntity`` if unknown."""
    check_arn(arn)
    ref = resolve_policy(tx, account, arn)
    if ref is None:
        raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
    return ref


def boundary_target(tx: Tx, account: str, arn: str | None) -> str | None:
    """Validate a PermissionsBoundary ARN; returns the canonical ARN."""
    if arn is None:
        return None
    check_arn(arn)
    ref = resolve_policy(tx, account, arn)
    if ref is None:
        raise no_such_entity(f"Scope ARN: {arn} does not exist or is not attachable.")
    return ref.arn


def usage(tx: Tx, account: str, arn: str) -> tuple[int, int]:
    """(AttachmentCount, PermissionsBoundaryUsageCount) of a managed policy in ``account``."""
    if aws_managed_by_arn(arn) is not None:
        data = tx.get(account, AWS_USAGE, arn)
    else:
        data = customer_policy(tx, arn)
    if data is None:
        return 0, 0
    return int(data.get("AttachmentCount", 0)), int(data.get("PermissionsBoundaryUsageCount", 0))


def adjust_usage(tx: Tx, account: str, arn: str, *, attach: int = 0, boundary: int = 0) -> None:
    """Add to a managed policy's usage counters in ``account``."""
    if not attach and not boundary:
        return
    if aws_managed_by_arn(arn) is not None:
        data = tx.get(account, AWS_USAGE, arn) or {}
        kind, key = AWS_USAGE, arn
    else:
        record = customer_policy(tx, arn)
        if record is None:
            return
        data, kind, key = record, POLICY, record["PolicyName"].lower()
    data["AttachmentCount"] = max(0, int(data.get("AttachmentCount", 0)) + attach)
    data["PermissionsBoundaryUsageCount"] = max(
        0, int(data.get("PermissionsBoundaryUsageCount", 0)) + boundary
    )
    name = str(data.get("PolicyName", arn))
    tx.put(account, kind, key, name, data)


def change_boundary(tx: Tx, account: str, old: str | None, new: str | None) -> None:
    if old == new:
        return
    if old:
        adjust_usage(tx, account, old, boundary=-1)
    if new:
        adjust_usage(tx, account, new, boundary=1)


def boundary_view(arn: str | None) -> dict[str, str] | None:
    if not arn:
        return None
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}
