"""IAM groups and their membership."""

from __future__ import annotations

from typing import Any

from ...auth import tokens
from ...store.interface import Tx
from ..base import Call
from .common import (
    GROUP,
    GROUPS,
    USERS,
    Checks,
    already_exists,
    delete_conflict,
    entity_arn,
    entity_not_found,
    limit_exceeded,
    page,
    page_store,
    stamp,
    when,
)
from .entity_policies import load, save
from .users import user_view

GROUPS_PER_USER = 10


def group_view(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "Path": data["Path"],
        "GroupName": data["GroupName"],
        "GroupId": data["GroupId"],
        "Arn": data["Arn"],
        "CreateDate": when(data["CreateDate"]),
    }


def _check_group(name: str | None, high: int = 128) -> None:
    checks = Checks()
    checks.name(name, "groupName", high)
    checks.done()


class GroupOps:
    """CreateGroup, GetGroup, ListGroups, ListGroupsForUser, DeleteGroup, membership."""

    def CreateGroup(self, call: Call, tx: Tx) -> dict[str, Any]:
        name, path = call.params["GroupName"], call.params.get("Path") or "/"
        checks = Checks()
        checks.name(name, "groupName", 128)
        checks.path(path)
        checks.done()
        if tx.get(call.account, GROUP, name.lower()) is not None:
            raise already_exists(f"Group with name {name} already exists.")
        data: dict[str, Any] = {
            "GroupName": name,
            "GroupId": tokens.new_unique_id("AGPA"),
            "Arn": entity_arn(call.account, "group", path, name),
            "Path": path,
            "CreateDate": stamp(call.now),
            "InlinePolicies": {},
            "AttachedPolicies": [],
            "Members": [],
        }
        tx.insert(call.account, GROUP, name.lower(), name, data)
        tx.index_put(data["GroupId"], call.account, GROUP, name.lower())
        tx.bump_generation()
        return {"Group": group_view(data)}

    def GetGroup(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_group(call.params["GroupName"])
        group = load(tx, call.account, GROUPS, call.params["GroupName"])
        members = sorted(group.data.get("Members", []))
        chunk, extra = page(members, lambda key: key, call.params)
        users = []
        for key in chunk:
            user = tx.get(call.account, USERS.kind, key)
            if user is not None:
                users.append(user_view(user, full=False))
        return {"Group": group_view(group.data), "Users": users, **extra}

    def ListGroups(self, call: Call, tx: Tx) -> dict[str, Any]:
        prefix = call.params.get("PathPrefix")
        checks = Checks()
        checks.prefix(prefix)
        checks.done()

        def where(d: dict[str, Any]) -> bool:
            return not prefix or str(d["Path"]).startswith(prefix)

        records, extra = page_store(tx, call.account, GROUP, call.params, where)
        return {"Groups": [group_view(d) for d in records], **extra}

    def ListGroupsForUser(self, call: Call, tx: Tx) -> dict[str, Any]:
        user = load(tx, call.account, USERS, call.params["UserName"])
        keys = sorted(user.data.get("Groups", []))
        chunk, extra = page(keys, lambda key: key, call.params)
        groups = [tx.get(call.account, GROUP, key) for key in chunk]
        return {"Groups": [group_view(g) for g in groups if g is not None], **extra}

    def DeleteGroup(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_group(call.params["GroupName"])
        group = load(tx, call.account, GROUPS, call.params["GroupName"])
        if group.data.get("Members"):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        if group.data.get("InlinePolicies"):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if group.data.get("AttachedPolicies"):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        tx.delete(call.account, GROUP, group.key)
        tx.bump_generation()
        return {}

    def UpdateGroup(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        new_name, new_path = params.get("NewGroupName"), params.get("NewPath")
        checks = Checks()
        checks.name(params["GroupName"], "groupName", 128)
        checks.name(new_name, "newGroupName", 128)
        checks.path(new_path, "newPath")
        checks.done()
        group = load(tx, call.account, GROUPS, params["GroupName"])
        data = group.data
        name, path = new_name or data["GroupName"], new_path or data["Path"]
        if name.lower() != group.key and tx.get(call.account, GROUP, name.lower()) is not None:
            raise already_exists(f"Group with name {name} already exists.")
        data.update(GroupName=name, Path=path, Arn=entity_arn(call.account, "group", path, name))
        if name.lower() == group.key:
            tx.put(call.account, GROUP, group.key, name, data)
        else:
            _rekey_group(tx, call.account, group.key, name, data)
        tx.bump_generation()
        return {}

    def AddUserToGroup(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_group(call.params["GroupName"])
        group = load(tx, call.account, GROUPS, call.params["GroupName"])
        user = load(tx, call.account, USERS, call.params["UserName"])
        groups: list[str] = list(user.data.get("Groups", []))
        if group.key in groups:
            return {}
        if len(groups) >= GROUPS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
        user.data["Groups"] = [*groups, group.key]
        group.data["Members"] = [*group.data.get("Members", []), user.key]
        save(tx, call.account, USERS, user)
        save(tx, call.account, GROUPS, group)
        tx.bump_generation()
        return {}

    def RemoveUserFromGroup(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_group(call.params["GroupName"])
        group = load(tx, call.account, GROUPS, call.params["GroupName"])
        user = load(tx, call.account, USERS, call.params["UserName"])
        if group.key not in user.data.get("Groups", []):
            raise entity_not_found(USERS, call.params["UserName"])  # UNSURE: wording
        user.data["Groups"] = [g for g in user.data["Groups"] if g != group.key]
        group.data["Members"] = [m for m in group.data.get("Members", []) if m != user.key]
        save(tx, call.account, USERS, user)
        save(tx, call.account, GROUPS, group)
        tx.bump_generation()
        return {}


def _rekey_group(tx: Tx, account: str, old_key: str, name: str, data: dict[str, Any]) -> None:
    """UpdateGroup with a new name: move the record and its members' references to it."""
    new_key = name.lower()
    tx.delete(account, GROUP, old_key)
    tx.insert(account, GROUP, new_key, name, data)
    tx.index_put(data["GroupId"], account, GROUP, new_key)
    for user_key in data.get("Members", []):
        user = tx.get_entity(account, USERS.kind, user_key)
        if user is not None:
            user.data["Groups"] = [new_key if g == old_key else g for g in user.data["Groups"]]
            tx.put(account, USERS.kind, user.key, user.name, user.data)
