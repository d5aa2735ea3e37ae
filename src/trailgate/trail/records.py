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

The helpers at the end (:func:`is_data_event`, :func:`record_region`,
:func:`is_global_service_event`) let the delivery worker filter stored records per trail.
"""

from __future__ import annotations

import itertools
import math
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, unquote

import orjson
from botocore.model import OperationModel, Shape  # type: ignore[import-untyped]

from .. import clock
from ..gateway.context import Principal
from ..protocol import shapes, specs
from ..protocol.shapes import Node
from ..services.s3_actions import S3_ACTIONS
from .callinfo import CallInfo

__all__ = [
    "EVENT_VERSION",
    "HIDDEN",
    "aws_date",
    "build_records",
    "event_name",
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
HIDDEN: Final = "HIDDEN_DUE_TO_SECURITY_REASONS"
GLOBAL_REGION: Final = "us-east-1"
GLOBAL_SERVICES: Final = frozenset({"iam", "sts", "organizations"})
MAX_TEXT_BYTES: Final = 1024
DEFAULT_TLS_VERSION: Final = "TLSv1.3"
DEFAULT_CIPHER_SUITE: Final = "TLS_AES_128_GCM_SHA256"

READ_PREFIXES: Final = ("Get", "List", "Describe", "Head", "Lookup", "Simulate", "Search")
# STS calls that hand out credentials: read-only, yet their response is logged (minus secrets).
CREDENTIAL_CALLS: Final = frozenset(
    {"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot",
     "GetSessionToken", "GetFederationToken"}
)
# Never logged, whatever the model says: one-time codes and raw secrets.
DROPPED_MEMBERS: Final = frozenset(
    {"TokenCode", "AuthenticationCode1", "AuthenticationCode2", "Password", "NewPassword",
     "OldPassword", "SecretAccessKey", "PrivateKey", "Body"}
)
# Services whose sensitive values AWS masks instead of dropping.
MASKING_SERVICES: Final = frozenset({"organizations"})

# S3 bucket-level calls logged as data events (object-level calls are known from S3_ACTIONS).
S3_DATA_BUCKET_CALLS: Final = frozenset(
    {"ListObjects", "ListObjectsV2", "ListObjectVersions", "HeadBucket"}
)
# botocore operation -> CloudTrail eventName, where S3 logs a different name.
S3_EVENT_NAMES: Final = {
    "ListObjectsV2": "ListObjects",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "DeleteBucketPublicAccessBlock",
    "GetBucketLifecycleConfiguration": "GetBucketLifecycle",
    "PutBucketLifecycleConfiguration": "PutBucketLifecycle",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
}
S3_SECRET_HEADERS: Final = frozenset(
    {"x-amz-server-side-encryption-customer-key",
     "x-amz-copy-source-server-side-encryption-customer-key", "x-amz-mfa"}
)
S3_DROPPED_HEADER_PREFIXES: Final = ("x-amz-checksum", "x-amz-sdk-checksum")

_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                  "Dec")
_DROP: Final = object()  # marker: leave the member out


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


_OPERATIONS: dict[tuple[str, str], tuple[str, str, bool, bool]] = {}


def _operation(service: str, operation: str) -> tuple[str, str, bool, bool]:
    """(eventSource, eventName, readOnly, data event) of an operation (a bounded set)."""
    found = _OPERATIONS.get((service, operation))
    if found is None:
        found = _OPERATIONS[(service, operation)] = (
            f"{service}.amazonaws.com", event_name(service, operation),
            is_read_only(service, operation), is_data_call(service, operation),
        )
    return found


operation_facts = _operation


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
        "userAgent": invoked_by or _clip(call.user_agent),
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


_ids = itertools.count(random.SystemRandom().getrandbits(20))
_SALT: Final = random.SystemRandom().getrandbits(62)  # this process's


def new_event_id() -> str:
    """An eventID: a version-4 UUID, like AWS's, whose first 48 bits are the time in
    milliseconds, then a counter and 62 bits of this process's random salt XORed with it, so
    that IDs recorded close in time sort close together (the events table's eventID index grows
    at its end instead of at a random page per event) and never repeat."""
    n = next(_ids)
    bits = _SALT ^ (n & 0x3FFFFFFFFFFFFFFF)
    h = "%032x" % (
        (time.time_ns() // 1_000_000 & 0xFFFFFFFFFFFF) << 80 | 0x4 << 76 | (n & 0xFFF) << 64
        | 0x2 << 62 | bits
    )
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def event_name(service: str, operation: str) -> str:
    """CloudTrail's ``eventName`` of a botocore operation (S3 renames a few)."""
    if service == "s3":
        return S3_EVENT_NAMES.get(operation, operation)
    return operation


def is_read_only(service: str, operation: str) -> bool:
    """``readOnly``: every STS call (AssumeRole included) and Get/List/Describe-type calls."""
    return service == "sts" or operation.startswith(READ_PREFIXES)


def is_data_call(service: str, operation: str) -> bool:
    """S3 object-level calls (and the listings AWS logs with them) are data events."""
    if service != "s3":
        return False
    if operation in S3_DATA_BUCKET_CALLS:
        return True
    found = S3_ACTIONS.get(operation)
    return found is not None and found[1] == "object"


def _region(call: CallInfo) -> str:
    if call.service in GLOBAL_SERVICES:
        return GLOBAL_REGION
    return call.region or GLOBAL_REGION


_last_iso: tuple[datetime, str] = (datetime.min.replace(tzinfo=UTC), "")


def _iso(dt: datetime) -> str:
    """``2026-11-28T19:00:00Z`` (most calls fall in the same second as the one before)."""
    global _last_iso
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    second = dt.replace(microsecond=0)
    last = _last_iso
    if last[0] == second:
        return last[1]
    text = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
        f"T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}Z"
    )
    _last_iso = (second, text)
    return text


_last_now: tuple[int, str] = (-1, "")


def event_time_now() -> str:
    """``eventTime`` of a record made now: ``_iso(clock.now())``, from the epoch seconds."""
    global _last_now
    second = math.floor(clock.epoch())
    last = _last_now
    if last[0] == second:
        return last[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    _last_now = (second, text)
    return text


def aws_date(dt: datetime) -> str:
    """Dates inside request/response elements: ``Nov 28, 2026, 1:00:00 PM`` (UTC)."""
    dt = dt.astimezone(UTC)
    hour = dt.hour % 12 or 12
    half = "AM" if dt.hour < 12 else "PM"
    return f"{_MONTHS[dt.month - 1]} {dt.day}, {dt.year}, {hour}:{dt:%M:%S} {half}"


def _clip(text: str) -> str:
    """At most 1 KB of UTF-8, never cutting a character in half."""
    if len(text) <= MAX_TEXT_BYTES // 4:  # 4 bytes per character at most
        return text
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_TEXT_BYTES:
        return text
    return raw[:MAX_TEXT_BYTES].decode("utf-8", "ignore")


# -- userIdentity ------------------------------------------------------------------------------


def _cached_identity(p: Principal) -> Record:
    """:func:`user_identity`, kept on the principal (principals are never changed once made,
    and authenticated long-term keys reuse theirs); records share it, nobody changes it."""
    found: Record | None = p.__dict__.get("_ct_identity")
    if found is None:
        found = user_identity(p)
        p.__dict__["_ct_identity"] = found
    return found


def identity_json(p: Principal) -> bytes:
    """The caller's ``userIdentity`` as JSON, kept on the principal like the block itself."""
    found: bytes | None = p.__dict__.get("_ct_identity_json")
    if found is None:
        found = orjson.dumps(_cached_identity(p))
        p.__dict__["_ct_identity_json"] = found
    return found


def user_identity(p: Principal) -> Record:
    """The caller's ``userIdentity`` block (spec 7.8)."""
    if p.kind == "service":
        name = p.arn if p.arn.endswith(".amazonaws.com") else (p.user_id or p.arn)
        return {"type": "AWSService", "invokedBy": name}
    if p.kind == "anonymous":
        return {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    if p.kind == "assumed_role":
        return _assumed_role_identity(p)
    kind = {"root": "Root", "user": "IAMUser", "federated_user": "FederatedUser"}
    identity: Record = {
        "type": kind.get(p.kind, "Unknown"),
        "principalId": p.user_id,
        "arn": p.arn,
        "accountId": p.account,
    }
    if p.access_key_id:
        identity["accessKeyId"] = p.access_key_id
    if p.kind == "user":
        identity["userName"] = p.arn.rsplit("/", 1)[-1]
    if p.via_session_token or p.kind == "federated_user":
        identity["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": _session_attributes(p),
        }
    return identity


def _assumed_role_identity(p: Principal) -> Record:
    role_arn = p.role_arn or ""
    context: Record = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": p.unique_id or p.user_id.split(":", 1)[0],
            "arn": role_arn,
            "accountId": p.account,
            "userName": role_arn.rsplit("/", 1)[-1],
        },
        "webIdFederationData": {},
        "attributes": _session_attributes(p),
    }
    if p.source_identity:
        context["sourceIdentity"] = p.source_identity
    identity: Record = {
        "type": "AssumedRole",
        "principalId": p.user_id,
        "arn": p.arn,
        "accountId": p.account,
    }
    if p.access_key_id:
        identity["accessKeyId"] = p.access_key_id
    identity["sessionContext"] = context
    return identity


def _session_attributes(p: Principal) -> dict[str, str]:
    issued = p.session_issued
    return {
        "creationDate": _iso(issued) if issued is not None else "",
        "mfaAuthenticated": "true" if p.mfa_authenticated else "false",
    }


# -- requestParameters / responseElements (IAM, STS, CloudTrail, Organizations) -----------------


def request_parameters(call: CallInfo) -> Record | None:
    """camelCased request parameters without secrets; ``None`` when there are none."""
    if call.service == "s3":
        return _s3_request_parameters(call)
    if not call.params:
        return None
    try:
        node = shapes.input_plan(call.service, call.operation)
    except KeyError:
        node = None
    out = _walk_structure(call.service, node, call.params, response=False)
    return out or None


def response_elements(call: CallInfo, read_only: bool) -> Record | None:
    """The camelCased result of a write (or credential-issuing) call; ``None`` for reads."""
    if call.result is None:
        return None
    if read_only and not (call.service == "sts" and call.operation in CREDENTIAL_CALLS):
        return None
    if call.service == "s3":
        return _s3_response_elements(call)
    try:
        node = shapes.output_plan(call.service, call.operation)
    except KeyError:
        node = None
    out = _walk_structure(call.service, node, call.result, response=True)
    return out or None


def _walk_structure(service: str, node: Node | None, value: Any, *, response: bool) -> Record:
    """A structure with lower-camel member names, secrets dropped or masked."""
    if not isinstance(value, dict):
        return {}
    out: Record = {}
    if node is None or node.kind != "structure" or node.document:
        for key, item in value.items():  # no model to follow: names only, no nesting rules
            if key not in DROPPED_MEMBERS and not key.startswith("__"):
                out[shapes.lower_camel(key)] = _plain(item)
        return out
    for member in node.members:
        name = member.name
        item = value.get(name)
        if item is None or name in DROPPED_MEMBERS:
            continue
        converted = _walk(service, member.node, item, response)
        if converted is not _DROP:
            camel = _CAMEL.get(name)
            if camel is None:
                camel = _CAMEL[name] = shapes.lower_camel(name)
            out[camel] = converted
    return out


_CAMEL: dict[str, str] = {}  # member name -> lowerCamel (model names: a bounded set)
_SCALAR_KINDS = frozenset(("string", "integer", "long", "boolean", "float", "double"))


def _walk(service: str, node: Node, value: Any, response: bool) -> Any:
    if node.sensitive:
        return HIDDEN if service in MASKING_SERVICES else _DROP
    kind = node.kind
    if kind in _SCALAR_KINDS and type(value) in (str, int, bool) and not (
        response and node.policy_document
    ):
        return value
    if kind == "structure":
        return _walk_structure(service, node, value, response=response)
    if kind == "list" and isinstance(value, list | tuple) and node.item is not None:
        item_node = node.item
        items = [_walk(service, item_node, v, response) for v in value if v is not None]
        return [v for v in items if v is not _DROP]
    if kind == "map" and isinstance(value, dict) and node.value is not None:
        value_node = node.value
        pairs = {
            str(k): _walk(service, value_node, v, response)
            for k, v in value.items()
            if v is not None
        }
        return {k: v for k, v in pairs.items() if v is not _DROP}
    if kind == "blob":
        return _DROP
    if kind == "timestamp" and isinstance(value, datetime):
        return aws_date(value)
    if response and node.policy_document and isinstance(value, str):
        return quote(value, safe="")  # IAM returns policy documents URL-encoded
    return _plain(value)


def _plain(value: Any) -> Any:
    """A JSON value for data without a model: dates formatted, bytes dropped."""
    if isinstance(value, datetime):
        return aws_date(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# -- S3 ----------------------------------------------------------------------------------------


def _s3_operation(operation: str) -> OperationModel | None:
    try:
        return specs.operation_model("s3", operation)
    except KeyError:
        return None


def _s3_request_parameters(call: CallInfo) -> Record:
    """S3 logs wire names: ``bucketName``, ``Host``, ``key``, query-string names, the
    subresource (``acl``: "") and x-amz-* headers; the XML payload keeps its element names."""
    params = call.params
    out: Record = {}
    if params.get("Bucket") is not None:
        out["bucketName"] = params["Bucket"]
    out["Host"] = call.host
    if params.get("Key") is not None:
        out["key"] = params["Key"]
    op = _s3_operation(call.operation)
    if op is None:
        return out
    for sub, marker in _subresources(op):
        out.setdefault(sub, marker)
    shape: Shape | None = op.input_shape
    members: dict[str, Shape] = dict(shape.members) if shape is not None else {}
    for name, member in members.items():
        value = params.get(name)
        if value is None or name in ("Bucket", "Key") or name in DROPPED_MEMBERS:
            continue
        ser = member.serialization
        location = ser.get("location")
        wire = ser.get("name", name)
        if location == "querystring":
            out[wire] = _text(value)
        elif location == "header":
            if _logged_header(wire):
                out[wire] = _text(value)
        elif location is None and member.type_name != "blob" and not ser.get("eventpayload"):
            _s3_payload(out, call.operation, name, wire, value)
    return out


def _subresources(op: OperationModel) -> list[tuple[str, str]]:
    uri: str = op.http.get("requestUri", "")
    if "?" not in uri:
        return []
    found = []
    for part in uri.split("?", 1)[1].split("&"):
        name, _, value = part.partition("=")
        if name and name != "x-id":
            found.append((name, value))
    return found


def _logged_header(wire: str) -> bool:
    lower = wire.lower()
    return (
        lower.startswith("x-amz-")
        and lower not in S3_SECRET_HEADERS
        and not lower.startswith(S3_DROPPED_HEADER_PREFIXES)
    )


def _s3_payload(out: Record, operation: str, name: str, wire: str, value: Any) -> None:
    if operation == "DeleteObjects":
        return  # AWS does not log the keys a DeleteObjects removes
    if name == "Policy" and isinstance(value, str):
        try:
            out["bucketPolicy"] = orjson.loads(value)
        except orjson.JSONDecodeError:
            out["bucketPolicy"] = value
        return
    out[wire] = _plain(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return aws_date(value)
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def _s3_response_elements(call: CallInfo) -> Record | None:
    """S3 writes log their x-amz-* response headers (encryption, version id), if any."""
    op = _s3_operation(call.operation)
    result = call.result or {}
    shape: Shape | None = None if op is None else op.output_shape
    if shape is None:
        return None
    out: Record = {}
    for name, member in shape.members.items():
        ser = member.serialization
        wire = ser.get("name", name)
        value = result.get(name)
        if value is not None and ser.get("location") == "header" and _logged_header(wire):
            out[wire] = _text(value)
    return out or None


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
    if call.service == "s3":
        return _s3_resources(call)
    return []


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
    only when it is in us-east-1 with IncludeGlobalServiceEvents (spec 7.2)."""
    source = record.get("eventSource", "")
    return isinstance(source, str) and source.split(".", 1)[0] in GLOBAL_SERVICES
