"""Why a request was refused, in AWS's words (its "enhanced" AccessDenied messages): an explicit
deny names the first kind of policy that holds one, in the order below, and the ARN of the SCP,
managed policy or permissions boundary that denied; an implicit deny names the kind of policy
that allowed nothing.  Shared by IAM's and S3's refusals."""

from __future__ import annotations

from ..policy import Decision, PolicyType

EXPLICIT_IN: tuple[tuple[PolicyType, str], ...] = (
    (PolicyType.SCP, "a service control policy"),
    (PolicyType.RESOURCE, "a resource-based policy"),
    (PolicyType.TRUST, "a resource-based policy"),
    (PolicyType.IDENTITY, "an identity-based policy"),
    (PolicyType.BOUNDARY, "a permissions boundary"),
    (PolicyType.SESSION, "a session policy"),
)
NO_ALLOW = {
    "no-identity-allow": "identity-based policy",
    "no-resource-allow": "resource-based policy",
    "boundary": "permissions boundary",
    "session-policy": "session policy",
    "scp": "service control policy",
}
# Kinds whose denying document AWS names by ARN (an SCP, a managed policy: inline policies
# are not named).
_NAMED_BY_ARN = (PolicyType.SCP, PolicyType.IDENTITY, PolicyType.BOUNDARY)


def why_denied(decision: Decision, action: str) -> str | None:
    """``with an explicit deny in ...`` / ``because no ... allows the ACTION action``, or None
    when the decision carries no reason AWS words."""
    if decision.reason == "explicit-deny":
        kinds = {m.policy_type for m in decision.statements}
        for kind, where in EXPLICIT_IN:
            if kind in kinds:
                arn = next((m.policy_id for m in decision.statements if m.policy_type is kind
                            and kind in _NAMED_BY_ARN and m.policy_id.startswith("arn:")), None)
                return f"with an explicit deny in {where}" + (f": {arn}" if arn else "")
        return None
    missing = NO_ALLOW.get(decision.reason)
    return None if missing is None else f"because no {missing} allows the {action} action"
