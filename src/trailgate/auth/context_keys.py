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
    keys["aws:requestedregion"] = (ctx.region,)
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
    tags = params.get("Tags") or []
    if tags:
        keys["aws:tagkeys"] = tuple(t["Key"] for t in tags)
        for tag in tags:
            keys[f"aws:requesttag/{tag['Key'].lower()}"] = (tag["Value"],)
    transitive = params.get("TransitiveTagKeys") or []
    if transitive:
        keys["sts:transitivetagkeys"] = tuple(transitive)


def mark_mfa(keys: dict[str, tuple[str, ...]]) -> None:
    """A valid SerialNumber + TokenCode on this very request (spec 2.5)."""
    keys["aws:multifactorauthpresent"] = ("true",)
    keys["aws:multifactorauthage"] = ("0",)
