"""IAM roles: lifecycle, trust policy, description, session duration, tags, boundary."""

from __future__ import annotations

from typing import Any

from ...auth import tokens
from ...store.interface import Tx
from ..base import Call
from .common import (
    DESC_RE,
    DESC_SHOWN,
    ROLE,
    ROLES,
    Checks,
    already_exists,
    check_tags,
    delete_conflict,
    entity_arn,
    page_store,
    stamp,
    when,
)
from .documents import (
    boundary_target,
    boundary_view,
    change_boundary,
    check_trust_document,
    displayed_trust,
)
from .entity_policies import (
    entity_tags,
    load,
    save,
    set_boundary,
    tag_entity,
    untag_entity,
)
from .instance_profiles import ROLE_IN_PROFILE, profiles_of_role
from .role_guard import guard_role

MIN_SESSION, MAX_SESSION = 3600, 43200


def role_view(
    data: dict[str, Any], *, listing: bool = False, tx: Tx | None = None
) -> dict[str, Any]:
    """The ``Role`` shape; ListRoles leaves out Tags, PermissionsBoundary and RoleLastUsed.
    With ``tx``, the trust policy names principals as IAM shows them (``displayed_trust``)."""
    out: dict[str, Any] = {
        "Path": data["Path"],
        "RoleName": data["RoleName"],
        "RoleId": data["RoleId"],
        "Arn": data["Arn"],
        "CreateDate": when(data["CreateDate"]),
        "AssumeRolePolicyDocument": (
            data["AssumeRolePolicyDocument"] if tx is None else displayed_trust(tx, data)
        ),
        "MaxSessionDuration": int(data["MaxSessionDuration"]),
    }
    if data.get("Description") is not None:
        out["Description"] = data["Description"]
    if listing:
        return out
    boundary = boundary_view(data.get("PermissionsBoundary"))
    if boundary:
        out["PermissionsBoundary"] = boundary
    if data.get("Tags"):
        out["Tags"] = list(data["Tags"])
    used = data.get("RoleLastUsed")
    out["RoleLastUsed"] = (
        {"LastUsedDate": when(used["LastUsedDate"]), "Region": used["Region"]} if used else {}
    )
    return out


def _check_role_fields(params: dict[str, Any], *, creating: bool) -> None:
    checks = Checks()
    checks.name(params.get("RoleName"), "roleName", 64)
    if creating:
        checks.path(params.get("Path"))
        checks.document(params.get("AssumeRolePolicyDocument"), "assumeRolePolicyDocument")
    checks.text(params.get("Description"), "description", 0, 1000, DESC_RE, DESC_SHOWN)
    duration = params.get("MaxSessionDuration")
    checks.number(
        None if duration is None else int(duration), "maxSessionDuration", MIN_SESSION, MAX_SESSION
    )
    checks.done()


class RoleOps:
    """Roles (CreateRole ... ListRoleTags) and their permissions boundary."""

    def CreateRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        _check_role_fields(params, creating=True)
        name, path = params["RoleName"], params.get("Path") or "/"
        tags = check_tags(params.get("Tags"))
        if tx.get(call.account, ROLE, name.lower()) is not None:
            raise already_exists(f"Role with name {name} already exists.")
        text = params["AssumeRolePolicyDocument"]
        trust_ids = check_trust_document(tx, text, "assumeRolePolicyDocument")
        boundary = boundary_target(tx, call.account, params.get("PermissionsBoundary"))
        duration = params.get("MaxSessionDuration")
        data: dict[str, Any] = {
            "RoleName": name,
            "RoleId": tokens.new_unique_id("AROA"),
            "Arn": entity_arn(call.account, "role", path, name),
            "Path": path,
            "CreateDate": stamp(call.now),
            "AssumeRolePolicyDocument": text,
            "Description": params.get("Description"),
            "MaxSessionDuration": MIN_SESSION if duration is None else int(duration),
            "PermissionsBoundary": boundary,
            "Tags": tags,
            "RoleLastUsed": None,
            "InlinePolicies": {},
            "AttachedPolicies": [],
            "TrustPrincipalIds": trust_ids,
        }
        tx.insert(call.account, ROLE, name.lower(), name, data)
        tx.index_put(data["RoleId"], call.account, ROLE, name.lower())
        change_boundary(tx, call.account, None, boundary)
        tx.bump_generation()
        view = role_view(data)
        del view["RoleLastUsed"]  # CreateRole does not report it
        return {"Role": view}

    def GetRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_role_fields(call.params, creating=False)
        data = load(tx, call.account, ROLES, call.params["RoleName"]).data
        return {"Role": role_view(data, tx=tx)}

    def ListRoles(self, call: Call, tx: Tx) -> dict[str, Any]:
        prefix = call.params.get("PathPrefix")
        checks = Checks()
        checks.prefix(prefix)
        checks.done()

        def where(d: dict[str, Any]) -> bool:
            return not prefix or str(d["Path"]).startswith(prefix)

        records, extra = page_store(tx, call.account, ROLE, call.params, where)
        return {"Roles": [role_view(d, listing=True, tx=tx) for d in records], **extra}

    def UpdateRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_role_fields(call.params, creating=False)
        if call.params.get("MaxSessionDuration") is not None:  # the description may change
            guard_role(tx, call.account, call.params.get("RoleName"), duration=True)
        entity = load(tx, call.account, ROLES, call.params["RoleName"])
        if call.params.get("Description") is not None:
            entity.data["Description"] = call.params["Description"]
        if call.params.get("MaxSessionDuration") is not None:
            entity.data["MaxSessionDuration"] = int(call.params["MaxSessionDuration"])
        save(tx, call.account, ROLES, entity)
        tx.bump_generation()
        return {}

    def UpdateRoleDescription(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_role_fields(call.params, creating=False)
        entity = load(tx, call.account, ROLES, call.params["RoleName"])
        entity.data["Description"] = call.params["Description"]
        save(tx, call.account, ROLES, entity)
        tx.bump_generation()
        return {"Role": role_view(entity.data, tx=tx)}

    def UpdateAssumeRolePolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_role_fields(call.params, creating=False)
        guard_role(tx, call.account, call.params.get("RoleName"))
        entity = load(tx, call.account, ROLES, call.params["RoleName"])
        text = call.params["PolicyDocument"]
        entity.data["TrustPrincipalIds"] = check_trust_document(tx, text, "policyDocument")
        entity.data["AssumeRolePolicyDocument"] = text
        save(tx, call.account, ROLES, entity)
        tx.bump_generation()
        return {}

    def DeleteRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_role_fields(call.params, creating=False)
        guard_role(tx, call.account, call.params.get("RoleName"))
        entity = load(tx, call.account, ROLES, call.params["RoleName"])
        if entity.data.get("AttachedPolicies"):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if entity.data.get("InlinePolicies"):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if profiles_of_role(tx, call.account, entity.key):
            raise delete_conflict(ROLE_IN_PROFILE)
        change_boundary(tx, call.account, entity.data.get("PermissionsBoundary"), None)
        tx.delete(call.account, ROLE, entity.key)
        tx.bump_generation()
        return {}

    def TagRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        return tag_entity(call, tx, ROLES)

    def UntagRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        return untag_entity(call, tx, ROLES)

    def ListRoleTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        return entity_tags(call, tx, ROLES)

    def PutRolePermissionsBoundary(self, call: Call, tx: Tx) -> dict[str, Any]:
        guard_role(tx, call.account, call.params.get("RoleName"))
        return set_boundary(call, tx, ROLES, call.params["PermissionsBoundary"])

    def DeleteRolePermissionsBoundary(self, call: Call, tx: Tx) -> dict[str, Any]:
        guard_role(tx, call.account, call.params.get("RoleName"))
        return set_boundary(call, tx, ROLES, None)
