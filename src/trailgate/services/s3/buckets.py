"""S3 buckets: lifecycle, location, policy, ACL, ownership controls, public access block."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from ...policy import MalformedPolicyError, PolicyType, parse_policy
from ...policy.bucket_checks import check_bucket_policy_actions
from ...policy.validate import check_bucket_resources, policy_size
from ...protocol.errors import ServiceError
from ...store.blobs import BlobStore
from ...store.interface import Tx
from ..base import Call
from .access import (
    acl_is_public,
    canned_grants,
    check_acl_allowed,
    check_principals_exist,
    grants_view,
    owner_only,
    policy_is_public,
    requested_grants,
)
from .common import (
    BUCKET,
    ENFORCED,
    NS,
    OWNERSHIPS,
    WRITER,
    access_denied,
    after_commit,
    decode_token,
    encode_token,
    invalid_argument,
    load_bucket,
    malformed_xml,
    objects_kind,
    owned_kind,
    owner_view,
    parts_kind,
    stamp,
    tag_list,
    tag_set,
    uploads_kind,
    when,
)
from .object_lock import creation_lock
from .versions import has_versions

MAX_POLICY_SIZE: Final = 20 * 1024
US_EAST_1: Final = "us-east-1"
PAB_FIELDS: Final = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)

_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_SHAPED = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_RESERVED_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES: Final = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_ok(name: str) -> bool:
    """S3's rules for new general purpose bucket names (spec 6.4)."""
    if _BUCKET_CHARS.fullmatch(name) is None:
        return False
    if ".." in name or ".-" in name or "-." in name:
        return False
    if _IP_SHAPED.fullmatch(name):
        return False
    return not name.startswith(_RESERVED_PREFIXES) and not name.endswith(_RESERVED_SUFFIXES)


def invalid_bucket_name(name: str) -> ServiceError:
    return ServiceError(
        "InvalidBucketName", "The specified bucket is not valid.", 400, {"BucketName": name}
    )


def _incompatible(constraint: str | None) -> ServiceError:
    shown = constraint or "unspecified"
    return ServiceError(
        "IllegalLocationConstraintException",
        f"The {shown} location constraint is incompatible for the region specific endpoint "
        "this request was sent to.",
        400,
    )


def check_location(server_region: str, constraint: str | None) -> None:
    """us-east-1 servers take no constraint; others require their own region."""
    legacy_eu = constraint == "EU" and server_region == "eu-west-1"
    malformed = constraint == US_EAST_1 or _REGION.fullmatch(constraint or "") is None
    if constraint and malformed and not legacy_eu:
        raise ServiceError(
            "InvalidLocationConstraint",
            "The specified location-constraint is not valid",
            400,
            {"LocationConstraint": constraint},
        )
    if server_region == US_EAST_1:
        if constraint:
            raise _incompatible(constraint)
        return
    if constraint not in (server_region, "EU" if server_region == "eu-west-1" else None):
        raise _incompatible(constraint)


_ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")


def stored_policy(text: str) -> str:
    """A bucket policy as S3 keeps and returns it: compact JSON, and an AWS principal given as
    a bare account id written as that account's ARN (``arn:aws:iam::ID:root``)."""
    doc = json.loads(text)
    statements = doc.get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        for element in ("Principal", "NotPrincipal"):
            principal = statement.get(element) if isinstance(statement, dict) else None
            if isinstance(principal, dict) and "AWS" in principal:
                principal["AWS"] = _account_arns(principal["AWS"])
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _account_arns(value: Any) -> Any:
    if isinstance(value, list):
        return [_account_arns(item) for item in value]
    if isinstance(value, str) and _ACCOUNT_ID.fullmatch(value):
        return f"arn:aws:iam::{value}:root"
    return value


def _no_such_policy(name: str) -> ServiceError:
    return ServiceError(
        "NoSuchBucketPolicy", "The bucket policy does not exist", 404, {"BucketName": name}
    )


def _pab_view(config: dict[str, Any]) -> dict[str, bool]:
    return {field: bool(config.get(field, False)) for field in PAB_FIELDS}


def _creation_grants(params: dict[str, Any], account: str, ownership: str) -> list[Any]:
    """The ACL CreateBucket asks for: none with BucketOwnerEnforced (bar the owner's own),
    nothing public (a new bucket blocks public access from the start)."""
    grants = requested_grants(params, account, required=False)
    if grants is None:
        return canned_grants("private", account)
    if ownership == ENFORCED and not owner_only(grants, account):
        raise ServiceError(
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            400,
        )
    if acl_is_public(grants):
        raise ServiceError(
            "InvalidBucketAclWithBlockPublicAccessError",
            "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
            400,
        )
    return grants


_OWNED_BATCH: Final = 256


def _owned_buckets(
    tx: Tx, account: str, prefix: str | None, after: str | None, limit: int | None,
    region: str | None,
) -> tuple[list[dict[str, Any]], bool]:
    """ListBuckets: the account's buckets after ``after`` (by name) in ``region`` if given, at
    most ``limit`` of them, and whether more follow.  ``max-buckets`` counts the buckets
    returned, so the region filter applies before the page is cut."""
    found: list[dict[str, Any]] = []
    cursor = after
    while True:
        names = tx.scan(NS, owned_kind(account), prefix=prefix, after=cursor, limit=_OWNED_BATCH)
        for entry in names:
            data = tx.get(NS, BUCKET, entry.key)
            if data is None or data["Owner"] != account:
                continue
            if region is not None and data["Region"] != region:
                continue
            if limit is not None and len(found) == limit:
                return found, True
            found.append(data)
        if len(names) < _OWNED_BATCH:
            return found, False
        cursor = names[-1].key


class BucketOps:
    region: str
    blobs: BlobStore

    # -- lifecycle ----------------------------------------------------------------------------

    def CreateBucket(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        name = str(params.get("Bucket") or "")
        if not bucket_name_ok(name):
            raise invalid_bucket_name(name)
        config = params.get("CreateBucketConfiguration") or {}
        check_location(self.region, config.get("LocationConstraint") or None)
        existing = tx.get(NS, BUCKET, name)
        if existing is not None:
            return self._recreate(call, tx, existing)
        ownership = str(params.get("ObjectOwnership") or ENFORCED)
        if ownership not in OWNERSHIPS:
            raise invalid_argument(
                "Invalid x-amz-object-ownership header", "x-amz-object-ownership", ownership
            )
        grants = _creation_grants(params, call.account, ownership)
        tags = tag_set({"TagSet": config.get("Tags") or []}, 50)  # boto3's create-time Tags
        data: dict[str, Any] = {
            "Name": name,
            "Owner": call.account,
            "Region": self.region,
            "CreationDate": stamp(call.now),
            "Policy": None,
            # New buckets block public access by default (AWS, since April 2023).
            "PublicAccessBlock": {field: True for field in PAB_FIELDS},
            "OwnershipControls": ownership,
            "ObjectOwnership": ownership,
            "Acl": grants,
            "Tags": tags,
            **creation_lock(params),  # x-amz-bucket-object-lock-enabled: also versioning
        }
        tx.insert(NS, BUCKET, name, name, data)
        tx.put(NS, owned_kind(call.account), name, name, {"Name": name})
        return {"Location": f"/{name}"}

    def _recreate(self, call: Call, tx: Tx, existing: dict[str, Any]) -> dict[str, Any]:
        """CreateBucket of a name that is taken."""
        name = str(existing["Name"])
        params = call.params
        if existing["Owner"] == call.account and self.region == US_EAST_1:
            # us-east-1 keeps its legacy answer to re-creating one's own bucket: 200 OK,
            # with the bucket's ACL reset to what the request asks for.
            existing["Acl"] = _creation_grants(
                params, call.account, str(existing.get("ObjectOwnership") or ENFORCED))
            tx.put(NS, BUCKET, name, name, existing)
            return {"Location": f"/{name}"}
        if existing["Owner"] == call.account:
            raise ServiceError(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                409,
                {"BucketName": name},
            )
        raise ServiceError(
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by "
            "all users of the system. Please select a different name and try again.",
            409,
            {"BucketName": name},
        )

    def HeadBucket(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        region = bucket["Region"]
        return {
            "BucketRegion": region,
            "AccessPointAlias": False,  # S3 says so for a bucket named by its own name
            "__headers": {"x-amz-bucket-region": region},
        }

    def ListBuckets(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        prefix = params.get("Prefix") or None
        raw_limit = params.get("MaxBuckets")
        limit = None if raw_limit is None else int(raw_limit)
        if limit is not None and not 1 <= limit <= 10000:
            raise invalid_argument("Invalid max buckets", "max-buckets", limit)
        after: str | None = None
        if params.get("ContinuationToken"):
            after = decode_token(str(params["ContinuationToken"]))
        region = str(params.get("BucketRegion") or "") or None
        found, truncated = _owned_buckets(tx, call.account, prefix, after, limit, region)
        buckets = [
            {
                "Name": data["Name"],
                "CreationDate": when(data["CreationDate"]),
                "BucketRegion": data["Region"],
            }
            for data in found
        ]
        out: dict[str, Any] = {"Buckets": buckets, "Owner": owner_view(call.account)}
        if prefix:
            out["Prefix"] = prefix
        if truncated and found:
            out["ContinuationToken"] = encode_token(str(found[-1]["Name"]))
        return out

    def DeleteBucket(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        name = bucket["Name"]
        if tx.scan(NS, objects_kind(name), limit=1) or has_versions(tx, name):
            raise ServiceError(
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
                409,
                {"BucketName": name},
            )
        # Incomplete multipart uploads go with the bucket; their part blobs after commit.
        doomed: list[str] = []
        for part in tx.scan(NS, parts_kind(name)):
            doomed.append(part.data["BlobId"])
            tx.delete(NS, parts_kind(name), part.key)
        for upload in tx.scan(NS, uploads_kind(name)):
            tx.delete(NS, uploads_kind(name), upload.key)
        tx.delete(NS, BUCKET, name)
        tx.delete(NS, owned_kind(bucket["Owner"]), name)
        return after_commit({"__status": 204}, self.blobs, doomed)

    def GetBucketLocation(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        region = bucket["Region"]
        # us-east-1 is an empty <LocationConstraint/> element (botocore reads None).
        return {"LocationConstraint": None if region == US_EAST_1 else region}

    # -- tags ---------------------------------------------------------------------------------

    def GetBucketTagging(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        if not bucket.get("Tags"):
            raise ServiceError("NoSuchTagSet", "The TagSet does not exist", 404,
                               {"BucketName": bucket["Name"]})
        return {"TagSet": tag_list(dict(bucket["Tags"]))}

    def PutBucketTagging(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        bucket["Tags"] = tag_set(call.params.get("Tagging"), 50)
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {"__status": 204}

    def DeleteBucketTagging(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        bucket["Tags"] = {}
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {"__status": 204}

    # -- policy -------------------------------------------------------------------------------

    def PutBucketPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        text = call.params.get("Policy")
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8", "replace")
        text = str(text or "")
        if policy_size(text) > MAX_POLICY_SIZE:
            # UNSURE: the code and wording of AWS's refusal of a bucket policy over 20 KB.
            raise ServiceError(
                "MalformedPolicy", "Policy exceeds the maximum allowed document size.", 400
            )
        try:
            policy = parse_policy(text, PolicyType.RESOURCE, flavor="s3")
            check_bucket_resources(policy, bucket["Name"])
            check_bucket_policy_actions(policy)
        except MalformedPolicyError as err:
            raise ServiceError("MalformedPolicy", err.message, 400) from None
        check_principals_exist(tx, policy)
        block = bucket.get("PublicAccessBlock") or {}
        if block.get("BlockPublicPolicy") and policy_is_public(policy):
            p = call.principal
            if p.account != bucket["Owner"]:
                raise access_denied()
            raise ServiceError(
                "AccessDenied",
                f"User: {p.arn} is not authorized to perform: s3:PutBucketPolicy on resource: "
                f'"arn:aws:s3:::{bucket["Name"]}" because public policies are blocked by the '
                "BlockPublicPolicy block public access setting.",
                403,
            )
        bucket["Policy"] = stored_policy(text)
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {"__status": 204}

    def GetBucketPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        if not bucket.get("Policy"):
            raise _no_such_policy(bucket["Name"])
        return {"Policy": bucket["Policy"]}

    def DeleteBucketPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        if bucket.get("Policy"):
            bucket["Policy"] = None
            tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {"__status": 204}

    def GetBucketPolicyStatus(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        text = bucket.get("Policy")
        if not text:
            raise _no_such_policy(bucket["Name"])
        try:
            public = policy_is_public(parse_policy(text, PolicyType.RESOURCE, flavor="s3"))
        except MalformedPolicyError:
            public = False
        return {"PolicyStatus": {"IsPublic": public}}

    # -- ACL ----------------------------------------------------------------------------------

    def GetBucketAcl(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        owner = bucket["Owner"]
        grants = bucket.get("Acl") or canned_grants("private", owner)
        if bucket.get("ObjectOwnership") == ENFORCED:
            grants = canned_grants("private", owner)
        return {"Owner": owner_view(owner), "Grants": grants_view(grants)}

    def PutBucketAcl(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        owner = bucket["Owner"]
        grants = requested_grants(call.params, owner, required=True)
        check_acl_allowed(bucket, grants, owner)
        bucket["Acl"] = grants
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {}

    # -- ownership controls -------------------------------------------------------------------

    def GetBucketOwnershipControls(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        rule = bucket.get("OwnershipControls")
        if not rule:
            raise ServiceError(
                "OwnershipControlsNotFoundError",
                "The bucket ownership controls were not found",
                404,
                {"BucketName": bucket["Name"]},
            )
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": rule}]}}

    def PutBucketOwnershipControls(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        rules = (call.params.get("OwnershipControls") or {}).get("Rules") or []
        if len(rules) != 1 or rules[0].get("ObjectOwnership") not in OWNERSHIPS:
            raise malformed_xml()
        rule = str(rules[0]["ObjectOwnership"])
        acl = bucket.get("Acl") or []
        if rule == ENFORCED and not owner_only(acl, bucket["Owner"]):
            raise ServiceError(
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
                400,
            )
        bucket["OwnershipControls"] = rule
        bucket["ObjectOwnership"] = rule
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {}

    def DeleteBucketOwnershipControls(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        bucket["OwnershipControls"] = None
        bucket["ObjectOwnership"] = WRITER
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {"__status": 204}

    # -- public access block ------------------------------------------------------------------

    def GetPublicAccessBlock(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        config = bucket.get("PublicAccessBlock")
        if config is None:
            raise ServiceError(
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
                404,
                {"BucketName": bucket["Name"]},
            )
        return {"PublicAccessBlockConfiguration": _pab_view(config)}

    def PutPublicAccessBlock(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        config = call.params.get("PublicAccessBlockConfiguration")
        if not isinstance(config, dict):
            raise malformed_xml()
        bucket["PublicAccessBlock"] = _pab_view(config)
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {}

    def DeletePublicAccessBlock(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        bucket["PublicAccessBlock"] = None
        tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
        return {"__status": 204}
