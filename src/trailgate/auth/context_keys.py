"""THE one function that turns a request into condition keys (spec 1.7)."""

from __future__ import annotations

from typing import Any

from ..gateway.context import Principal, RequestContext
from ..policy import Caller, principal_context


def caller_of(p: Principal) -> Caller:
    if p.kind == "assumed_role":
        return Caller(
            kind="assumed_role", arn=p.arn, account=p.account, unique_id=p.unique_id,
            role_arn=p.role_arn,
        )
    if p.kind in ("root", "user", "federated_user"):
        return Caller(kind=p.kind, arn=p.arn, account=p.account, unique_id=p.unique_id)  # type: ignore[arg-type]
    if p.kind == "service":
        return Caller(kind="service", arn=p.arn)
    return Caller(kind="anonymous", arn="anonymous")


def build_context(ctx: RequestContext, caller: Caller) -> dict[str, tuple[str, ...]]:
    """Global keys of the request plus the operation's own (sts:*)."""
    p = ctx.principal
    now = ctx.received_at
    keys = principal_context(caller)
    keys["aws:currenttime"] = (now.strftime("%Y-%m-%dT%H:%M:%SZ"),)
    keys["aws:epochtime"] = (str(int(now.timestamp())),)
    keys["aws:securetransport"] = ("true" if ctx.request.secure else "false",)
    keys["aws:sourceip"] = (ctx.request.client_ip,)
    # IAM and Organizations have one endpoint, in us-east-1, whatever region signed the call
    global_service = ctx.service in ("iam", "organizations")
    keys["aws:requestedregion"] = ("us-east-1" if global_service else ctx.region,)
    keys["aws:viaawsservice"] = ("false",)
    if p is not None and p.session_issued is not None:
        keys["aws:tokenissuetime"] = (p.session_issued.strftime("%Y-%m-%dT%H:%M:%SZ"),)
        keys["aws:multifactorauthpresent"] = ("true" if p.mfa_authenticated else "false",)
        if p.mfa_authenticated and p.mfa_auth_time is not None:
            age = max(0, int((now - p.mfa_auth_time).total_seconds()))
            keys["aws:multifactorauthage"] = (str(age),)
    if p is not None and p.source_identity:
        keys["aws:sourceidentity"] = (p.source_identity,)
    if ctx.service == "sts" and ctx.operation == "AssumeRole":
        _assume_role_keys(ctx.params, keys)
    if ctx.service == "organizations":
        _organizations_keys(ctx.params, keys)
    if ctx.service == "iam" and ctx.operation == "CreateServiceLinkedRole":
        service = ctx.params.get("AWSServiceName")
        if isinstance(service, str):
            keys["iam:awsservicename"] = (service,)
    return keys


def _assume_role_keys(params: dict[str, Any], keys: dict[str, tuple[str, ...]]) -> None:
    if params.get("ExternalId") is not None:
        keys["sts:externalid"] = (params["ExternalId"],)
    if params.get("RoleSessionName") is not None:
        keys["sts:rolesessionname"] = (params["RoleSessionName"],)
    if params.get("SourceIdentity") is not None:
        keys["sts:sourceidentity"] = (params["SourceIdentity"],)
    request_tag_keys(params.get("Tags") or [], keys)
    transitive = params.get("TransitiveTagKeys") or []
    if transitive:
        keys["sts:transitivetagkeys"] = tuple(transitive)


def request_tag_keys(tags: list[dict[str, Any]], keys: dict[str, tuple[str, ...]]) -> None:
    """``aws:TagKeys`` and ``aws:RequestTag/KEY`` of the tags a request sets."""
    if tags:
        keys["aws:tagkeys"] = tuple(str(t.get("Key") or "") for t in tags)
        for tag in tags:
            keys[f"aws:requesttag/{str(tag.get('Key') or '').lower()}"] = (
                str(tag.get("Value") or ""),)


def _organizations_keys(params: dict[str, Any], keys: dict[str, tuple[str, ...]]) -> None:
    """``organizations:PolicyType`` (the type a call creates, lists, enables or names by id:
    only service control policies exist here), ``organizations:ServicePrincipal`` and the
    ``aws:RequestTag`` / ``aws:TagKeys`` of the tags a call sets."""
    for name in ("Type", "PolicyType", "Filter"):
        if isinstance(params.get(name), str):
            keys["organizations:policytype"] = (params[name],)
    if "organizations:policytype" not in keys and isinstance(params.get("PolicyId"), str):
        keys["organizations:policytype"] = ("SERVICE_CONTROL_POLICY",)
    if isinstance(params.get("ServicePrincipal"), str):
        keys["organizations:serviceprincipal"] = (params["ServicePrincipal"],)
    if params.get("Tags"):
        request_tag_keys(params["Tags"], keys)
    elif isinstance(params.get("TagKeys"), list):  # UntagResource
        keys["aws:tagkeys"] = tuple(str(k) for k in params["TagKeys"])


def mark_mfa(keys: dict[str, tuple[str, ...]]) -> None:
    """A valid SerialNumber + TokenCode on this very request (spec 2.5)."""
    keys["aws:multifactorauthpresent"] = ("true",)
    keys["aws:multifactorauthage"] = ("0",)
