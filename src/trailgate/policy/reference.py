"""A deliberately naive IAM policy evaluator, used only as an oracle by property tests.

It works on the raw ``json.loads`` form of each document and re-implements every rule from the
spec (``aws-semantics.md`` sections 1 and 2) in the most direct way: no compilation, no caching,
no sharing of code with ``parse.py``, ``glob.py``, ``conditions.py`` or ``evaluate.py``.  Speed
does not matter here; being obviously right does.

Decision procedure of :func:`evaluate` (first rule that fires wins).  Callers of kind
``service``, ``anonymous`` and ``federated`` (an identity provider calling AssumeRoleWith*) have
no identity side: only a resource/trust policy can allow them, and the SCP check is skipped
(a matching Deny in any policy supplied still counts; ``auth/gather.py`` supplies none).

1. **Explicit deny.**  Every statement with ``Effect: Deny`` that applies to the request (action,
   resource, condition and, in resource/trust policies, principal all match) in ANY policy of
   the inputs.  Result ``explicitDeny`` / ``explicit-deny`` with all of them, in the order
   identity, resource (or trust), boundary, session, SCPs.
2. **SCPs** (callers with an identity side only): every level of ``inputs.scps`` needs a
   matching Allow in one of its documents, otherwise ``implicitDeny`` / ``scp``.
3. **Resource or trust side.**  Each matching Allow of the resource/trust policy is classified by
   how its principal names the caller (:func:`reference_principals.grant_kind`, spec 1.2):
   ``direct``  - user ARN, session ARN, federated-user ARN, ``*``, ``Service``, ``Federated``,
                 a user's unique id (``AIDA…``), or an Allow whose ``NotPrincipal`` does not
                 name the caller;
   ``role``    - the role ARN of a role session, or the role's unique id (``AROA…``, which is how
                 IAM stores a role ARN in a trust policy);
   ``account`` - the account id, ``arn:aws:iam::ACCT:root`` (any IAM principal of the account:
                 root, users, role and federated-user sessions), or a ``CanonicalUser`` (an S3
                 canonical id identifies an account).
   ``NotPrincipal`` applies to every caller it does not exclude, and AWS excludes only what it
   names exactly: a ``direct`` entry, or an account entry for that account's root user (an
   account entry does not exempt the account's users or sessions, nor a role ARN its sessions).
   A trust policy must always have a matching Allow, and a cross-account request must have one
   in the resource policy; otherwise ``implicitDeny`` / ``no-resource-allow``.
4. **Grant.**
   - callers without an identity side: any matching resource/trust Allow grants; without one
     the result is ``no-resource-allow`` (the only piece that could have granted).
   - same account and a ``direct`` grant: allowed, nothing else consulted (spec 2.3).
   - otherwise the request needs a *grant*: a ``role`` grant (same account only), or the identity
     side: the root user always (spec 2.2 default), any other caller needs a matching Allow in
     its identity policies.  No grant: ``no-identity-allow``.
5. **Limits** (not for the root user): a permissions boundary, if set, must have a matching Allow
   (``boundary``); session policies, if given (``inputs.session is not None``), at least one must
   have a matching Allow (``session-policy``).  Then: allowed.

A ``role``-named resource grant therefore stands in for the identity policies but not for the
boundary or session policy (spec 2.3); this applies to trust policies too (a trust policy is a
resource policy, spec 2.1), so a role session whose session policy does not allow
``sts:AssumeRole`` cannot assume a role whose trust policy names the calling role's ARN.

Deciding statements of an ``allowed`` decision: all matching Allow statements of every policy
that was needed for the grant, in the order identity, resource/trust, boundary, session, SCPs:
- identity: when the grant came from the identity side (none for the root user);
- resource/trust: when a resource/trust grant was used (``direct`` or ``role``), for every
  cross-account request, and always for a trust policy (it must always allow); when it is used,
  ALL its matching Allow statements are listed, whatever principal form they use;
- boundary and session: when they were checked (step 5);
- SCPs: when they were checked (step 2), all matching Allow statements of all levels.
``implicitDeny`` decisions carry no statements.

Choices for points the spec leaves open (all documented where implemented):
- a request-context key bound to an empty tuple counts as absent (``Null``, ``IfExists``,
  set qualifiers); a policy variable needs a key with exactly one value;
- an operator without a set qualifier applied to several request values: positive operators
  need one (request value, policy value) pair to match, negated operators need every request
  value to match none of the policy values;
- Date values made only of digits are epoch seconds (so ``"2020"`` is not the year 2020);
  a date-time without an offset is UTC;
- an unparseable request value makes that value fail for positive AND negated operators
  (Numeric, Date, Binary, IP, Arn); an unparseable or unresolvable policy value never matches;
- a statement without ``Resource``/``NotResource`` (trust policies) matches every resource;
  a resource/trust statement without ``Principal``/``NotPrincipal`` matches nobody;
- resource pattern and request resource must both have 6 ARN parts (or the pattern is ``*``);
- unknown condition operators and structurally invalid documents raise :class:`ValueError`.

Positions of statements (``MatchedStatement.start``/``end``): 1-based line and column of the
statement's opening ``{`` and of its closing ``}``.
"""

from __future__ import annotations

from trailgate.policy.model import (
    Decision,
    PolicyInputs,
    PolicyType,
    Request,
)
from trailgate.policy.reference_documents import Statement
from trailgate.policy.reference_principals import GrantKind, grant_kind
from trailgate.policy.reference_statements import Slots, matched, matching

__all__ = ["GrantKind", "evaluate"]

# ============================================================================================
# The decision
# ============================================================================================


def _explicit_denies(slots: Slots, request: Request) -> list[Statement]:
    """Step 1: the matching Deny statements of every policy, in reporting order."""
    return (
        matching(slots.identity, request, "Deny")
        + matching(slots.resource, request, "Deny", names_principal=True)
        + matching(slots.boundary, request, "Deny")
        + matching(slots.session, request, "Deny")
        + matching(slots.scps, request, "Deny")
    )


def _scp_allows(inputs: PolicyInputs, request: Request) -> list[Statement] | None:
    """The matching Allow statements of all SCP levels, or None if some level allows nothing."""
    allows: list[Statement] = []
    for level in inputs.scps:
        level_allows = matching(list(level), request, "Allow")
        if not level_allows:
            return None
        allows += level_allows
    return allows


def _allowed(*parts: list[Statement]) -> Decision:
    """An ``allowed`` decision deciding by the statements of ``parts``, in order."""
    return Decision("allowed", matched([s for part in parts for s in part]), "")


def _limits(
    inputs: PolicyInputs, slots: Slots, request: Request
) -> tuple[list[Statement], list[Statement]] | Decision:
    """Step 5: the matching Allow statements of the permissions boundary and of the session
    policies, or the implicit deny of the first of the two that is given and allows nothing."""
    boundary_allows: list[Statement] = []
    if inputs.boundary is not None:
        boundary_allows = matching(slots.boundary, request, "Allow")
        if not boundary_allows:
            return Decision("implicitDeny", (), "boundary")
    session_allows: list[Statement] = []
    if inputs.session is not None:
        session_allows = matching(slots.session, request, "Allow")
        if not session_allows:
            return Decision("implicitDeny", (), "session-policy")
    return boundary_allows, session_allows


def evaluate(request: Request, inputs: PolicyInputs) -> Decision:
    """Decide one request against the documents in ``inputs`` (see the module docstring)."""
    caller = request.caller
    slots = Slots.of(inputs)
    # AWS services, anonymous callers and identity providers (AssumeRoleWithSAML/-WebIdentity)
    # have no identity policies, boundary, session policy or SCP check.
    no_identity_side = caller.kind in ("service", "anonymous", "federated")

    # 1. explicit deny anywhere
    denies = _explicit_denies(slots, request)
    if denies:
        return Decision("explicitDeny", matched(denies), "explicit-deny")

    # 2. every SCP level must allow
    scp_allows = [] if no_identity_side else _scp_allows(inputs, request)
    if scp_allows is None:
        return Decision("implicitDeny", (), "scp")

    # 3. the resource or trust side
    resource_allows = matching(slots.resource, request, "Allow", names_principal=True)
    kinds = {grant_kind(stmt, caller) for stmt in resource_allows}
    is_trust = inputs.resource is not None and inputs.resource.policy_type == PolicyType.TRUST
    if (is_trust or request.cross_account) and not resource_allows:
        return Decision("implicitDeny", (), "no-resource-allow")

    # 4. the grant
    if no_identity_side:
        if resource_allows:
            return _allowed(resource_allows)
        return Decision("implicitDeny", (), "no-resource-allow")  # the only possible grant
    if not request.cross_account and "direct" in kinds:
        return _allowed(resource_allows, scp_allows)

    identity_allows: list[Statement] = []
    if not request.cross_account and "role" in kinds:
        grant_statements = resource_allows  # the role grant stands in for identity policies
    else:
        if caller.kind != "root":
            identity_allows = matching(slots.identity, request, "Allow")
            if not identity_allows:
                return Decision("implicitDeny", (), "no-identity-allow")
        # the resource/trust policy is part of the grant when it had to allow
        grant_statements = resource_allows if (is_trust or request.cross_account) else []
    if caller.kind == "root":
        return _allowed(grant_statements, scp_allows)

    # 5. limits: permissions boundary and session policies
    limits = _limits(inputs, slots, request)
    if isinstance(limits, Decision):
        return limits
    boundary_allows, session_allows = limits
    return _allowed(identity_allows, grant_statements, boundary_allows, session_allows, scp_allows)
