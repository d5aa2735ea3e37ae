"""Read-side IAM helpers for authentication, authorization and STS (small and fast), plus the
server's bootstrap helpers.

Record layouts (store ``Tx``: ``account, kind, key -> name, data``).  AWS-visible attributes
use AWS's member names; timestamps are ISO 8601 strings (``2026-01-01T00:00:00+00:00``).

``iam.user``  key = lower-cased UserName, name = UserName
    UserName, UserId (AIDA…), Arn, Path, CreateDate, PasswordLastUsed (str|None),
    PermissionsBoundary (ARN|None), Tags [{Key, Value}],
    InlinePolicies {PolicyName: document text}, AttachedPolicies [ARN] (attach order),
    Groups [group keys]
``iam.group`` key = lower-cased GroupName
    GroupName, GroupId (AGPA…), Arn, Path, CreateDate, InlinePolicies, AttachedPolicies,
    Members [user keys]
``iam.role``  key = lower-cased RoleName
    RoleName, RoleId (AROA…), Arn, Path, CreateDate, AssumeRolePolicyDocument (text as
    submitted), Description (str|None), MaxSessionDuration (int), PermissionsBoundary,
    Tags, RoleLastUsed ({LastUsedDate, Region} | None), InlinePolicies, AttachedPolicies,
    TrustPrincipalIds {principal ARN: unique id at save time} (users/roles named by the trust
    policy; a principal whose current id differs was deleted and recreated: it must not match),
    ServiceLinked (the service principal, service-linked roles only; see ``service_linked.py``)
``iam.slrdeletion`` key = DeletionTaskId: Status, RoleArn (DeleteServiceLinkedRole's tasks)
``iam.policy`` key = lower-cased PolicyName (customer managed policies only)
    PolicyName, PolicyId (ANPA…), Arn, Path, Description (str|None), CreateDate, UpdateDate,
    DefaultVersionId, NextVersion (int), Versions {"v1": {Document, CreateDate}},
    Tags, AttachmentCount, PermissionsBoundaryUsageCount
``iam.awsusage`` key = AWS-managed policy ARN: AttachmentCount, PermissionsBoundaryUsageCount
    (per account; AWS-managed policies themselves live in ``managed.py``)
``iam.accesskey`` key = ``<user key>/<AccessKeyId>`` (root keys: ``/<AccessKeyId>``; see
    ``common.key_prefix``: one user's keys are one prefix range), name = AccessKeyId;
    found by AccessKeyId through the ``ids`` index (schema migration 3 moved the records
    stored before under key = AccessKeyId)
    AccessKeyId, UserName (None for root keys), Status (Active|Inactive), SecretBlob
    (``tokens.encrypt_secret(master_key, secret)``, default context), CreateDate,
    LastUsed ({LastUsedDate, ServiceName, Region} | None)
``iam.login`` key = user key: UserName, CreateDate, PasswordResetRequired, PasswordHash (argon2),
    MaxSigninSessionDuration, PasswordLastChanged (str, once changed), PasswordHistory (the
    previous hashes, newest first, at most 24: ChangePassword's PasswordReusePrevention)
``iam.mfa``   key = lower-cased SerialNumber (virtual devices)
    SerialNumber, Path, Name, Seed (base32), CreateDate, Tags, UserName (None unless enabled),
    EnableDate (str|None), LastStep (int|None: last accepted TOTP step)
``iam.instanceprofile`` key = lower-cased InstanceProfileName (see ``instance_profiles.py``)
``iam.alias`` key = the alias: AccountAlias
``iam.account`` key = "account": CreateDate

The ``ids`` index maps AIDA/AROA/AGPA/ANPA ids, access key ids, and ``alias:<alias>`` (global
uniqueness of account aliases) to their records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ...auth import tokens
from ...clock import now as clock_now
from ...store.interface import Tx
from .common import (
    ACCOUNT,
    ALIAS,
    GROUP,
    KEY,
    LOGIN,
    MFA,
    POLICY,
    PROFILE,
    ROLE,
    USER,
    key_entity_key,
    split_iam_arn,
    stamp,
)
from .managed import aws_managed_by_arn

__all__ = [
    "AccessKeyRecord",
    "account_alias",
    "bootstrap_account",
    "boundary_for",
    "create_root_access_key",
    "customer_policy",
    "entity_path",
    "find_access_key",
    "get_group",
    "get_role",
    "get_user",
    "identity_policies_for_role",
    "identity_policies_for_user",
    "login_profile",
    "managed_policy_document",
    "mfa_device",
    "record_access_key_used",
    "record_role_last_used",
    "role_by_arn",
    "set_mfa_last_step",
    "verify_password",
]

_HASHER = PasswordHasher()


@dataclass(frozen=True)
class AccessKeyRecord:
    """A long-term access key as authentication needs it.  ``secret_blob`` is encrypted:
    ``tokens.decrypt_secret(master_key, secret_blob)``."""

    account: str
    key_id: str
    user_name: str | None  # None: a root access key
    secret_blob: str
    status: str  # Active | Inactive


def find_access_key(tx: Tx, key_id: str) -> AccessKeyRecord | None:
    target = tx.index_get(key_id)
    if target is None or target.kind != KEY:
        return None
    data = tx.get(target.account, KEY, target.key)
    if data is None:
        return None
    return AccessKeyRecord(
        target.account, key_id, data.get("UserName"), data["SecretBlob"], data["Status"]
    )


def record_access_key_used(tx: Tx, key_id: str, when: datetime, service: str, region: str) -> None:
    """Remember a key's last use (GetAccessKeyLastUsed).  Write transactions only."""
    target = tx.index_get(key_id)
    if target is None or target.kind != KEY:
        return
    entity = tx.get_entity(target.account, KEY, target.key)
    if entity is None:
        return
    entity.data["LastUsed"] = {
        "LastUsedDate": stamp(when),
        "ServiceName": service,
        "Region": region,
    }
    tx.put(target.account, KEY, target.key, entity.name, entity.data)


def get_user(tx: Tx, account: str, name: str) -> dict[str, Any] | None:
    """The user record (see the module docstring), found case-insensitively, or None."""
    return tx.get(account, USER, name.lower())


def get_role(tx: Tx, account: str, name: str) -> dict[str, Any] | None:
    return tx.get(account, ROLE, name.lower())


def get_group(tx: Tx, account: str, name: str) -> dict[str, Any] | None:
    return tx.get(account, GROUP, name.lower())


def role_by_arn(tx: Tx, arn: str) -> dict[str, Any] | None:
    """The role an ARN names (its path must match), or None."""
    parts = split_iam_arn(arn)
    if parts is None or parts[1] != "role":
        return None
    role = get_role(tx, parts[0], parts[3])
    if role is None or role["Arn"].lower() != arn.lower():
        return None
    return role


def entity_path(tx: Tx, account: str, kind: str, name: str) -> str | None:
    """Path of a ``user`` / ``role`` / ``group`` / ``instance-profile`` (for resource ARNs),
    or None if unknown."""
    store_kind = {"user": USER, "role": ROLE, "group": GROUP, "instance-profile": PROFILE}.get(kind)
    if store_kind is None:
        return None
    data = tx.get(account, store_kind, name.lower())
    return None if data is None else str(data["Path"])


def customer_policy(tx: Tx, arn: str) -> dict[str, Any] | None:
    """The customer managed policy record an ARN names, or None."""
    parts = split_iam_arn(arn)
    if parts is None or parts[1] != "policy" or parts[0] == "aws":
        return None
    record = tx.get(parts[0], POLICY, parts[3].lower())
    if record is None or record["Arn"].lower() != arn.lower():
        return None
    return record


def managed_policy_document(tx: Tx, arn: str) -> str | None:
    """The default version's document of a managed policy (AWS or customer), or None."""
    aws = aws_managed_by_arn(arn)
    if aws is not None:
        return aws.document
    record = customer_policy(tx, arn)
    if record is None:
        return None
    return str(record["Versions"][record["DefaultVersionId"]]["Document"])


def _own_policies(label: str, entity: dict[str, Any], name: str, tx: Tx) -> list[tuple[str, str]]:
    out = [
        (f"{label}/{name}/{policy}", text)
        for policy, text in sorted(entity.get("InlinePolicies", {}).items())
    ]
    for arn in entity.get("AttachedPolicies", []):
        text = managed_policy_document(tx, arn)
        if text is not None:
            out.append((arn, text))
    return out


def identity_policies_for_user(tx: Tx, account: str, user_name: str) -> list[tuple[str, str]]:
    """(policy id, document) of every identity policy of a user: inline, attached managed
    (default versions), and those of its groups.  Inline ids are ``user/NAME/POLICY`` and
    ``group/NAME/POLICY``; managed ids are ARNs (each managed policy listed once)."""
    user = get_user(tx, account, user_name)
    if user is None:
        return []
    out = _own_policies("user", user, user["UserName"], tx)
    for group_key in user.get("Groups", []):
        group = tx.get(account, GROUP, group_key)
        if group is not None:
            out.extend(_own_policies("group", group, group["GroupName"], tx))
    seen: set[str] = set()
    unique: list[tuple[str, str]] = []
    for pid, text in out:
        if pid not in seen:
            seen.add(pid)
            unique.append((pid, text))
    return unique


def identity_policies_for_role(tx: Tx, account: str, role_name: str) -> list[tuple[str, str]]:
    """Like :func:`identity_policies_for_user` for a role (ids ``role/NAME/POLICY``)."""
    role = get_role(tx, account, role_name)
    if role is None:
        return []
    return _own_policies("role", role, role["RoleName"], tx)


def boundary_for(
    tx: Tx, account: str, kind: Literal["user", "role"] | str, name: str
) -> tuple[str, str] | None:
    """(policy ARN, document) of a user's or role's permissions boundary, or None."""
    record = get_user(tx, account, name) if kind == "user" else get_role(tx, account, name)
    if record is None or not record.get("PermissionsBoundary"):
        return None
    arn = str(record["PermissionsBoundary"])
    text = managed_policy_document(tx, arn)
    return None if text is None else (arn, text)


def mfa_device(tx: Tx, account: str, serial: str) -> dict[str, Any] | None:
    """The virtual MFA device record (``SerialNumber``, ``UserName`` — None unless enabled —,
    ``Seed`` (base32), ``LastStep``, ``EnableDate``), or None."""
    return tx.get(account, MFA, serial.lower())


def set_mfa_last_step(tx: Tx, account: str, serial: str, step: int) -> None:
    """Remember the last accepted TOTP step of a device (refuses replays later)."""
    entity = tx.get_entity(account, MFA, serial.lower())
    if entity is None:
        return
    entity.data["LastStep"] = step
    tx.put(account, MFA, entity.key, entity.name, entity.data)


def record_role_last_used(
    tx: Tx, account: str, role_name: str, when: datetime, region: str
) -> None:
    """GetRole's ``RoleLastUsed`` after a successful AssumeRole."""
    entity = tx.get_entity(account, ROLE, role_name.lower())
    if entity is None:
        return
    entity.data["RoleLastUsed"] = {"LastUsedDate": stamp(when), "Region": region}
    tx.put(account, ROLE, entity.key, entity.name, entity.data)


def login_profile(tx: Tx, account: str, user_name: str) -> dict[str, Any] | None:
    return tx.get(account, LOGIN, user_name.lower())


def verify_password(tx: Tx, account: str, user_name: str, password: str) -> bool:
    """Console sign-in check against the user's login profile (argon2)."""
    profile = login_profile(tx, account, user_name)
    if profile is None:
        return False
    return password_matches(profile["PasswordHash"], password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one an argon2 hash was made from."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def account_alias(tx: Tx, account: str) -> str | None:
    aliases = tx.list(account, ALIAS, limit=1)
    return str(aliases[0]["AccountAlias"]) if aliases else None


def bootstrap_account(tx: Tx, account: str, now: datetime | None = None) -> None:
    """Create the account's own IAM record (root CreateDate) once.  Idempotent."""
    if tx.get(account, ACCOUNT, "account") is not None:
        return
    created = stamp(now or clock_now())
    tx.put(account, ACCOUNT, "account", account, {"CreateDate": created})
    tx.bump_generation()


def create_root_access_key(
    tx: Tx,
    secret_key: bytes,
    account: str,
    key_id: str | None = None,
    secret: str | None = None,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Create (or, with the same ``key_id``, replace) a root access key; returns (id, secret).

    Root keys are indexed like user keys, with ``UserName`` None.
    """
    key_id = key_id or tokens.new_access_key_id("AKIA", account)
    secret = secret or tokens.new_secret_access_key()
    data = {
        "AccessKeyId": key_id,
        "UserName": None,
        "Status": "Active",
        "SecretBlob": tokens.encrypt_secret(secret_key, secret),
        "CreateDate": stamp(now or clock_now()),
        "LastUsed": None,
    }
    entity_key = key_entity_key(None, key_id)
    tx.put(account, KEY, entity_key, key_id, data)
    tx.index_put(key_id, account, KEY, entity_key)
    tx.bump_generation()
    return key_id, secret
