"""Access keys of IAM users and of the root user (secrets stored encrypted only)."""

from __future__ import annotations

from typing import Any

from ...auth import tokens
from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    KEY,
    USERS,
    Checks,
    key_entity_key,
    key_prefix,
    limit_exceeded,
    no_such_entity,
    page,
    stamp,
    target_user,
    when,
)
from .entity_policies import load

KEYS_PER_USER = 2


def key_view(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AccessKeyId": data["AccessKeyId"],
        "Status": data["Status"],
        "CreateDate": when(data["CreateDate"]),
    }
    if data.get("UserName") is not None:
        out["UserName"] = data["UserName"]
    return out


class AccessKeyOps:
    """CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed."""

    secret_key: bytes

    def CreateAccessKey(self, call: Call, tx: Tx) -> dict[str, Any]:
        owner, owner_key = _owner(call, tx)
        if len(_keys_of(tx, call.account, owner_key)) >= KEYS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}")
        key_id = tokens.new_access_key_id("AKIA", call.account)
        secret = tokens.new_secret_access_key()
        data = {
            "AccessKeyId": key_id,
            "UserName": owner,
            "Status": "Active",
            "SecretBlob": tokens.encrypt_secret(self.secret_key, secret),
            "CreateDate": stamp(call.now),
            "LastUsed": None,
        }
        entity_key = key_entity_key(owner_key, key_id)
        tx.insert(call.account, KEY, entity_key, key_id, data)
        tx.index_put(key_id, call.account, KEY, entity_key)
        tx.bump_generation()
        return {"AccessKey": {**key_view(data), "SecretAccessKey": secret}}

    def ListAccessKeys(self, call: Call, tx: Tx) -> dict[str, Any]:
        _, owner_key = _owner(call, tx)
        keys = _keys_of(tx, call.account, owner_key)
        chunk, extra = page(keys, lambda d: str(d["AccessKeyId"]), call.params)
        return {"AccessKeyMetadata": [key_view(d) for d in chunk], **extra}

    def UpdateAccessKey(self, call: Call, tx: Tx) -> dict[str, Any]:
        status = call.params["Status"]
        checks = Checks()
        checks.enum(status, "status", ("Active", "Inactive", "Expired"))
        checks.done()
        entity = _load_key(call, tx)
        entity.data["Status"] = status
        tx.put(call.account, KEY, entity.key, entity.name, entity.data)
        tx.bump_generation()
        return {}

    def DeleteAccessKey(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _load_key(call, tx)
        tx.delete(call.account, KEY, entity.key)
        tx.bump_generation()
        return {}

    def GetAccessKeyLastUsed(self, call: Call, tx: Tx) -> dict[str, Any]:
        key_id = call.params["AccessKeyId"]
        target = tx.index_get(key_id)
        entity = None
        if target is not None and target.kind == KEY and target.account == call.account:
            entity = tx.get_entity(call.account, KEY, target.key)
        if entity is None:
            raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        used = entity.data.get("LastUsed")
        last: dict[str, Any] = {"ServiceName": "N/A", "Region": "N/A"}
        if used:
            last = {
                "LastUsedDate": when(used["LastUsedDate"]),
                "ServiceName": used["ServiceName"],
                "Region": used["Region"],
            }
        out: dict[str, Any] = {"AccessKeyLastUsed": last}
        if entity.data.get("UserName") is not None:
            out["UserName"] = entity.data["UserName"]
        return out


def _owner(call: Call, tx: Tx) -> tuple[str | None, str | None]:
    """The user the call acts on: (name as stored, record key), validated; (None, None) for
    the root user."""
    name = target_user(call.params, call.principal)
    if name is None:
        return None, None
    checks = Checks()
    checks.name(name, "userName", 128)
    checks.done()
    user = load(tx, call.account, USERS, name)
    return str(user.data["UserName"]), user.key


def _keys_of(tx: Tx, account: str, owner_key: str | None) -> list[dict[str, Any]]:
    """The access keys of one user (or of the root user), by AccessKeyId: one range read of
    that user's records only."""
    return tx.list(account, KEY, prefix=key_prefix(owner_key))


def _load_key(call: Call, tx: Tx) -> Entity:
    _, owner_key = _owner(call, tx)
    key_id = call.params["AccessKeyId"]
    entity = tx.get_entity(call.account, KEY, key_entity_key(owner_key, key_id))
    if entity is None:
        raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
    return entity
