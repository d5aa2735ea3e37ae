"""S3's part of the authorize step: the bucket policy as the resource policy, the bucket owner
as the resource account (same-account union, cross-account intersection), S3's condition keys,
the public access block, and the extra checks of CopyObject and DeleteObjects (Object Lock's:
:mod:`.authorize_lock`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from ..auth.org_keys import OrgPlace, org_path, resource_org_keys
from ..policy import (
    BoundPolicy,
    Caller,
    Decision,
    PolicyDoc,
    PolicySet,
    PolicyType,
    Request,
    evaluate,
)
from ..protocol.errors import ServiceError
from ..services.cloudtrail.common import org_of
from ..services.s3 import queries as s3q
from ..services.s3.access import policy_is_public
from ..services.s3_actions import bucket_arn, object_arn, s3_action
from .authorize_lock import extra_lock_actions, install_lock_checks, lock_keys
from .authorize_s3_acl import (
    OBJECT_ACL,
    ObjectAcl,
    acl_policy,
    acls_enabled,
    foreign_object,
    foreign_object_policy,
)
from .context import RequestContext
from .denial_wording import why_denied

ACCESS_DENIED = "Access Denied"
DENIED_KEYS = "__denied_keys"  # DeleteObjects: (key, version id) the caller may not delete
MAY_LIST = "__may_list"
"""GetObject / HeadObject: a function answering None when the caller may ListBucket the
bucket, else the AccessDenied to give (asked only when the key does not exist: S3 answers
NoSuchKey only to a caller that could have listed the bucket, AccessDenied to any other)."""
_MISSING_KEY_READS = frozenset({"GetObject", "HeadObject", "GetObjectAttributes"})


def denied() -> ServiceError:
    return ServiceError("AccessDenied", ACCESS_DENIED, 403)


def refusal(
    ctx: RequestContext, read: Any, action: str, resource: str, decision: Decision,
    owner: str | None,
) -> ServiceError:
    """S3's AccessDenied for a refused request.  S3 explains a refusal (who, which action on
    which resource, and why) only to a caller of the resource owner's own account or
    organization; anyone else, and any anonymous caller, gets the bare "Access Denied"."""
    p = ctx.principal
    if p is None or p.kind in ("anonymous", "service") or resource == "*":
        return denied()
    why = why_denied(decision, action)
    if why is None or not same_organization(read, p.account, owner or p.account):
        return denied()
    return ServiceError(
        "AccessDenied",
        f'User: {p.arn} is not authorized to perform: {action} on resource: "{resource}" '
        f"{why}",
        403,
    )


def same_organization(read: Any, account: str, other: str) -> bool:
    """The same account, or two accounts of one organization."""
    if account == other:
        return True
    return bool(read(lambda tx: org_of(tx, account) is not None
                     and org_of(tx, other) is not None))


def s3_keys(ctx: RequestContext, keys: dict[str, tuple[str, ...]]) -> None:
    params = ctx.params
    for param, key in (("Prefix", "s3:prefix"), ("Delimiter", "s3:delimiter")):
        if params.get(param) is not None:
            keys[key] = (str(params[param]),)
    if params.get("MaxKeys") is not None:
        keys["s3:max-keys"] = (str(params["MaxKeys"]),)
    if params.get("ACL") is not None:
        keys["s3:x-amz-acl"] = (str(params["ACL"]),)
    if params.get("VersionId") is not None:
        keys["s3:versionid"] = (str(params["VersionId"]),)
    if ctx.signature_version:
        keys["s3:signatureversion"] = (ctx.signature_version,)
        keys["s3:authtype"] = (ctx.auth_type,)
    sha = ctx.request.headers.get("x-amz-content-sha256")
    if sha:
        keys["s3:x-amz-content-sha256"] = (sha,)
    _header_keys(params, keys)
    _conditional_keys(ctx.operation, params, keys)
    _request_tag_keys(params, keys)
    lock_keys(ctx, keys)


# request param -> the S3 condition key its header sets (S3's service authorization reference)
_HEADER_KEYS: Final = (
    ("ServerSideEncryption", "s3:x-amz-server-side-encryption"),
    ("SSEKMSKeyId", "s3:x-amz-server-side-encryption-aws-kms-key-id"),
    ("StorageClass", "s3:x-amz-storage-class"),
    ("MetadataDirective", "s3:x-amz-metadata-directive"),
    ("WebsiteRedirectLocation", "s3:x-amz-website-redirect-location"),
    ("GrantRead", "s3:x-amz-grant-read"),
    ("GrantWrite", "s3:x-amz-grant-write"),
    ("GrantReadACP", "s3:x-amz-grant-read-acp"),
    ("GrantWriteACP", "s3:x-amz-grant-write-acp"),
    ("GrantFullControl", "s3:x-amz-grant-full-control"),
)


def _header_keys(params: dict[str, Any], keys: dict[str, tuple[str, ...]]) -> None:
    for param, key in _HEADER_KEYS:
        if params.get(param) is not None:
            keys[key] = (str(params[param]),)
    source = params.get("CopySource")
    if isinstance(source, dict):
        keys["s3:x-amz-copy-source"] = (f"{source.get('Bucket', '')}/{source.get('Key', '')}",)
    elif source:
        keys["s3:x-amz-copy-source"] = (unquote(str(source)).split("?", 1)[0].lstrip("/"),)


#: Operations whose If-Match / If-None-Match headers S3 exposes as s3:if-match /
#: s3:if-none-match (conditional writes and deletes).
_CONDITIONAL_HEADER_KEYS: Final = {
    "PutObject": (("IfMatch", "s3:if-match"), ("IfNoneMatch", "s3:if-none-match")),
    "CompleteMultipartUpload": (("IfMatch", "s3:if-match"), ("IfNoneMatch", "s3:if-none-match")),
    "CopyObject": (("IfMatch", "s3:if-match"), ("IfNoneMatch", "s3:if-none-match")),
    "DeleteObject": (("IfMatch", "s3:if-match"),),
}
#: s3:ObjectCreationOperation: true for the calls that create an object, false for the
#: multipart steps that take no conditional headers (what bucket policies exempt with it).
_OBJECT_CREATION: Final = {
    "PutObject": "true", "CompleteMultipartUpload": "true", "CopyObject": "true",
    "CreateMultipartUpload": "false", "UploadPart": "false", "UploadPartCopy": "false",
}


def _conditional_keys(
    operation: str, params: dict[str, Any], keys: dict[str, tuple[str, ...]]
) -> None:
    for param, key in _CONDITIONAL_HEADER_KEYS.get(operation, ()):
        if params.get(param) is not None:
            keys[key] = (str(params[param]),)
    if operation in _OBJECT_CREATION:
        keys["s3:objectcreationoperation"] = (_OBJECT_CREATION[operation],)


def _request_tag_keys(params: dict[str, Any], keys: dict[str, tuple[str, ...]]) -> None:
    """``s3:RequestObjectTag/KEY`` and ``s3:RequestObjectTagKeys`` from the tags a request sets
    (the x-amz-tagging header of a write, or PutObjectTagging's TagSet)."""
    tagging = params.get("Tagging")
    if isinstance(tagging, dict):
        pairs = [(str(t.get("Key") or ""), str(t.get("Value") or ""))
                 for t in tagging.get("TagSet") or []]
    elif isinstance(tagging, str):
        pairs = parse_qsl(tagging, keep_blank_values=True)
    else:
        return
    keys["s3:requestobjecttagkeys"] = tuple(k for k, _ in pairs)
    for key, value in pairs:
        keys[f"s3:requestobjecttag/{key.lower()}"] = (value,)


#: Operations on an existing object, whose tags S3 exposes as s3:ExistingObjectTag/KEY.
_EXISTING_TAG_OPERATIONS: Final = frozenset({
    "GetObject", "HeadObject", "GetObjectAttributes", "GetObjectAcl", "PutObjectAcl",
    "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging",
})


def _bucket_policy(bucket: dict[str, Any]) -> BoundPolicy | None:
    text = bucket.get("Policy")
    if not text:
        return None
    doc = PolicyDoc(f"bucket policy of {bucket['Name']}", PolicyType.RESOURCE, text)
    return BoundPolicy.bind(doc, "s3")


def _public_grant_used(decision: Decision, bound: BoundPolicy | None) -> bool:
    """The bucket policy is public (AWS's notion: a statement open to everyone without a
    restricting condition such as ``aws:PrincipalOrgID``) and one of its statements grants
    this request: RestrictPublicBuckets then blocks any other account's access through it, a
    non-public statement of that policy included."""
    if bound is None or not policy_is_public(bound.compiled.policy):
        return False
    return any(m.policy_type is PolicyType.RESOURCE and m.policy_id == bound.policy_id
               for m in decision.statements)


def _decide(
    caller: Caller,
    action: str,
    resource: str,
    keys: dict[str, tuple[str, ...]],
    policies: PolicySet,
    bucket: dict[str, Any] | None,
) -> Decision:
    owner = bucket["Owner"] if bucket is not None else None
    found = foreign_object(action, resource, bucket, bucket.get(OBJECT_ACL)) if bucket else None
    if bucket is not None and found is not None:
        # Another account's object: its owner's resource (module doc of authorize_s3_acl).
        request = Request(caller, action, resource, keys, found.owner)
        policy = foreign_object_policy(caller, action, bucket, found)
        return evaluate(request, policies.with_resource(policy))
    bound = _bucket_policy(bucket) if bucket is not None else None
    request = Request(caller, action, resource, keys, owner)
    decision = evaluate(request, policies.with_resource(bound))
    if not decision.allowed and decision.effect != "explicitDeny" and bucket is not None:
        # No policy granted (and none denied): an ACL grant may (ACLs enabled only); when it
        # does not either, its decision names what is still missing (the caller's own side).
        acl = acl_policy(caller, action, resource, bucket, bucket.get(OBJECT_ACL))
        if acl is not None:
            return evaluate(request, policies.with_resource(acl))
    if decision.allowed and bucket is not None:
        pab = bucket.get("PublicAccessBlock") or {}
        if (
            pab.get("RestrictPublicBuckets")
            and caller.account != owner
            and _public_grant_used(decision, bound)
        ):
            return Decision("implicitDeny", (), "no-resource-allow")
    return decision


def authorize_s3(
    ctx: RequestContext,
    read: Any,
    policies: PolicySet,
    keys: dict[str, tuple[str, ...]],
    caller: Caller,
    org_place: Callable[[str], OrgPlace],
) -> None:
    operation = ctx.operation
    version = ctx.params.get("VersionId")
    action, target = s3_action(operation, None if version is None else str(version))
    s3_keys(ctx, keys)
    name: str = ctx.params.get("Bucket") or ""
    bucket: dict[str, Any] | None = None
    if target == "none" or not name:
        resource = "*"
    else:
        key = str(ctx.params.get("Key", ""))
        tagged = target == "object" and operation in _EXISTING_TAG_OPERATIONS
        # One read transaction for the bucket and, where policies may ask, the object's tags
        # and (its bucket's ACLs enabled) its ACL.
        bucket, tags, (object_owner, acl) = read(lambda tx: _read_targets(
            tx, name, key if target == "object" else None, version, tagged))
        if operation == "CreateBucket":
            # Creating is decided in the caller's own account; a name that is taken gets
            # BucketAlreadyExists / BucketAlreadyOwnedByYou from the provider.
            bucket = None
        elif bucket is None:
            return  # the provider answers NoSuchBucket
        owner = caller.account if bucket is None else bucket["Owner"]  # a new one: the caller's
        if owner:
            resource_org_keys(owner, org_place(owner), keys)
        if bucket is not None:
            ctx.resource_account = bucket["Owner"]
            if operation == "HeadBucket":  # S3 tells a bucket's region even when it refuses
                ctx.response.headers["x-amz-bucket-region"] = bucket["Region"]
        resource = bucket_arn(name)
        if target == "object":
            resource = object_arn(name, key)
            if bucket is not None and object_owner is not None:
                bucket = {**bucket, OBJECT_ACL: ObjectAcl(resource, object_owner, tuple(acl))}
            for tag, value in (tags or {}).items():  # s3:ExistingObjectTag/<key>
                keys[f"s3:existingobjecttag/{tag.lower()}"] = (value,)
    install_lock_checks(ctx, lambda act, arn: _decide(
        caller, act, arn, keys, policies, bucket).allowed, name)
    if operation == "DeleteObjects":
        # Decided per key: S3 answers 200 and reports AccessDenied for each refused key.
        ctx.params[DENIED_KEYS] = _refused_keys(ctx, caller, keys, policies, bucket, name)
        return
    decision = _decide(caller, action, resource, keys, policies, bucket)
    ctx.decision = decision
    if not decision.allowed:
        raise refusal(ctx, read, action, resource, decision,
                      bucket["Owner"] if bucket is not None else None)
    _after_allowed(ctx, read, policies, keys, caller, bucket, resource)


def _read_targets(
    tx: Any, name: str, key: str | None, version: Any, tagged: bool
) -> tuple[dict[str, Any] | None, dict[str, str] | None, tuple[str | None, list[Any]]]:
    """The bucket, and for an object request the object's tags (when asked) and its owner and
    ACL (when the bucket's ACLs are enabled)."""
    bucket = s3q.bucket(tx, name)
    if bucket is None or key is None:
        return bucket, None, (None, [])
    tags = s3q.object_tags(tx, name, key, version) if tagged else None
    acl = s3q.object_acl(tx, name, key, version) if acls_enabled(bucket) else (None, [])
    return bucket, tags, acl


def _refused_keys(
    ctx: RequestContext, caller: Caller, keys: dict[str, tuple[str, ...]],
    policies: PolicySet, bucket: dict[str, Any] | None, name: str,
) -> set[tuple[str, Any]]:
    """DeleteObjects: the (key, version id) pairs the caller may not delete."""
    objects = (ctx.params.get("Delete") or {}).get("Objects") or []

    def allows(action: str, arn: str, entry_keys: dict[str, tuple[str, ...]]) -> bool:
        return _decide(caller, action, arn, entry_keys, policies, bucket).allowed

    return {
        (str(o.get("Key", "")), o.get("VersionId"))
        for o in objects
        if not _entry_allowed(o, allows, name, keys)
    }


def _entry_allowed(
    entry: dict[str, Any],
    allows: Callable[[str, str, dict[str, tuple[str, ...]]], bool],
    bucket: str,
    keys: dict[str, tuple[str, ...]],
) -> bool:
    """One DeleteObjects entry, decided as its DeleteObject would be: its own action, its ETag
    as ``s3:if-match``, and s3:GetObject too when that ETag is not ``*``."""
    arn = object_arn(bucket, str(entry.get("Key", "")))
    etag = entry.get("ETag")
    entry_keys = keys if etag is None else {**keys, "s3:if-match": (str(etag),)}
    actions = [s3_action("DeleteObjects", entry.get("VersionId"))[0]]
    if etag is not None and str(etag).strip() != "*":
        actions.append("s3:GetObject")
    return all(allows(action, arn, entry_keys) for action in actions)


def _after_allowed(
    ctx: RequestContext,
    read: Any,
    policies: PolicySet,
    keys: dict[str, tuple[str, ...]],
    caller: Caller,
    bucket: dict[str, Any] | None,
    resource: str,
) -> None:
    """What an allowed request still needs: the read of :func:`_also_read`; a read of
    a key that may be missing, the ListBucket question (asked only then); a copy, the right
    to read its source."""
    operation = ctx.operation
    owner = bucket["Owner"] if bucket is not None else None
    for also in extra_lock_actions(operation, ctx.params):  # Object Lock's own actions
        locking = _decide(caller, also, resource, keys, policies, bucket)
        if not locking.allowed:
            raise refusal(ctx, read, also, resource, locking, owner)
    needed = _also_read(operation, ctx.params)
    if needed is not None:
        reading = _decide(caller, needed, resource, keys, policies, bucket)
        if not reading.allowed:
            raise refusal(ctx, read, needed, resource, reading, owner)
    if operation in _MISSING_KEY_READS:
        listing = bucket_arn(str(ctx.params.get("Bucket") or ""))

        def may_list() -> ServiceError | None:
            found = _decide(caller, "s3:ListBucket", listing, keys, policies, bucket)
            if found.allowed:
                return None
            return refusal(ctx, read, "s3:ListBucket", listing, found, owner)

        ctx.params[MAY_LIST] = may_list
    if operation in ("CopyObject", "UploadPartCopy"):
        _authorize_copy_source(ctx, read, policies, keys, caller)


def _also_read(operation: str, params: dict[str, Any]) -> str | None:
    """The read S3 asks for besides a call's own action: GetObjectAttributes needs
    s3:GetObject(Version); a delete conditional on an ETag (If-Match other than ``*``) needs
    s3:GetObject."""
    if operation == "GetObjectAttributes":
        return "s3:GetObject" if params.get("VersionId") is None else "s3:GetObjectVersion"
    if_match = params.get("IfMatch")
    if operation == "DeleteObject" and if_match is not None and str(if_match).strip() != "*":
        return "s3:GetObject"
    return None


def _authorize_copy_source(
    ctx: RequestContext,
    read: Any,
    policies: PolicySet,
    keys: dict[str, tuple[str, ...]],
    caller: Caller,
) -> None:
    source = ctx.params.get("CopySource")
    if isinstance(source, dict):
        src_bucket, src_key = source.get("Bucket", ""), source.get("Key", "")
        named = source.get("VersionId") is not None
    else:
        path, _, query = str(source or "").partition("?")
        text = unquote(path).lstrip("/")
        src_bucket, _, src_key = text.partition("/")
        named = any(k == "versionId" for k, _ in parse_qsl(query, keep_blank_values=True))
    reading = "s3:GetObjectVersion" if named else "s3:GetObject"  # a version: its own action
    bucket = read(lambda tx: s3q.bucket(tx, src_bucket))
    if bucket is None:
        return  # the provider answers NoSuchBucket
    source_arn = object_arn(src_bucket, src_key)
    owner: str = bucket["Owner"]
    source_keys = dict(keys)  # the source bucket's owner is the resource account here
    resource_org_keys(owner, read(lambda tx: org_path(tx, owner)), source_keys)
    decision = _decide(caller, reading, source_arn, source_keys, policies, bucket)
    if not decision.allowed:
        raise refusal(ctx, read, reading, source_arn, decision, bucket["Owner"])
