"""ACLs (canned, grant headers, AccessControlPolicy) and "is this public?" for policies and ACLs.

Grants are stored in the ``Grant`` output shape: ``{"Grantee": {"Type", "ID"|"URI"},
"Permission"}`` (no DisplayName: S3 no longer returns one; older records may hold it).
"""

from __future__ import annotations

import re
from typing import Any, Final

from ...policy.model import Policy, Statement
from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..iam import queries as iamq
from .common import (
    ENFORCED,
    access_denied,
    acls_not_supported,
    canonical_id,
    invalid_argument,
    invalid_request,
)

ALL_USERS: Final = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS: Final = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY: Final = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS: Final = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)
PUBLIC_GROUPS: Final = (ALL_USERS, AUTHENTICATED_USERS)
PERMISSIONS: Final = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")

CANNED: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    # canned ACL -> extra (group URI, permission) grants besides the owner's FULL_CONTROL
    "private": (),
    "public-read": ((ALL_USERS, "READ"),),
    "public-read-write": ((ALL_USERS, "READ"), (ALL_USERS, "WRITE")),
    "authenticated-read": ((AUTHENTICATED_USERS, "READ"),),
    "aws-exec-read": (),
    "log-delivery-write": ((LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")),
    "bucket-owner-read": (),
    "bucket-owner-full-control": (),
}

GRANT_PARAMS: Final = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}


def owner_grant(account: str) -> dict[str, Any]:
    return {
        "Grantee": {"Type": "CanonicalUser", "ID": canonical_id(account)},
        "Permission": "FULL_CONTROL",
    }


def grants_view(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grants as S3 shows them now: without the DisplayName it stopped returning (November 21,
    2025), which grants stored before then may still hold."""
    return [
        {**g, "Grantee": {k: v for k, v in g["Grantee"].items() if k != "DisplayName"}}
        for g in grants
    ]


def group_grant(uri: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def canned_grants(acl: str, owner: str, bucket_owner: str | None = None) -> list[dict[str, Any]]:
    """The grants of a canned ACL (``bucket_owner`` for the object ACLs naming it)."""
    if acl not in CANNED:
        raise invalid_argument("Argument format not recognized", "x-amz-acl", acl)
    grants = [owner_grant(owner)]
    grants += [group_grant(uri, perm) for uri, perm in CANNED[acl]]
    if bucket_owner and bucket_owner != owner:
        if acl == "bucket-owner-full-control":
            grants.append(owner_grant(bucket_owner))
        elif acl == "bucket-owner-read":
            grants.append({**owner_grant(bucket_owner), "Permission": "READ"})
    return grants


_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]*)"?\s*(?:,|$)', re.IGNORECASE)


def header_grants(params: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Grants from the ``x-amz-grant-*`` headers, or None when none was given."""
    grants: list[dict[str, Any]] = []
    found = False
    for param, permission in GRANT_PARAMS.items():
        text = params.get(param)
        if not text:
            continue
        found = True
        for match in _GRANTEE.finditer(str(text)):
            kind, value = match.group(1).lower(), match.group(2).strip()
            if not value:
                continue
            if kind == "id":
                grantee = {"Type": "CanonicalUser", "ID": value}
            elif kind == "uri":
                grantee = {"Type": "Group", "URI": value}
            else:
                grantee = {"Type": "AmazonCustomerByEmail", "EmailAddress": value}
            grants.append(_checked({"Grantee": grantee, "Permission": permission}))
    return grants if found else None


#: A canonical user id is 64 hex digits; anything else names no one ("Invalid id").
_CANONICAL_ID: Final = re.compile(r"[0-9a-fA-F]{64}")


def _checked(grant: dict[str, Any]) -> dict[str, Any]:
    grantee = grant.get("Grantee") or {}
    kind = grantee.get("Type")
    permission = grant.get("Permission")
    if permission not in PERMISSIONS:
        raise ServiceError(
            "MalformedACLError",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
            400,
        )
    if kind == "Group":
        if grantee.get("URI") not in GROUPS:
            raise invalid_argument("Invalid group uri", "uri", grantee.get("URI"))
        return {"Grantee": {"Type": "Group", "URI": grantee["URI"]}, "Permission": permission}
    if kind == "CanonicalUser" and _CANONICAL_ID.fullmatch(str(grantee.get("ID") or "")):
        out: dict[str, Any] = {"Type": "CanonicalUser", "ID": grantee["ID"]}
        return {"Grantee": out, "Permission": permission}
    if kind == "AmazonCustomerByEmail":
        raise ServiceError(
            "UnresolvableGrantByEmailAddress",
            "The e-mail address you provided does not match any account on record.",
            400,
        )
    raise invalid_argument("Invalid id", "CanonicalUser/ID", grantee.get("ID"))


def requested_grants(
    params: dict[str, Any], owner: str, *, bucket_owner: str | None = None, required: bool
) -> list[dict[str, Any]] | None:
    """The ACL a request asks for (canned ``ACL``, grant headers or ``AccessControlPolicy``);
    None when it asks for none and ``required`` is false."""
    canned = params.get("ACL")
    headers = header_grants(params)
    policy = params.get("AccessControlPolicy")
    if canned and headers is not None:
        raise invalid_request("Specifying both Canned ACLs and Header Grants is not allowed")
    if canned:
        return canned_grants(str(canned), owner, bucket_owner)
    if headers is not None:
        return headers
    if policy is not None:
        if not isinstance(policy, dict):
            raise ServiceError(
                "MalformedACLError",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
                400,
            )
        return [_checked(grant) for grant in policy.get("Grants") or []]
    if required:
        raise ServiceError(
            "MissingSecurityHeader",
            "Your request was missing a required header",
            400,
            {"MissingHeaderName": "x-amz-acl"},
        )
    return None


def owner_only(grants: list[dict[str, Any]], owner: str) -> bool:
    """True when the ACL grants nothing but the owner's FULL_CONTROL (the only ACL a bucket
    with ``BucketOwnerEnforced`` accepts)."""
    owner_id = canonical_id(owner)
    return all(
        g["Permission"] == "FULL_CONTROL"
        and g["Grantee"].get("Type") == "CanonicalUser"
        and g["Grantee"].get("ID") == owner_id
        for g in grants
    )


def check_acl_allowed(
    bucket: dict[str, Any], grants: list[dict[str, Any]] | None, owner: str
) -> None:
    """AccessControlListNotSupported for an ACL a BucketOwnerEnforced bucket refuses;
    AccessDenied for a public ACL while BlockPublicAcls is on."""
    if grants is None:
        return
    if bucket.get("ObjectOwnership") == ENFORCED and not owner_only(grants, owner):
        raise acls_not_supported()
    block = bucket.get("PublicAccessBlock") or {}
    if block.get("BlockPublicAcls") and acl_is_public(grants):
        raise access_denied()


def acl_is_public(grants: list[dict[str, Any]]) -> bool:
    return any(g["Grantee"].get("URI") in PUBLIC_GROUPS for g in grants)


# -- public policies ---------------------------------------------------------------------------

_RESTRICTING_KEYS: Final = frozenset(
    {
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:userid",
        "aws:sourceip",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    }
)
_FIXING_OPERATORS: Final = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"}
)


def policy_is_public(policy: Policy) -> bool:
    """AWS's notion of a public bucket policy, roughly: some ``Allow`` statement grants to
    everyone (``*``, a wildcard account, or ``NotPrincipal``) without a condition that pins one
    of the restricting keys (source ARN/account/VPC/IP, principal ARN/account/org...) to fixed
    values."""
    return any(statement_is_public(stmt) for stmt in policy.statements)


def statement_is_public(stmt: Statement) -> bool:
    """Whether one statement makes a bucket policy public (see :func:`policy_is_public`)."""
    if stmt.effect != "Allow":
        return False
    if stmt.not_principal is None:
        spec = stmt.principal
        if spec is None:
            return False
        if not (spec.wildcard or any("*" in entry for entry in spec.aws)):
            return False
    return not any(_clause_restricts(clause) for clause in stmt.conditions)


def _clause_restricts(clause: Any) -> bool:
    operator = str(clause.operator)
    if ":" in operator:  # ForAnyValue: / ForAllValues: set operators never pin a single value
        return False
    base = operator.lower()
    if base.endswith("ifexists") or base not in _FIXING_OPERATORS:
        return False
    if str(clause.key).lower() not in _RESTRICTING_KEYS:
        return False
    values: tuple[str, ...] = clause.values
    if not values:
        return False
    if base == "ipaddress":
        return all(_narrow_cidr(value) for value in values)
    return all("*" not in value and "?" not in value for value in values)


def _narrow_cidr(value: str) -> bool:
    _, _, bits = value.partition("/")
    if not bits:
        return True
    try:
        length = int(bits)
    except ValueError:
        return False
    return length >= (8 if ":" not in value else 32)


# -- principals of bucket policies ---------------------------------------------------------------

_IAM_PRINCIPAL: Final = re.compile(r"arn:aws:iam::(\d{12}):(user|role)/(?:[^*?]*/)?([^/*?]+)")


def check_principals_exist(tx: Tx, policy: Policy) -> None:
    """S3 refuses a bucket policy naming an IAM user or role that does not exist ("Invalid
    principal in policy"); accounts, services and wildcards are taken as written."""
    for stmt in policy.statements:
        for spec in (stmt.principal, stmt.not_principal):
            for value in spec.aws if spec is not None else ():
                match = _IAM_PRINCIPAL.fullmatch(value)
                if match is None:
                    continue
                account, kind, name = match.groups()
                lookup = iamq.get_user if kind == "user" else iamq.get_role
                if lookup(tx, account, name) is None:
                    raise ServiceError("MalformedPolicy", "Invalid principal in policy", 400)

