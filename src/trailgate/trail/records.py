"""One finished call -> its CloudTrail records (spec 7.8), as AWS writes them.

:func:`build_records` returns ``(recipient account, record)`` pairs: usually one, two when the
call crossed accounts (an AssumeRole of another account's role, an S3 call on another account's
bucket).  Both copies then carry the same ``requestID`` and ``sharedEventID`` and their own
``eventID``; the resource owner's copy names the caller only as ``AWSAccount``.

Secrets never reach a record: request and response values are walked along botocore's shapes,
members of ``sensitive`` shapes are dropped (passwords, secret access keys, private keys, MFA
seeds, S3 customer keys) or, where AWS masks rather than drops (Organizations' e-mail addresses
and account names), replaced by ``HIDDEN_DUE_TO_SECURITY_REASONS``; one-time MFA codes and
object bytes are dropped too.

The parts of a record come from :mod:`.identity` (``userIdentity``), :mod:`.elements`
(``requestParameters``, ``responseElements``) and :mod:`.event_fields` (``eventName``,
``eventID``, times); their public names are importable from here too.

The helpers at the end (:func:`is_data_event`, :func:`record_region`,
:func:`is_global_service_event`) let the delivery worker filter stored records per trail.
"""

from __future__ import annotations

import uuid
from typing import Any, Final
from urllib.parse import unquote

from .callinfo import CallInfo
from .elements import CREDENTIAL_CALLS as CREDENTIAL_CALLS
from .elements import HIDDEN, request_parameters, response_elements
from .event_fields import (
    _iso,
    _operation,
    aws_date,
    event_name,
    event_stamp,
    event_stamp_bytes,
    event_time_now,
    is_data_call,
    is_read_only,
    new_event_id,
    operation_facts,
)
from .identity import _cached_identity, identity_json, user_identity

__all__ = [
    "EVENT_VERSION",
    "HIDDEN",
    "aws_date",
    "build_records",
    "event_name",
    "event_stamp",
    "event_stamp_bytes",
    "event_time_now",
    "identity_json",
    "is_data_call",
    "is_data_event",
    "is_global_service_event",
    "is_read_only",
    "new_event_id",
    "operation_facts",
    "record_region",
    "user_identity",
]

Record = dict[str, Any]

EVENT_VERSION: Final = "1.08"
GLOBAL_REGION: Final = "us-east-1"
GLOBAL_SERVICES: Final = frozenset({"iam", "sts", "organizations"})
ALWAYS_GLOBAL_SERVICES: Final = frozenset({"iam", "organizations"})  # STS has regional endpoints
MAX_TEXT_BYTES: Final = 1024
DEFAULT_TLS_VERSION: Final = "TLSv1.3"
DEFAULT_CIPHER_SUITE: Final = "TLS_AES_128_GCM_SHA256"


# -- the record ---------------------------------------------------------------------------------


def build_records(call: CallInfo) -> list[tuple[str, Record]]:
    """The records of ``call``, each with the account that receives it (see module doc)."""
    p = call.principal
    caller = "" if p.kind in ("service", "anonymous") else p.account
    owner = call.resource_account or ""
    identity = _cached_identity(p)
    if caller and owner and owner != caller:
        shared = str(uuid.uuid4())
        owner_identity = {"type": "AWSAccount", "principalId": p.user_id, "accountId": caller}
        return [
            (caller, _record(call, identity, caller, shared)),
            (owner, _record(call, owner_identity, owner, shared)),
        ]
    recipient = caller or owner or p.account
    if not recipient:
        return []  # an anonymous call on nothing that belongs to anyone
    return [(recipient, _record(call, identity, recipient, None))]


def _record(call: CallInfo, identity: Record, recipient: str, shared: str | None) -> Record:
    p = call.principal
    invoked_by = identity.get("invokedBy") if identity.get("type") == "AWSService" else None
    source, name, read_only, data = _operation(call.service, call.operation)
    failed = call.error_code is not None
    record: Record = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": _iso(call.event_time),
        "eventSource": source,
        "eventName": name,
        "awsRegion": _region(call),
        "sourceIPAddress": invoked_by or call.source_ip,
        "userAgent": invoked_by or _user_agent(call),
    }
    if failed:
        record["errorCode"] = call.error_code
        record["errorMessage"] = _clip(call.error_message or "")
    record["requestParameters"] = request_parameters(call)
    record["responseElements"] = None if failed else response_elements(call, read_only)
    if call.service == "s3":
        record["additionalEventData"] = _s3_additional_data(call)
    record["requestID"] = call.request_id
    record["eventID"] = new_event_id()
    record["readOnly"] = read_only
    resources = _resources(call)
    if resources:
        record["resources"] = resources
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = not data
    record["recipientAccountId"] = recipient
    if shared is not None:
        record["sharedEventID"] = shared
    record["eventCategory"] = "Data" if data else "Management"
    if call.tls and p.kind != "service":
        record["tlsDetails"] = {
            "tlsVersion": str(call.extra.get("tlsVersion") or DEFAULT_TLS_VERSION),
            "cipherSuite": str(call.extra.get("cipherSuite") or DEFAULT_CIPHER_SUITE),
            "clientProvidedHostHeader": call.host,
        }
    return record


def _region(call: CallInfo) -> str:
    """IAM and Organizations: us-east-1.  STS: the region of the endpoint called, i.e. its
    signing region (us-east-1 for the global endpoint, ``eu-west-1`` for
    sts.eu-west-1.amazonaws.com), as AWS logs regional STS calls in their own region."""
    if call.service in ALWAYS_GLOBAL_SERVICES:
        return GLOBAL_REGION
    return call.region or GLOBAL_REGION


def _user_agent(call: CallInfo) -> str:
    """The client's User-Agent; S3 writes it in square brackets (``[aws-cli/2.18.5 ...]``,
    ``[]`` when there is none), the brackets inside the 1 KB."""
    if call.service == "s3":
        return f"[{_clip(call.user_agent, MAX_TEXT_BYTES - 2)}]"
    return _clip(call.user_agent)


def _clip(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """At most ``limit`` bytes of UTF-8, never cutting a character in half."""
    if len(text) <= limit // 4:  # 4 bytes per character at most
        return text
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


# -- additionalEventData (S3) -------------------------------------------------------------------


def _s3_additional_data(call: CallInfo) -> Record:
    data: Record = {}
    if call.signature_version:
        version = "SigV2" if call.signature_version == "AWS" else "SigV4"
        data["SignatureVersion"] = version
    if call.tls:
        data["CipherSuite"] = str(call.extra.get("cipherSuite") or DEFAULT_CIPHER_SUITE)
    data["bytesTransferredIn"] = int(call.extra.get("bytesTransferredIn") or 0)
    if call.auth_type:
        method = "QueryString" if call.auth_type == "REST-QUERY-STRING" else "AuthHeader"
        data["AuthenticationMethod"] = method
    if call.extra.get("x-amz-id-2"):
        data["x-amz-id-2"] = str(call.extra["x-amz-id-2"])
    data["bytesTransferredOut"] = int(call.extra.get("bytesTransferredOut") or 0)
    return data


# -- resources ---------------------------------------------------------------------------------


def _resources(call: CallInfo) -> list[Record]:
    if call.service == "sts" and call.operation == "AssumeRole":
        role_arn = call.params.get("RoleArn")
        if not isinstance(role_arn, str) or not role_arn:
            return []
        parts = role_arn.split(":")
        account = parts[4] if len(parts) > 4 else ""
        return [{"ARN": role_arn, "accountId": account, "type": "AWS::IAM::Role"}]
    if call.service == "sts" and call.operation == "AssumeRoleWithSAML":
        return _saml_resources(call.params)
    if call.service == "s3":
        return _s3_resources(call)
    return []


def _saml_resources(params: dict[str, Any]) -> list[Record]:
    """The role and the SAML provider, as AWS lists them for AssumeRoleWithSAML."""
    found: list[Record] = []
    for member, kind in (("RoleArn", "AWS::IAM::Role"), ("PrincipalArn", "AWS::IAM::SAMLProvider")):
        arn = params.get(member)
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) == 6:
            found.append({"ARN": arn, "accountId": parts[4], "type": kind})
    return found


def _s3_resources(call: CallInfo) -> list[Record]:
    params = call.params
    bucket = params.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        return []
    bucket_arn = f"arn:aws:s3:::{bucket}"
    bucket_res: Record = {"type": "AWS::S3::Bucket", "ARN": bucket_arn}
    if call.resource_account:
        bucket_res = {"accountId": call.resource_account, **bucket_res}
    operation = call.operation
    if operation in ("ListObjects", "ListObjectsV2", "ListObjectVersions", "DeleteObjects"):
        prefix = "" if operation == "DeleteObjects" else (params.get("Prefix") or "")
        prefix_res = {"type": "AWS::S3::Object", "ARNPrefix": f"{bucket_arn}/{prefix}"}
        return [prefix_res, bucket_res]
    key = params.get("Key")
    if not is_data_call("s3", operation) or not isinstance(key, str):
        return [bucket_res]
    found: list[Record] = [{"type": "AWS::S3::Object", "ARN": f"{bucket_arn}/{key}"}, bucket_res]
    source = params.get("CopySource")
    if isinstance(source, str) and source:
        path = unquote(source.split("?", 1)[0]).lstrip("/")
        src_bucket = path.split("/", 1)[0]
        found.append({"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{path}"})
        if src_bucket != bucket:
            found.append({"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{src_bucket}"})
    return found


# -- helpers for the delivery worker and the event history ------------------------------------


def is_data_event(record: Record) -> bool:
    """True for data events (S3 object-level calls): never in event history, and delivered
    only by trails whose event selectors ask for them."""
    if "eventCategory" in record:
        return bool(record["eventCategory"] == "Data")
    return record.get("managementEvent") is False


def record_region(record: Record) -> str:
    """The region the record belongs to (``us-east-1`` for IAM, STS and Organizations)."""
    region = record.get("awsRegion")
    return region if isinstance(region, str) and region else GLOBAL_REGION


def is_global_service_event(record: Record) -> bool:
    """IAM / global-endpoint STS / Organizations events: delivered by a single-region trail
    only when it is in us-east-1 with IncludeGlobalServiceEvents (spec 7.2).  An STS call
    to a regional endpoint is a regional event of its region."""
    source = record.get("eventSource", "")
    if not isinstance(source, str):
        return False
    service = source.split(".", 1)[0]
    if service == "sts":
        return record_region(record) == GLOBAL_REGION
    return service in GLOBAL_SERVICES
