"""Shape plans: botocore shapes compiled once into small objects the protocols walk per request.

A :class:`Node` holds everything the wire code needs about one shape — its kind, members in
model order with their wire names and lower-camel validation paths, list/map parts, and its
constraints (length or value range, enum set, compiled pattern).  Plans are built lazily per
(service, shape name) and cached for the process, so no request walks botocore's model objects.

:func:`validate` checks a parsed input value against its plan and returns AWS-worded failures::

    Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular
    expression pattern: [\\w+=,.@-]*

Paths are lower-camel member names joined with ``.``; list elements are ``<list>.<n>.member``
(1-based), map values ``<map>.<key>``.  Values of ``sensitive`` shapes are never echoed
(``Value at 'password' failed ...``).  At most :data:`MAX_FAILURES` failures are reported.
"""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from botocore.model import Shape  # type: ignore[import-untyped]

from . import patterns, specs

MAX_FAILURES: Final = 10
POLICY_DOCUMENT_SHAPE: Final = "policyDocumentType"

NUMBER_KINDS: Final = frozenset({"integer", "long", "float", "double"})
SCALAR_KINDS: Final = frozenset(
    {"string", "boolean", "timestamp", "blob", "character", *NUMBER_KINDS}
)


@dataclass(eq=False, slots=True)
class Member:
    name: str  # botocore parameter name (dict key)
    wire: str  # serialized name (the model's locationName, else the member name)
    path: str  # lower-camel name used in validation messages
    node: Node
    required: bool = False
    flattened: bool = False


@dataclass(eq=False, slots=True)
class Node:
    name: str
    kind: str  # botocore type name
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] = ()
    enum_set: frozenset[str] = frozenset()
    enum_text: str = ""
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    sensitive: bool = False
    policy_document: bool = False  # IAM: URL-encode in responses
    document: bool = False  # smithy document type: free-form JSON
    members: tuple[Member, ...] = ()
    by_name: dict[str, Member] = field(default_factory=dict)
    by_wire: dict[str, Member] = field(default_factory=dict)
    item: Node | None = None
    item_wire: str = "member"
    key: Node | None = None
    value: Node | None = None
    key_wire: str = "key"
    value_wire: str = "value"
    # True when validating a value of this shape can never fail (no constraints anywhere below)
    unconstrained: bool = False


_lock = threading.RLock()
_plans: dict[tuple[str, str], Node] = {}


def lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def plan(service: str, shape: Shape) -> Node:
    """The cached plan of a botocore shape of ``service``."""
    key = (service, shape.name)
    node = _plans.get(key)
    if node is not None:
        return node
    with _lock:
        node = _plans.get(key)
        if node is None:
            building: dict[tuple[str, str], Node] = {}
            node = _build(service, shape, building)
            _mark_unconstrained(node, set())
            _plans.update(building)  # published only once complete (readers take no lock)
    return node


def _child(service: str, shape: Shape, building: dict[tuple[str, str], Node]) -> Node:
    key = (service, shape.name)
    node = _plans.get(key) or building.get(key)
    return node if node is not None else _build(service, shape, building)


def input_plan(service: str, operation: str) -> Node | None:
    op = specs.operation_model(service, operation)
    if op is None or op.input_shape is None:
        return None
    return plan(service, op.input_shape)


def output_plan(service: str, operation: str) -> Node | None:
    op = specs.operation_model(service, operation)
    if op is None or op.output_shape is None:
        return None
    return plan(service, op.output_shape)


def result_wrapper(service: str, operation: str) -> str:
    """The query protocol's ``<OpResult>`` element name.  It is a trait of the operation's
    output reference (two operations may share an output shape), so not part of the plan."""
    op = specs.operation_model(service, operation)
    if op is None or op.output_shape is None:
        return ""
    wrapper: str = op.output_shape.serialization.get("resultWrapper", "")
    return wrapper


def _build(service: str, shape: Shape, building: dict[tuple[str, str], Node]) -> Node:
    meta = shape.metadata
    node = Node(name=shape.name, kind=shape.type_name)
    building[(service, shape.name)] = node  # before children: recursive shapes terminate
    node.sensitive = bool(meta.get("sensitive"))
    if "min" in meta:
        node.min = meta["min"]
    if "max" in meta:
        node.max = meta["max"]
    enum = getattr(shape, "enum", None) or meta.get("enum") or ()
    if enum:
        node.enum = tuple(enum)
        node.enum_set = frozenset(enum)
        node.enum_text = "[" + ", ".join(enum) + "]"
    if "pattern" in meta:
        node.pattern_text = meta["pattern"]
        node.pattern = patterns.compile_pattern(meta["pattern"])
    node.policy_document = service == "iam" and shape.name == POLICY_DOCUMENT_SHAPE
    node.document = bool(getattr(shape, "is_document_type", False))
    if node.kind == "structure" and not node.document:
        required = set(shape.required_members)
        members = []
        for name, mshape in shape.members.items():
            ser = mshape.serialization
            member = Member(
                name=name,
                wire=ser.get("name", name),
                path=lower_camel(name),
                node=_child(service, mshape, building),
                required=name in required,
                flattened=bool(ser.get("flattened")),
            )
            members.append(member)
        node.members = tuple(members)
        node.by_name = {m.name: m for m in members}
        node.by_wire = {m.wire: m for m in members}
    elif node.kind == "list":
        node.item = _child(service, shape.member, building)
        node.item_wire = shape.member.serialization.get("name", "member")
    elif node.kind == "map":
        node.key = _child(service, shape.key, building)
        node.value = _child(service, shape.value, building)
        node.key_wire = shape.key.serialization.get("name", "key")
        node.value_wire = shape.value.serialization.get("name", "value")
    return node


def _has_own_constraints(node: Node) -> bool:
    return (
        node.min is not None
        or node.max is not None
        or bool(node.enum_set)
        or node.pattern is not None
    )


def _mark_unconstrained(node: Node, seen: set[int]) -> bool:
    if id(node) in seen:
        return node.unconstrained
    seen.add(id(node))
    free = not _has_own_constraints(node)
    if node.kind == "structure":
        for m in node.members:
            child_free = _mark_unconstrained(m.node, seen)
            free = free and child_free and not m.required
    for child in (node.item, node.key, node.value):
        if child is not None:
            free = _mark_unconstrained(child, seen) and free
    node.unconstrained = free
    return free


# --------------------------------------------------------------------------- validation


def show(value: Any) -> str:
    """A value as AWS (Java ``toString``) prints it in validation messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}={show(v)}" for k, v in value.items()) + "}"
    return str(value)


def failure(node: Node | None, value: Any, path: str, constraint: str) -> str:
    if value is None:
        subject = "Value null"
    elif node is not None and node.sensitive:
        subject = "Value"
    else:
        subject = f"Value '{show(value)}'"
    return f"{subject} at '{path}' failed to satisfy constraint: {constraint}"


def validate(node: Node, value: dict[str, Any]) -> list[str]:
    """AWS-worded constraint failures of a parsed input structure (empty list: valid)."""
    out: list[str] = []
    if not node.unconstrained:
        _check_structure(node, value, "", out)
    return out[:MAX_FAILURES]


def _check_structure(node: Node, value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        return
    for m in node.members:
        v = value.get(m.name)
        p = f"{path}.{m.path}" if path else m.path
        if v is None:
            if m.required:
                out.append(failure(m.node, None, p, "Member must not be null"))
            continue
        if not m.node.unconstrained:
            _check(m.node, v, p, out)
        if len(out) >= MAX_FAILURES:
            return


def _check(node: Node, value: Any, path: str, out: list[str]) -> None:
    kind = node.kind
    if kind == "structure":
        _check_structure(node, value, path, out)
        return
    if kind in NUMBER_KINDS:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if node.min is not None and value < node.min:
                out.append(failure(node, value, path, _bound("value greater", node.min)))
            if node.max is not None and value > node.max:
                out.append(failure(node, value, path, _bound("value less", node.max)))
        return
    if kind == "string":
        if not isinstance(value, str):
            return
        if node.enum_set and value not in node.enum_set:
            out.append(
                failure(node, value, path, "Member must satisfy enum value set: " + node.enum_text)
            )
        _check_length(node, value, len(value), path, out)
        if node.pattern is not None and node.pattern.fullmatch(value) is None:
            out.append(
                failure(
                    node,
                    value,
                    path,
                    "Member must satisfy regular expression pattern: " + node.pattern_text,
                )
            )
        return
    if kind == "blob":
        if isinstance(value, bytes | bytearray):
            _check_length(node, value, len(value), path, out)
        return
    if kind == "list" and isinstance(value, list):
        _check_length(node, value, len(value), path, out)
        item = node.item
        if item is not None and not item.unconstrained:
            for i, element in enumerate(value, 1):
                if element is not None:
                    _check(item, element, f"{path}.{i}.member", out)
        return
    if kind == "map" and isinstance(value, dict):
        _check_length(node, value, len(value), path, out)
        for k, v in value.items():
            if node.key is not None and not node.key.unconstrained:
                _check(node.key, k, f"{path}.{k}", out)
            if node.value is not None and v is not None and not node.value.unconstrained:
                _check(node.value, v, f"{path}.{k}", out)


def _check_length(node: Node, value: Any, length: int, path: str, out: list[str]) -> None:
    if node.min is not None and length < node.min:
        out.append(failure(node, value, path, _bound("length greater", node.min)))
    if node.max is not None and length > node.max:
        out.append(failure(node, value, path, _bound("length less", node.max)))


def _bound(what: str, limit: float) -> str:
    text = str(int(limit)) if float(limit).is_integer() else repr(limit)
    return f"Member must have {what} than or equal to {text}"
