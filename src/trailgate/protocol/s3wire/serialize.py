"""botocore-shaped output dict -> S3 response (the inverse of botocore's ``RestXMLParser``).

- header members -> headers (lower-cased names; RFC 1123 dates unless the model says
  otherwise; non-ASCII text RFC 2047-encoded), ``Metadata`` -> ``x-amz-meta-<name>``;
- status: the model's ``responseCode`` (204 for the Delete* operations), else 200; a result
  may override it with ``__status`` (e.g. 206) and add raw headers with ``__headers``;
- body: the payload member when the model has one — streaming blob (``Body``: bytes, str,
  an iterator of bytes -> ``HttpResponse.body_iter``, or a binary file object), raw string
  (GetBucketPolicy), or a structure written as its own root element — otherwise the body
  members inside the operation's root element (``ListBucketResult``...) in the S3 namespace;
  ISO-8601 timestamps with milliseconds, flattened lists as repeated elements,
  ``xsi:type`` attributes; GetBucketLocation's region as the root's text (empty for
  us-east-1);
- ``EncodingType == "url"`` in a listing result percent-encodes the keys, prefixes,
  delimiters and markers S3 encodes (``%20`` for space, ``%2B`` for ``+``);
- HEAD and 204/304 responses carry no body.

Element writers are compiled once per shape into closures (see :mod:`.plans`), so a
1,000-key ListObjectsV2 costs a few milliseconds.
"""

from __future__ import annotations

import base64
import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from ..xmltext import encode, escape
from .errors import CONTENT_TYPE, XML_DECL, host_id
from .plans import Emit, OutputPlan, XMember, XNode, output_plan
from .scalars import header_safe, header_text, iso_ms, timestamp_text, url_encode

if TYPE_CHECKING:  # gateway.context imports the protocol package: no runtime import back
    from ...gateway.context import HttpResponse

STREAM_CHUNK: Final = 1 << 20
_NO_BODY_STATUS: Final = frozenset({204, 304})
_US_EAST_1: Final = frozenset({"", "us-east-1"})

#: an HTTP header name (RFC 9110 token), lower-cased
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")

_lock = threading.RLock()


def serialize_s3(
    operation: str,
    result: Mapping[str, Any] | None,
    request_id: str,
    *,
    head: bool = False,
    host: str | None = None,
) -> HttpResponse:
    """The HTTP response of ``operation`` for the provider's ``result`` (``host``: the call's
    ``x-amz-id-2``; derived from the request id when not given)."""
    from ...gateway.context import HttpResponse

    plan = output_plan(operation)
    result = result or {}
    headers = {"x-amz-request-id": request_id, "x-amz-id-2": host or host_id(request_id)}
    _write_headers(plan, result, headers)
    status = int(result.get("__status") or plan.status)
    extra = result.get("__headers")
    if extra:
        for name, value in extra.items():
            name = str(name).lower()
            if value is not None and _TOKEN.fullmatch(name):
                headers[name] = header_safe(str(value))
    if head or status in _NO_BODY_STATUS:
        if plan.payload:
            _close(result.get(plan.payload))
        return HttpResponse(status, headers)
    if plan.payload_kind in ("blob", "string"):
        body, stream = _raw_payload(result.get(plan.payload))
        return HttpResponse(status, headers, body, stream)
    if not plan.root:
        return HttpResponse(status, headers)
    headers["content-type"] = CONTENT_TYPE
    return HttpResponse(status, headers, xml_body(plan, result))


# --------------------------------------------------------------------------- headers


def _write_headers(plan: OutputPlan, result: Mapping[str, Any], headers: dict[str, str]) -> None:
    for name, wire, f in plan.headers:
        value = result.get(name)
        if value is not None:
            headers[wire] = header_text(f.kind, value, f.ts_format, f.jsonvalue)
    for name, prefix in plan.header_maps:
        mapping = result.get(name)
        if not mapping:
            continue
        for key, value in mapping.items():
            key = str(key).lower()
            if value is not None and _TOKEN.fullmatch(key):
                headers[prefix + key] = header_safe(str(value))


# --------------------------------------------------------------------------- raw payloads


def _raw_payload(value: Any) -> tuple[bytes, Iterator[bytes] | None]:
    if value is None:
        return b"", None
    if isinstance(value, bytes):
        return value, None
    if isinstance(value, bytearray | memoryview):
        return bytes(value), None
    if isinstance(value, str):
        return value.encode("utf-8"), None
    if isinstance(value, io.IOBase):  # a file: read in chunks, not by lines
        return b"", _read_chunks(value)
    if isinstance(value, Iterator):  # before read(): an iterator may also offer read()
        return b"", value
    if hasattr(value, "read"):
        return b"", _read_chunks(value)
    if isinstance(value, Iterable):
        return b"", iter(value)
    raise TypeError(f"cannot stream {type(value).__name__}")


def _read_chunks(stream: Any) -> Iterator[bytes]:
    try:
        while True:
            chunk = stream.read(STREAM_CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def _close(value: Any) -> None:
    close = getattr(value, "close", None)
    if callable(close) and not isinstance(value, bytes | str):
        close()


# --------------------------------------------------------------------------- XML bodies


def xml_body(plan: OutputPlan, result: Mapping[str, Any]) -> bytes:
    root = plan.root
    if plan.location:
        region = result.get("LocationConstraint")
        if region is None or region in _US_EAST_1:
            return encode(f"{XML_DECL}<{root}{plan.root_ns}/>")
        return encode(f"{XML_DECL}<{root}{plan.root_ns}>{escape(str(region))}</{root}>")
    value: Any = result.get(plan.payload) if plan.payload else result
    if value is None:
        return encode(f"{XML_DECL}<{root}{plan.root_ns}/>")
    node = plan.body_node
    assert node is not None
    if plan.url_fields[0] and value.get("EncodingType") == "url":
        writer = plan.write_url or _url_writer(plan, node)
    else:
        writer = node.content or _compile_structure(node)
    out = [XML_DECL, "<", root, plan.root_ns, _attributes(node, value), ">"]
    if value.get("__order") and value.get("Versions") and value.get("DeleteMarkers"):
        _write_interleaved(writer, value, out)
    else:
        writer(value, out)
    out.append(f"</{root}>")
    return encode("".join(out))


_PLACE: Final = object()  # no mapping: written as an empty <Version></Version>, then replaced


def _write_interleaved(writer: Emit, value: Mapping[str, Any], out: list[str]) -> None:
    """ListObjectVersions: S3 writes the ``<Version>`` and ``<DeleteMarker>`` elements as one
    sequence in listing order (by key, each key's newest first); ``__order`` names the kind of
    each entry in turn ("V" or "D").  Written as usual when it does not fit the lists."""
    order = str(value["__order"])
    versions, markers = list(value["Versions"]), list(value["DeleteMarkers"])
    if (order.count("V"), order.count("D"), len(order)) != (
        len(versions), len(markers), len(versions) + len(markers)
    ):
        writer(value, out)
        return
    start = len(out)
    writer({**value, "Versions": [_PLACE], "DeleteMarkers": None}, out)
    at = next(i for i in range(start, len(out) - 1)
              if out[i] == "<Version>" and out[i + 1] == "</Version>")
    entries: list[str] = []
    pending = {"V": iter(versions), "D": iter(markers)}
    for kind in order:
        member = "Versions" if kind == "V" else "DeleteMarkers"
        writer({member: [next(pending[kind])]}, entries)
    out[at:at + 2] = entries


def _url_writer(plan: OutputPlan, node: XNode) -> Emit:
    top, nested = plan.url_fields
    writer = _compile_structure(node, frozenset(top), dict(nested))
    plan.write_url = writer
    return writer


def prepare(plan: OutputPlan) -> None:
    """Compile the writers of every structure reachable from ``plan`` now."""
    seen: set[int] = set()
    stack = [plan.body_node] if plan.body_node is not None else []
    if plan.body_node is not None and plan.url_fields[0]:
        _url_writer(plan, plan.body_node)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.kind == "structure":
            _compile_structure(node)
            stack.extend(m.node for m in node.members)
        stack.extend(n for n in (node.item, node.key, node.value) if n is not None)


def _attr(text: str) -> str:
    return escape(text).replace('"', "&quot;")


def _attributes(node: XNode, value: Any) -> str:
    if not node.attrs or not isinstance(value, Mapping):
        return ""
    parts = []
    for m in node.attrs:
        v = value.get(m.name)
        if v is not None:
            parts.append(f' {m.attribute}="{_attr(str(v))}"')
    return "".join(parts)


def _compile_structure(
    node: XNode, url: frozenset[str] = frozenset(), url_lists: dict[str, str] | None = None
) -> Emit:
    """The children writer of a structure, generated as one Python function so the hot path
    (a listing's ``Contents``) runs without a call per member: strings, numbers, booleans and
    ISO timestamps are written inline, everything else through a compiled emitter.  Element
    names and member names enter the source only through ``repr``.

    ``url`` names string members written URL-encoded (``encoding-type=url``), ``url_lists``
    maps list members to the field of their structure items written so; such variants are
    not cached on the node."""
    variant = bool(url or url_lists)
    with _lock:
        if node.content is not None and not variant:
            return node.content
        namespace: dict[str, Any] = {
            "Mapping": Mapping,
            "escape": escape,
            "url": url_encode,
            "iso": iso_ms,
            "str": str,
            "int": int,
        }
        lines = [
            "def content(value, out):",
            "    if not isinstance(value, Mapping):",
            "        return",
            "    get = value.get",
            "    append = out.append",
        ]
        for i, m in enumerate(node.members):
            lines += [f"    v = get({m.name!r})", "    if v is not None:"]
            if url_lists and m.name in url_lists:
                namespace[f"emit{i}"] = _url_list_emit(m, url_lists[m.name])
                lines.append(f"        emit{i}(v, out)")
            else:
                lines.append("        " + _inline(m, i, namespace, m.name in url))
        source = "\n".join(lines) + "\n"
        exec(compile(source, f"<s3 writer {node.name}>", "exec"), namespace)
        content: Emit = namespace["content"]
        if not variant:
            node.content = content
        return content


def _inline(m: XMember, index: int, namespace: dict[str, Any], url: bool) -> str:
    """One statement writing member ``m`` (value in ``v``)."""
    kind = m.node.kind
    open_tag = f"<{m.tag}{m.ns_decl}>"
    close_tag = f"</{m.tag}>"
    if not m.flattened:
        if kind in ("string", "character"):
            convert = "url" if url else "escape"
            text = f"{convert}(v if v.__class__ is str else str(v))"
        elif kind in ("integer", "long"):
            text = "str(int(v))"
        elif kind == "boolean":
            text = '("true" if v is True or v == "true" else "false")'
        elif kind == "timestamp" and m.ts_format in ("", "iso8601"):
            text = "iso(v)"
        else:
            text = ""
        if text:
            return f"append({open_tag!r} + {text} + {close_tag!r})"
    namespace[f"emit{index}"] = _member_emit(m)
    return f"emit{index}(v, out)"


def _url_list_emit(m: XMember, field_name: str) -> Emit:
    """A list of structures whose ``field_name`` is written URL-encoded."""
    node = m.node
    assert node.kind == "list" and node.item is not None and node.item.kind == "structure"
    content = _compile_structure(node.item, frozenset({field_name}))
    tag = m.tag if m.flattened else node.item_tag
    item_open, item_close = f"<{tag}>", f"</{tag}>"
    list_open, list_close = ("", "") if m.flattened else (f"<{m.tag}{m.ns_decl}>", f"</{m.tag}>")

    def emit(value: Any, out: list[str]) -> None:
        if list_open:
            out.append(list_open)
        for item in value:
            if item is not None:
                out.append(item_open)
                content(item, out)
                out.append(item_close)
        if list_close:
            out.append(list_close)

    return emit


def _member_emit(m: XMember) -> Emit:
    node = m.node
    if m.flattened and node.kind == "list":
        assert node.item is not None
        item_emit = element(node.item, m.tag, m.ns_decl, m.ts_format)

        def flat(value: Any, out: list[str]) -> None:
            for item in value:
                if item is not None:
                    item_emit(item, out)

        return flat
    if m.flattened and node.kind == "map":
        return _map_emit(node, m.tag, m.ns_decl, flattened=True)
    return element(node, m.tag, m.ns_decl, m.ts_format)


def element(node: XNode, tag: str, ns_decl: str = "", ts_format: str = "") -> Emit:
    """A writer of one ``<tag>`` element holding a value of ``node``'s shape."""
    open_tag = f"<{tag}{ns_decl}>"
    close_tag = f"</{tag}>"
    kind = node.kind
    if kind == "string" or kind == "character":

        def text(value: Any, out: list[str]) -> None:
            out.append(
                open_tag + escape(value if isinstance(value, str) else str(value)) + close_tag
            )

        return text
    if kind == "structure":
        return _structure_emit(node, tag, ns_decl)
    if kind == "list":
        return _list_emit(node, open_tag, close_tag, ts_format)
    if kind == "map":
        return _map_emit(node, tag, ns_decl, flattened=False)
    convert = _scalar_text(kind, ts_format)

    def scalar(value: Any, out: list[str]) -> None:
        out.append(open_tag + convert(value) + close_tag)

    return scalar


def _structure_emit(node: XNode, tag: str, ns_decl: str) -> Emit:
    open_tag = f"<{tag}{ns_decl}>"
    close_tag = f"</{tag}>"
    if node.attrs:
        start = f"<{tag}{ns_decl}"

        def with_attrs(value: Any, out: list[str]) -> None:
            out.append(start + _attributes(node, value) + ">")
            (node.content or _compile_structure(node))(value, out)
            out.append(close_tag)

        return with_attrs

    def plain(value: Any, out: list[str]) -> None:
        out.append(open_tag)
        (node.content or _compile_structure(node))(value, out)
        out.append(close_tag)

    return plain


def _list_emit(node: XNode, open_tag: str, close_tag: str, ts_format: str) -> Emit:
    assert node.item is not None
    item_emit = element(node.item, node.item_tag, node.item_ns_decl, ts_format)

    def wrapped(value: Any, out: list[str]) -> None:
        out.append(open_tag)
        for item in value:
            if item is not None:
                item_emit(item, out)
        out.append(close_tag)

    return wrapped


def _map_emit(node: XNode, tag: str, ns_decl: str, *, flattened: bool) -> Emit:
    assert node.key is not None and node.value is not None
    key_emit = element(node.key, node.key_tag)
    value_emit = element(node.value, node.value_tag)
    entry_open, entry_close = (
        (f"<{tag}{ns_decl}>", f"</{tag}>") if flattened else ("<entry>", "</entry>")
    )

    def entries(value: Any, out: list[str]) -> None:
        for k, v in value.items():
            out.append(entry_open)
            key_emit(k, out)
            if v is not None:
                value_emit(v, out)
            out.append(entry_close)

    if flattened:
        return entries
    open_tag, close_tag = f"<{tag}{ns_decl}>", f"</{tag}>"

    def wrapped(value: Any, out: list[str]) -> None:
        out.append(open_tag)
        entries(value, out)
        out.append(close_tag)

    return wrapped


def _scalar_text(kind: str, ts_format: str) -> Callable[[Any], str]:
    if kind == "boolean":
        return lambda v: "true" if v is True or v == "true" else "false"
    if kind in ("integer", "long"):
        return lambda v: str(int(v))
    if kind == "timestamp":
        return lambda v: timestamp_text(v, ts_format, "iso8601")
    if kind == "blob":
        return lambda v: base64.b64encode(
            v.encode("utf-8") if isinstance(v, str) else bytes(v)
        ).decode("ascii")
    if kind in ("float", "double"):
        return lambda v: repr(float(v))
    return lambda v: escape(str(v))
