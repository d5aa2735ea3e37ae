"""Account-level IAM operations: account alias, summary, authorization details."""

from __future__ import annotations

import re
from typing import Any

from ...store.interface import Conflict, Tx
from ..base import Call
from .common import (
    ALIAS,
    GROUP,
    KEY,
    MFA,
    POLICY,
    PROFILE,
    ROLE,
    USER,
    Checks,
    already_exists,
    key_prefix,
    no_such_entity,
    page,
    when,
)
from .documents import boundary_view, displayed_trust
from .entity_policies import attached_views
from .instance_profiles import profile_view, profiles_of_role
from .managed import AWS_MANAGED
from .oidc_providers import OIDC
from .policies import aws_policy_data, policy_view, version_view, versions_newest_first
from .roles import role_view
from .saml_providers import SAML

_ALIAS_RE = re.compile(r"[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]")
_ALIAS_SHOWN = r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"
_FILTERS = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")


def _check_alias(alias: str) -> None:
    checks = Checks()
    checks.text(alias, "accountAlias", 3, 63, _ALIAS_RE, _ALIAS_SHOWN)
    checks.done()


class AccountOps:
    """Account aliases, GetAccountSummary, GetAccountAuthorizationDetails."""

    def CreateAccountAlias(self, call: Call, tx: Tx) -> dict[str, Any]:
        alias = call.params["AccountAlias"]
        _check_alias(alias)
        owner = tx.index_get(f"alias:{alias}")
        if owner is not None:
            if owner.account == call.account:
                return {}
            raise already_exists(f"The account alias {alias} already exists.")
        for old in tx.list(call.account, ALIAS):
            tx.delete(call.account, ALIAS, str(old["AccountAlias"]))
        tx.put(call.account, ALIAS, alias, alias, {"AccountAlias": alias})
        try:
            tx.index_put(f"alias:{alias}", call.account, ALIAS, alias)
        except Conflict:
            raise already_exists(f"The account alias {alias} already exists.") from None
        tx.bump_generation()
        return {}

    def ListAccountAliases(self, call: Call, tx: Tx) -> dict[str, Any]:
        aliases = [str(d["AccountAlias"]) for d in tx.list(call.account, ALIAS)]
        chunk, extra = page(aliases, lambda a: a, call.params)
        return {"AccountAliases": chunk, **extra}

    def DeleteAccountAlias(self, call: Call, tx: Tx) -> dict[str, Any]:
        alias = call.params["AccountAlias"]
        _check_alias(alias)
        if not tx.delete(call.account, ALIAS, alias):
            raise no_such_entity(f"The account alias {alias} cannot be found.")
        tx.bump_generation()
        return {}

    def GetAccountSummary(self, call: Call, tx: Tx) -> dict[str, Any]:
        account = call.account
        policies = tx.list(account, POLICY)
        devices = tx.list(account, MFA)
        root_keys = tx.list(account, KEY, prefix=key_prefix(None))
        summary = {
            "Users": tx.count(account, USER),
            "UsersQuota": 5000,
            "Groups": tx.count(account, GROUP),
            "GroupsQuota": 300,
            "Roles": tx.count(account, ROLE),
            "RolesQuota": 1000,
            "Policies": len(policies),
            "PoliciesQuota": 1500,
            "PolicyVersionsInUse": sum(int(p.get("AttachmentCount", 0)) for p in policies),
            "PolicyVersionsInUseQuota": 10000,
            "VersionsPerPolicyQuota": 5,
            "PolicySizeQuota": 6144,
            "UserPolicySizeQuota": 2048,
            "GroupPolicySizeQuota": 5120,
            "RolePolicySizeQuota": 10240,
            "AssumeRolePolicySizeQuota": 2048,
            "GroupsPerUserQuota": 10,
            "AttachedPoliciesPerUserQuota": 10,
            "AttachedPoliciesPerGroupQuota": 10,
            "AttachedPoliciesPerRoleQuota": 10,
            "AccessKeysPerUserQuota": 2,
            "SigningCertificatesPerUserQuota": 2,
            "MFADevices": len(devices),
            "MFADevicesInUse": sum(1 for d in devices if d.get("UserName") is not None),
            "AccountMFAEnabled": 0,
            "AccountAccessKeysPresent": 1 if root_keys else 0,
            "AccountPasswordPresent": 0,  # the root user signs in with keys only
            "AccountSigningCertificatesPresent": 0,
            "ServerCertificates": 0,
            "ServerCertificatesQuota": 20,
            "InstanceProfiles": tx.count(account, PROFILE),
            "InstanceProfilesQuota": 1000,
            "Providers": tx.count(account, OIDC) + tx.count(account, SAML),
            "GlobalEndpointTokenVersion": _token_version(tx, account),
        }
        return {"SummaryMap": summary}

    def SetSecurityTokenServicePreferences(self, call: Call, tx: Tx) -> dict[str, Any]:
        version = call.params["GlobalEndpointTokenVersion"]
        checks = Checks()
        checks.enum(version, "globalEndpointTokenVersion", ("v1Token", "v2Token"))
        checks.done()
        tx.put(call.account, STS_PREFERENCES, "preferences", "preferences",
               {"GlobalEndpointTokenVersion": version})
        return {}

    def GetAccountAuthorizationDetails(self, call: Call, tx: Tx) -> dict[str, Any]:
        wanted = call.params.get("Filter") or list(_FILTERS)
        checks = Checks()
        for index, value in enumerate(wanted, 1):
            checks.enum(value, f"filter.{index}.member", _FILTERS)
        checks.done()
        rows = _detail_rows(tx, call.account, set(wanted))
        chunk, extra = page(rows, lambda r: r[0], call.params)
        out: dict[str, Any] = {
            "UserDetailList": [],
            "GroupDetailList": [],
            "RoleDetailList": [],
            "Policies": [],
        }
        for _, member, item in chunk:
            out[member].append(item)
        return {**out, **extra}


def _detail_rows(tx: Tx, account: str, wanted: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
    rows: list[tuple[str, str, dict[str, Any]]] = []
    if "User" in wanted:
        rows += [
            (f"1{e.key}", "UserDetailList", _user_detail(tx, account, e.data))
            for e in tx.scan(account, USER)
        ]
    if "Group" in wanted:
        rows += [
            (f"2{e.key}", "GroupDetailList", _group_detail(tx, account, e.data))
            for e in tx.scan(account, GROUP)
        ]
    if "Role" in wanted:
        rows += [
            (f"3{e.key}", "RoleDetailList", _role_detail(tx, account, e.data))
            for e in tx.scan(account, ROLE)
        ]
    if "LocalManagedPolicy" in wanted:
        rows += [
            (f"4{e.key}", "Policies", _policy_detail(e.data)) for e in tx.scan(account, POLICY)
        ]
    if "AWSManagedPolicy" in wanted:
        # in key order, as paging (markers compare keys) needs
        for policy in sorted(AWS_MANAGED.values(), key=lambda p: p.name.lower()):
            data = aws_policy_data(policy, tx, account)
            if data["AttachmentCount"] or data["PermissionsBoundaryUsageCount"]:
                rows.append((f"5{policy.name.lower()}", "Policies", _policy_detail(data)))
    return rows


def _inline_list(data: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"PolicyName": name, "PolicyDocument": text}
        for name, text in sorted(data.get("InlinePolicies", {}).items())
    ]


STS_PREFERENCES = "iam.stspreferences"


def _token_version(tx: Tx, account: str) -> int:
    """GetAccountSummary's GlobalEndpointTokenVersion: 1 unless v2Token was set."""
    data = tx.get(account, STS_PREFERENCES, "preferences") or {}
    return 2 if data.get("GlobalEndpointTokenVersion") == "v2Token" else 1

def _common_detail(tx: Tx, account: str, data: dict[str, Any], label: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": data["Path"],
        f"{label}Name": data[f"{label}Name"],
        f"{label}Id": data[f"{label}Id"],
        "Arn": data["Arn"],
        "CreateDate": when(data["CreateDate"]),
        f"{label}PolicyList": _inline_list(data),
        "AttachedManagedPolicies": attached_views(
            tx, account, list(data.get("AttachedPolicies", []))
        ),
    }
    boundary = boundary_view(data.get("PermissionsBoundary"))
    if boundary:
        out["PermissionsBoundary"] = boundary
    if label != "Group" and data.get("Tags"):
        # as GetUser/GetRole: an entity without tags has no Tags member at all
        out["Tags"] = list(data["Tags"])
    return out


def _user_detail(tx: Tx, account: str, data: dict[str, Any]) -> dict[str, Any]:
    out = _common_detail(tx, account, data, "User")
    names = []
    for key in data.get("Groups", []):
        group = tx.get(account, GROUP, key)
        if group is not None:
            names.append(str(group["GroupName"]))
    out["GroupList"] = names
    return out


def _group_detail(tx: Tx, account: str, data: dict[str, Any]) -> dict[str, Any]:
    return _common_detail(tx, account, data, "Group")


def _role_detail(tx: Tx, account: str, data: dict[str, Any]) -> dict[str, Any]:
    out = _common_detail(tx, account, data, "Role")
    out["AssumeRolePolicyDocument"] = displayed_trust(tx, data)
    profiles = profiles_of_role(tx, account, str(data["RoleName"]).lower())
    out["InstanceProfileList"] = [profile_view(tx, account, p, tags=True) for p in profiles]
    out["RoleLastUsed"] = role_view(data)["RoleLastUsed"]
    return out


def _policy_detail(data: dict[str, Any]) -> dict[str, Any]:
    out = policy_view(data, description=True, tags=False)
    out["PolicyVersionList"] = [
        version_view(data, v, document=True) for v in versions_newest_first(data)
    ]
    return out
