"""Managed policies: customer policies with versions, and the read-only AWS-managed ones."""

from __future__ import annotations

from typing import Any

from ...auth import tokens
from ...protocol.errors import access_denied
from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    AWS_USAGE,
    DESC_RE,
    DESC_SHOWN,
    GROUP,
    POLICY,
    POLICY_PATH_RE,
    POLICY_PATH_SHOWN,
    ROLE,
    USER,
    VERSION_RE,
    VERSION_SHOWN,
    Checks,
    already_exists,
    check_arn,
    check_tags,
    delete_conflict,
    limit_exceeded,
    merge_tags,
    no_such_entity,
    page,
    remove_tags,
    split_iam_arn,
    stamp,
    when,
)
from .documents import check_managed_document, usage
from .entity_policies import tag_page
from .managed import AWS_MANAGED, AwsManagedPolicy, aws_managed_by_arn

MAX_VERSIONS = 5


def aws_policy_data(policy: AwsManagedPolicy, tx: Tx, account: str) -> dict[str, Any]:
    """An AWS-managed policy in the layout of a customer policy record."""
    counts = tx.get(account, AWS_USAGE, policy.arn) or {}
    return {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "Description": policy.description,
        "CreateDate": stamp(policy.created),
        "UpdateDate": stamp(policy.updated),
        "DefaultVersionId": policy.default_version,
        "Versions": {
            policy.default_version: {
                "Document": policy.document,
                "CreateDate": stamp(policy.updated),
            }
        },
        "Tags": [],
        "AttachmentCount": int(counts.get("AttachmentCount", 0)),
        "PermissionsBoundaryUsageCount": int(counts.get("PermissionsBoundaryUsageCount", 0)),
    }


def policy_view(data: dict[str, Any], *, description: bool, tags: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": data["PolicyName"],
        "PolicyId": data["PolicyId"],
        "Arn": data["Arn"],
        "Path": data["Path"],
        "DefaultVersionId": data["DefaultVersionId"],
        "AttachmentCount": int(data.get("AttachmentCount", 0)),
        "PermissionsBoundaryUsageCount": int(data.get("PermissionsBoundaryUsageCount", 0)),
        "IsAttachable": True,
        "CreateDate": when(data["CreateDate"]),
        "UpdateDate": when(data["UpdateDate"]),
    }
    if description and data.get("Description") is not None:
        out["Description"] = data["Description"]
    if tags and data.get("Tags"):
        out["Tags"] = list(data["Tags"])
    return out


def version_view(data: dict[str, Any], version: str, *, document: bool) -> dict[str, Any]:
    entry = data["Versions"][version]
    out: dict[str, Any] = {
        "VersionId": version,
        "IsDefaultVersion": version == data["DefaultVersionId"],
        "CreateDate": when(entry["CreateDate"]),
    }
    if document:
        out["Document"] = entry["Document"]
    return out


def versions_newest_first(data: dict[str, Any]) -> list[str]:
    return sorted(data["Versions"], key=lambda v: int(v[1:].split(".")[0]), reverse=True)


def any_policy(call: Call, tx: Tx) -> dict[str, Any]:
    """The policy ``PolicyArn`` names (AWS-managed or the caller account's), as data."""
    arn = call.params["PolicyArn"]
    check_arn(arn)
    aws = aws_managed_by_arn(arn)
    if aws is not None:
        return aws_policy_data(aws, tx, call.account)
    parts = split_iam_arn(arn)
    if parts is not None and parts[1] == "policy" and parts[0] == call.account:
        data = tx.get(call.account, POLICY, parts[3].lower())
        if data is not None and data["Arn"].lower() == arn.lower():
            return data
    raise no_such_entity(f"Policy {arn} was not found.")


def own_policy(call: Call, tx: Tx, operation: str) -> Entity:
    """A customer policy to modify; AWS-managed policies are read-only (AccessDenied)."""
    arn = call.params["PolicyArn"]
    check_arn(arn)
    if arn.split(":")[4] == "aws":
        raise access_denied(call.principal.arn, f"iam:{operation}", f"policy {arn}")
    parts = split_iam_arn(arn)
    if parts is not None and parts[1] == "policy" and parts[0] == call.account:
        entity = tx.get_entity(call.account, POLICY, parts[3].lower())
        if entity is not None and entity.data["Arn"].lower() == arn.lower():
            return entity
    raise no_such_entity(f"Policy {arn} was not found.")


def _version_id(call: Call) -> str:
    version = call.params["VersionId"]
    checks = Checks()
    checks.pattern(version, "versionId", VERSION_RE, VERSION_SHOWN)
    checks.done()
    return str(version)


def _missing_version(arn: str, version: str) -> Exception:
    return no_such_entity(f"Policy {arn} version {version} does not exist or is not attachable.")


class PolicyOps:
    """CreatePolicy ... ListEntitiesForPolicy."""

    def CreatePolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        name, path = params["PolicyName"], params.get("Path") or "/"
        checks = Checks()
        checks.name(name, "policyName", 128)
        checks.text(path, "path", 1, 512, POLICY_PATH_RE, POLICY_PATH_SHOWN)
        checks.text(params.get("Description"), "description", 0, 1000, DESC_RE, DESC_SHOWN)
        checks.document(params["PolicyDocument"])
        checks.done()
        tags = check_tags(params.get("Tags"))
        if tx.get(call.account, POLICY, name.lower()) is not None:
            raise already_exists(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            )
        check_managed_document(params["PolicyDocument"])
        now = stamp(call.now)
        data: dict[str, Any] = {
            "PolicyName": name,
            "PolicyId": tokens.new_unique_id("ANPA"),
            "Arn": f"arn:aws:iam::{call.account}:policy{path}{name}",
            "Path": path,
            "Description": params.get("Description"),
            "CreateDate": now,
            "UpdateDate": now,
            "DefaultVersionId": "v1",
            "NextVersion": 2,
            "Versions": {"v1": {"Document": params["PolicyDocument"], "CreateDate": now}},
            "Tags": tags,
            "AttachmentCount": 0,
            "PermissionsBoundaryUsageCount": 0,
        }
        tx.insert(call.account, POLICY, name.lower(), name, data)
        tx.index_put(data["PolicyId"], call.account, POLICY, name.lower())
        tx.bump_generation()
        return {"Policy": policy_view(data, description=False, tags=True)}

    def GetPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        return {"Policy": policy_view(any_policy(call, tx), description=True, tags=True)}

    def ListPolicies(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        scope = params.get("Scope") or "All"
        usage_filter = params.get("PolicyUsageFilter")
        prefix = params.get("PathPrefix")
        checks = Checks()
        checks.enum(scope, "scope", ("All", "AWS", "Local"))
        checks.enum(usage_filter, "policyUsageFilter", ("PermissionsPolicy", "PermissionsBoundary"))
        checks.text(prefix, "pathPrefix", 1, 512, POLICY_PATH_RE, POLICY_PATH_SHOWN)
        checks.done()
        items: list[dict[str, Any]] = []
        if scope in ("All", "AWS"):
            items += [aws_policy_data(p, tx, call.account) for p in AWS_MANAGED.values()]
        if scope in ("All", "Local"):
            items += tx.list(call.account, POLICY)
        if prefix:
            items = [d for d in items if str(d["Path"]).startswith(prefix)]
        if params.get("OnlyAttached"):
            field = (
                "PermissionsBoundaryUsageCount"
                if usage_filter == "PermissionsBoundary"
                else "AttachmentCount"
            )
            items = [d for d in items if int(d.get(field, 0)) > 0]
        items.sort(key=_policy_key)
        chunk, extra = page(items, _policy_key, params)
        return {"Policies": [policy_view(d, description=False, tags=False) for d in chunk], **extra}

    def CreatePolicyVersion(self, call: Call, tx: Tx) -> dict[str, Any]:
        checks = Checks()
        checks.document(call.params["PolicyDocument"])
        checks.done()
        entity = own_policy(call, tx, "CreatePolicyVersion")
        data = entity.data
        check_managed_document(call.params["PolicyDocument"])
        if len(data["Versions"]) >= MAX_VERSIONS:
            raise limit_exceeded(
                f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a "
                "new version, you must delete an existing version."
            )
        version = f"v{int(data['NextVersion'])}"
        now = stamp(call.now)
        data["Versions"][version] = {"Document": call.params["PolicyDocument"], "CreateDate": now}
        data["NextVersion"] = int(data["NextVersion"]) + 1
        data["UpdateDate"] = now
        if call.params.get("SetAsDefault"):
            data["DefaultVersionId"] = version
        tx.put(call.account, POLICY, entity.key, entity.name, data)
        tx.bump_generation()
        return {"PolicyVersion": version_view(data, version, document=False)}

    def GetPolicyVersion(self, call: Call, tx: Tx) -> dict[str, Any]:
        version = _version_id(call)
        data = any_policy(call, tx)
        if version not in data["Versions"]:
            raise _missing_version(call.params["PolicyArn"], version)
        return {"PolicyVersion": version_view(data, version, document=True)}

    def ListPolicyVersions(self, call: Call, tx: Tx) -> dict[str, Any]:
        data = any_policy(call, tx)
        ordered = versions_newest_first(data)
        rank = {v: f"{i:05d}" for i, v in enumerate(ordered)}
        chunk, extra = page(ordered, lambda v: rank[v], call.params)
        return {"Versions": [version_view(data, v, document=False) for v in chunk], **extra}

    def SetDefaultPolicyVersion(self, call: Call, tx: Tx) -> dict[str, Any]:
        version = _version_id(call)
        entity = own_policy(call, tx, "SetDefaultPolicyVersion")
        if version not in entity.data["Versions"]:
            raise _missing_version(call.params["PolicyArn"], version)
        entity.data["DefaultVersionId"] = version
        tx.put(call.account, POLICY, entity.key, entity.name, entity.data)
        tx.bump_generation()
        return {}

    def DeletePolicyVersion(self, call: Call, tx: Tx) -> dict[str, Any]:
        version = _version_id(call)
        entity = own_policy(call, tx, "DeletePolicyVersion")
        data = entity.data
        if version not in data["Versions"]:
            raise _missing_version(call.params["PolicyArn"], version)
        if version == data["DefaultVersionId"]:
            raise delete_conflict("Cannot delete the default version of a policy.")
        del data["Versions"][version]
        data["UpdateDate"] = _latest_update(data)
        tx.put(call.account, POLICY, entity.key, entity.name, data)
        tx.bump_generation()
        return {}

    def DeletePolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = own_policy(call, tx, "DeletePolicy")
        attached, boundaries = usage(tx, call.account, entity.data["Arn"])
        if attached or boundaries:
            raise delete_conflict("Cannot delete a policy attached to entities.")
        if len(entity.data["Versions"]) > 1:
            raise delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        tx.delete(call.account, POLICY, entity.key)
        tx.bump_generation()
        return {}

    def TagPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = own_policy(call, tx, "TagPolicy")
        tags = check_tags(call.params.get("Tags"))
        entity.data["Tags"] = merge_tags(entity.data.get("Tags", []), tags)
        tx.put(call.account, POLICY, entity.key, entity.name, entity.data)
        tx.bump_generation()
        return {}

    def UntagPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = own_policy(call, tx, "UntagPolicy")
        entity.data["Tags"] = remove_tags(entity.data.get("Tags", []), call.params["TagKeys"])
        tx.put(call.account, POLICY, entity.key, entity.name, entity.data)
        tx.bump_generation()
        return {}

    def ListPolicyTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        return tag_page(any_policy(call, tx).get("Tags", []), call.params)

    def ListEntitiesForPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        entity_filter = params.get("EntityFilter")
        usage_filter = params.get("PolicyUsageFilter")
        checks = Checks()
        checks.enum(
            entity_filter,
            "entityFilter",
            ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"),
        )
        checks.enum(usage_filter, "policyUsageFilter", ("PermissionsPolicy", "PermissionsBoundary"))
        checks.prefix(params.get("PathPrefix"))
        checks.done()
        arn = str(any_policy(call, tx)["Arn"])
        rows = _policy_users(
            tx, call.account, arn, entity_filter, usage_filter, params.get("PathPrefix")
        )
        chunk, extra = page(rows, lambda r: r[0], params)
        out: dict[str, Any] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
        for _, member, item in chunk:
            out[member].append(item)
        return {**out, **extra}


def _latest_update(data: dict[str, Any]) -> str:
    """Policy.UpdateDate as AWS defines it: the creation date while one version is left, else
    the CreateDate of the most recently created version."""
    versions = data["Versions"]
    if len(versions) == 1:
        return str(data["CreateDate"])
    return max((str(v["CreateDate"]) for v in versions.values()), key=when)


def _policy_key(data: dict[str, Any]) -> str:
    return f"{str(data['PolicyName']).lower()}\x00{data['Arn']}"


_ENTITY_SOURCES = (
    ("Group", GROUP, "PolicyGroups", "GroupName", "GroupId", "1"),
    ("User", USER, "PolicyUsers", "UserName", "UserId", "2"),
    ("Role", ROLE, "PolicyRoles", "RoleName", "RoleId", "3"),
)


def _policy_users(
    tx: Tx,
    account: str,
    arn: str,
    entity_filter: str | None,
    usage_filter: str | None,
    prefix: str | None,
) -> list[tuple[str, str, dict[str, str]]]:
    """(sort key, response member, item) of every entity using the policy."""
    rows: list[tuple[str, str, dict[str, str]]] = []
    for label, kind, member, name_field, id_field, order in _ENTITY_SOURCES:
        if entity_filter not in (None, label):
            continue

        def uses(d: dict[str, Any]) -> bool:
            attached = arn in d.get("AttachedPolicies", [])
            bounded = d.get("PermissionsBoundary") == arn
            if prefix and not str(d["Path"]).startswith(prefix):
                return False
            if usage_filter == "PermissionsPolicy":
                return attached
            if usage_filter == "PermissionsBoundary":
                return bounded
            return attached or bounded

        for entity in tx.scan(account, kind, where=uses):
            item = {name_field: entity.data[name_field], id_field: entity.data[id_field]}
            rows.append((f"{order}{entity.key}", member, item))
    return rows
