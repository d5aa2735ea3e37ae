"""Plain data of the policy engine: parsed documents, requests and decisions.

Everything here is immutable and free of behaviour beyond small helpers, so that the parser,
the optimised evaluator (``evaluate.py``) and the naive one (``reference.py``) share one
vocabulary.  Nothing in this package performs I/O or imports from the rest of trailgate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


class PolicyType(StrEnum):
    """Where a document is used; decides which elements are required or forbidden."""

    IDENTITY = "identity"  # inline or managed policy of a user, group or role
    RESOURCE = "resource"  # a resource-based policy such as an S3 bucket policy
    TRUST = "trust"  # a role's AssumeRolePolicyDocument
    SCP = "scp"  # an Organizations service control policy
    BOUNDARY = "boundary"  # a managed policy used as a permissions boundary
    SESSION = "session"  # an AssumeRole session policy (inline ``Policy`` or ``PolicyArns``)

    @property
    def has_principal(self) -> bool:
        """Resource and trust policies name principals; the others must not."""
        return self in (PolicyType.RESOURCE, PolicyType.TRUST)


Effect = Literal["Allow", "Deny"]


@dataclass(frozen=True, slots=True)
class Position:
    """A place in the policy text: 1-based line and 1-based column (as IAM's simulator)."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """The ``Principal`` / ``NotPrincipal`` element, normalised.

    ``wildcard`` is true for ``"*"`` and for ``{"AWS": "*"}``.  The tuples keep the entries as
    written (strings), one tuple per key.
    """

    wildcard: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConditionClause:
    """One ``operator -> key -> values`` entry of a ``Condition`` block.

    ``operator`` and ``key`` are kept as written; ``values`` are normalised to strings (JSON
    ``true`` -> ``"true"``, numbers as their JSON text).  Several clauses of one statement AND.
    """

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement.  Exactly one of ``action``/``not_action`` is set; resources likewise
    except in trust policies, where both are ``None``."""

    index: int  # 0-based position in the Statement array
    sid: str | None
    effect: Effect
    principal: PrincipalSpec | None
    not_principal: PrincipalSpec | None
    action: tuple[str, ...] | None
    not_action: tuple[str, ...] | None
    resource: tuple[str, ...] | None
    not_resource: tuple[str, ...] | None
    conditions: tuple[ConditionClause, ...]
    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed, validated document."""

    version: str | None
    id: str | None
    statements: tuple[Statement, ...]

    @property
    def variables_enabled(self) -> bool:
        """Policy variables are substituted only under ``Version: 2012-10-17``."""
        return self.version == "2012-10-17"


class MalformedPolicyError(ValueError):
    """A document that AWS would refuse.  ``message`` is AWS's wording, used verbatim as the
    message of ``MalformedPolicyDocument`` (IAM, STS) or ``MalformedPolicy`` (S3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------

CallerKind = Literal[
    "root",  # an account's root user
    "user",  # an IAM user (long-term keys or a GetSessionToken session)
    "assumed_role",  # a role session
    "federated_user",  # a GetFederationToken session
    "service",  # an AWS service principal, e.g. cloudtrail.amazonaws.com
    "federated",  # a SAML/OIDC identity provider (AssumeRoleWith*)
    "anonymous",  # an unsigned request (S3)
]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes the request.

    ``arn`` is the principal's own ARN: the root ARN, the user ARN, the SESSION ARN
    (``arn:aws:sts::ACCT:assumed-role/ROLE/SESSION``), the federated-user ARN, the service name
    (``cloudtrail.amazonaws.com``), the identity provider, or ``"anonymous"``.
    ``role_arn`` is the role's ARN (with its path) for role sessions.  ``unique_id`` is the
    user's ``AIDA…`` or the role's ``AROA…`` id.  ``account`` is empty for services and anonymous.
    """

    kind: CallerKind
    arn: str
    account: str = ""
    unique_id: str | None = None
    role_arn: str | None = None
    canonical_id: str | None = None

    @staticmethod
    def from_arn(
        arn: str, *, unique_id: str | None = None, role_arn: str | None = None
    ) -> Caller:
        """Build a caller from an ARN (or a service name / ``anonymous``).

        For a session ARN without ``role_arn`` the role is assumed to have path ``/``.
        """
        if arn == "anonymous" or arn == "*":
            return Caller(kind="anonymous", arn="anonymous")
        if not arn.startswith("arn:"):
            if arn.endswith(".amazonaws.com") or arn.endswith(".amazonaws.com.cn"):
                return Caller(kind="service", arn=arn)
            return Caller(kind="federated", arn=arn)
        parts = arn.split(":", 5)
        if len(parts) != 6:
            raise ValueError(f"not an ARN: {arn}")
        _, partition, service, _, account, resource = parts
        if service == "iam" and resource == "root":
            return Caller(kind="root", arn=arn, account=account, unique_id=account)
        if service == "iam" and resource.startswith("user/"):
            return Caller(kind="user", arn=arn, account=account, unique_id=unique_id)
        if service == "sts" and resource.startswith("assumed-role/"):
            pieces = resource.split("/")
            if len(pieces) < 3:
                raise ValueError(f"not a role session ARN: {arn}")
            role = role_arn or f"arn:{partition}:iam::{account}:role/{pieces[1]}"
            return Caller(
                kind="assumed_role", arn=arn, account=account, unique_id=unique_id, role_arn=role
            )
        if service == "sts" and resource.startswith("federated-user/"):
            return Caller(kind="federated_user", arn=arn, account=account)
        if service == "iam" and (
            resource.startswith("saml-provider/") or resource.startswith("oidc-provider/")
        ):
            return Caller(kind="federated", arn=arn, account=account)
        raise ValueError(f"not a principal ARN: {arn}")

    @property
    def session_name(self) -> str | None:
        if self.kind != "assumed_role":
            return None
        return self.arn.split("/", 2)[2]


ContextValue = str | Sequence[str]
"""A request-context value as supplied: one string (single-valued key) or several."""

Context = Mapping[str, tuple[str, ...]]
"""A normalised request context: lower-case key -> values (a 1-tuple for single-valued keys,
possibly empty for multi-valued keys that are present but empty)."""


def make_context(values: Mapping[str, ContextValue]) -> dict[str, tuple[str, ...]]:
    """Normalise a context: lower-case key names, every value a tuple of strings."""
    out: dict[str, tuple[str, ...]] = {}
    for key, value in values.items():
        out[key.lower()] = (value,) if isinstance(value, str) else tuple(value)
    return out


def principal_context(caller: Caller) -> dict[str, tuple[str, ...]]:
    """The principal-derived global keys AWS puts in every request context (spec 1.7)."""
    ctx: dict[str, tuple[str, ...]] = {}
    if caller.kind == "anonymous":
        ctx["aws:principalaccount"] = ("anonymous",)
        ctx["aws:userid"] = ("anonymous",)
        ctx["aws:principaltype"] = ("Anonymous",)
        return ctx
    if caller.kind == "service":
        ctx["aws:principalisawsservice"] = ("true",)
        ctx["aws:principalservicename"] = (caller.arn,)
        return ctx
    ctx["aws:principalaccount"] = (caller.account,)
    ctx["aws:principalisawsservice"] = ("false",)
    if caller.kind == "root":
        ctx["aws:principalarn"] = (caller.arn,)
        ctx["aws:principaltype"] = ("Account",)
        ctx["aws:userid"] = (caller.account,)
    elif caller.kind == "user":
        ctx["aws:principalarn"] = (caller.arn,)
        ctx["aws:principaltype"] = ("User",)
        ctx["aws:username"] = (caller.arn.rsplit("/", 1)[1],)
        if caller.unique_id:
            ctx["aws:userid"] = (caller.unique_id,)
    elif caller.kind == "assumed_role":
        ctx["aws:principalarn"] = (caller.role_arn or caller.arn,)
        ctx["aws:principaltype"] = ("AssumedRole",)
        if caller.unique_id:
            ctx["aws:userid"] = (f"{caller.unique_id}:{caller.session_name}",)
    elif caller.kind == "federated_user":
        ctx["aws:principalarn"] = (caller.arn,)
        ctx["aws:principaltype"] = ("FederatedUser",)
        ctx["aws:userid"] = (f"{caller.account}:{caller.arn.rsplit('/', 1)[1]}",)
    return ctx


@dataclass(frozen=True, slots=True)
class Request:
    """One authorisation question.

    ``resource`` is an ARN, or ``"*"`` for actions without a resource.  ``resource_account`` is
    the account that owns the resource (``None``: no owner, or the caller's own account).
    ``context`` is a normalised context (see :func:`make_context`); it must already contain the
    principal keys (:func:`principal_context`) if policies use them.
    """

    caller: Caller
    action: str
    resource: str
    context: Context
    resource_account: str | None = None

    @property
    def cross_account(self) -> bool:
        return self.resource_account is not None and self.resource_account != self.caller.account


# --------------------------------------------------------------------------------------------
# Decisions
# --------------------------------------------------------------------------------------------

DecisionEffect = Literal["allowed", "explicitDeny", "implicitDeny"]

DenyReason = Literal[
    "",  # allowed
    "explicit-deny",  # a Deny statement matched (in any policy)
    "scp",  # an SCP level allows nothing for this request
    "no-identity-allow",  # no identity-based policy allows (and no resource policy grants)
    "boundary",  # the permissions boundary does not allow
    "session-policy",  # the session policy does not allow
    "no-resource-allow",  # cross-account or trust: the resource/trust policy does not allow
]


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement that decided (or took part in) a decision."""

    policy_id: str
    policy_type: PolicyType
    index: int
    sid: str | None
    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome: ``effect`` as IAM's simulator names it, the deciding statements (the
    matching Deny statements for an explicit deny; the Allow statements that together grant
    for an allow; none for an implicit deny), and for denials the first missing piece."""

    effect: DecisionEffect
    statements: tuple[MatchedStatement, ...] = ()
    reason: DenyReason = ""

    @property
    def allowed(self) -> bool:
        return self.effect == "allowed"


# --------------------------------------------------------------------------------------------
# The policies that apply to one request, as documents
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyDoc:
    """A policy document as stored: an id for deciding-statement reports, its use, its text."""

    policy_id: str
    policy_type: PolicyType
    text: str


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """Every policy relevant to one request (what ``auth/gather.py`` produces).

    - ``identity``: the caller's inline + attached managed policies (for users also their
      groups' policies); empty for root, services and anonymous callers.
    - ``resource``: the resource-based policy of the resource (type RESOURCE, e.g. a bucket
      policy) or the role's trust policy (type TRUST, for ``sts:AssumeRole`` and friends).
    - ``boundary``: the caller's permissions boundary, if one is set.
    - ``session``: the session policies passed at AssumeRole (``None`` when none were passed;
      when several, a request is allowed by the session if ANY of them allows).
    - ``scps``: the SCPs that apply to the caller's account, one tuple per level of the
      organization tree (root first, account last); every level must allow.  Empty for the
      management account and outside organizations.
    """

    identity: tuple[PolicyDoc, ...] = ()
    resource: PolicyDoc | None = None
    boundary: PolicyDoc | None = None
    session: tuple[PolicyDoc, ...] | None = None
    scps: tuple[tuple[PolicyDoc, ...], ...] = ()
