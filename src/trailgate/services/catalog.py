"""Per operation: the IAM action it is authorized as, its resource ARN, whether it writes.

Authorization happens once, in the gateway's authorize step, from these rows.  Adding an
operation = a provider method + (when the defaults below do not fit) a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .iam.linked_services import linked_role_arn

ResourceFn = Callable[[str, dict[str, Any], Any], str]
"""(caller account, params, lookup) -> resource ARN; ``lookup(kind, name) -> path`` reads paths."""


@dataclass(frozen=True)
class Entry:
    action: str | None  # None: never authorized by policy (authentication operations)
    resource: ResourceFn
    write: bool


def _star(_acct: str, _params: dict[str, Any], _lookup: Any) -> str:
    return "*"


def _iam_entity(kind: str, param: str) -> ResourceFn:
    def resource(acct: str, params: dict[str, Any], lookup: Any) -> str:
        name = params.get(param)
        if name is None:
            return "*"
        path = params.get("Path") or lookup(kind, name) or "/"
        return f"arn:aws:iam::{acct}:{kind}{path}{name}"

    return resource


def _federated_user(acct: str, params: dict[str, Any], _lookup: Any) -> str:
    """GetFederationToken is authorized on the federated user it would create."""
    return f"arn:aws:sts::{acct}:federated-user/{params.get('Name', '')}"


def _param(name: str) -> ResourceFn:
    def resource(_acct: str, params: dict[str, Any], _lookup: Any) -> str:
        value = params.get(name)
        return value if isinstance(value, str) and value else "*"

    return resource


def _iam_resource(operation: str) -> ResourceFn:
    if operation in ("CreateVirtualMFADevice",):
        def mfa(acct: str, params: dict[str, Any], _lookup: Any) -> str:
            path = params.get("Path") or "/"
            return f"arn:aws:iam::{acct}:mfa{path}{params.get('VirtualMFADeviceName', '')}"
        return mfa
    if operation in (
        "DeleteVirtualMFADevice", "TagMFADevice", "UntagMFADevice", "ListMFADeviceTags",
    ):
        return _param("SerialNumber")
    if "PolicyVersion" in operation or operation in (
        "GetPolicy", "DeletePolicy", "ListEntitiesForPolicy", "SetDefaultPolicyVersion",
        "TagPolicy", "UntagPolicy", "ListPolicyTags",
    ):
        return _param("PolicyArn")
    if operation == "CreatePolicy":
        def policy(acct: str, params: dict[str, Any], _lookup: Any) -> str:
            path = params.get("Path") or "/"
            return f"arn:aws:iam::{acct}:policy{path}{params.get('PolicyName', '')}"
        return policy
    if operation in _ACCOUNT_LEVEL:
        return _star
    if "OpenIDConnectProvider" in operation and operation != "ListOpenIDConnectProviders":
        if operation == "CreateOpenIDConnectProvider":
            return _oidc_provider
        return _param("OpenIDConnectProviderArn")
    if "SAMLProvider" in operation and operation != "ListSAMLProviders":
        if operation == "CreateSAMLProvider":
            return _saml_provider
        return _param("SAMLProviderArn")
    if operation in _PROFILE_OPERATIONS:
        return _iam_entity("instance-profile", "InstanceProfileName")
    if operation in ("GenerateServiceLastAccessedDetails", "ListPoliciesGrantingServiceAccess"):
        return _param("Arn")
    if operation in ("SimulatePrincipalPolicy", "GetContextKeysForPrincipalPolicy"):
        return _param("PolicySourceArn")
    if operation in _LIST_COLLECTIONS:
        kind = _LIST_COLLECTIONS[operation]

        def collection(acct: str, params: dict[str, Any], _lookup: Any) -> str:
            # AWS authorizes listings against the collection path: arn:aws:iam::ACCT:user/
            prefix = params.get("PathPrefix") or "/"
            return f"arn:aws:iam::{acct}:{kind}{prefix}"

        return collection
    if operation in _SELF_SERVICE_LISTS:
        return _iam_user_or_self
    if operation == "CreateServiceLinkedRole":
        return _service_linked_role
    if "Group" in operation and operation not in ("ListGroupsForUser",):
        return _iam_entity("group", "GroupName")
    if "Role" in operation:
        return _iam_entity("role", "RoleName")
    if operation.startswith("List") and operation.endswith("s") and "User" not in operation:
        return _star
    return _iam_user_or_self


_LIST_COLLECTIONS = {
    "ListUsers": "user", "ListRoles": "role", "ListGroups": "group",
    "ListInstanceProfiles": "instance-profile",
}
# Actions with no resource type (AWS's Service Authorization Reference): authorized on "*".
_ACCOUNT_LEVEL = frozenset({
    "GetAccountPasswordPolicy", "UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy",
    "GetAccountSummary", "GetAccountAuthorizationDetails", "CreateAccountAlias",
    "DeleteAccountAlias", "GenerateCredentialReport", "GetCredentialReport",
    "SetSecurityTokenServicePreferences", "GetContextKeysForCustomPolicy",
    "GetServiceLastAccessedDetails", "GetServiceLastAccessedDetailsWithEntities",
})
_PROFILE_OPERATIONS = frozenset({
    "CreateInstanceProfile", "GetInstanceProfile", "DeleteInstanceProfile",
    "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "TagInstanceProfile",
    "UntagInstanceProfile", "ListInstanceProfileTags",
})
_SELF_SERVICE_LISTS = frozenset({
    "ListAccessKeys", "ListMFADevices", "ListSigningCertificates", "ListSSHPublicKeys",
    "ListServiceSpecificCredentials", "ListUserPolicies", "ListAttachedUserPolicies",
    "ListGroupsForUser", "ListUserTags",
})


def _service_linked_role(acct: str, params: dict[str, Any], _lookup: Any) -> str:
    """CreateServiceLinkedRole is authorized on the role it would create."""
    suffix = params.get("CustomSuffix")
    arn = linked_role_arn(
        acct, str(params.get("AWSServiceName") or ""), suffix if isinstance(suffix, str) else None
    )
    return arn or "*"


def _oidc_provider(acct: str, params: dict[str, Any], _lookup: Any) -> str:
    url = str(params.get("Url") or "")
    name = (url.split("://", 1)[1] if "://" in url else url).rstrip("/")
    return f"arn:aws:iam::{acct}:oidc-provider/{name}"


def _saml_provider(acct: str, params: dict[str, Any], _lookup: Any) -> str:
    return f"arn:aws:iam::{acct}:saml-provider/{params.get('Name') or ''}"


_RENAMES = {"UpdateUser": ("user", "UserName"), "UpdateGroup": ("group", "GroupName")}


def _renamed(operation: str, acct: str, params: dict[str, Any], lookup: Any) -> str | None:
    kind_param = _RENAMES.get(operation)
    if kind_param is None:
        return None
    kind, param = kind_param
    name = params.get(param)
    new_name, new_path = params.get(f"New{param}"), params.get("NewPath")
    if not isinstance(name, str) or (new_name is None and new_path is None):
        return None
    path = new_path or lookup(kind, name) or "/"
    return f"arn:aws:iam::{acct}:{kind}{path}{new_name or name}"


def extra_authorizations(
    operation: str, acct: str, params: dict[str, Any], lookup: Any
) -> list[tuple[str, str]]:
    """(action, resource) pairs an IAM call needs besides its own, as AWS documents them:
    UpdateUser / UpdateGroup that rename or move need their action on the new ARN too ("the
    principal must have permission on both the source object and the target object");
    AddRoleToInstanceProfile needs iam:PassRole on the role."""
    renamed = _renamed(operation, acct, params, lookup)
    if renamed is not None:
        return [(f"iam:{operation}", renamed)]
    if operation == "AddRoleToInstanceProfile" and isinstance(params.get("RoleName"), str):
        return [("iam:PassRole", _iam_entity("role", "RoleName")(acct, params, lookup))]
    return []


def _iam_user_or_self(acct: str, params: dict[str, Any], lookup: Any) -> str:
    name = params.get("UserName")
    if name is None:
        self_arn = lookup("self", "")
        return self_arn or "*"
    path = params.get("Path") or lookup("user", name) or "/"
    return f"arn:aws:iam::{acct}:user{path}{name}"


_TRAIL_PARAMS: dict[str, str] = {
    "CreateTrail": "Name", "DeleteTrail": "Name", "GetTrail": "Name", "GetTrailStatus": "Name",
    "StartLogging": "Name", "StopLogging": "Name", "UpdateTrail": "Name",
    "GetEventSelectors": "TrailName", "PutEventSelectors": "TrailName",
    "GetInsightSelectors": "TrailName", "PutInsightSelectors": "TrailName",
    "AddTags": "ResourceId", "RemoveTags": "ResourceId",
}


def cloudtrail_resource(operation: str, params: dict[str, Any], acct: str, region: str) -> str:
    """The trail a CloudTrail call acts on, as the ARN policies name it
    (``arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME``: a name is a trail of the caller's
    account in the request's region); ``*`` for the actions on no resource (LookupEvents,
    DescribeTrails, ListTrails, ListPublicKeys)."""
    param = _TRAIL_PARAMS.get(operation)
    value = params.get(param) if param is not None else None
    if operation == "ListTags":
        ids = params.get("ResourceIdList") or []
        value = ids[0] if len(ids) == 1 else None
    if not isinstance(value, str) or not value:
        return "*"
    if value.startswith("arn:"):
        return value
    return f"arn:aws:cloudtrail:{region}:{acct}:trail/{value}"


def _is_read(operation: str) -> bool:
    return operation.startswith(("Get", "List", "Simulate", "Describe", "Lookup"))


#: Operations AWS answers without a signature (botocore sends them unsigned): the web
#: identity token or SAML assertion they carry is the caller's credential.
UNSIGNED = frozenset({
    ("sts", "AssumeRoleWithWebIdentity"),
    ("sts", "AssumeRoleWithSAML"),
})

_UNAUTHORIZED = {
    ("sts", "GetCallerIdentity"),
    ("sts", "GetSessionToken"),
    *UNSIGNED,
}


def entry(service: str, operation: str) -> Entry:
    found = _cache.get((service, operation))
    if found is not None:
        return found
    action: str | None = f"{service}:{operation}"
    write = not _is_read(operation)
    resource: ResourceFn = _star
    if (service, operation) in _UNAUTHORIZED:
        action = None
        # AssumeRoleWithSAML records RoleLastUsed
        write = operation in ("GetSessionToken", "AssumeRoleWithSAML")
    elif service == "iam":
        resource = _iam_resource(operation)
    elif service == "sts" and operation == "GetFederationToken":
        resource = _federated_user
    elif service == "sts" and operation == "AssumeRole":
        resource = _param("RoleArn")
        write = True  # consumes MFA codes, records RoleLastUsed
    elif service == "organizations":
        write = not _is_read(operation)
    elif service == "s3":
        from .s3_actions import WRITE_PREFIXES, s3_action

        action = s3_action(operation)[0]
        write = operation.startswith(WRITE_PREFIXES)
    found = Entry(action, resource, write)
    _cache[(service, operation)] = found
    return found


_cache: dict[tuple[str, str], Entry] = {}
