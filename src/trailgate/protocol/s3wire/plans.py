"""Per-operation plans for S3's rest-xml wire, compiled once from botocore's s3 model.

An :class:`InputPlan` says where each input member lives (uri, query parameter, header,
``x-amz-meta-`` style header map, payload) and how to convert it; an :class:`OutputPlan` the
same for the output, plus the response status and the XML root element.  XML bodies are
described by :class:`XNode` (one per shape, cached) and :class:`XMember` (member-reference
traits: element name, ``flattened``, ``xmlAttribute``, ``xmlNamespace``, ``timestampFormat``).

Plans are built lazily, under a lock, and published only when complete; readers take no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.model import Shape  # type: ignore[import-untyped]

from .. import specs
from ..xmltext import escape

NAMESPACE: Final = specs.xml_namespace("s3")

#: XML root element of outputs that have no payload member (AWS's names; the model has none).
ROOTS: Final[dict[str, str]] = {
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CreateSession": "CreateSessionResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLocation": "LocationConstraint",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetObjectAcl": "AccessControlPolicy",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetObjectTagging": "Tagging",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketIntelligentTieringConfigurations": (
        "ListBucketIntelligentTieringConfigurationsOutput"
    ),
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListParts": "ListPartsResult",
}

#: ``encoding-type=url``: top-level members and (list member, field) pairs S3 percent-encodes.
URL_ENCODED: Final[dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]] = {
    "ListObjects": (
        ("Delimiter", "Marker", "NextMarker", "Prefix"),
        (("Contents", "Key"), ("CommonPrefixes", "Prefix")),
    ),
    "ListObjectsV2": (
        ("Delimiter", "Prefix", "StartAfter"),
        (("Contents", "Key"), ("CommonPrefixes", "Prefix")),
    ),
    "ListObjectVersions": (
        ("Delimiter", "KeyMarker", "NextKeyMarker", "Prefix"),
        (("Versions", "Key"), ("DeleteMarkers", "Key"), ("CommonPrefixes", "Prefix")),
    ),
    "ListMultipartUploads": (
        ("Delimiter", "KeyMarker", "NextKeyMarker", "Prefix"),
        (("Uploads", "Key"), ("CommonPrefixes", "Prefix")),
    ),
}

Emit = Callable[[Any, list[str]], None]


# --------------------------------------------------------------------------- XML shapes


@dataclass(eq=False, slots=True)
class XMember:
    name: str  # botocore member name (dict key)
    tag: str  # element name when written (flattened lists: the parser's item name)
    node: XNode
    read_tags: tuple[str, ...] = ()  # element names accepted when reading
    flattened: bool = False
    attribute: str = ""  # xmlAttribute: the attribute's qualified name ("xsi:type")
    ns_decl: str = ""  # ' xmlns:xsi="..."' written on this member's element
    ts_format: str = ""
    emit: Emit | None = None  # writes the whole element(s) for a value (set by the writer)


@dataclass(eq=False, slots=True)
class XNode:
    name: str
    kind: str
    enum: frozenset[str] = frozenset()
    min: float | None = None
    max: float | None = None
    # structure
    members: tuple[XMember, ...] = ()
    by_tag: dict[str, XMember] = field(default_factory=dict)
    attrs: tuple[XMember, ...] = ()
    required: tuple[str, ...] = ()
    # list
    item: XNode | None = None
    item_tag: str = "member"
    item_ns_decl: str = ""
    # map
    key: XNode | None = None
    value: XNode | None = None
    key_tag: str = "key"
    value_tag: str = "value"
    content: Emit | None = None  # structure: writes the children (set by the writer)


def _ns_decl(ser: dict[str, Any]) -> str:
    ns = ser.get("xmlNamespace")
    if isinstance(ns, dict):
        prefix = ns.get("prefix")
        name = f"xmlns:{prefix}" if prefix else "xmlns"
        return f' {name}="{escape(ns.get("uri", ""))}"'
    if isinstance(ns, str):
        return f' xmlns="{escape(ns)}"'
    return ""


_xlock = threading.RLock()
_xnodes: dict[str, XNode] = {}


def xnode(shape: Shape) -> XNode:
    """The cached XML plan of a botocore shape (recursive shapes are handled)."""
    node = _xnodes.get(shape.name)
    if node is not None:
        return node
    with _xlock:
        node = _xnodes.get(shape.name)
        if node is None:
            building: dict[str, XNode] = {}
            node = _xbuild(shape, building)
            _xnodes.update(building)
    return node


def _xchild(shape: Shape, building: dict[str, XNode]) -> XNode:
    return _xnodes.get(shape.name) or building.get(shape.name) or _xbuild(shape, building)


_OPEN_ENUMS: Final = frozenset({"BucketLocationConstraint"})
"""Enums S3 does not check as XML schema: a location constraint outside botocore's list
(us-east-1 itself, a region newer than the model, a typo) is the provider's
InvalidLocationConstraint or IllegalLocationConstraintException, not MalformedXML."""


def _xbuild(shape: Shape, building: dict[str, XNode]) -> XNode:
    meta = shape.metadata
    node = XNode(name=shape.name, kind=shape.type_name)
    building[shape.name] = node
    if shape.name not in _OPEN_ENUMS:
        node.enum = frozenset(getattr(shape, "enum", None) or ())
    node.min = meta.get("min")
    node.max = meta.get("max")
    if node.kind == "structure":
        members = [
            xmember(name, mshape, building)
            for name, mshape in shape.members.items()
            if mshape.serialization.get("location") is None  # headers etc. are never XML
        ]
        node.members = tuple(m for m in members if not m.attribute)
        node.attrs = tuple(m for m in members if m.attribute)
        # a flattened list wins over a (deprecated) scalar sharing its element name
        ordered = sorted(node.members, key=lambda m: m.flattened)
        node.by_tag = {tag: m for m in ordered for tag in m.read_tags}
        node.required = tuple(
            n
            for n in shape.required_members
            if shape.members[n].serialization.get("location") is None
        )
    elif node.kind == "list":
        node.item = _xchild(shape.member, building)
        node.item_tag = shape.member.serialization.get("name", "member")
        node.item_ns_decl = _ns_decl(shape.member.serialization)
    elif node.kind == "map":
        node.key = _xchild(shape.key, building)
        node.value = _xchild(shape.value, building)
        node.key_tag = shape.key.serialization.get("name", "key")
        node.value_tag = shape.value.serialization.get("name", "value")
    return node


def xmember(name: str, mshape: Shape, building: dict[str, XNode] | None = None) -> XMember:
    ser = mshape.serialization
    node = _xchild(mshape, building if building is not None else {})
    wire = ser.get("name", name)
    flattened = bool(ser.get("flattened")) and node.kind in ("list", "map")
    tag = wire
    read_tags: tuple[str, ...] = (wire,)
    if flattened and node.kind == "list":
        item_name = mshape.member.serialization.get("name")
        if item_name:  # botocore's parser reads this name, its serializer writes ``wire``
            tag = item_name
            read_tags = (item_name, wire) if item_name != wire else (wire,)
    return XMember(
        name=name,
        tag=tag,
        node=node,
        read_tags=read_tags,
        flattened=flattened,
        attribute=wire if ser.get("xmlAttribute") else "",
        ns_decl=_ns_decl(ser),
        ts_format=ser.get("timestampFormat", ""),
    )


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True, slots=True)
class Field:
    """A non-body member: a query parameter or a header."""

    name: str
    wire: str  # query: parameter name; headers: lower-cased header name
    kind: str  # botocore type of the member (for lists: "list")
    item_kind: str = ""  # lists: the element type
    enum: frozenset[str] = frozenset()
    min: float | None = None
    max: float | None = None
    pattern: str = ""
    ts_format: str = ""
    jsonvalue: bool = False
    required: bool = False


@dataclass(eq=False, slots=True)
class InputPlan:
    operation: str
    query: dict[str, Field] = field(default_factory=dict)
    query_map: str = ""  # member receiving every parameter not otherwise claimed
    headers: dict[str, Field] = field(default_factory=dict)
    header_maps: tuple[tuple[str, str], ...] = ()  # (member, lower-cased prefix)
    payload: str = ""  # payload member name
    payload_kind: str = ""  # "structure" | "string" | "blob"
    payload_root: str = ""  # structure payloads: expected root element
    payload_node: XNode | None = None
    payload_required: bool = False
    body_root: str = ""  # no payload member but body members (SelectObjectContent)
    body_node: XNode | None = None
    streaming: bool = False  # blob payload left to the caller (PutObject, UploadPart)
    checksum_required: bool = False
    has_key: bool = False
    required: tuple[str, ...] = ()  # required query/header members (uri ones are routed)


@dataclass(eq=False, slots=True)
class OutputPlan:
    operation: str
    status: int = 200
    headers: tuple[tuple[str, str, Field], ...] = ()  # (member, header name, field)
    header_maps: tuple[tuple[str, str], ...] = ()  # (member, prefix)
    payload: str = ""
    payload_kind: str = ""
    root: str = ""  # XML root element name ("" when there is no XML body)
    root_ns: str = ""  # ' xmlns="..."' (or the payload member's own declaration)
    body_node: XNode | None = None  # structure written inside the root
    body_attrs: tuple[XMember, ...] = ()
    location: bool = False  # GetBucketLocation: the root's text is the region
    url_fields: tuple[tuple[str, ...], tuple[tuple[str, str], ...]] = ((), ())
    write_url: Emit | None = None  # encoding-type=url variant of the body writer (lazy)


def _field(name: str, mshape: Shape, required: bool) -> Field:
    ser = mshape.serialization
    kind = mshape.type_name
    location = ser.get("location")
    wire = ser.get("name", name)
    item_kind = mshape.member.type_name if kind == "list" else ""
    return Field(
        name=name,
        wire=wire.lower() if location in ("header", "headers") else wire,
        kind=kind,
        item_kind=item_kind,
        enum=frozenset(getattr(mshape, "enum", None) or ()),
        min=mshape.metadata.get("min"),
        max=mshape.metadata.get("max"),
        pattern=mshape.metadata.get("pattern", ""),
        ts_format=ser.get("timestampFormat", ""),
        jsonvalue=bool(ser.get("jsonvalue")),
        required=required,
    )


def _build_input(operation: str) -> InputPlan:
    op = specs.operation_model("s3", operation)
    plan = InputPlan(operation)
    if op is None or op.input_shape is None:
        return plan
    shape = op.input_shape
    required = set(shape.required_members)
    header_maps = []
    body_members = []
    for name, mshape in shape.members.items():
        ser = mshape.serialization
        location = ser.get("location")
        if location == "uri":
            plan.has_key = plan.has_key or name == "Key"
        elif location == "querystring":
            if mshape.type_name == "map":
                plan.query_map = name
            else:
                plan.query[ser.get("name", name)] = _field(name, mshape, name in required)
        elif location == "header":
            f = _field(name, mshape, name in required)
            plan.headers[f.wire] = f
        elif location == "headers":
            header_maps.append((name, ser.get("name", "").lower()))
        elif name != shape.serialization.get("payload"):
            body_members.append(name)
    plan.header_maps = tuple(header_maps)
    plan.required = tuple(
        n
        for n in shape.required_members
        if shape.members[n].serialization.get("location") in ("querystring", "header")
    )
    payload = shape.serialization.get("payload")
    if payload:
        pshape = shape.members[payload]
        plan.payload = payload
        plan.payload_kind = pshape.type_name
        plan.payload_required = payload in required
        if pshape.type_name == "structure":
            plan.payload_root = pshape.serialization.get("name", payload)
            plan.payload_node = xnode(pshape)
        plan.streaming = pshape.type_name == "blob"
    elif body_members:
        plan.body_root = shape.serialization.get("name", shape.name)
        plan.body_node = xnode(shape)
    plan.checksum_required = bool(
        op.http_checksum_required or op.http_checksum.get("requestChecksumRequired")
    )
    return plan


def _build_output(operation: str) -> OutputPlan:
    op = specs.operation_model("s3", operation)
    plan = OutputPlan(operation)
    if op is None:
        return plan
    plan.status = int(op.http.get("responseCode", 200))
    plan.url_fields = URL_ENCODED.get(operation, ((), ()))
    shape = op.output_shape
    if shape is None:
        return plan
    headers = []
    header_maps = []
    for name, mshape in shape.members.items():
        ser = mshape.serialization
        if ser.get("location") == "header":
            f = _field(name, mshape, False)
            headers.append((name, f.wire, f))
        elif ser.get("location") == "headers":
            header_maps.append((name, ser.get("name", "").lower()))
    plan.headers = tuple(headers)
    plan.header_maps = tuple(header_maps)
    payload = shape.serialization.get("payload")
    if payload:
        pshape = shape.members[payload]
        plan.payload = payload
        plan.payload_kind = pshape.type_name
        if pshape.type_name == "structure":
            plan.root = pshape.serialization.get("name", pshape.name)
            plan.root_ns = _ns_decl(pshape.serialization) or f' xmlns="{NAMESPACE}"'
            plan.body_node = xnode(pshape)
            plan.body_attrs = plan.body_node.attrs
        return plan
    if any(m.serialization.get("location") is None for m in shape.members.values()):
        plan.root = ROOTS.get(operation, f"{operation}Result")
        plan.root_ns = f' xmlns="{NAMESPACE}"'
        plan.body_node = xnode(shape)
        plan.location = operation == "GetBucketLocation"
    return plan


_lock = threading.Lock()
_inputs: dict[str, InputPlan] = {}
_outputs: dict[str, OutputPlan] = {}


def input_plan(operation: str) -> InputPlan:
    plan = _inputs.get(operation)
    if plan is None:
        with _lock:
            plan = _inputs.get(operation)
            if plan is None:
                plan = _build_input(operation)
                _inputs[operation] = plan
    return plan


def output_plan(operation: str) -> OutputPlan:
    plan = _outputs.get(operation)
    if plan is None:
        with _lock:
            plan = _outputs.get(operation)
            if plan is None:
                plan = _build_output(operation)
                _outputs[operation] = plan
    return plan
