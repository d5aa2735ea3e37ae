"""Bucket configurations trailgate does not keep, read as S3 answers for a bucket that has none.

Tools that inspect a bucket (the AWS CLI, Terraform's provider, inventory scripts) read every
sub-resource of it.  A bucket here never has a CORS, lifecycle, website, replication or Object
Lock configuration, logging, event notifications, Transfer Acceleration or requester-pays, so
each read answers what S3 answers for a bucket without it: the sub-resource's "not found"
error, or its empty (default) document.  Setting any of them stays ``NotImplemented``.
"""

from __future__ import annotations

from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import load_bucket

# operation -> (error code, message) S3 answers when the bucket has no such configuration
_MISSING: Final[dict[str, tuple[str, str]]] = {
    "GetBucketCors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    "GetBucketLifecycleConfiguration": (
        "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "GetBucketWebsite": (
        "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
    "GetBucketReplication": (
        "ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
    "GetObjectLockConfiguration": (
        "ObjectLockConfigurationNotFoundError",
        "Object Lock configuration does not exist for this bucket"),
}


def _missing(call: Call, tx: Tx, operation: str) -> dict[str, Any]:
    bucket = load_bucket(tx, call.params)
    code, message = _MISSING[operation]
    raise ServiceError(code, message, 404, {"BucketName": bucket["Name"]})


class ConfigOps:
    def GetBucketCors(self, call: Call, tx: Tx) -> dict[str, Any]:
        return _missing(call, tx, "GetBucketCors")

    def GetBucketLifecycleConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        return _missing(call, tx, "GetBucketLifecycleConfiguration")

    def GetBucketWebsite(self, call: Call, tx: Tx) -> dict[str, Any]:
        return _missing(call, tx, "GetBucketWebsite")

    def GetBucketReplication(self, call: Call, tx: Tx) -> dict[str, Any]:
        return _missing(call, tx, "GetBucketReplication")

    def GetObjectLockConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        return _missing(call, tx, "GetObjectLockConfiguration")

    def GetBucketLogging(self, call: Call, tx: Tx) -> dict[str, Any]:
        load_bucket(tx, call.params)
        return {}  # an empty <BucketLoggingStatus/>: server access logging is off

    def GetBucketNotificationConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        load_bucket(tx, call.params)
        return {}  # an empty <NotificationConfiguration/>

    def GetBucketAccelerateConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        load_bucket(tx, call.params)
        return {}  # never enabled: an empty <AccelerateConfiguration/>

    def GetBucketRequestPayment(self, call: Call, tx: Tx) -> dict[str, Any]:
        load_bucket(tx, call.params)
        return {"Payer": "BucketOwner"}
