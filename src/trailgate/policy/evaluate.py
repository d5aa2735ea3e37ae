"""The decision: ``evaluate(request, PolicySet) -> Decision`` (spec section 2).

Order of evaluation:

1. Every applicable policy is scanned once for statements that apply to the request (action,
   resource, principal for resource/trust policies, conditions).  Any applicable Deny ->
   ``explicitDeny``, reporting every applicable Deny statement.
2. SCPs (caller's account, each level must allow; not for service/anonymous callers) ->
   ``implicitDeny`` (reason ``scp``).
3. Trust policies (``sts:AssumeRole``...) must always allow (``no-resource-allow``).  A
   cross-account request needs the resource policy to allow (``no-resource-allow``) AND the
   caller's side to allow.
4. Same account: a resource-policy grant naming the caller directly allows on its own (but a
   trust policy naming an IAM user needs the user's boundary to allow too); one naming the
   caller's role needs the boundary and session policy to allow as well; one naming the
   account adds nothing (spec 2.3).
5. The caller's side: the root user is allowed in its own account; otherwise an identity-policy
   Allow is needed (``no-identity-allow``), then the boundary (``boundary``) and session
   policies (``session-policy``) if present.  Services, identity providers and anonymous
   callers have no side of their own.

Deciding statements of an allow are the applicable Allow statements of the policies that made
the grant, in the order identity, resource, boundary, session, SCP levels.  Same account, the
first grant that holds wins, in the order: direct resource grant, role resource grant, identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .compile import (
    DIRECT,
    NO_MATCH,
    ROLE,
    CompiledPolicy,
    CompiledStatement,
    Flavor,
    load_policy,
)
from .model import (
    Decision,
    DenyReason,
    MatchedStatement,
    PolicyDoc,
    PolicyInputs,
    PolicyType,
    Request,
)


@dataclass(frozen=True, slots=True)
class BoundPolicy:
    """A compiled policy with the id and type it is reported under."""

    policy_id: str
    policy_type: PolicyType
    compiled: CompiledPolicy
    matched: tuple[MatchedStatement, ...]  # one per statement, by index

    @staticmethod
    def bind(doc: PolicyDoc, flavor: Flavor = "iam") -> BoundPolicy:
        compiled = load_policy(doc.text, doc.policy_type, flavor)
        matched = tuple(
            MatchedStatement(doc.policy_id, doc.policy_type, s.index, s.sid, s.start, s.end)
            for s in compiled.policy.statements
        )
        return BoundPolicy(doc.policy_id, doc.policy_type, compiled, matched)


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Compiled counterpart of :class:`~trailgate.policy.model.PolicyInputs`."""

    identity: tuple[BoundPolicy, ...] = ()
    resource: BoundPolicy | None = None
    boundary: BoundPolicy | None = None
    session: tuple[BoundPolicy, ...] | None = None
    scps: tuple[tuple[BoundPolicy, ...], ...] = ()
    # action -> applicable identity statements; shared by every set with the same identity
    index: dict[str, tuple[Candidate, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @staticmethod
    def from_inputs(inputs: PolicyInputs, *, resource_flavor: Flavor = "iam") -> PolicySet:
        """Bind every document (each parsed and compiled at most once per process)."""
        bind = BoundPolicy.bind
        return PolicySet(
            identity=tuple(bind(d) for d in inputs.identity),
            resource=bind(inputs.resource, resource_flavor) if inputs.resource else None,
            boundary=bind(inputs.boundary) if inputs.boundary else None,
            session=None if inputs.session is None else tuple(bind(d) for d in inputs.session),
            scps=tuple(tuple(bind(d) for d in level) for level in inputs.scps),
        )

    def with_resource(self, resource: BoundPolicy | None) -> PolicySet:
        """The same caller's policies with another resource policy (bucket, trust)."""
        return PolicySet(
            self.identity, resource, self.boundary, self.session, self.scps, self.index
        )

    def identity_candidates(self, action: str) -> tuple[Candidate, ...]:
        """Statements of all identity policies that admit ``action``, flattened and memoised
        (one loop per request instead of one per policy)."""
        found = self.index.get(action)
        if found is None:
            found = tuple(
                (st, bound.matched[st.index])
                for bound in self.identity
                for st in bound.compiled.candidates(action)
            )
            if len(self.index) > 2048:
                self.index.clear()
            self.index[action] = found
        return found


Candidate = tuple[CompiledStatement, MatchedStatement]


_NONE: tuple[MatchedStatement, ...] = ()
_NO_SIDE = frozenset({"service", "anonymous", "federated"})


def _scan(
    bound: BoundPolicy, request: Request, action: str, denies: list[MatchedStatement]
) -> list[MatchedStatement]:
    """Applicable Allow statements of an identity-type policy; Deny ones go to ``denies``."""
    allows: list[MatchedStatement] = []
    resource = request.resource
    ctx = request.context
    for st in bound.compiled.candidates(action):
        if st.resource is not None and not st.resource(resource, ctx):
            continue
        if st.condition is not None and not st.condition(ctx):
            continue
        (denies if st.deny else allows).append(bound.matched[st.index])
    return allows


def _scan_resource(
    bound: BoundPolicy, request: Request, action: str, denies: list[MatchedStatement]
) -> list[tuple[MatchedStatement, int]]:
    """Applicable Allow statements of a resource/trust policy with how each names the caller."""
    allows: list[tuple[MatchedStatement, int]] = []
    resource = request.resource
    ctx = request.context
    caller = request.caller
    for st in bound.compiled.candidates(action):
        if st.resource is not None and not st.resource(resource, ctx):
            continue
        kind = st.principal.kind(caller) if st.principal is not None else NO_MATCH
        if kind == NO_MATCH:
            continue
        if st.condition is not None and not st.condition(ctx):
            continue
        if st.deny:
            denies.append(bound.matched[st.index])
        else:
            allows.append((bound.matched[st.index], kind))
    return allows


_DENIALS: dict[str, Decision] = {
    reason: Decision("implicitDeny", _NONE, reason)
    for reason in ("scp", "no-identity-allow", "boundary", "session-policy", "no-resource-allow")
}


def _deny(reason: DenyReason) -> Decision:
    return _DENIALS[reason]


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide one request against the policies that apply to it."""
    action = request.action.lower()
    caller = request.caller
    denies: list[MatchedStatement] = []

    identity: list[MatchedStatement] = []
    if policies.identity:
        resource = request.resource
        ctx = request.context
        for st, matched in policies.identity_candidates(action):
            test = st.resource
            if test is not None and not test(resource, ctx):
                continue
            cond = st.condition
            if cond is not None and not cond(ctx):
                continue
            (denies if st.deny else identity).append(matched)
    if (
        policies.resource is None
        and policies.boundary is None
        and policies.session is None
        and not policies.scps
    ):
        # Identity policies only: the common case, decided without the general machinery.
        if denies:
            return Decision("explicitDeny", tuple(denies), "explicit-deny")
        if caller.kind in _NO_SIDE or request.cross_account:
            # Without a resource policy nothing grants a service, nor the other account's side.
            return _DENIALS["no-resource-allow"]
        if caller.kind == "root":
            return Decision("allowed", tuple(identity))
        if not identity:
            return _DENIALS["no-identity-allow"]
        return Decision("allowed", tuple(identity))
    return _evaluate_general(request, policies, action, identity, denies)


def _evaluate_general(
    request: Request,
    policies: PolicySet,
    action: str,
    identity: list[MatchedStatement],
    denies: list[MatchedStatement],
) -> Decision:
    """:func:`evaluate` with a resource/trust policy, a boundary, session policies or SCPs."""
    resource_allows: list[tuple[MatchedStatement, int]] = []
    if policies.resource is not None:
        resource_allows = _scan_resource(policies.resource, request, action, denies)
    boundary: list[MatchedStatement] = []
    if policies.boundary is not None:
        boundary = _scan(policies.boundary, request, action, denies)
    session: list[MatchedStatement] = []
    if policies.session is not None:
        for bound in policies.session:
            session.extend(_scan(bound, request, action, denies))
    scp: list[MatchedStatement] = []
    scp_missing = False
    if policies.scps and request.caller.kind not in ("service", "anonymous"):
        for level in policies.scps:
            level_allows: list[MatchedStatement] = []
            for bound in level:
                level_allows.extend(_scan(bound, request, action, denies))
            if not level_allows:
                scp_missing = True
            scp.extend(level_allows)
    if denies:
        return Decision("explicitDeny", tuple(denies), "explicit-deny")
    if scp_missing:
        return _deny("scp")
    boundary_ok = policies.boundary is None or bool(boundary)
    session_ok = policies.session is None or bool(session)
    limits = (boundary if policies.boundary is not None else []) + (
        session if policies.session is not None else []
    )
    side, side_reason = _caller_side(request, identity, limits, boundary_ok, session_ok)
    return _combine(request, policies, resource_allows, scp, side, side_reason, limits,
                    boundary_ok, session_ok)


def _caller_side(
    request: Request,
    identity: list[MatchedStatement],
    limits: list[MatchedStatement],
    boundary_ok: bool,
    session_ok: bool,
) -> tuple[list[MatchedStatement], DenyReason]:
    """The caller's own side: the statements that grant it, or why it grants nothing."""
    kind = request.caller.kind
    if kind == "root":
        return identity, ""
    if kind in _NO_SIDE:
        return [], "no-resource-allow"  # only a resource policy could have granted
    if not identity:
        return [], "no-identity-allow"
    if not boundary_ok:
        return [], "boundary"
    if not session_ok:
        return [], "session-policy"
    return identity + limits, ""


def _combine(
    request: Request,
    policies: PolicySet,
    resource_allows: list[tuple[MatchedStatement, int]],
    scp: list[MatchedStatement],
    side: list[MatchedStatement],
    side_reason: DenyReason,
    limits: list[MatchedStatement],
    boundary_ok: bool,
    session_ok: bool,
) -> Decision:
    """The decision from the caller's side and the resource (or trust) policy's grants."""
    is_trust = policies.resource is not None and policies.resource.policy_type is PolicyType.TRUST
    # Services, identity providers and anonymous callers belong to no account: a resource
    # policy that names them grants directly, wherever the resource lives.
    cross = request.cross_account and request.caller.kind not in _NO_SIDE
    grants = [m for m, _ in resource_allows]
    if cross:
        if not resource_allows:
            return _deny("no-resource-allow")
        if side_reason:
            return _deny(side_reason)
        return Decision("allowed", tuple(_ordered(side, grants, scp)))
    if is_trust and not resource_allows:
        return _deny("no-resource-allow")  # a role must always be trusted explicitly

    # Same account (spec 2.3): how the resource/trust policy names the caller decides.
    kinds = {k for _, k in resource_allows}
    if DIRECT in kinds and is_trust and request.caller.kind == "user":
        # A trust policy naming the user still needs the user's boundary to allow (IAM User
        # Guide, updating a role trust policy); other resource policies are not limited by it.
        if not boundary_ok:
            return _deny("boundary")
        return Decision("allowed", tuple(grants + limits + scp))
    if DIRECT in kinds:
        return Decision("allowed", tuple(grants + scp))
    if ROLE in kinds:
        if boundary_ok and session_ok:
            return Decision("allowed", tuple(grants + limits + scp))
        return _deny("boundary" if not boundary_ok else "session-policy")
    if side_reason:
        return _deny(side_reason)
    if is_trust:  # the trust names only the account: the caller's side delegated
        return Decision("allowed", tuple(_ordered(side, grants, scp)))
    return Decision("allowed", tuple(side + scp))


def _ordered(
    side: list[MatchedStatement], grants: list[MatchedStatement], scp: list[MatchedStatement]
) -> list[MatchedStatement]:
    """identity, resource, boundary, session, SCP order for a two-sided grant."""
    identity = [m for m in side if m.policy_type is PolicyType.IDENTITY]
    limits = [m for m in side if m.policy_type is not PolicyType.IDENTITY]
    return identity + grants + limits + scp
