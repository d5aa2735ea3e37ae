"""S3's part of the authorize step: the bucket policy as the resource policy, the bucket owner
as the resource account (same-account union, cross-account intersection), S3's condition keys,
the public access block, and the extra checks of CopyObject and DeleteObjects (Object Lock's:
:mod:`.authorize_lock`)."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from ..auth.org_keys import OrgPlace, org_place, resource_keys
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
from ..services.s3.access import statement_is_public
from ..services.s3_actions import bucket_arn, object_arn, s3_action
from .authorize_lock import extra_lock_actions, install_lock_checks, lock_keys
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
    if bound is None:
        return False
    statements = bound.compiled.policy.statements
    # a grant to everyone pinned by a condition (aws:PrincipalOrgID, a source account...) is
    # not public: RestrictPublicBuckets leaves it alone
    return any(
        m.policy_type is PolicyType.RESOURCE
        and m.policy_id == bound.policy_id
        and statement_is_public(statements[m.index])
        for m in decision.statements
    )


def _decide(
    caller: Caller,
    action: str,
    resource: str,
    keys: dict[str, tuple[str, ...]],
    policies: PolicySet,
    bucket: dict[str, Any] | None,
) -> Decision:
    owner = bucket["Owner"] if bucket is not None else None
    bound = _bucket_policy(bucket) if bucket is not None else None
    request = Request(caller, action, resource, keys, owner)
    decision = evaluate(request, policies.with_resource(bound))
    if decision.allowed and bucket is not None:
        pab = bucket.get("PublicAccessBlock") or {}
        if (
            pab.get("RestrictPublicBuckets")
            and caller.account != owner
            and _public_grant_used(decision, bound)
        ):
            return Decision("implicitDeny", (), "no-resource-allow")
    return decision


def _bucket_and_owner(tx: Any, name: str) -> tuple[dict[str, Any] | None, OrgPlace]:
    """The bucket record and its owner's place in the organization (aws:ResourceAccount,
    aws:ResourceOrgID, aws:ResourceOrgPaths)."""
    bucket: dict[str, Any] | None = s3q.bucket(tx, name)
    return bucket, (org_place(tx, bucket["Owner"]) if bucket is not None else None)


def authorize_s3(
    ctx: RequestContext,
    read: Any,
    policies: PolicySet,
    keys: dict[str, tuple[str, ...]],
    caller: Caller,
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
        # One read transaction for the bucket, where its owner sits in the organization and,
        # where policies may ask, the object's tags.
        bucket, place, tags = read(lambda tx: (
            *_bucket_and_owner(tx, name),
            s3q.object_tags(tx, name, key, version) if tagged else None))
        if operation == "CreateBucket":
            # Creating is decided in the caller's own account; a name that is taken gets
            # BucketAlreadyExists / BucketAlreadyOwnedByYou from the provider.
            bucket = None
        elif bucket is None:
            return  # the provider answers NoSuchBucket
        if bucket is not None:
            ctx.resource_account = bucket["Owner"]
            keys.update(resource_keys(bucket["Owner"], place))
            if operation == "HeadBucket":  # S3 tells a bucket's region even when it refuses
                ctx.response.headers["x-amz-bucket-region"] = bucket["Region"]
        resource = bucket_arn(name)
        if target == "object":
            resource = object_arn(name, key)
            for tag, value in (tags or {}).items():  # s3:ExistingObjectTag/<key>
                keys[f"s3:existingobjecttag/{tag.lower()}"] = (value,)
    install_lock_checks(ctx, lambda act, arn: _decide(
        caller, act, arn, keys, policies, bucket).allowed, name)
    if operation == "DeleteObjects":
        # Decided per key: S3 answers 200 and reports AccessDenied for each refused key.
        objects = (ctx.params.get("Delete") or {}).get("Objects") or []
        ctx.params[DENIED_KEYS] = {
            (str(o.get("Key", "")), o.get("VersionId"))
            for o in objects
            if not _decide(
                caller, s3_action(operation, o.get("VersionId"))[0],
                object_arn(name, str(o.get("Key", ""))), keys, policies, bucket,
            ).allowed
        }
        return
    decision = _decide(caller, action, resource, keys, policies, bucket)
    ctx.decision = decision
    owner = bucket["Owner"] if bucket is not None else None
    if not decision.allowed:
        raise refusal(ctx, read, action, resource, decision, owner)
    _after_allowed(ctx, read, policies, keys, caller, bucket, resource)


def _after_allowed(
    ctx: RequestContext,
    read: Any,
    policies: PolicySet,
    keys: dict[str, tuple[str, ...]],
    caller: Caller,
    bucket: dict[str, Any] | None,
    resource: str,
) -> None:
    """What an allowed request still needs: GetObjectAttributes also s3:GetObject; a read of
    a key that may be missing, the ListBucket question (asked only then); a copy, the right
    to read its source."""
    operation = ctx.operation
    owner = bucket["Owner"] if bucket is not None else None
    for also in extra_lock_actions(operation, ctx.params):  # Object Lock's own actions
        locking = _decide(caller, also, resource, keys, policies, bucket)
        if not locking.allowed:
            raise refusal(ctx, read, also, resource, locking, owner)
    if operation == "GetObjectAttributes":  # S3 asks for s3:GetObject(Version) too
        also = "s3:GetObject" if ctx.params.get("VersionId") is None else "s3:GetObjectVersion"
        reading = _decide(caller, also, resource, keys, policies, bucket)
        if not reading.allowed:
            raise refusal(ctx, read, also, resource, reading, owner)
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
    decision = _decide(caller, reading, source_arn, keys, policies, bucket)
    if not decision.allowed:
        raise refusal(ctx, read, reading, source_arn, decision, bucket["Owner"])
