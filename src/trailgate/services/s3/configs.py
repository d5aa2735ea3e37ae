"""Bucket configurations: CORS and lifecycle rules are kept (validated as S3 validates them,
returned as stored; trailgate serves no browser CORS preflight and expires or transitions no
object: the rules are configuration only), default encryption is SSE-S3 (settable with its
BucketKeyEnabled, never SSE-KMS), and a bucket never has a replication configuration (the read
answers S3's "not found"; setting one stays ``NotImplemented``).  Website, logging,
notifications, Transfer Acceleration and requester-pays: :mod:`.bucket_settings`; Object
Lock: :mod:`.lock_ops`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import (
    BUCKET,
    NS,
    SSE_S3,
    invalid_argument,
    invalid_request,
    load_bucket,
    malformed_xml,
)

# operation -> (error code, message) S3 answers when the bucket has no such configuration
_MISSING: Final[dict[str, tuple[str, str]]] = {
    "GetBucketCors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    "GetBucketLifecycleConfiguration": (
        "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "GetBucketReplication": (
        "ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
}


def _missing(call: Call, tx: Tx, operation: str) -> dict[str, Any]:
    bucket = load_bucket(tx, call.params)
    return _not_found(bucket, operation)


def _not_found(bucket: dict[str, Any], operation: str) -> dict[str, Any]:
    code, message = _MISSING[operation]
    raise ServiceError(code, message, 404, {"BucketName": bucket["Name"]})


def _plain(value: Any) -> Any:
    """The parsed document as the store keeps it (timestamps as ISO text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _save(tx: Tx, bucket: dict[str, Any], member: str, value: Any) -> dict[str, Any]:
    if value is None:
        bucket.pop(member, None)
    else:
        bucket[member] = value
    tx.put(NS, BUCKET, bucket["Name"], bucket["Name"], bucket)
    return {"__status": 204} if value is None else {}


# -- CORS -----------------------------------------------------------------------------------------

MAX_CORS_RULES: Final = 100
CORS_METHODS: Final = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})


def cors_rules(config: Any) -> list[dict[str, Any]]:
    rules = (config or {}).get("CORSRules") if isinstance(config, dict) else None
    if not rules or not isinstance(rules, list):
        raise malformed_xml()
    if len(rules) > MAX_CORS_RULES:
        raise invalid_request("The number of CORS rules should not exceed allowed limit of 100 "
                              "rules.")
    for rule in rules:
        if not rule.get("AllowedMethods") or not rule.get("AllowedOrigins"):
            raise malformed_xml()
        for method in rule["AllowedMethods"]:
            if method not in CORS_METHODS:
                raise invalid_request("Found unsupported HTTP method in CORS config. "
                                      f"Unsupported method is {method}")
    return [_plain(rule) for rule in rules]


# -- lifecycle ----------------------------------------------------------------------------------

MAX_LIFECYCLE_RULES: Final = 1000
_ACTIONS: Final = ("Expiration", "Transitions", "NoncurrentVersionExpiration",
                   "NoncurrentVersionTransitions", "AbortIncompleteMultipartUpload")
_MIN_SIZE: Final = "all_storage_classes_128K"  # S3's default since September 2024
_MIN_TRANSITION_DAYS: Final = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


_FILTER_MEMBERS: Final = ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And")


def _check_filter(rule_filter: Any) -> None:
    """A ``Filter`` holds at most one of its members (an empty one matches every object); an
    ``And`` combines two predicates or more.  S3 refuses anything else as MalformedXML."""
    if rule_filter is None or rule_filter == "":
        return  # <Filter/>: every object
    if not isinstance(rule_filter, dict):
        raise malformed_xml()
    present = [m for m in _FILTER_MEMBERS if rule_filter.get(m) is not None]
    if len(present) > 1:
        raise malformed_xml()
    both = rule_filter.get("And")
    if both is None:
        return
    if not isinstance(both, dict):
        raise malformed_xml()
    predicates = len(both.get("Tags") or []) + sum(
        both.get(m) is not None for m in ("Prefix", "ObjectSizeGreaterThan", "ObjectSizeLessThan"))
    if predicates < 2:
        raise malformed_xml()


def _at_midnight(value: Any) -> bool:
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise malformed_xml() from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return (when.hour, when.minute, when.second, when.microsecond) == (0, 0, 0, 0)


def _has_tags(rule_filter: Any) -> bool:
    if not isinstance(rule_filter, dict):
        return False
    return bool(rule_filter.get("Tag") or (rule_filter.get("And") or {}).get("Tags"))


def _check_actions(rule: dict[str, Any]) -> None:
    """The checks S3 makes of the actions themselves (UNSURE: whether S3 adds ArgumentName /
    ArgumentValue to these two InvalidArgument answers)."""
    date = (rule.get("Expiration") or {}).get("Date")
    if date is not None and not _at_midnight(date):
        raise ServiceError("InvalidArgument", "'Date' must be at midnight GMT", 400)
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is not None and int(noncurrent.get("NoncurrentDays") or 0) <= 0:
        raise ServiceError("InvalidArgument", "'NoncurrentDays' for NoncurrentVersionExpiration "
                           "action must be a positive integer", 400)
    if rule.get("AbortIncompleteMultipartUpload") and _has_tags(rule.get("Filter")):
        raise invalid_request("AbortIncompleteMultipartUpload cannot be specified with Tags.")


def _check_rule(rule: dict[str, Any], ids: set[str]) -> None:
    if rule.get("Status") not in ("Enabled", "Disabled"):
        raise malformed_xml()
    if "Filter" not in rule and "Prefix" not in rule:
        raise malformed_xml()
    if "Filter" in rule:
        _check_filter(rule["Filter"])
    rule_id = str(rule.get("ID") or "")
    if len(rule_id) > 255:
        raise invalid_argument("ID length should not exceed allowed limit of 255", "ID", rule_id)
    if rule_id and rule_id in ids:
        raise invalid_argument("Rule ID must be unique. Found same ID for more than one rule",
                               "ID", rule_id)
    ids.add(rule_id)
    if not any(rule.get(action) for action in _ACTIONS):
        raise invalid_request("At least one action needs to be specified in a rule")
    days = (rule.get("Expiration") or {}).get("Days")
    if days is not None and int(days) <= 0:
        raise invalid_argument("'Days' for Expiration action must be a positive integer",
                               "Days", days)
    _check_actions(rule)
    for transition in rule.get("Transitions") or []:
        klass = str(transition.get("StorageClass") or "")
        least = _MIN_TRANSITION_DAYS.get(klass, 0)
        if transition.get("Days") is not None and int(transition["Days"]) < least:
            raise invalid_argument(f"'Days' in Transition action for StorageClass {klass} must "
                                   f"be greater than or equal to {least}", "Days",
                                   transition["Days"])


def lifecycle_rules(config: Any) -> list[dict[str, Any]]:
    rules = (config or {}).get("Rules") if isinstance(config, dict) else None
    if not rules or not isinstance(rules, list):
        raise malformed_xml()
    if len(rules) > MAX_LIFECYCLE_RULES:
        raise invalid_request("The number of lifecycle rules should not exceed allowed limit "
                              "of 1000 rules")
    ids: set[str] = set()
    for rule in rules:
        _check_rule(rule, ids)
    return [_plain(rule) for rule in rules]


# -- default encryption ---------------------------------------------------------------------

SSE_ALGORITHMS: Final = frozenset({SSE_S3, "aws:kms", "aws:kms:dsse"})


def encryption_rule(config: Any) -> dict[str, Any]:
    """The one rule of a ``ServerSideEncryptionConfiguration``: SSE-S3 is kept (with its
    ``BucketKeyEnabled``); SSE-KMS / DSSE-KMS are ``NotImplemented``, as for objects."""
    rules = (config or {}).get("Rules") if isinstance(config, dict) else None
    if not rules or not isinstance(rules, list) or len(rules) != 1:
        raise malformed_xml()
    default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
    algorithm = default.get("SSEAlgorithm")
    if algorithm not in SSE_ALGORITHMS:
        raise malformed_xml()
    if algorithm != SSE_S3:
        raise ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
        )
    if default.get("KMSMasterKeyID"):
        raise invalid_argument(
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or "
            "aws:kms:dsse",
            "ApplyServerSideEncryptionByDefault",
            "",
        )
    return {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_S3},
        "BucketKeyEnabled": bool(rules[0].get("BucketKeyEnabled", False)),
    }


class ConfigOps:
    def PutBucketEncryption(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        rule = encryption_rule(call.params.get("ServerSideEncryptionConfiguration"))
        _save(tx, bucket, "Encryption", rule)
        return {}

    def GetBucketEncryption(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        rule = bucket.get("Encryption") or {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_S3},
            "BucketKeyEnabled": False,
        }
        return {"ServerSideEncryptionConfiguration": {"Rules": [rule]}}

    def DeleteBucketEncryption(self, call: Call, tx: Tx) -> dict[str, Any]:
        # Every bucket is encrypted: deleting the configuration restores SSE-S3, the default.
        return _save(tx, load_bucket(tx, call.params), "Encryption", None)

    def PutBucketCors(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        return _save(tx, bucket, "Cors", cors_rules(call.params.get("CORSConfiguration")))

    def GetBucketCors(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        if not bucket.get("Cors"):
            return _not_found(bucket, "GetBucketCors")
        return {"CORSRules": bucket["Cors"]}

    def DeleteBucketCors(self, call: Call, tx: Tx) -> dict[str, Any]:
        return _save(tx, load_bucket(tx, call.params), "Cors", None)

    def PutBucketLifecycleConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        rules = lifecycle_rules(call.params.get("LifecycleConfiguration"))
        _save(tx, bucket, "Lifecycle", rules)
        return {"TransitionDefaultMinimumObjectSize": _MIN_SIZE}

    def GetBucketLifecycleConfiguration(self, call: Call, tx: Tx) -> dict[str, Any]:
        bucket = load_bucket(tx, call.params)
        if not bucket.get("Lifecycle"):
            return _not_found(bucket, "GetBucketLifecycleConfiguration")
        return {"Rules": bucket["Lifecycle"], "TransitionDefaultMinimumObjectSize": _MIN_SIZE}

    def DeleteBucketLifecycle(self, call: Call, tx: Tx) -> dict[str, Any]:
        return _save(tx, load_bucket(tx, call.params), "Lifecycle", None)

    def GetBucketReplication(self, call: Call, tx: Tx) -> dict[str, Any]:
        return _missing(call, tx, "GetBucketReplication")
