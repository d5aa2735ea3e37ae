"""Inline policies and managed-policy attachments of users, groups and roles (one generic
implementation, twenty-one operations)."""

from __future__ import annotations

from typing import Any

from ...policy import PolicyType
from ...policy.validate import policy_size
from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    ATTACH_QUOTA,
    GROUPS,
    POLICY_PATH_RE,
    POLICY_PATH_SHOWN,
    ROLES,
    USERS,
    Checks,
    EntityKind,
    check_tags,
    entity_not_found,
    limit_exceeded,
    merge_tags,
    no_such_entity,
    page,
    remove_tags,
)
from .documents import (
    adjust_usage,
    attachable,
    boundary_target,
    change_boundary,
    parse_document,
    resolve_policy,
)
from .role_guard import guard_role


def load(tx: Tx, account: str, kind: EntityKind, name: str) -> Entity:
    """The user / group / role record, or ``NoSuchEntity`` with AWS's message."""
    entity = tx.get_entity(account, kind.kind, name.lower())
    if entity is None:
        raise entity_not_found(kind, name)
    return entity


def save(tx: Tx, account: str, kind: EntityKind, entity: Entity) -> None:
    tx.put(account, kind.kind, entity.key, entity.name, entity.data)


def tag_page(tags: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
    """List*Tags: AWS documents that "the returned list of tags is sorted by tag key"."""
    indexed = list(enumerate(sorted(tags, key=lambda tag: tag["Key"])))
    chunk, extra = page(indexed, lambda item: f"{item[0]:05d}", params)
    return {"Tags": [tag for _, tag in chunk], **extra}


def tag_entity(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    """TagUser / TagRole."""
    entity = load(tx, call.account, kind, call.params[kind.name_field])
    tags = check_tags(call.params.get("Tags"))
    entity.data["Tags"] = merge_tags(entity.data.get("Tags", []), tags)
    save(tx, call.account, kind, entity)
    tx.bump_generation()
    return {}


def untag_entity(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    """UntagUser / UntagRole."""
    entity = load(tx, call.account, kind, call.params[kind.name_field])
    entity.data["Tags"] = remove_tags(entity.data.get("Tags", []), call.params["TagKeys"])
    save(tx, call.account, kind, entity)
    tx.bump_generation()
    return {}


def entity_tags(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    """ListUserTags / ListRoleTags."""
    entity = load(tx, call.account, kind, call.params[kind.name_field])
    return tag_page(entity.data.get("Tags", []), call.params)


def set_boundary(call: Call, tx: Tx, kind: EntityKind, arn: str | None) -> dict[str, Any]:
    """Put/Delete{User,Role}PermissionsBoundary (``arn`` None deletes it)."""
    entity = load(tx, call.account, kind, call.params[kind.name_field])
    if arn is not None:
        arn = boundary_target(tx, call.account, arn)
    change_boundary(tx, call.account, entity.data.get("PermissionsBoundary"), arn)
    entity.data["PermissionsBoundary"] = arn
    save(tx, call.account, kind, entity)
    tx.bump_generation()
    return {}


def _check_names(kind: EntityKind, name: str | None, policy: str | None) -> None:
    checks = Checks()
    checks.name(name, kind.member, kind.name_max)
    checks.name(policy, "policyName", 128)
    checks.done()


def put_inline(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    params = call.params
    name, policy_name, text = (
        params[kind.name_field],
        params["PolicyName"],
        params["PolicyDocument"],
    )
    _check_names(kind, name, policy_name)
    entity = load(tx, call.account, kind, name)
    parse_document(text, PolicyType.IDENTITY)
    policies = dict(entity.data.get("InlinePolicies", {}))
    policies[policy_name] = text
    if sum(policy_size(t) for t in policies.values()) > kind.inline_quota:
        raise limit_exceeded(
            f"Maximum policy size of {kind.inline_quota} bytes exceeded for {kind.label} "
            f"{entity.data[kind.name_field]}"
        )
    entity.data["InlinePolicies"] = policies
    save(tx, call.account, kind, entity)
    tx.bump_generation()
    return {}


def _inline_missing(kind: EntityKind, policy_name: str) -> Exception:
    return no_such_entity(f"The {kind.label} policy with name {policy_name} cannot be found.")


def get_inline(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    name, policy_name = call.params[kind.name_field], call.params["PolicyName"]
    _check_names(kind, name, policy_name)
    entity = load(tx, call.account, kind, name)
    text = entity.data.get("InlinePolicies", {}).get(policy_name)
    if text is None:
        raise _inline_missing(kind, policy_name)
    return {
        kind.name_field: entity.data[kind.name_field],
        "PolicyName": policy_name,
        "PolicyDocument": text,
    }


def delete_inline(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    name, policy_name = call.params[kind.name_field], call.params["PolicyName"]
    _check_names(kind, name, policy_name)
    entity = load(tx, call.account, kind, name)
    policies = dict(entity.data.get("InlinePolicies", {}))
    if policies.pop(policy_name, None) is None:
        raise _inline_missing(kind, policy_name)
    entity.data["InlinePolicies"] = policies
    save(tx, call.account, kind, entity)
    tx.bump_generation()
    return {}


def list_inline(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    name = call.params[kind.name_field]
    _check_names(kind, name, None)
    entity = load(tx, call.account, kind, name)
    names = sorted(entity.data.get("InlinePolicies", {}))
    chunk, extra = page(names, lambda n: n, call.params)
    return {"PolicyNames": chunk, **extra}


def attach(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    name, arn = call.params[kind.name_field], call.params["PolicyArn"]
    _check_names(kind, name, None)
    entity = load(tx, call.account, kind, name)
    ref = attachable(tx, call.account, arn)
    attached: list[str] = list(entity.data.get("AttachedPolicies", []))
    if ref.arn in attached:
        return {}
    if len(attached) >= ATTACH_QUOTA:
        raise limit_exceeded(f"Cannot exceed quota for {kind.attach_quota}: {ATTACH_QUOTA}")
    attached.append(ref.arn)
    entity.data["AttachedPolicies"] = attached
    save(tx, call.account, kind, entity)
    adjust_usage(tx, call.account, ref.arn, attach=1)
    tx.bump_generation()
    return {}


def detach(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    name, arn = call.params[kind.name_field], call.params["PolicyArn"]
    _check_names(kind, name, None)
    entity = load(tx, call.account, kind, name)
    attached: list[str] = list(entity.data.get("AttachedPolicies", []))
    found = [a for a in attached if a.lower() == arn.lower()]
    if not found:
        raise no_such_entity(f"Policy {arn} was not found.")
    attached.remove(found[0])
    entity.data["AttachedPolicies"] = attached
    save(tx, call.account, kind, entity)
    adjust_usage(tx, call.account, found[0], attach=-1)
    tx.bump_generation()
    return {}


def attached_views(tx: Tx, account: str, arns: list[str]) -> list[dict[str, str]]:
    """``[{PolicyName, PolicyArn}]`` for a list of attached ARNs."""
    out = []
    for arn in arns:
        ref = resolve_policy(tx, account, arn)
        name = ref.name if ref is not None else arn.rsplit("/", 1)[1]
        out.append({"PolicyName": name, "PolicyArn": arn})
    return out


def list_attached(call: Call, tx: Tx, kind: EntityKind) -> dict[str, Any]:
    name = call.params[kind.name_field]
    prefix = call.params.get("PathPrefix")
    checks = Checks()
    checks.name(name, kind.member, kind.name_max)
    checks.text(prefix, "pathPrefix", 1, 512, POLICY_PATH_RE, POLICY_PATH_SHOWN)
    checks.done()
    entity = load(tx, call.account, kind, name)
    views = attached_views(tx, call.account, list(entity.data.get("AttachedPolicies", [])))
    if prefix:
        views = [v for v in views if _policy_path(v["PolicyArn"]).startswith(prefix)]
    views.sort(key=_attached_key)
    chunk, extra = page(views, _attached_key, call.params)
    return {"AttachedPolicies": chunk, **extra}


def _attached_key(view: dict[str, str]) -> str:
    return f"{view['PolicyName'].lower()}\x00{view['PolicyArn']}"


def _policy_path(arn: str) -> str:
    tail = arn.split(":", 5)[5]  # policy/path/name
    head = tail.split("/", 1)[1].rpartition("/")[0]
    return f"/{head}/" if head else "/"


class EntityPolicyOps:
    """The inline-policy and attachment operations of users, groups and roles."""

    def PutUserPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return put_inline(call, tx, USERS)

    def GetUserPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return get_inline(call, tx, USERS)

    def ListUserPolicies(self, call: Call, tx: Tx) -> dict[str, Any]:
        return list_inline(call, tx, USERS)

    def DeleteUserPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return delete_inline(call, tx, USERS)

    def PutRolePolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        guard_role(tx, call.account, call.params.get("RoleName"))
        return put_inline(call, tx, ROLES)

    def GetRolePolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return get_inline(call, tx, ROLES)

    def ListRolePolicies(self, call: Call, tx: Tx) -> dict[str, Any]:
        return list_inline(call, tx, ROLES)

    def DeleteRolePolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        guard_role(tx, call.account, call.params.get("RoleName"))
        return delete_inline(call, tx, ROLES)

    def PutGroupPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return put_inline(call, tx, GROUPS)

    def GetGroupPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return get_inline(call, tx, GROUPS)

    def ListGroupPolicies(self, call: Call, tx: Tx) -> dict[str, Any]:
        return list_inline(call, tx, GROUPS)

    def DeleteGroupPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return delete_inline(call, tx, GROUPS)

    def AttachUserPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return attach(call, tx, USERS)

    def DetachUserPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return detach(call, tx, USERS)

    def ListAttachedUserPolicies(self, call: Call, tx: Tx) -> dict[str, Any]:
        return list_attached(call, tx, USERS)

    def AttachRolePolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        guard_role(tx, call.account, call.params.get("RoleName"))
        return attach(call, tx, ROLES)

    def DetachRolePolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        guard_role(tx, call.account, call.params.get("RoleName"))
        return detach(call, tx, ROLES)

    def ListAttachedRolePolicies(self, call: Call, tx: Tx) -> dict[str, Any]:
        return list_attached(call, tx, ROLES)

    def AttachGroupPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return attach(call, tx, GROUPS)

    def DetachGroupPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return detach(call, tx, GROUPS)

    def ListAttachedGroupPolicies(self, call: Call, tx: Tx) -> dict[str, Any]:
        return list_attached(call, tx, GROUPS)
