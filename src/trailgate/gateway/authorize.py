"""The authorize step: catalog row -> policies -> condition keys -> engine -> allow or deny."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..auth import gather
from ..auth.context_keys import build_context, caller_of, mark_mfa
from ..auth.iam_keys import iam_keys, resource_tag_keys, target_keys
from ..auth.org_keys import OrgPlace, org_path, principal_org_keys, resource_org_keys
from ..auth.principal_tags import entity_tags, merge_tags, principal_tag_keys
from ..policy import (
    BoundPolicy,
    Decision,
    MalformedPolicyError,
    PolicyDoc,
    PolicyInputs,
    PolicySet,
    PolicyType,
    Request,
    evaluate,
    load_policy,
)
from ..protocol.errors import ServiceError
from ..services import catalog
from ..services.iam import queries
from ..services.iam.documents import displayed_trust
from ..services.iam.password_policy import users_may_change_password
from ..services.organizations.arns import org_resources
from .context import Principal, RequestContext
from .denial_wording import why_denied


def _denied(ctx: RequestContext, action: str, resource: str, decision: Decision) -> ServiceError:
    assert ctx.principal is not None
    if ctx.service == "organizations":
        return ServiceError(
            "AccessDeniedException", "You don't have permissions to access this resource.", 400
        )
    shown = _shown_resource(ctx, resource)
    message = f"User: {ctx.principal.arn} is not authorized to perform: {action}"
    if resource != "*" or ctx.service != "cloudtrail":
        message += f" on resource: {shown}"  # CloudTrail names no resource for its "*" actions
    why = why_denied(decision, action) if ctx.service != "sts" else None
    if why:
        message += f" {why}"
    if ctx.service == "cloudtrail":
        return ServiceError("AccessDeniedException", message, 400)
    return ServiceError("AccessDenied", message, 403)


# IAM's older operations on an existing role or user name it ``role NAME`` / ``user NAME`` in
# their refusals (recorded for GetRole, DeleteRole, UpdateRole, UpdateAssumeRolePolicy,
# Attach/DetachRolePolicy, PutRolePolicy, ListRolePolicies, ListAttachedRolePolicies,
# ListRoleTags, ListInstanceProfilesForRole, GetUser, ListAccessKeys, CreateAccessKey,
# ListAttachedUserPolicies, PutUserPolicy, ListGroupsForUser, ListMFADevices; UNSURE: the
# others here, by analogy).  Create* and Tag*/Untag* name the ARN.
_NAMED_TARGETS: dict[str, str] = {
    **dict.fromkeys((
        "GetRole", "DeleteRole", "UpdateRole", "UpdateRoleDescription", "UpdateAssumeRolePolicy",
        "ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy", "PutRolePolicy",
        "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "ListRoleTags",
        "ListInstanceProfilesForRole", "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
    ), "role"),
    **dict.fromkeys((
        "GetUser", "DeleteUser", "ListAccessKeys", "CreateAccessKey",
        "DeleteAccessKey", "UpdateAccessKey", "ListAttachedUserPolicies", "ListUserPolicies",
        "GetUserPolicy", "PutUserPolicy", "DeleteUserPolicy", "AttachUserPolicy",
        "DetachUserPolicy", "ListGroupsForUser", "ListMFADevices", "EnableMFADevice",
        "DeactivateMFADevice", "ResyncMFADevice", "ListUserTags", "CreateLoginProfile",
        "GetLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile",
        "PutUserPermissionsBoundary", "DeleteUserPermissionsBoundary",
    ), "user"),
}


_NULL_WHEN_UNNAMED = frozenset({"ListAccessKeys", "CreateAccessKey"})


def _shown_resource(ctx: RequestContext, resource: str) -> str:
    """The resource as IAM's refusals name it: ``role NAME`` / ``user NAME`` (see
    ``_NAMED_TARGETS``), ``policy ARN`` for a managed policy, ``policy path /`` for
    ListPolicies, the ``mfa/`` prefix for ListVirtualMFADevices (both authorized on ``*``)."""
    if ctx.service != "iam":
        return resource
    if ":policy/" in resource:
        return f"policy {resource}"
    kind = _NAMED_TARGETS.get(ctx.operation)
    if kind is not None and f":{kind}/" in resource:
        # AWS's own quirk, recorded for ListAccessKeys and CreateAccessKey called without a
        # UserName (the caller's own keys): "user null<caller's name>"
        unnamed = ctx.operation in _NULL_WHEN_UNNAMED and not ctx.params.get("UserName")
        return f"{kind} {'null' if unnamed else ''}{resource.rsplit('/', 1)[-1]}"
    if ctx.operation == "ListPolicies":
        # UNSURE: the path shown when a PathPrefix is passed (only "/" is on record)
        return f"policy path {ctx.params.get('PathPrefix') or '/'}"
    if ctx.operation == "ListVirtualMFADevices" and ctx.principal is not None:
        return f"arn:aws:iam::{ctx.principal.account}:mfa/"
    return resource


class PolicyCache:
    """Caller -> compiled PolicySet, and role ARN -> bound trust policy, valid for one store
    generation (every IAM write bumps it)."""

    def __init__(self) -> None:
        self.generation = -1
        self.sets: dict[tuple[Any, ...], PolicySet] = {}
        self.trusts: dict[str, tuple[dict[str, Any], BoundPolicy]] = {}
        self.tags: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        self.places: dict[str, OrgPlace] = {}
        self.targets: dict[str, tuple[dict[str, tuple[str, ...]], str | None]] = {}

    def get(self, generation: int, key: tuple[Any, ...]) -> PolicySet | None:
        if generation != self.generation:
            self.sets.clear()
            self.trusts.clear()
            self.tags.clear()
            self.places.clear()
            self.targets.clear()
            self.generation = generation
            return None
        return self.sets.get(key)

    def put(self, key: tuple[Any, ...], value: PolicySet) -> None:
        if len(self.sets) > 50_000:
            self.sets.clear()
        self.sets[key] = value

    def principal_tags(self, p: Principal, read: Any) -> tuple[tuple[str, str], ...]:
        """The tags of the user or role behind ``p`` (call after :meth:`get`, which checks the
        generation), read once per generation."""
        key = (p.issuer_arn or p.role_arn or p.arn, p.account)
        found = self.tags.get(key)
        if found is None:
            found = read(lambda tx: entity_tags(tx, p))
            if len(self.tags) > 50_000:
                self.tags.clear()
            self.tags[key] = found
        return found

    def org_place(self, account: str, read: Any) -> OrgPlace:
        """Where ``account`` sits in the organization (call after :meth:`get`, which checks
        the generation; every change to the organization's tree bumps it)."""
        if account not in self.places:
            if len(self.places) > 50_000:
                self.places.clear()
            self.places[account] = read(lambda tx: org_path(tx, account))
        return self.places[account]

    def iam_target(
        self, resource: str, read: Any
    ) -> tuple[dict[str, tuple[str, ...]], str | None]:
        """The tag keys and boundary of the user or role an IAM call acts on (call after
        :meth:`get`)."""
        if resource not in self.targets:
            if len(self.targets) > 50_000:
                self.targets.clear()
            self.targets[resource] = read(lambda tx: target_keys(tx, resource))
        return self.targets[resource]

    def trust(self, role_arn: str) -> tuple[dict[str, Any], BoundPolicy] | None:
        """The role an ARN names and its bound trust policy (call after :meth:`get`, which
        checks the generation)."""
        return self.trusts.get(role_arn)

    def put_trust(self, role_arn: str, role: dict[str, Any], trust: BoundPolicy) -> None:
        if len(self.trusts) > 50_000:
            self.trusts.clear()
        self.trusts[role_arn] = (role, trust)


def authorize(ctx: RequestContext, read: Any, generation: int, cache: PolicyCache) -> None:
    """Raise AccessDenied unless the engine allows the request (root: own account only)."""
    if ctx.service == "sts" and ctx.operation == "AssumeRoleWithSAML":
        from .authorize_saml import authorize_saml  # its own step: the assertion is the caller

        authorize_saml(ctx, read)
        return
    entry = catalog.entry(ctx.service, ctx.operation)
    p = ctx.principal
    if p is not None:
        _credential_limits(ctx, p)
    if entry.action is None or p is None:
        return
    action = entry.action
    caller = caller_of(p)
    keys = build_context(ctx, caller)

    def path(kind: str, name: str) -> str | None:
        if kind == "self":
            return p.arn if p.kind == "user" else None
        found: str | None = read(lambda tx: queries.entity_path(tx, p.account, kind, name))
        return found

    resources = _resources(ctx, entry, p.account, path, read)
    resource = resources[0]
    ps_key = (p.kind, p.arn, p.session_policies, p.session_policy_arns, p.issuer_arn)
    policies = cache.get(generation, ps_key)
    if policies is None:
        inputs: PolicyInputs = read(lambda tx: gather.caller_policies(tx, p))
        policies = _compile_caller(inputs)
        cache.put(ps_key, policies)
    _principal_keys(ctx.service, p, read, cache, keys)
    if ctx.service == "iam":  # IAM's own keys: what the call passes, and its target's
        keys.update(iam_keys(ctx.operation, ctx.params, cache.iam_target(resource, read)))

    if ctx.service == "sts" and ctx.operation == "AssumeRole":
        _authorize_assume_role(ctx, read, policies, cache, keys, caller, resource)
        return
    if ctx.service == "s3":
        from .authorize_s3 import authorize_s3

        authorize_s3(ctx, read, policies, keys, caller,
                     lambda account: cache.org_place(account, read))
        return
    request = Request(caller, action, resource, keys, None)
    decision = _password_policy_grants(ctx, p, read, resource, evaluate(request, policies))
    ctx.decision = decision
    if not decision.allowed:
        raise _denied(ctx, action, resource, decision)
    extra = [(action, other) for other in resources[1:]]  # all must allow (Organizations)
    if ctx.operation == "GetFederationToken" and ctx.params.get("Tags"):
        extra.append(("sts:TagSession", resource))
    if ctx.service == "iam":
        extra += catalog.extra_authorizations(ctx.operation, p.account, ctx.params, path)
    for also_action, target in extra:  # actions AWS checks beside the operation's own
        also = evaluate(Request(caller, also_action, target, keys, None), policies)
        if not also.allowed:
            raise _denied(ctx, also_action, target, also)


def _credential_limits(ctx: RequestContext, p: Principal) -> None:
    """What the kind of credentials refuses before any policy is read: who may federate,
    what GetSessionToken and federated-user credentials may not call."""
    if ctx.service == "sts" and ctx.operation == "GetFederationToken":
        _federation_caller(p)
    if p.via_session_token:
        _session_token_limits(ctx, p)
    elif p.kind == "federated_user":
        _federated_limits(ctx, p)


def _resources(
    ctx: RequestContext, entry: catalog.Entry, account: str, path: Any, read: Any
) -> tuple[str, ...]:
    """The ARN the request is authorized on, then any other it must be allowed on too.  A
    read transaction only for the resources that need one (an entity's path, the
    organization's id)."""
    if ctx.service == "cloudtrail":
        return (catalog.cloudtrail_resource(ctx.operation, ctx.params, account, ctx.region),)
    if ctx.service == "s3":
        return ("*",)  # decided by authorize_s3
    if ctx.service == "organizations":
        found: tuple[str, ...] = read(lambda tx: org_resources(tx, ctx.operation, ctx.params))
        return found or ("*",)
    return (entry.resource(account, ctx.params, path),)


def _principal_keys(
    service: str, p: Principal, read: Any, cache: PolicyCache, keys: dict[str, tuple[str, ...]]
) -> None:
    """The keys read from the store: the principal's tags, its account's place in the
    organization and, for a service whose resources are the caller's own, the resource's."""
    if p.kind in ("user", "assumed_role", "federated_user"):
        tags = merge_tags(cache.principal_tags(p, read), p.session_tags)
        keys.update(principal_tag_keys(tags))
    if p.kind in _ACCOUNT_PRINCIPALS:
        place = cache.org_place(p.account, read)
        principal_org_keys(place, keys)
        if service in _OWN_ACCOUNT_RESOURCES:
            resource_org_keys(p.account, place, keys)


# Services whose resources always belong to the caller's account (aws:ResourceAccount and
# aws:ResourceOrgID/Paths name it).
_OWN_ACCOUNT_RESOURCES = frozenset({"iam", "cloudtrail"})
_ACCOUNT_PRINCIPALS = frozenset({"root", "user", "assumed_role", "federated_user"})


# What the account password policy's AllowUsersToChangePassword grants every IAM user on
# their own user (AWS: with it set, users need no policy to change their own password or to
# read the policy it must meet).
_SELF_PASSWORD_ACTIONS = frozenset({"ChangePassword", "GetAccountPasswordPolicy"})


def _password_policy_grants(
    ctx: RequestContext, p: Principal, read: Any, resource: str, decision: Decision
) -> Decision:
    """``decision``, or an Allow where AllowUsersToChangePassword stands in for the missing
    identity-policy Allow.  Only the identity side is replaced: explicit denies, SCPs,
    boundaries and session policies still refuse."""
    if (
        decision.reason != "no-identity-allow"
        or ctx.service != "iam"
        or ctx.operation not in _SELF_PASSWORD_ACTIONS
        or p.kind != "user"
        or resource not in ("*", p.arn)
    ):
        return decision
    allowed: bool = read(lambda tx: users_may_change_password(tx, p.account))
    return Decision("allowed") if allowed else decision


def _compile_caller(inputs: PolicyInputs) -> PolicySet:
    """The caller's compiled policies.  AssumeRole refuses an invalid session policy
    (``MalformedPolicyDocument``), so a session never carries one; should a token still hold
    one (minted before that check), the unreadable session policy grants nothing: the session
    is denied like any session whose policies do not allow the action, never a 500."""
    try:
        return PolicySet.from_inputs(inputs)
    except MalformedPolicyError:
        if not inputs.session:
            raise
    session = tuple(doc for doc in inputs.session if _readable(doc))
    return PolicySet.from_inputs(replace(inputs, session=session))


def _readable(doc: PolicyDoc) -> bool:
    try:
        load_policy(doc.text, doc.policy_type)
    except MalformedPolicyError:
        return False
    return True


# What IAM answers GetSessionToken credentials obtained without MFA (AWS's own wording: no
# trailing period, unlike an unknown access key's message).
SESSION_TOKEN_WITHOUT_MFA = "The security token included in the request is invalid"

# STS operations GetSessionToken credentials may call; GetSessionToken itself reaches the
# provider, which answers "Cannot call GetSessionToken with session credentials".
_SESSION_TOKEN_STS = frozenset({"AssumeRole", "GetCallerIdentity", "GetSessionToken"})


def _no_session_policy(ctx: RequestContext, p: Principal) -> ServiceError:
    """The refusal of a call that a kind of temporary credentials may never make."""
    action = f"{ctx.service}:{ctx.operation}"
    return ServiceError(
        "AccessDenied",
        f"User: {p.arn} is not authorized to perform: {action} because no session policy "
        "allows it",
        403,
    )


def _session_token_limits(ctx: RequestContext, p: Principal) -> None:
    """GetSessionToken credentials: no IAM without MFA (``InvalidClientTokenId``, as AWS
    answers); in STS only AssumeRole and GetCallerIdentity (spec 4.4)."""
    if ctx.service == "iam" and not p.mfa_authenticated:
        raise ServiceError("InvalidClientTokenId", SESSION_TOKEN_WITHOUT_MFA, 403)
    if ctx.service == "sts" and ctx.operation not in _SESSION_TOKEN_STS:
        raise _no_session_policy(ctx, p)


def _federation_caller(p: Principal) -> None:
    """Only an IAM user's or root's long-term keys may call GetFederationToken; AWS answers
    any temporary credentials so, before looking at policies."""
    if p.kind not in ("user", "root") or p.via_session_token:
        raise ServiceError(
            "AccessDenied", "Cannot call GetFederationToken with session credentials", 403
        )


_FEDERATED_STS = frozenset({"GetCallerIdentity", "GetFederationToken", "GetSessionToken"})


def _federated_limits(ctx: RequestContext, p: Principal) -> None:
    """GetFederationToken credentials (AWS documents it): no IAM operation through the API,
    and in STS only GetCallerIdentity (GetFederationToken and GetSessionToken answer 'Cannot
    call ... with session credentials' themselves)."""
    if ctx.service == "iam" or (
        ctx.service == "sts" and ctx.operation not in _FEDERATED_STS
    ):
        raise _no_session_policy(ctx, p)


# AWS's answer to AssumeRole called with root credentials, whatever the role.
ROOT_ASSUME_ROLE = "Roles may not be assumed by root accounts."


def _role_and_trust(tx: Any, role_arn: str) -> tuple[dict[str, Any], str] | None:
    """The role and its trust policy as IAM holds it: the users and roles it names are kept by
    unique id, so one deleted since (even if recreated under the same name) no longer matches,
    and one renamed since still does."""
    role = queries.role_by_arn(tx, role_arn)
    if role is None:
        return None
    return role, displayed_trust(tx, role)


def _bound_trust(
    read: Any, cache: PolicyCache, role_arn: str
) -> tuple[dict[str, Any], BoundPolicy] | None:
    """The role and its bound trust policy (cached per generation), or None: no such role."""
    cached = cache.trust(role_arn)
    if cached is not None:
        return cached
    found = read(lambda tx: _role_and_trust(tx, role_arn))
    if found is None:
        return None
    role, text = found
    trust = BoundPolicy.bind(PolicyDoc(f"{role['RoleName']} trust policy", PolicyType.TRUST, text))
    cache.put_trust(role_arn, role, trust)
    return role, trust


def _authorize_assume_role(
    ctx: RequestContext,
    read: Any,
    policies: PolicySet,
    cache: PolicyCache,
    keys: dict[str, tuple[str, ...]],
    caller: Any,
    role_arn: str,
) -> None:
    from ..services.sts.provider import check_mfa_readonly, check_role_arn

    p = ctx.principal
    assert p is not None
    check_role_arn(role_arn)
    denied = ServiceError(
        "AccessDenied",
        f"User: {p.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        403,
    )
    parts = role_arn.split(":")
    if len(parts) > 4 and parts[4].isdigit():
        ctx.resource_account = parts[4]
    if p.kind == "root":  # root's own keys or its GetSessionToken credentials
        raise ServiceError("AccessDenied", ROOT_ASSUME_ROLE, 403)
    params = ctx.params
    if ("SerialNumber" in params or "TokenCode" in params) and read(
        lambda tx: check_mfa_readonly(tx, p, params, ctx.received_at)
    ):
        mark_mfa(keys)
    found = _bound_trust(read, cache, role_arn)
    if found is None:
        raise denied
    role, trust = found
    ctx.target = role
    keys.update(resource_tag_keys(role))
    full = policies.with_resource(trust)
    resource_account = role_arn.split(":")[4]
    resource_org_keys(resource_account, cache.org_place(resource_account, read), keys)
    actions = ["sts:AssumeRole"]
    if ctx.params.get("Tags") or ctx.params.get("TransitiveTagKeys"):
        actions.append("sts:TagSession")
    # A session that carries a source identity passes it on (role chaining): AWS asks for
    # sts:SetSourceIdentity then too, passed or not (IAM User Guide, source identity).
    if ctx.params.get("SourceIdentity") or p.source_identity:
        actions.append("sts:SetSourceIdentity")
    for action in actions:
        decision = evaluate(Request(caller, action, role_arn, keys, resource_account), full)
        if action == "sts:AssumeRole":
            ctx.decision = decision
        if not decision.allowed:
            if action == "sts:AssumeRole":
                raise denied
            raise ServiceError(
                "AccessDenied",
                f"User: {p.arn} is not authorized to perform: {action} on resource: {role_arn}",
                403,
            )
