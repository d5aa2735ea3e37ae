"""IAM's own condition keys (AWS Service Authorization Reference, IAM):

* ``iam:PolicyARN`` — the managed policy an Attach*/Detach*Policy call names;
* ``iam:PermissionsBoundary`` — the boundary a CreateUser/CreateRole/Put*PermissionsBoundary
  call sets, else the boundary the target user or role already has;
* ``aws:RequestTag/<key>`` and ``aws:TagKeys`` — the tags a Create*/Tag* call passes (the keys an
  Untag* call removes);
* ``iam:ResourceTag/<key>`` and ``aws:ResourceTag/<key>`` — the tags of the target user or role.

Delegation policies use them ("may attach only AmazonS3ReadOnlyAccess", "may create roles only
with this boundary", "may not touch roles tagged protected").
"""

from __future__ import annotations

from typing import Any

from ..services.iam import queries

Keys = dict[str, tuple[str, ...]]

_POLICY_ARN_ACTIONS = frozenset({
    "AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy",
    "DetachGroupPolicy", "DetachRolePolicy", "DetachUserPolicy",
})
_BOUNDARY_PARAM_ACTIONS = frozenset({
    "CreateRole", "CreateUser", "PutRolePermissionsBoundary", "PutUserPermissionsBoundary",
})
# The actions for which the target's existing boundary is the key's value.
_BOUNDARY_TARGET_ACTIONS = frozenset({
    "AttachRolePolicy", "AttachUserPolicy", "DeleteRole", "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy", "DeleteUserPermissionsBoundary", "DeleteUserPolicy", "DetachRolePolicy",
    "DetachUserPolicy", "GetRole", "PutRolePolicy", "PutUserPolicy", "UpdateAssumeRolePolicy",
    "UpdateRole", "UpdateRoleDescription",
})


def request_keys(operation: str, params: dict[str, Any]) -> Keys:
    """The keys an IAM request's own parameters give."""
    keys: Keys = {}
    if operation in _POLICY_ARN_ACTIONS and isinstance(params.get("PolicyArn"), str):
        keys["iam:policyarn"] = (params["PolicyArn"],)
    if operation in _BOUNDARY_PARAM_ACTIONS and isinstance(params.get("PermissionsBoundary"), str):
        keys["iam:permissionsboundary"] = (params["PermissionsBoundary"],)
    tags = params.get("Tags")
    if (operation.startswith(("Create", "Tag")) or operation == "UploadServerCertificate") and (
        isinstance(tags, list) and tags
    ):
        pairs = [(str(t.get("Key", "")), str(t.get("Value", ""))) for t in tags
                 if isinstance(t, dict)]
        keys["aws:tagkeys"] = tuple(key for key, _ in pairs)
        for key, value in pairs:
            keys[f"aws:requesttag/{key.lower()}"] = (value,)
    removed = params.get("TagKeys")
    if operation.startswith("Untag") and isinstance(removed, list) and removed:
        keys["aws:tagkeys"] = tuple(str(key) for key in removed)
    return keys


def target_of(resource: str) -> tuple[str, str, str] | None:
    """(account, "user" | "role", name) of a user or role ARN, else None."""
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        return None
    kind, _, rest = parts[5].partition("/")
    if kind not in ("user", "role") or not rest:
        return None
    return parts[4], kind, rest.rsplit("/", 1)[-1]


def target_keys(tx: Any, resource: str) -> tuple[Keys, str | None]:
    """The tag keys of the user or role ``resource`` names, and its boundary's ARN."""
    target = target_of(resource)
    if target is None:
        return {}, None
    account, kind, name = target
    get = queries.get_user if kind == "user" else queries.get_role
    record = get(tx, account, name)
    if record is None:
        return {}, None
    boundary = record.get("PermissionsBoundary")
    return resource_tag_keys(record), (str(boundary) if boundary else None)


def resource_tag_keys(record: dict[str, Any]) -> Keys:
    """``iam:ResourceTag/*`` and ``aws:ResourceTag/*`` of a user or role record (also what
    AssumeRole's request context holds about the role)."""
    keys: Keys = {}
    for tag in record.get("Tags") or []:
        keys[f"iam:resourcetag/{str(tag['Key']).lower()}"] = (str(tag["Value"]),)
        keys[f"aws:resourcetag/{str(tag['Key']).lower()}"] = (str(tag["Value"]),)
    return keys


def iam_keys(operation: str, params: dict[str, Any], target: tuple[Keys, str | None]) -> Keys:
    """Every IAM-specific key of a request, given :func:`target_keys` of its resource."""
    tag_keys, boundary = target
    keys = {**tag_keys, **request_keys(operation, params)}
    if boundary and operation in _BOUNDARY_TARGET_ACTIONS:
        keys.setdefault("iam:permissionsboundary", (boundary,))
    return keys
