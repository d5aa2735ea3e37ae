"""Bucket sub-resources that are configuration only here: the static website configuration,
server access logging, event notifications, Transfer Acceleration and requester-pays.

Each is validated as S3 validates it, kept with the bucket and returned as stored, so tools
that manage buckets (the AWS CLI, Terraform's provider, inventory scripts) can set and read
them.  None of them changes how trailgate serves requests: there is no website endpoint, no
server access log is written, no notification is sent, and requester-pays requests are not
billed or refused.  A bucket without one answers as S3 does for a bucket that has none: the
sub-resource's "not found" error (website) or its empty default document.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import (
    BUCKET,
    ENFORCED,
    NS,
    invalid_argument,
    invalid_request,
    load_bucket,
    malformed_xml,
)

# -- website -------------------------------------------------------------------------------------

MAX_ROUTING_RULES: Final = 50


def _no_website(bucket: dict[str, Any]) -> ServiceError:
    return ServiceError("NoSuchWebsiteConfiguration",
                        "The specified bucket does not have a website configuration", 404,
                        {"BucketName": bucket["Name"]})


def _check_routing_rule(rule: Any) -> None:
    redirect = rule.get("Redirect") if isinstance(rule, dict) else None
    if not isinstance(redirect, dict):
        raise malformed_xml()
    if redirect.get("ReplaceKeyWith") is not None and \
            redirect.get("ReplaceKeyPrefixWith") is not None:
        # UNSURE: S3's wording for both replacements in one redirect
        raise invalid_request("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
    code = redirect.get("HttpRedirectCode")
    if code is not None and (not str(code).isdigit() or not 300 <= int(code) <= 399):
        raise invalid_argument("The provided HTTP redirect code is not valid. It should be a "
                               "string containing a number between 300 and 399.",
                               "HttpRedirectCode", code)


def website_config(config: Any) -> dict[str, Any]:
    """A ``WebsiteConfiguration`` as S3 accepts it: either RedirectAllRequestsTo alone, or an
    IndexDocument (a suffix without '/') with an optional ErrorDocument and routing rules."""
    if not isinstance(config, dict) or not config:
        raise malformed_xml()
    redirect_all = config.get("RedirectAllRequestsTo")
    if redirect_all is not None:
        if any(config.get(k) is not None for k in ("IndexDocument", "ErrorDocument",
                                                    "RoutingRules")):
            raise invalid_argument("RedirectAllRequestsTo cannot be provided in conjunction "
                                   "with other Routing Rules.", "RedirectAllRequestsTo", "")
        if not isinstance(redirect_all, dict) or not redirect_all.get("HostName"):
            raise malformed_xml()
        return {"RedirectAllRequestsTo": dict(redirect_all)}
    index = config.get("IndexDocument")
    if not isinstance(index, dict):
        raise invalid_argument("A value for IndexDocument Suffix must be provided if "
                               "RedirectAllRequestsTo is empty", "IndexDocument", "")
    suffix = index.get("Suffix")
    if not suffix or "/" in str(suffix):
        raise invalid_argument("The IndexDocument Suffix is not well formed", "IndexDocument",
                               suffix)
    stored: dict[str, Any] = {"IndexDocument": {"Suffix": str(suffix)}}
    error = config.get("ErrorDocument")
    if error is not None:
        if not isinstance(error, dict) or not error.get("Key"):
            raise invalid_argument("The ErrorDocument Key is not well formed", "ErrorDocument",
                                   "")
        stored["ErrorDocument"] = {"Key": str(error["Key"])}
    rules = config.get("RoutingRules")
    if rules is not None:
        if not isinstance(rules, list) or not rules:
            raise malformed_xml()
        if len(rules) > MAX_ROUTING_RULES:
            raise invalid_request(f"The number of routing rules must not exceed "
                                  f"{MAX_ROUTING_RULES}")  # UNSURE: S3's exact wording
        for rule in rules:
            _check_routing_rule(rule)
        stored["RoutingRules"] = [dict(rule) for rule in rules]
    return stored


# -- server access logging ---------------------------------------------------------------------


def _logging_error(message: str, target: str) -> ServiceError:
    return ServiceError("InvalidTargetBucketForLogging", message, 400, {"TargetBucket": target})


def logging_config(tx: Tx, bucket: dict[str, Any], status: Any) -> dict[str, Any] | None:
    """The ``LoggingEnabled`` element of a ``BucketLoggingStatus`` (None: logging off).  The
    target bucket must exist and belong to the source bucket's owner (one region here)."""
    if status is None:
        raise malformed_xml()
    enabled = status.get("LoggingEnabled") if isinstance(status, dict) else None
    if enabled is None:
        return None
    if not isinstance(enabled, dict) or not enabled.get("TargetBucket") or \
            enabled.get("TargetPrefix") is None:
        raise malformed_xml()
    target_name = str(enabled["TargetBucket"])
    target = tx.get(NS, BUCKET, target_name)
    if target is None:
        raise _logging_error("The target bucket for logging does not exist", target_name)
    if target["Owner"] != bucket["Owner"]:
        raise _logging_error("The owner for the bucket to be logged and the target bucket "
                             "must be the same.", target_name)
    if enabled.get("TargetGrants") and target.get("ObjectOwnership") == ENFORCED:
        # ACLs are disabled on the target: log delivery is granted by its bucket policy only.
        raise ServiceError("AccessControlListNotSupported",
                           "Target grants not allowed for bucket owner enforced buckets", 400)
    return dict(enabled)


# -- event notifications -----------------------------------------------------------------------

_DESTINATIONS: Final = (
    ("TopicConfigurations", "TopicArn", "topic"),
    ("QueueConfigurations", "QueueArn", "queue"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "function"),
)


def _notification_id() -> str:
    """An id for a configuration given none (S3 makes a base64 text of a random UUID)."""
    return base64.b64encode(str(uuid.uuid4()).encode()).decode().rstrip("=")


def notification_config(config: Any, skip_validation: bool) -> dict[str, Any]:
    """A ``NotificationConfiguration`` as stored.  S3 checks that each topic, queue or function
    exists and lets S3 publish to it; trailgate has no SNS, SQS or Lambda, so such a
    destination can only be kept with ``SkipDestinationValidation`` (as S3 then keeps it)."""
    if not isinstance(config, dict):
        raise malformed_xml()
    stored: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for member, arn_key, kind in _DESTINATIONS:
        entries = config.get(member) or []
        if not entries:
            continue
        kept = []
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get(arn_key) or not entry.get("Events"):
                raise malformed_xml()
            kept.append({"Id": entry.get("Id") or _notification_id(), **entry})
            # UNSURE: S3's ArgumentValue text for a destination that does not exist
            failed[str(entry[arn_key])] = f"The destination {kind} does not exist"
        stored[member] = kept
    if failed and not skip_validation:
        extra: dict[str, str] = {}
        for n, (arn, why) in enumerate(failed.items(), 1):
            extra[f"ArgumentName{n}"] = arn
            extra[f"ArgumentValue{n}"] = why
        raise ServiceError("InvalidArgument",
                           "Unable to validate the following destination configurations", 400,
                           extra)
    if config.get("EventBridgeConfiguration") is not None:
        stored["EventBridgeConfiguration"] = {}
    return stored


# -- the operations ------------------------------------------------------------------------------


def _store(tx: Tx, bucket: dict[str, Any], member: str, value: Any) -> None:
    if value is None:
        bucket.pop(member, None)
    else:
        bucket[member] = value
    tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)


class BucketSettingsOps:
    def PutBucketWebsite(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        _store(tx, bucket, "Website", website_config(call.params.get("WebsiteConfiguration")))
        return {}

    def GetBucketWebsite(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        website = bucket.get("Website")
        if not website:
            raise _no_website(bucket)
        return dict(website)

    def DeleteBucketWebsite(self, call: Call, tx: Tx) -> dict[str, Any]:
        _store(tx, load_bucket(tx, call.params), "Website", None)
        return {"__status": 204}

    def PutBucketLogging(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        enabled = logging_config(tx, bucket, call.params.get("BucketLoggingStatus"))
        _store(tx, bucket, "Logging", enabled)
        return {}

    def GetBucketLogging(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        enabled = bucket.get("Logging")
        return {"LoggingEnabled": enabled} if enabled else {}  # empty: logging is off

    def PutBucketNotificationConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        stored = notification_config(call.params.get("NotificationConfiguration"),
                                     bool(call.params.get("SkipDestinationValidation")))
        _store(tx, bucket, "Notification", stored or None)
        return {}

    def GetBucketNotificationConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        return dict(bucket.get("Notification") or {})

    def PutBucketAccelerateConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        config = call.params.get("AccelerateConfiguration")
        status = config.get("Status") if isinstance(config, dict) else None
        if status not in ("Enabled", "Suspended"):
            raise malformed_xml()
        if "." in bucket["Name"]:
            raise invalid_request("S3 Transfer Acceleration is not supported for buckets with "
                                  "periods (.) in their names")
        _store(tx, bucket, "Accelerate", status)
        return {}

    def GetBucketAccelerateConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        status = bucket.get("Accelerate")
        return {"Status": status} if status else {}  # never set: an empty document

    def PutBucketRequestPayment(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        config = call.params.get("RequestPaymentConfiguration")
        payer = config.get("Payer") if isinstance(config, dict) else None
        if payer not in ("Requester", "BucketOwner"):
            raise malformed_xml()
        _store(tx, bucket, "Payer", None if payer == "BucketOwner" else payer)
        return {}

    def GetBucketRequestPayment(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        return {"Payer": bucket.get("Payer") or "BucketOwner"}
