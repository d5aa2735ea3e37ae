"""AWS JSON 1.1 protocol (CloudTrail, Organizations): JSON in, JSON out.

Request bodies are JSON objects of the input members (empty body = ``{}``); ``null`` members
count as absent, unknown members are ignored.  Timestamps arrive as epoch seconds (botocore
sends integers; floats and ISO-8601 strings are accepted too) and become aware UTC datetimes;
blobs are base64.  A body that is not JSON, or a value of the wrong JSON type, gives
``SerializationException`` (400) with the messages AWS's Coral framework uses (``NUMBER_VALUE
cannot be converted to String``...); invalid JSON gives the bare exception, as AWS does.
Constraint failures give ``ValidationException`` (400) with the same wording as the query
protocol, except where the service has its own exception (CloudTrail: :mod:`.cloudtrail_input`;
Organizations: ``InvalidInputException``).

Responses: members in model order, timestamps as epoch seconds (millisecond precision), blobs
base64; content type ``application/x-amz-json-1.1`` and ``x-amzn-RequestId``.  Errors are
``{"__type": code, "Message": text}`` — botocore reads the code from ``__type`` (after any
``#``) and the text from ``message`` or ``Message``.  Framework errors carry AWS's qualified
type (``com.amazon.coral.service#UnknownOperationException``...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import orjson

from . import limits, shapes, specs, values
from .cloudtrail_input import cloudtrail_input_error
from .errors import ServiceError
from .shapes import Node

#: Errors raised by AWS's request framework rather than the service: qualified ``__type`` and
#: the message key that framework uses.
_FRAMEWORK: Final[dict[str, tuple[str, str]]] = {
    "UnknownOperationException": ("com.amazon.coral.service#UnknownOperationException", ""),
    "SerializationException": ("com.amazon.coral.service#SerializationException", "Message"),
    "ValidationException": ("com.amazon.coral.validate#ValidationException", "message"),
    "InternalFailure": ("com.amazon.coral.service#InternalFailure", "message"),
}

_JAVA_TYPES: Final[dict[str, str]] = {
    "string": "String",
    "character": "String",
    "integer": "Integer",
    "long": "Long",
    "float": "Float",
    "double": "Double",
    "boolean": "Boolean",
    "timestamp": "Date",
}


def serialization_error(message: str = "") -> ServiceError:
    return ServiceError("SerializationException", message, 400)


def validation_exception(problems: list[str]) -> ServiceError:
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return ServiceError(
        "ValidationException", f"{count} validation {noun} detected: " + "; ".join(problems), 400
    )


# --------------------------------------------------------------------------- parsing


def parse_json(
    service: str, operation: str, body: bytes, *, validate: bool = True
) -> dict[str, Any]:
    """JSON request body of ``operation`` -> botocore-shaped params, validated (constraints
    are skipped with ``validate=False``; JSON type errors are always reported)."""
    if len(body) > limits.MAX_JSON_BYTES:
        raise limits.too_large(limits.MAX_JSON_BYTES)
    node = shapes.input_plan(service, operation)
    if not body.strip():
        document: Any = {}
    else:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise serialization_error() from None
    if node is None:
        if not isinstance(document, dict):
            raise serialization_error(_mismatch("structure", document, "Unit"))
        return {}
    params = _read_structure(node, document)
    problems = shapes.validate(node, params) if validate else []
    if problems:
        if service == "organizations":
            raise organizations_invalid_input(problems)
        if service == "cloudtrail":
            # CloudTrail's own exceptions for its selectors, lookups and limits.
            own = cloudtrail_input_error(problems, params)
            if own is not None:
                raise own
        raise validation_exception(problems)
    return params


_ORG_REASONS = (
    ("regular expression pattern", "INVALID_PATTERN",
     "You provided a value that does not match the required pattern."),
    ("length less than or equal", "MAX_LENGTH_EXCEEDED",
     "You provided a string parameter that is longer than allowed."),
    ("length greater than or equal", "MIN_LENGTH_EXCEEDED",
     "You provided a string parameter that is shorter than allowed."),
    ("value less than or equal", "MAX_VALUE_EXCEEDED",
     "You provided a numeric parameter that has a larger value than allowed."),
    ("value greater than or equal", "MIN_VALUE_EXCEEDED",
     "You provided a numeric parameter that has a smaller value than allowed."),
    ("must not be null", "INPUT_REQUIRED",
     "You must provide a value for all required parameters."),
)


def organizations_invalid_input(problems: list[str]) -> ServiceError:
    """Organizations reports input constraint failures as ``InvalidInputException`` with a
    ``Reason`` instead of the generic ``ValidationException``.  A value outside an enum is
    ``INVALID_ENUM`` (``INVALID_ENUM_POLICY_TYPE`` for a policy type), as the model's
    InvalidInputExceptionReason lists them."""
    first = problems[0]
    if "enum value set" in first:
        if "SERVICE_CONTROL_POLICY" in first:  # PolicyType / EffectivePolicyType
            # UNSURE: the message wording (the code and reason are AWS's)
            return ServiceError("InvalidInputException", "The policy type given is not one "
                                "that Organizations knows.", 400,
                                {"Reason": "INVALID_ENUM_POLICY_TYPE"})
        return ServiceError("InvalidInputException", "The value given is not one of those the "
                            "parameter accepts.", 400, {"Reason": "INVALID_ENUM"})
    for needle, reason, message in _ORG_REASONS:
        if needle in first:
            return ServiceError("InvalidInputException", message, 400, {"Reason": reason})
    return ServiceError(
        "InvalidInputException",
        "The requested operation failed because you provided invalid values for one or more of "
        "the request parameters.",
        400,
        {"Reason": "INVALID_INPUT"},
    )


def _token(value: Any) -> str:
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    if isinstance(value, float):
        return "DECIMAL_VALUE"
    return "STRING_VALUE"


def _mismatch(kind: str, value: Any, shape_name: str) -> str:
    """Coral's wording for a JSON value of the wrong type."""
    if isinstance(value, dict):
        return "Start of structure or map found where not expected"
    if isinstance(value, list):
        java = _JAVA_TYPES.get(kind)
        return f"Unrecognized collection type class {'java.lang.' + java if java else shape_name}"
    if kind in ("structure", "list", "map"):
        return "Unexpected field type"
    if kind == "blob":
        return "only base-64-encoded strings are convertible to bytes"
    return f"{_token(value)} cannot be converted to {_JAVA_TYPES.get(kind, shape_name)}"


def _read_structure(node: Node, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise serialization_error(_mismatch("structure", raw, node.name))
    if node.document:
        return raw
    out: dict[str, Any] = {}
    by_wire = node.by_wire
    for wire, sub in raw.items():
        member = by_wire.get(wire)
        if member is None or sub is None:
            continue
        out[member.name] = _read(member.node, sub)
    return out


def _read(node: Node, raw: Any) -> Any:
    kind = node.kind
    if kind == "string":
        if isinstance(raw, str):
            return raw
    elif kind == "structure":
        return _read_structure(node, raw)
    elif kind == "list":
        if isinstance(raw, list):
            assert node.item is not None
            item = node.item
            return [None if element is None else _read(item, element) for element in raw]
    elif kind == "map":
        if isinstance(raw, dict):
            assert node.value is not None
            value_node = node.value
            return {k: None if v is None else _read(value_node, v) for k, v in raw.items()}
        if isinstance(raw, list):
            raise serialization_error(f"Unrecognized collection type class {node.name}")
    elif kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            raise serialization_error("Unexpected token received from parser")
    elif kind in ("integer", "long"):
        if isinstance(raw, int) and not isinstance(raw, bool):
            lo, hi = values.INT32 if kind == "integer" else values.INT64
            if lo <= raw <= hi:
                return raw
    elif kind in ("float", "double"):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
    elif kind == "timestamp":
        parsed = values.parse_timestamp(raw)
        if parsed is not None:
            return parsed
    elif kind == "blob":
        return _read_blob(raw)
    else:
        return raw
    raise serialization_error(_mismatch(kind, raw, node.name))


def _read_blob(raw: Any) -> bytes:
    if not isinstance(raw, str):
        raise serialization_error(_mismatch("blob", raw, "blob"))
    if len(raw) % 4:
        raise serialization_error(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(raw)}"
        )
    decoded = values.b64decode(raw)
    if decoded is None:
        raise serialization_error("Invalid Base64 character")
    return decoded


# --------------------------------------------------------------------------- serialising


def serialize_json(service: str, operation: str, result: Mapping[str, Any] | None) -> bytes:
    """The JSON success body of ``operation`` for ``result`` (botocore-shaped output dict)."""
    node = shapes.output_plan(service, operation)
    document = _write_structure(node, result or {}) if node is not None else {}
    return dumps(document)


def serialize_json_error(err: ServiceError) -> bytes:
    type_name, key = _FRAMEWORK.get(err.code, (err.code, "Message"))
    document: dict[str, Any] = {"__type": type_name}
    if key and (err.message or key == "Message"):
        document[key] = err.message
    for name, value in err.extra.items():  # modeled error members, e.g. Organizations' Reason
        document.setdefault(name, value)
    return dumps(document)


def json_headers(service: str, request_id: str) -> dict[str, str]:
    return {"content-type": specs.json_content_type(service), "x-amzn-RequestId": request_id}


def dumps(document: Any) -> bytes:
    """Compact JSON; strings with lone surrogates fall back to ``\\u`` escapes (still JSON)."""
    try:
        return orjson.dumps(document)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(document, separators=(",", ":"), default=str).encode("ascii")


def _write_structure(node: Node, value: Mapping[str, Any]) -> dict[str, Any]:
    if node.document:
        return dict(value)
    out: dict[str, Any] = {}
    if not isinstance(value, Mapping):
        return out
    for member in node.members:
        v = value.get(member.name)
        if v is not None:
            out[member.wire] = _write(member.node, v)
    return out


def _write(node: Node, value: Any) -> Any:
    kind = node.kind
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind == "structure":
        return _write_structure(node, value)
    if kind == "list":
        assert node.item is not None
        item = node.item
        return [None if v is None else _write(item, v) for v in value]
    if kind == "map":
        assert node.value is not None
        value_node = node.value
        return {str(k): None if v is None else _write(value_node, v) for k, v in value.items()}
    if kind == "timestamp":
        return values.epoch(value)
    if kind == "boolean":
        return value is True or value == "true"
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "blob":
        return values.b64encode(value)
    return value
