"""S3 operations -> IAM actions and the resource they act on (spec 6.4 "S3 action mapping")."""

from __future__ import annotations

from typing import Literal

Target = Literal["bucket", "object", "none"]

# operation -> (IAM action, target)
S3_ACTIONS: dict[str, tuple[str, Target]] = {
    "ListBuckets": ("s3:ListAllMyBuckets", "none"),
    "CreateBucket": ("s3:CreateBucket", "bucket"),
    "DeleteBucket": ("s3:DeleteBucket", "bucket"),
    "HeadBucket": ("s3:ListBucket", "bucket"),
    "ListObjects": ("s3:ListBucket", "bucket"),
    "ListObjectsV2": ("s3:ListBucket", "bucket"),
    "ListObjectVersions": ("s3:ListBucketVersions", "bucket"),
    "GetBucketLocation": ("s3:GetBucketLocation", "bucket"),
    "GetBucketAcl": ("s3:GetBucketAcl", "bucket"),
    "PutBucketAcl": ("s3:PutBucketAcl", "bucket"),
    "GetBucketPolicy": ("s3:GetBucketPolicy", "bucket"),
    "PutBucketPolicy": ("s3:PutBucketPolicy", "bucket"),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", "bucket"),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", "bucket"),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", "bucket"),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", "bucket"),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
    "GetBucketVersioning": ("s3:GetBucketVersioning", "bucket"),
    "PutBucketVersioning": ("s3:PutBucketVersioning", "bucket"),
    "GetBucketTagging": ("s3:GetBucketTagging", "bucket"),
    "PutBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "DeleteBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", "bucket"),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "bucket"),
    "GetBucketCors": ("s3:GetBucketCORS", "bucket"),
    "PutBucketCors": ("s3:PutBucketCORS", "bucket"),
    "DeleteBucketCors": ("s3:PutBucketCORS", "bucket"),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", "bucket"),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", "bucket"),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", "bucket"),
    "GetBucketWebsite": ("s3:GetBucketWebsite", "bucket"),
    "PutBucketWebsite": ("s3:PutBucketWebsite", "bucket"),
    "DeleteBucketWebsite": ("s3:DeleteBucketWebsite", "bucket"),
    "GetBucketReplication": ("s3:GetReplicationConfiguration", "bucket"),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration", "bucket"),
    "PutObjectLockConfiguration": ("s3:PutBucketObjectLockConfiguration", "bucket"),
    "GetBucketLogging": ("s3:GetBucketLogging", "bucket"),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification", "bucket"),
    "GetBucketAccelerateConfiguration": ("s3:GetAccelerateConfiguration", "bucket"),
    "GetBucketRequestPayment": ("s3:GetBucketRequestPayment", "bucket"),
    "PutBucketLogging": ("s3:PutBucketLogging", "bucket"),
    "PutBucketNotificationConfiguration": ("s3:PutBucketNotification", "bucket"),
    "PutBucketAccelerateConfiguration": ("s3:PutAccelerateConfiguration", "bucket"),
    "PutBucketRequestPayment": ("s3:PutBucketRequestPayment", "bucket"),
    "GetObject": ("s3:GetObject", "object"),
    "HeadObject": ("s3:GetObject", "object"),
    "GetObjectAttributes": ("s3:GetObjectAttributes", "object"),  # and s3:GetObject
    "PutObject": ("s3:PutObject", "object"),
    "CopyObject": ("s3:PutObject", "object"),
    "CreateMultipartUpload": ("s3:PutObject", "object"),
    "UploadPart": ("s3:PutObject", "object"),
    "UploadPartCopy": ("s3:PutObject", "object"),
    "CompleteMultipartUpload": ("s3:PutObject", "object"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "object"),
    "ListParts": ("s3:ListMultipartUploadParts", "object"),
    "DeleteObject": ("s3:DeleteObject", "object"),
    "DeleteObjects": ("s3:DeleteObject", "object"),
    "GetObjectAcl": ("s3:GetObjectAcl", "object"),
    "PutObjectAcl": ("s3:PutObjectAcl", "object"),
    "GetObjectTagging": ("s3:GetObjectTagging", "object"),
    "PutObjectTagging": ("s3:PutObjectTagging", "object"),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", "object"),
    # Object Lock: one action whether or not a version is named (no *Version* variants)
    "PutObjectRetention": ("s3:PutObjectRetention", "object"),
    "GetObjectRetention": ("s3:GetObjectRetention", "object"),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", "object"),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", "object"),
}

#: The action a request with ``x-amz-bypass-governance-retention: true`` also needs, asked
#: only when a GOVERNANCE retention stands in the way (DeleteObject(s), PutObjectRetention).
BYPASS_ACTION = "s3:BypassGovernanceRetention"

# operation -> the IAM action it needs instead when the request names a version (versionId)
VERSION_ACTIONS: dict[str, str] = {
    "GetObject": "s3:GetObjectVersion",
    "HeadObject": "s3:GetObjectVersion",
    "GetObjectAttributes": "s3:GetObjectVersionAttributes",  # and s3:GetObjectVersion
    "DeleteObject": "s3:DeleteObjectVersion",
    "DeleteObjects": "s3:DeleteObjectVersion",  # for each entry with a VersionId
    "GetObjectAcl": "s3:GetObjectVersionAcl",
    "PutObjectAcl": "s3:PutObjectVersionAcl",
    "GetObjectTagging": "s3:GetObjectVersionTagging",
    "PutObjectTagging": "s3:PutObjectVersionTagging",
    "DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
}

WRITE_PREFIXES = ("Put", "Create", "Delete", "Copy", "Upload", "Complete", "Abort")


def s3_action(operation: str, version: str | None = None) -> tuple[str, Target]:
    """The IAM action and target of an operation (of its form naming a version when
    ``version`` is given)."""
    found = S3_ACTIONS.get(operation)
    if found is None:
        return f"s3:{operation}", "bucket"
    if version is not None and operation in VERSION_ACTIONS:
        return VERSION_ACTIONS[operation], found[1]
    return found


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"
