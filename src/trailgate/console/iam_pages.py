"""IAM pages: users (create, password, access keys, virtual MFA with its QR code), roles (list
with search, detail with trust, permissions, last use and the switch-role link), policies."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, unquote

from starlette.responses import Response

from ..gateway.chain import CallError
from .web import ActionFailed, Page, page, redirect


async def _all(ctx: Page, operation: str, key: str, params: dict[str, Any] | None = None,
               resource: str = "") -> list[dict[str, Any]]:
    """Every page of an IAM listing (Marker / IsTruncated)."""
    items: list[dict[str, Any]] = []
    args = dict(params or {})
    for _ in range(50):
        out = await ctx.call("iam", operation, args, resource=resource)
        items += out.get(key) or []
        if not out.get("IsTruncated") or not out.get("Marker"):
            break
        args["Marker"] = out["Marker"]
    return items


def document(text: Any) -> dict[str, Any] | None:
    """A policy document (IAM may hand it URL-encoded) as data."""
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        return None
    raw = unquote(text) if text.lstrip().startswith("%") else text
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def trusted_entities(doc: dict[str, Any] | None) -> list[str]:
    """People-readable principals of a trust policy's Allow statements."""
    if doc is None:
        return []
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    out: list[str] = []
    for st in statements or []:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        if principal == "*":
            out.append("Everyone (*)")
            continue
        if not isinstance(principal, dict):
            continue
        for kind, values in principal.items():
            for value in [values] if isinstance(values, str) else values or []:
                out.append(_principal_label(kind, str(value)))
        condition = st.get("Condition") or {}
        keys = {k.lower() for block in condition.values() if isinstance(block, dict)
                for k in block}
        if "aws:multifactorauthpresent" in keys:
            out.append("· requires MFA")
        if "sts:externalid" in keys:
            out.append("· requires an external ID")
    return out


def _principal_label(kind: str, value: str) -> str:
    if kind == "Service":
        return f"AWS service: {value}"
    if kind == "AWS":
        parts = value.split(":")
        if value.isdigit():
            return f"Account: {value}"
        if len(parts) > 5 and parts[5] == "root":
            return f"Account: {parts[4]}"
        return value
    return f"{kind}: {value}"


# -- users ---------------------------------------------------------------------------------


@page
async def users(ctx: Page) -> Response:
    acct = ctx.principal.account
    if ctx.form is not None:
        name = ctx.field("username").strip()
        try:
            await ctx.env.console.call(ctx.session, ctx.client, "iam", "CreateUser",
                                       {"UserName": name})
        except CallError as err:
            listed = await _all(ctx, "ListUsers", "Users", resource=f"arn:aws:iam::{acct}:user/")
            return ctx.render("users.html", 400, title="Users", users=listed,
                              create_error=err.message, new_name=name)
        return redirect(f"/console/iam/users/{quote(name, safe='')}?created=1")
    listed = await _all(ctx, "ListUsers", "Users", resource=f"arn:aws:iam::{acct}:user/")
    return ctx.render("users.html", title="Users", users=listed)


@page
async def user_detail(ctx: Page) -> Response:
    name = ctx.request.path_params["name"]
    acct = ctx.principal.account
    arn = f"arn:aws:iam::{acct}:user/{name}"
    notice: dict[str, Any] = {}
    if ctx.form is not None:
        notice = await _user_action(ctx, name)
    user = (await ctx.call("iam", "GetUser", {"UserName": name}, resource=arn))["User"]
    login, _ = await ctx.attempt("iam", "GetLoginProfile", {"UserName": name}, resource=arn)
    keys, _ = await ctx.attempt("iam", "ListAccessKeys", {"UserName": name}, resource=arn)
    mfa, _ = await ctx.attempt("iam", "ListMFADevices", {"UserName": name}, resource=arn)
    attached, _ = await ctx.attempt("iam", "ListAttachedUserPolicies", {"UserName": name},
                                    resource=arn)
    inline, _ = await ctx.attempt("iam", "ListUserPolicies", {"UserName": name}, resource=arn)
    return ctx.render(
        "user.html", title=f"User {name}", user=user,
        login=(login or {}).get("LoginProfile"),
        keys=(keys or {}).get("AccessKeyMetadata", []),
        devices=(mfa or {}).get("MFADevices", []),
        attached=(attached or {}).get("AttachedPolicies", []),
        inline=(inline or {}).get("PolicyNames", []),
        notice=notice, created=ctx.form is None and ctx.arg("created") == "1",
    )


async def _user_action(ctx: Page, name: str) -> dict[str, Any]:
    """One form of the user page; the notice to show (a failure is shown, not raised)."""
    action = ctx.field("action")
    try:
        if action == "password":
            return await _set_password(ctx, name)
        if action == "access-key":
            out = await ctx.call("iam", "CreateAccessKey", {"UserName": name})
            return {"key": out["AccessKey"]}
        if action == "mfa-create":
            return await _new_mfa_device(ctx, name)
        if action == "mfa-enable":
            await ctx.call("iam", "EnableMFADevice", {
                "UserName": name, "SerialNumber": ctx.field("serial"),
                "AuthenticationCode1": ctx.field("code1").strip(),
                "AuthenticationCode2": ctx.field("code2").strip(),
            })
            return {"ok": f"MFA device {ctx.field('serial')} is now assigned to {name}."}
    except ActionFailed as failed:
        view = failed.view()
        if action == "mfa-enable":
            view["serial"] = ctx.field("serial")
        return {"failure": view}
    return {}


async def _set_password(ctx: Page, name: str) -> dict[str, Any]:
    params = {"UserName": name, "Password": ctx.field("password"),
              "PasswordResetRequired": False}
    try:
        await ctx.env.console.call(ctx.session, ctx.client, "iam", "CreateLoginProfile", params)
    except CallError as err:
        if err.code != "EntityAlreadyExists":
            raise ActionFailed(err, "iam:CreateLoginProfile", "", ctx.principal) from None
        await ctx.call("iam", "UpdateLoginProfile", {"UserName": name,
                                                     "Password": ctx.field("password")})
        return {"ok": f"The console password of {name} was changed."}
    return {"ok": f"{name} can now sign in to the console with this password."}


async def _new_mfa_device(ctx: Page, name: str) -> dict[str, Any]:
    """A new virtual device named after the user (an unassigned leftover is replaced)."""
    params = {"VirtualMFADeviceName": name}
    try:
        out = await ctx.env.console.call(ctx.session, ctx.client, "iam",
                                         "CreateVirtualMFADevice", params)
    except CallError as err:
        if err.code != "EntityAlreadyExists":
            raise ActionFailed(err, "iam:CreateVirtualMFADevice", "", ctx.principal) from None
        serial = f"arn:aws:iam::{ctx.principal.account}:mfa/{name}"
        await ctx.call("iam", "DeleteVirtualMFADevice", {"SerialNumber": serial})
        out = await ctx.call("iam", "CreateVirtualMFADevice", params)
    device = out["VirtualMFADevice"]
    seed = device.get("Base32StringSeed") or b""
    png = device.get("QRCodePNG") or b""
    return {"mfa": {
        "serial": device["SerialNumber"],
        "seed": seed.decode() if isinstance(seed, bytes) else str(seed),
        "qr": "data:image/png;base64," + base64.b64encode(png).decode(),
    }}


# -- roles ---------------------------------------------------------------------------------


@page
async def roles(ctx: Page) -> Response:
    acct = ctx.principal.account
    query = ctx.arg("q").strip()
    listed = await _all(ctx, "ListRoles", "Roles", resource=f"arn:aws:iam::{acct}:role/")
    if query:
        needle = query.lower()
        listed = [r for r in listed if needle in r["RoleName"].lower()
                  or needle in (r.get("Description") or "").lower()]
    for role in listed:
        role["trusted"] = trusted_entities(document(role.get("AssumeRolePolicyDocument")))
    return ctx.render("roles.html", title="Roles", roles=listed, q=query,
                      created=ctx.arg("created"))


@page
async def role_detail(ctx: Page) -> Response:
    name = ctx.request.path_params["name"]
    acct = ctx.principal.account
    arn = f"arn:aws:iam::{acct}:role/{name}"
    role = (await ctx.call("iam", "GetRole", {"RoleName": name}, resource=arn))["Role"]
    trust = document(role.get("AssumeRolePolicyDocument"))
    attached = await _all(ctx, "ListAttachedRolePolicies", "AttachedPolicies",
                          {"RoleName": name}, resource=arn)
    inline_names = await _all(ctx, "ListRolePolicies", "PolicyNames", {"RoleName": name},
                              resource=arn)
    inline = []
    for policy in inline_names:
        out = await ctx.call("iam", "GetRolePolicy", {"RoleName": name, "PolicyName": policy},
                             resource=arn)
        inline.append({"name": policy, "document": document(out.get("PolicyDocument"))})
    path = role.get("Path") or "/"
    switch_name = (path.strip("/") + "/" if path != "/" else "") + role["RoleName"]
    link = (f"/console/switchrole?account={role['Arn'].split(':')[4]}"
            f"&roleName={quote(switch_name, safe='')}"
            f"&displayName={quote(role['RoleName'], safe='')}")
    return ctx.render(
        "role.html", title=f"Role {name}", role=role, trust=trust,
        trusted=trusted_entities(trust), attached=attached, inline=inline,
        switch_link=link, base_url=str(ctx.request.base_url).rstrip("/"),
    )


@page
async def policies(ctx: Page) -> Response:
    query = ctx.arg("q").strip()
    scope = ctx.arg("scope", "All")
    if scope not in ("All", "AWS", "Local"):
        scope = "All"
    listed = await _all(ctx, "ListPolicies", "Policies", {"Scope": scope})
    if query:
        listed = [p for p in listed if query.lower() in p["PolicyName"].lower()]
    listed.sort(key=lambda p: p["PolicyName"].lower())
    return ctx.render("policies.html", title="Policies", policies=listed, q=query, scope=scope)
