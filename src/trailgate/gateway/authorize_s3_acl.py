"""ACL grants in S3's authorize step.  While a bucket's ACLs are enabled (object ownership other
than ``BucketOwnerEnforced``), its ACL and its objects' ACLs grant access beside the bucket
policy: they are resource-based grants that can only allow.  The grants that name the caller
(its account's canonical id, or the AllUsers / AuthenticatedUsers groups unless the public
access block's ``IgnorePublicAcls`` is on) and cover the action are written as a small resource
policy, and the evaluator decides it as it decides a bucket policy: an IAM user or role of the
grantee account still needs its own account's allow, and any Deny still wins.

ACL permission -> actions (S3 User Guide, "Access control list (ACL) overview"):

- on a bucket: READ lists it (``s3:ListBucket``, ``s3:ListBucketVersions``,
  ``s3:ListBucketMultipartUploads``), WRITE creates and deletes its objects (``s3:PutObject``,
  ``s3:DeleteObject``, ``s3:DeleteObjectVersion``), READ_ACP / WRITE_ACP read / write the
  bucket's ACL;
- on an object: READ reads it (``s3:GetObject``, ``s3:GetObjectVersion``), READ_ACP / WRITE_ACP
  read / write its ACL (and a version's);
- FULL_CONTROL: all of the above for where it is granted.

An object another account owns (written by it while the bucket's ACLs were enabled, without
handing ownership over) is that account's resource: the bucket policy cannot grant reads of it
or of its ACL, only its ACL can (and the object owner's own principals through their identity
policies); the bucket policy's Deny statements still apply (S3 User Guide, "How Amazon S3
authorizes a request for an object operation").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from ..policy import BoundPolicy, Caller, PolicyDoc, PolicyType
from ..services.s3.access import ALL_USERS, AUTHENTICATED_USERS
from ..services.s3.common import ENFORCED, canonical_id
from ..services.s3_actions import bucket_arn

OBJECT_ACL: Final = "__object_acl"
"""The bucket record's entry (in the authorize step only) holding the requested object's
:class:`ObjectAcl`."""

_BUCKET: Final[dict[str, tuple[str, ...]]] = {
    "READ": ("s3:listbucket", "s3:listbucketversions", "s3:listbucketmultipartuploads"),
    "READ_ACP": ("s3:getbucketacl",),
    "WRITE_ACP": ("s3:putbucketacl",),
}
#: A bucket's WRITE, which acts on its objects.
_BUCKET_WRITE: Final[dict[str, tuple[str, ...]]] = {
    "WRITE": ("s3:putobject", "s3:deleteobject", "s3:deleteobjectversion"),
}
_OBJECT: Final[dict[str, tuple[str, ...]]] = {
    "READ": ("s3:getobject", "s3:getobjectversion"),
    "READ_ACP": ("s3:getobjectacl", "s3:getobjectversionacl"),
    "WRITE_ACP": ("s3:putobjectacl", "s3:putobjectversionacl"),
}


@dataclass(frozen=True, slots=True)
class ObjectAcl:
    """The owner (account id) and ACL of the object a request names (``resource``: its ARN)."""

    resource: str
    owner: str
    grants: tuple[dict[str, Any], ...]


def acls_enabled(bucket: dict[str, Any]) -> bool:
    return bucket.get("ObjectOwnership") != ENFORCED


def _covers(permission: str, table: dict[str, tuple[str, ...]], action: str) -> bool:
    if permission == "FULL_CONTROL":
        return any(action in actions for actions in table.values())
    return action in table.get(permission, ())


def _principal(grantee: dict[str, Any], caller: Caller, ignore_public: bool) -> Any:
    """The policy principal a grantee stands for, when it names ``caller``; else None."""
    uri = grantee.get("URI")
    if uri in (ALL_USERS, AUTHENTICATED_USERS):
        if ignore_public or (uri == AUTHENTICATED_USERS and caller.kind == "anonymous"):
            return None
        return "*"
    grantee_id = grantee.get("ID")
    if caller.account and grantee_id and grantee_id == canonical_id(caller.account):
        return {"AWS": f"arn:aws:iam::{caller.account}:root"}
    return None


def _acl_statements(
    caller: Caller,
    action: str,
    resource: str,
    bucket: dict[str, Any],
    object_acl: ObjectAcl | None,
) -> list[dict[str, Any]]:
    """Allow statements for the ACL grants of ``bucket`` (and of the object, for an action on
    it) that give ``caller`` ``action`` on ``resource``."""
    ignore_public = bool((bucket.get("PublicAccessBlock") or {}).get("IgnorePublicAcls"))
    bucket_grants = tuple(bucket.get("Acl") or ())
    if resource == bucket_arn(str(bucket["Name"])):
        sources = [(bucket_grants, _BUCKET)]
    else:
        sources = [(bucket_grants, _BUCKET_WRITE)]
        if object_acl is not None and object_acl.resource == resource:
            sources.append((object_acl.grants, _OBJECT))
    wanted = action.lower()
    principals: dict[str, Any] = {}
    for grants, table in sources:
        for grant in grants:
            if not _covers(str(grant.get("Permission")), table, wanted):
                continue
            principal = _principal(grant.get("Grantee") or {}, caller, ignore_public)
            if principal is not None:
                principals[json.dumps(principal, sort_keys=True)] = principal
    # Built for this one action on this one resource: "*" (an object key's own "*", "?" or
    # "${...}" would read as wildcards or policy variables in an ARN).
    return [{"Sid": "AclGrant", "Effect": "Allow", "Principal": principal, "Action": action,
             "Resource": "*"} for principal in principals.values()]


def _bind(name: str, statements: list[dict[str, Any]]) -> BoundPolicy:
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return BoundPolicy.bind(PolicyDoc(name, PolicyType.RESOURCE, text), "s3")


def acl_policy(
    caller: Caller,
    action: str,
    resource: str,
    bucket: dict[str, Any],
    object_acl: ObjectAcl | None,
) -> BoundPolicy | None:
    """The ACL grants that allow ``caller`` ``action`` on ``resource``, as a resource policy;
    None when none do (or the bucket's ACLs are disabled)."""
    if not acls_enabled(bucket):
        return None
    statements = _acl_statements(caller, action, resource, bucket, object_acl)
    return _bind(f"ACL of {resource}", statements) if statements else None


def foreign_object(
    action: str, resource: str, bucket: dict[str, Any], object_acl: ObjectAcl | None
) -> ObjectAcl | None:
    """The object ``action`` reads (or whose ACL it reads or writes) when another account than
    the bucket owner owns it; else None."""
    if (
        object_acl is None
        or object_acl.resource != resource
        or object_acl.owner == str(bucket["Owner"])
        or not any(action.lower() in actions for actions in _OBJECT.values())
    ):
        return None
    return object_acl


def foreign_object_policy(
    caller: Caller, action: str, bucket: dict[str, Any], found: ObjectAcl
) -> BoundPolicy | None:
    """What decides on an object of another owner besides that owner's identity policies: the
    bucket policy's Deny statements and the object's (and bucket's) ACL grants."""
    statements: list[dict[str, Any]] = []
    if bucket.get("Policy"):
        listed = json.loads(str(bucket["Policy"])).get("Statement") or []
        listed = listed if isinstance(listed, list) else [listed]
        statements += [st for st in listed if isinstance(st, dict) and st.get("Effect") == "Deny"]
    statements += _acl_statements(caller, action, found.resource, bucket, found)
    if not statements:
        return None
    return _bind(f"bucket policy denials and ACL of {found.resource}", statements)
