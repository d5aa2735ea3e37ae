"""IAM users: lifecycle, tags, permissions boundary, console login profiles."""

from __future__ import annotations

from typing import Any

from ...auth import tokens
from ...protocol.errors import ServiceError
from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    ACCOUNT,
    GROUP,
    KEY,
    LOGIN,
    MFA,
    USER,
    USERS,
    Checks,
    already_exists,
    check_tags,
    delete_conflict,
    entity_arn,
    key_entity_key,
    key_prefix,
    no_such_entity,
    page_store,
    stamp,
    target_user,
    when,
)
from .documents import boundary_target, boundary_view, change_boundary
from .entity_policies import (
    entity_tags,
    load,
    set_boundary,
    tag_entity,
    untag_entity,
)
from .password_policy import check_password
from .queries import hash_password


def user_view(data: dict[str, Any], *, full: bool = True) -> dict[str, Any]:
    """The ``User`` shape; ``full`` adds PermissionsBoundary and Tags (not in listings)."""
    out: dict[str, Any] = {
        "Path": data["Path"],
        "UserName": data["UserName"],
        "UserId": data["UserId"],
        "Arn": data["Arn"],
        "CreateDate": when(data["CreateDate"]),
    }
    if data.get("PasswordLastUsed"):
        out["PasswordLastUsed"] = when(data["PasswordLastUsed"])
    if full:
        boundary = boundary_view(data.get("PermissionsBoundary"))
        if boundary:
            out["PermissionsBoundary"] = boundary
        if data.get("Tags"):
            out["Tags"] = list(data["Tags"])
    return out


def root_view(tx: Tx, call: Call) -> dict[str, Any]:
    """GetUser for the root user: no UserName/Path, the account id as UserId."""
    record = tx.get(call.account, ACCOUNT, "account")
    created = when(record["CreateDate"]) if record else call.now.replace(microsecond=0)
    return {
        "UserId": call.account,
        "Arn": f"arn:aws:iam::{call.account}:root",
        "CreateDate": created,
    }


class UserOps:
    """Users, their tags and boundary, and login profiles."""

    def CreateUser(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        name, path = params["UserName"], params.get("Path") or "/"
        checks = Checks()
        checks.name(name, "userName", 64)
        checks.path(path)
        checks.done()
        tags = check_tags(params.get("Tags"))
        if tx.get(call.account, USER, name.lower()) is not None:
            raise already_exists(f"User with name {name} already exists.")
        boundary = boundary_target(tx, call.account, params.get("PermissionsBoundary"))
        data: dict[str, Any] = {
            "UserName": name,
            "UserId": tokens.new_unique_id("AIDA"),
            "Arn": entity_arn(call.account, "user", path, name),
            "Path": path,
            "CreateDate": stamp(call.now),
            "PasswordLastUsed": None,
            "PermissionsBoundary": boundary,
            "Tags": tags,
            "InlinePolicies": {},
            "AttachedPolicies": [],
            "Groups": [],
        }
        tx.insert(call.account, USER, name.lower(), name, data)
        tx.index_put(data["UserId"], call.account, USER, name.lower())
        change_boundary(tx, call.account, None, boundary)
        tx.bump_generation()
        return {"User": user_view(data)}

    def GetUser(self, call: Call, tx: Tx) -> dict[str, Any]:
        name = target_user(call.params, call.principal)
        if name is None:
            return {"User": root_view(tx, call)}
        checks = Checks()
        checks.name(name, "userName", 128)
        checks.done()
        return {"User": user_view(load(tx, call.account, USERS, name).data)}

    def ListUsers(self, call: Call, tx: Tx) -> dict[str, Any]:
        prefix = call.params.get("PathPrefix")
        checks = Checks()
        checks.prefix(prefix)
        checks.done()

        def where(d: dict[str, Any]) -> bool:
            return not prefix or str(d["Path"]).startswith(prefix)

        records, extra = page_store(tx, call.account, USER, call.params, where)
        return {"Users": [user_view(d, full=False) for d in records], **extra}

    def DeleteUser(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = load(tx, call.account, USERS, call.params["UserName"])
        data, key = entity.data, entity.key
        if tx.get(call.account, LOGIN, key) is not None:
            raise delete_conflict("Cannot delete entity, must delete login profile first.")
        if tx.scan(call.account, KEY, prefix=key_prefix(key), limit=1):
            raise delete_conflict("Cannot delete entity, must delete access keys first.")
        if tx.list(call.account, MFA, where=lambda d: _owned(d, data), limit=1):
            raise delete_conflict("Cannot delete entity, must delete MFA device first.")
        if data.get("InlinePolicies"):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if data.get("AttachedPolicies"):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if data.get("Groups"):
            # AWS words it as DeleteGroup does (reported by Terraform and other tools' users)
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        change_boundary(tx, call.account, data.get("PermissionsBoundary"), None)
        tx.delete(call.account, USER, key)
        tx.bump_generation()
        return {}

    def UpdateUser(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        new_name, new_path = params.get("NewUserName"), params.get("NewPath")
        checks = Checks()
        checks.name(new_name, "newUserName", 64)
        checks.path(new_path, "newPath")
        checks.done()
        entity = load(tx, call.account, USERS, params["UserName"])
        data = entity.data
        name = new_name or data["UserName"]
        path = new_path or data["Path"]
        if name.lower() != entity.key and tx.get(call.account, USER, name.lower()) is not None:
            raise already_exists(f"User with name {name} already exists.")
        data.update(UserName=name, Path=path, Arn=entity_arn(call.account, "user", path, name))
        if name.lower() == entity.key:
            tx.put(call.account, USER, entity.key, name, data)
        else:
            _rekey_user(tx, call.account, entity, name)
        tx.bump_generation()
        return {}

    # -- tags and boundary ------------------------------------------------------------------

    def TagUser(self, call: Call, tx: Tx) -> dict[str, Any]:
        return tag_entity(call, tx, USERS)

    def UntagUser(self, call: Call, tx: Tx) -> dict[str, Any]:
        return untag_entity(call, tx, USERS)

    def ListUserTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        return entity_tags(call, tx, USERS)

    def PutUserPermissionsBoundary(self, call: Call, tx: Tx) -> dict[str, Any]:
        return set_boundary(call, tx, USERS, call.params["PermissionsBoundary"])

    def DeleteUserPermissionsBoundary(self, call: Call, tx: Tx) -> dict[str, Any]:
        return set_boundary(call, tx, USERS, None)

    # -- login profiles ---------------------------------------------------------------------

    def CreateLoginProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        duration = _signin_duration(call.params)
        name = _required_user(call)
        entity = load(tx, call.account, USERS, name)
        if tx.get(call.account, LOGIN, entity.key) is not None:
            raise already_exists(
                f"Login Profile for user {entity.data['UserName']} already exists."
            )
        password = call.params.get("Password")
        if password is None:
            raise ServiceError("ValidationError", "Password is required.", 400)  # UNSURE
        check_password(tx, call.account, password)
        data = {
            "UserName": entity.data["UserName"],
            "CreateDate": stamp(call.now),
            "PasswordResetRequired": bool(call.params.get("PasswordResetRequired", False)),
            "PasswordHash": hash_password(password),
            "MaxSigninSessionDuration": duration,
        }
        tx.insert(call.account, LOGIN, entity.key, entity.data["UserName"], data)
        tx.bump_generation()
        return {"LoginProfile": _login_view(data)}

    def GetLoginProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        return {"LoginProfile": _login_view(_load_login(call, tx).data)}

    def UpdateLoginProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        duration = _signin_duration(call.params)
        profile = _load_login(call, tx)
        if call.params.get("ResetMaxSigninSessionDuration"):
            profile.data["MaxSigninSessionDuration"] = None
        elif duration is not None:
            profile.data["MaxSigninSessionDuration"] = duration
        password = call.params.get("Password")
        if password is not None:
            check_password(tx, call.account, password)
            profile.data["PasswordHash"] = hash_password(password)
            profile.data["PasswordLastChanged"] = stamp(call.now)
        reset = call.params.get("PasswordResetRequired")
        if reset is not None:
            profile.data["PasswordResetRequired"] = bool(reset)
        tx.put(call.account, LOGIN, profile.key, profile.name, profile.data)
        tx.bump_generation()
        return {}

    def DeleteLoginProfile(self, call: Call, tx: Tx) -> dict[str, Any]:
        profile = _load_login(call, tx)
        tx.delete(call.account, LOGIN, profile.key)
        tx.bump_generation()
        return {}


def _owned(record: dict[str, Any], user: dict[str, Any]) -> bool:
    owner = record.get("UserName")
    return owner is not None and str(owner).lower() == str(user["UserName"]).lower()


def _required_user(call: Call) -> str:
    name = target_user(call.params, call.principal)
    if name is None:  # root: no login profile API for the root user
        raise ServiceError(
            "ValidationError", "Must specify userName when calling with non-User credentials", 400
        )
    return name


def _load_login(call: Call, tx: Tx) -> Entity:
    entity = load(tx, call.account, USERS, _required_user(call))
    profile = tx.get_entity(call.account, LOGIN, entity.key)
    if profile is None:
        raise no_such_entity(f"Login Profile for User {entity.data['UserName']} cannot be found.")
    return profile


def _login_view(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "UserName": data["UserName"],
        "CreateDate": when(data["CreateDate"]),
        "PasswordResetRequired": bool(data["PasswordResetRequired"]),
    }
    if data.get("MaxSigninSessionDuration") is not None:
        out["MaxSigninSessionDuration"] = int(data["MaxSigninSessionDuration"])
    return out


def _signin_duration(params: dict[str, Any]) -> int | None:
    """MaxSigninSessionDuration (1 hour to 90 days), or None when not given."""
    value = params.get("MaxSigninSessionDuration")
    checks = Checks()
    checks.number(None if value is None else int(value), "maxSigninSessionDuration",
                  3600, 7776000)
    checks.done()
    return None if value is None else int(value)


def _rekey_user(tx: Tx, account: str, entity: Entity, name: str) -> None:
    """UpdateUser with a new name: move the record and every reference to it."""
    old_key, new_key, data = entity.key, name.lower(), entity.data
    tx.delete(account, USER, old_key)
    tx.insert(account, USER, new_key, name, data)
    tx.index_put(data["UserId"], account, USER, new_key)
    for group_key in data.get("Groups", []):
        group = tx.get_entity(account, GROUP, group_key)
        if group is not None:
            group.data["Members"] = [new_key if m == old_key else m for m in group.data["Members"]]
            tx.put(account, GROUP, group.key, group.name, group.data)
    for item in tx.scan(account, KEY, prefix=key_prefix(old_key)):
        # The record's key starts with the user's key: move it (delete drops its id entry).
        key_id = str(item.data["AccessKeyId"])
        item.data["UserName"] = name
        moved = key_entity_key(new_key, key_id)
        tx.delete(account, KEY, item.key)
        tx.insert(account, KEY, moved, item.name, item.data)
        tx.index_put(key_id, account, KEY, moved)
    for mfa in tx.scan(
        account, MFA, where=lambda d: (d.get("UserName") or "").lower() == old_key
    ):
        mfa.data["UserName"] = name
        tx.put(account, MFA, mfa.key, mfa.name, mfa.data)
    login = tx.get(account, LOGIN, old_key)
    if login is not None:
        tx.delete(account, LOGIN, old_key)
        login["UserName"] = name
        tx.insert(account, LOGIN, new_key, name, login)
