"""Instance profiles: containers of (at most) one role, as EC2 uses them.

Record: ``iam.instanceprofile`` key = lower-cased InstanceProfileName, name = the name;
InstanceProfileName, InstanceProfileId (AIPA…), Arn, Path, CreateDate, Tags,
Roles [role keys] (AWS allows one role per profile).
"""

from __future__ import annotations

from typing import Any

from ...auth import tokens
from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    PROFILE,
    ROLE,
    ROLES,
    Checks,
    already_exists,
    check_tags,
    delete_conflict,
    entity_arn,
    limit_exceeded,
    merge_tags,
    no_such_entity,
    page,
    page_store,
    remove_tags,
    stamp,
    when,
)
from .documents import displayed_trust
from .entity_policies import load, tag_page
from .role_guard import guard_role

ROLES_PER_PROFILE = 1
ROLE_IN_PROFILE = "Cannot delete entity, must remove roles from instance profile first."


def _check(params: dict[str, Any], *, path: bool = False) -> None:
    checks = Checks()
    checks.name(params.get("InstanceProfileName"), "instanceProfileName", 128)
    checks.name(params.get("RoleName"), "roleName", 64)
    if path:
        checks.path(params.get("Path"))
    checks.done()


def _profile(tx: Tx, account: str, name: str) -> Entity:
    entity = tx.get_entity(account, PROFILE, name.lower())
    if entity is None:
        raise no_such_entity(f"Instance Profile {name} cannot be found.")
    return entity


def _role_in_profile(tx: Tx, data: dict[str, Any]) -> dict[str, Any]:
    """A role as instance profiles show it (the members AWS lists there)."""
    return {
        "Path": data["Path"],
        "RoleName": data["RoleName"],
        "RoleId": data["RoleId"],
        "Arn": data["Arn"],
        "CreateDate": when(data["CreateDate"]),
        "AssumeRolePolicyDocument": displayed_trust(tx, data),
    }


def profile_view(tx: Tx, account: str, data: dict[str, Any], *, tags: bool) -> dict[str, Any]:
    """The ``InstanceProfile`` shape (GetAccountAuthorizationDetails uses it too)."""
    roles = [tx.get(account, ROLE, key) for key in data.get("Roles", [])]
    out: dict[str, Any] = {
        "Path": data["Path"],
        "InstanceProfileName": data["InstanceProfileName"],
        "InstanceProfileId": data["InstanceProfileId"],
        "Arn": data["Arn"],
        "CreateDate": when(data["CreateDate"]),
        "Roles": [_role_in_profile(tx, r) for r in roles if r is not None],
    }
    if tags and data.get("Tags"):
        out["Tags"] = list(data["Tags"])
    return out


def profiles_of_role(tx: Tx, account: str, role_key: str) -> list[dict[str, Any]]:
    """The instance profiles that contain the role (name order)."""
    return tx.list(account, PROFILE, where=lambda d: role_key in d.get("Roles", []))


def _name_key(data: dict[str, Any]) -> str:
    return str(data["InstanceProfileName"]).lower()


def _save(tx: Tx, account: str, entity: Entity) -> None:
    tx.put(account, PROFILE, entity.key, entity.name, entity.data)
    tx.bump_generation()


class InstanceProfileOps:
    """CreateInstanceProfile ... ListInstanceProfileTags."""

    def CreateInstanceProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        _check(params, path=True)
        name, path = params["InstanceProfileName"], params.get("Path") or "/"
        tags = check_tags(params.get("Tags"))
        if tx.get(call.account, PROFILE, name.lower()) is not None:
            raise already_exists(f"Instance Profile {name} already exists.")
        data: dict[str, Any] = {
            "InstanceProfileName": name,
            "InstanceProfileId": tokens.new_unique_id("AIPA"),
            "Arn": entity_arn(call.account, "instance-profile", path, name),
            "Path": path,
            "CreateDate": stamp(call.now),
            "Tags": tags,
            "Roles": [],
        }
        tx.insert(call.account, PROFILE, name.lower(), name, data)
        tx.bump_generation()
        return {"InstanceProfile": profile_view(tx, call.account, data, tags=True)}

    def GetInstanceProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check(call.params)
        data = _profile(tx, call.account, call.params["InstanceProfileName"]).data
        return {"InstanceProfile": profile_view(tx, call.account, data, tags=True)}

    def DeleteInstanceProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check(call.params)
        entity = _profile(tx, call.account, call.params["InstanceProfileName"])
        if entity.data.get("Roles"):
            raise delete_conflict(ROLE_IN_PROFILE)
        tx.delete(call.account, PROFILE, entity.key)
        tx.bump_generation()
        return {}

    def AddRoleToInstanceProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check(call.params)
        guard_role(tx, call.account, call.params.get("RoleName"))
        entity = _profile(tx, call.account, call.params["InstanceProfileName"])
        role = load(tx, call.account, ROLES, call.params["RoleName"])
        roles = list(entity.data.get("Roles", []))
        if len(roles) >= ROLES_PER_PROFILE:
            raise limit_exceeded(
                f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}"
            )
        entity.data["Roles"] = [*roles, role.key]
        _save(tx, call.account, entity)
        return {}

    def RemoveRoleFromInstanceProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check(call.params)
        guard_role(tx, call.account, call.params.get("RoleName"))
        entity = _profile(tx, call.account, call.params["InstanceProfileName"])
        role = load(tx, call.account, ROLES, call.params["RoleName"])
        roles = list(entity.data.get("Roles", []))
        if role.key not in roles:
            # UNSURE: wording
            raise no_such_entity(
                f"The role with name {call.params['RoleName']} cannot be found in instance "
                f"profile {entity.name}."
            )
        entity.data["Roles"] = [key for key in roles if key != role.key]
        _save(tx, call.account, entity)
        return {}

    def ListInstanceProfiles(self, call: Call, tx: Tx) -> dict[str, Any]:
        prefix = call.params.get("PathPrefix")
        checks = Checks()
        checks.prefix(prefix)
        checks.done()

        def where(d: dict[str, Any]) -> bool:
            return not prefix or str(d["Path"]).startswith(prefix)

        records, extra = page_store(tx, call.account, PROFILE, call.params, where)
        views = [profile_view(tx, call.account, d, tags=False) for d in records]
        return {"InstanceProfiles": views, **extra}

    def ListInstanceProfilesForRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check(call.params)
        role = load(tx, call.account, ROLES, call.params["RoleName"])
        found = profiles_of_role(tx, call.account, role.key)
        chunk, extra = page(sorted(found, key=_name_key), _name_key, call.params)
        views = [profile_view(tx, call.account, d, tags=False) for d in chunk]
        return {"InstanceProfiles": views, **extra}

    def TagInstanceProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check(call.params)
        entity = _profile(tx, call.account, call.params["InstanceProfileName"])
        tags = check_tags(call.params.get("Tags"))
        entity.data["Tags"] = merge_tags(entity.data.get("Tags", []), tags)
        _save(tx, call.account, entity)
        return {}

    def UntagInstanceProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check(call.params)
        entity = _profile(tx, call.account, call.params["InstanceProfileName"])
        keys = call.params.get("TagKeys") or []
        entity.data["Tags"] = remove_tags(entity.data.get("Tags", []), keys)
        _save(tx, call.account, entity)
        return {}

    def ListInstanceProfileTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check(call.params)
        data = _profile(tx, call.account, call.params["InstanceProfileName"]).data
        return tag_page(data.get("Tags", []), call.params)
