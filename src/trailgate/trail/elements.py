"""``requestParameters`` and ``responseElements`` of a CloudTrail record (spec 7.8).

IAM, STS, CloudTrail and Organizations values are walked along botocore's shapes, with
lower-camel member names; S3 logs wire names (query strings, x-amz-* headers, the XML payload's
element names).  Secrets never get in: members of ``sensitive`` shapes are dropped or, where AWS
masks rather than drops (Organizations), replaced by :data:`HIDDEN`; one-time MFA codes and
object bytes are dropped too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

import orjson
from botocore.model import OperationModel, Shape  # type: ignore[import-untyped]

from ..protocol import shapes, specs
from ..protocol.shapes import Node
from .callinfo import CallInfo
from .event_fields import aws_date

Record = dict[str, Any]

HIDDEN: Final = "HIDDEN_DUE_TO_SECURITY_REASONS"

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

S3_SECRET_HEADERS: Final = frozenset(
    {"x-amz-server-side-encryption-customer-key",
     "x-amz-copy-source-server-side-encryption-customer-key", "x-amz-mfa"}
)
S3_DROPPED_HEADER_PREFIXES: Final = ("x-amz-checksum", "x-amz-sdk-checksum")

_DROP: Final = object()  # marker: leave the member out


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
    extra = call.result.get("__trail_request") if isinstance(call.result, dict) else None
    if isinstance(extra, dict):  # what a provider adds, e.g. AssumeRoleWithSAML's assertion id
        out = {**extra, **out}
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
                out[shapes.lower_camel(key)] = _plain(item, service)
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
        return aws_date(value, service)
    if response and node.policy_document and isinstance(value, str):
        return quote(value, safe="")  # IAM returns policy documents URL-encoded
    return _plain(value, service)


def _plain(value: Any, service: str = "") -> Any:
    """A JSON value for data without a model: dates formatted, bytes dropped."""
    if isinstance(value, datetime):
        return aws_date(value, service)
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v, service) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, service) for v in value]
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
