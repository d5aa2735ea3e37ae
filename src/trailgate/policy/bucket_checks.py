"""S3's own checks on a bucket policy (PutBucketPolicy), beyond the policy grammar: actions
that do not exist or apply to none of a statement's resources, undefined ``s3:`` condition
keys, malformed IP addresses.  Each is ``MalformedPolicy`` with S3's message."""

from __future__ import annotations

from trailgate.policy.conditions import malformed_ip
from trailgate.policy.lint import condition_key_type, expand_action
from trailgate.policy.model import MalformedPolicyError, Policy

S3_ACTION_NOT_APPLICABLE = "Action does not apply to any resource(s) in statement"
S3_INVALID_ACTION = "Policy has invalid action"
S3_INVALID_CONDITION_KEY = "Policy has an invalid condition key"
S3_INVALID_IP = "Invalid IP address in Conditions"


def _s3_resource_types(resource: str) -> frozenset[str]:
    """Which S3 resource types a Resource pattern can name (bucket, object, or both)."""
    if resource == "*":
        return frozenset({"bucket", "object"})
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[2] != "s3":
        return frozenset()
    rest = parts[5]
    if "/" in rest:
        return frozenset({"object"})
    if "*" in rest or "?" in rest or "${" in rest:
        return frozenset({"bucket", "object"})
    return frozenset({"bucket"})


def _unknown_s3_action(action: str) -> bool:
    """An ``s3:`` action name (no wildcard) that names no S3 action."""
    if not action.lower().startswith("s3:") or "*" in action or "?" in action:
        return False
    return expand_action(action) == []


def _unknown_s3_key(key: str) -> bool:
    """An ``s3:`` condition key that S3 does not define (``aws:`` keys are not checked)."""
    return key.lower().startswith("s3:") and condition_key_type(key.lower()) is None


def check_bucket_policy_actions(policy: Policy) -> None:
    """S3 refuses a bucket policy naming an ``s3:`` action that does not exist (``s3:HeadObject``,
    ``s3:ListObjects``: "Policy has invalid action"), and a statement in which a listed ``s3:``
    action applies to none of the statement's resources (``s3:ListBucket`` on
    ``arn:aws:s3:::b/*``, ``s3:GetObject`` on ``arn:aws:s3:::b``).  A wildcard action needs one
    of the actions it covers to apply.  Statements with ``NotAction`` or ``NotResource`` are not
    checked for applicability.  # UNSURE: exact extent
    An ``s3:`` condition key S3 does not define is "Policy has an invalid condition key"; an IP
    operator's value that is not an IP address or CIDR block, "Invalid IP address in Conditions".

    Raises :class:`MalformedPolicyError` with S3's message.
    """
    for stmt in policy.statements:
        if any(_unknown_s3_action(a) for a in (stmt.action or ()) + (stmt.not_action or ())):
            raise MalformedPolicyError(S3_INVALID_ACTION)
        if any(_unknown_s3_key(clause.key) for clause in stmt.conditions):
            raise MalformedPolicyError(S3_INVALID_CONDITION_KEY)
        if any(malformed_ip(clause.operator, clause.values) for clause in stmt.conditions):
            raise MalformedPolicyError(S3_INVALID_IP)
        if stmt.action is None or stmt.resource is None:
            continue
        types: frozenset[str] = frozenset().union(*(_s3_resource_types(r) for r in stmt.resource))
        for action in stmt.action:
            if not action.lower().startswith("s3:"):
                continue
            infos = expand_action(action)
            if not infos:  # a wildcard that covers no catalogue action
                continue
            if not any(types.intersection(info.resources) for info in infos):
                raise MalformedPolicyError(S3_ACTION_NOT_APPLICABLE)
