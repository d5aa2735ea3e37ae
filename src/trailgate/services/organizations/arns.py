"""The resources an Organizations call is authorized on, as the Service Authorization
Reference lists them: the account, OU, root or policy each id parameter names, by its ARN
(``arn:aws:organizations::MGMT:account/o-ORG/ID``, ``.../ou/o-ORG/ou-...``,
``.../root/o-ORG/r-...``, ``.../policy/o-ORG/service_control_policy/p-...``; an AWS-managed
policy is ``arn:aws:organizations::aws:policy/service_control_policy/p-...``).  Calls on the
organization as a whole (ListAccounts, CreateAccount, DescribeOrganization...) are authorized
on ``*``."""

from __future__ import annotations

from typing import Any, Final

from .base import ORG
from .policies import FULL_ACCESS

# operation -> the parameters naming its resources, the first being the primary one
_PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "AttachPolicy": ("PolicyId", "TargetId"),
    "DetachPolicy": ("PolicyId", "TargetId"),
    "DescribePolicy": ("PolicyId",),
    "UpdatePolicy": ("PolicyId",),
    "DeletePolicy": ("PolicyId",),
    "ListTargetsForPolicy": ("PolicyId",),
    "ListPoliciesForTarget": ("TargetId",),
    "DescribeAccount": ("AccountId",),
    "RemoveAccountFromOrganization": ("AccountId",),
    "MoveAccount": ("AccountId", "SourceParentId", "DestinationParentId"),
    "DescribeOrganizationalUnit": ("OrganizationalUnitId",),
    "UpdateOrganizationalUnit": ("OrganizationalUnitId",),
    "DeleteOrganizationalUnit": ("OrganizationalUnitId",),
    "CreateOrganizationalUnit": ("ParentId",),
    "ListAccountsForParent": ("ParentId",),
    "ListChildren": ("ParentId",),
    "ListOrganizationalUnitsForParent": ("ParentId",),
    "ListParents": ("ChildId",),
    "TagResource": ("ResourceId",),
    "UntagResource": ("ResourceId",),
    "ListTagsForResource": ("ResourceId",),
    "EnablePolicyType": ("RootId",),
    "DisablePolicyType": ("RootId",),
    "RegisterDelegatedAdministrator": ("AccountId",),
    "DeregisterDelegatedAdministrator": ("AccountId",),
    "ListDelegatedServicesForAccount": ("AccountId",),
}


def _arn(org: dict[str, Any], ident: str) -> str:
    base = f"arn:aws:organizations::{org['MasterAccountId']}"
    if ident.startswith("p-"):
        if ident == FULL_ACCESS["Id"]:
            return str(FULL_ACCESS["Arn"])
        return f"{base}:policy/{org['Id']}/service_control_policy/{ident}"
    if ident.startswith("r-"):
        return f"{base}:root/{org['Id']}/{ident}"
    if ident.startswith("ou-"):
        return f"{base}:ou/{org['Id']}/{ident}"
    return f"{base}:account/{org['Id']}/{ident}"


def org_resources(tx: Any, operation: str, params: dict[str, Any]) -> tuple[str, ...]:
    """The ARNs ``operation`` is authorized on (empty: ``*``, or no organization yet)."""
    names = _PARAMS.get(operation)
    if not names:
        return ()
    org: dict[str, Any] | None = tx.get(ORG, "organization", "org")
    if org is None:
        return ()
    values = (params.get(name) for name in names)
    return tuple(_arn(org, v) for v in values if isinstance(v, str) and v)
