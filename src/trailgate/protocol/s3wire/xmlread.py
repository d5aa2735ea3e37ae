"""Request XML (S3 configuration payloads) read safely and converted per the input shape.

The document is parsed with expat directly, never with a DTD: a ``<!DOCTYPE`` (and with it
every entity declaration — XXE, "billion laughs") stops the parse at once, as do undefined
entities, unbound namespace prefixes, nesting deeper than :data:`MAX_DEPTH` and anything not
well-formed.  Every such failure is S3's ``MalformedXML`` (400).

The element tree is then read like botocore's ``RestXMLParser`` writes it, but from the request
side: structure members by element name (namespaces ignored), flattened lists as repeated
elements, ``xsi:type`` style attributes, scalars converted by type.  A value that does not fit
its shape — a required member missing, an enum value not in the model, ``<PartNumber>x``,
``<Quiet>maybe`` — is ``MalformedXML`` too (S3 validates against its schema).  Elements the
model does not know are ignored.
"""

from __future__ import annotations

from typing import Any, Final
from xml.parsers import expat

from .. import values
from . import errors
from .plans import XMember, XNode
from .scalars import parse_http_date

MAX_DEPTH: Final = 64


class _Rejected(Exception):
    """Raised from expat handlers to abort the parse."""


class Element:
    __slots__ = ("attrs", "children", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Element] = []
        self.text: list[str] = []


def _local(name: str) -> str:
    return name[name.rfind(" ") + 1 :]


def _forbid(*_: Any) -> Any:
    raise _Rejected


def parse_document(data: bytes) -> Element:
    """The root :class:`Element` of ``data``; raises ``MalformedXML``."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Element] = []
    root: list[Element] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise _Rejected
        el = Element(_local(name), {_local(k): v for k, v in attrs.items()})
        if stack:
            stack[-1].children.append(el)
        else:
            root.append(el)
        stack.append(el)

    def end(_: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text.append(data)

    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.NotationDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, _Rejected, ValueError, RecursionError):
        raise errors.malformed_xml() from None
    if not root:
        raise errors.malformed_xml()
    return root[0]


def read_payload(data: bytes, root: str, node: XNode) -> dict[str, Any]:
    """A structure payload whose root element must be ``root``."""
    el = parse_document(data)
    if el.tag != root:
        raise errors.malformed_xml()
    return read_structure(node, el)


def read_structure(node: XNode, el: Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in el.children:
        member = node.by_tag.get(child.tag)
        if member is None:
            continue
        value = _read(member, member.node, child)
        if member.flattened:
            if member.node.kind == "list":
                out.setdefault(member.name, []).append(value)
            else:
                out.setdefault(member.name, {}).update(value)
        else:
            out[member.name] = value
    for member in node.attrs:
        local = member.attribute.rpartition(":")[2]
        if local in el.attrs:
            out[member.name] = _scalar(member.node, el.attrs[local], member.ts_format)
    for name in node.required:
        if name not in out:
            raise errors.malformed_xml()
    return out


def _read(member: XMember, node: XNode, el: Element) -> Any:
    kind = node.kind
    if kind == "structure":
        return read_structure(node, el)
    if kind == "list":
        assert node.item is not None
        if member.flattened:
            return _read_item(node.item, el, member.ts_format)
        return [
            _read_item(node.item, child, member.ts_format)
            for child in el.children
            if child.tag == node.item_tag
        ]
    if kind == "map":
        entries = [el] if member.flattened else [c for c in el.children if c.tag == "entry"]
        return dict(_read_entry(node, entry) for entry in entries)
    if el.children:
        raise errors.malformed_xml()
    return _scalar(node, "".join(el.text), member.ts_format)


def _read_item(node: XNode, el: Element, ts_format: str) -> Any:
    if node.kind == "structure":
        return read_structure(node, el)
    if node.kind in ("list", "map"):
        return _read(XMember(name="", tag=el.tag, node=node), node, el)
    if el.children:
        raise errors.malformed_xml()
    return _scalar(node, "".join(el.text), ts_format)


def _read_entry(node: XNode, el: Element) -> tuple[Any, Any]:
    assert node.key is not None and node.value is not None
    key = value = None
    for child in el.children:
        if child.tag == node.key_tag:
            key = _read_item(node.key, child, "")
        elif child.tag == node.value_tag:
            value = _read_item(node.value, child, "")
    if key is None:
        raise errors.malformed_xml()
    return key, value


def _scalar(node: XNode, text: str, ts_format: str) -> Any:
    kind = node.kind
    value: Any
    if kind == "string" or kind == "character":
        if node.enum and text not in node.enum:
            raise errors.malformed_xml()
        return text
    stripped = text.strip()
    if kind == "boolean":
        lowered = stripped.lower()
        value = True if lowered == "true" else False if lowered == "false" else None
    elif kind == "integer" or kind == "long":
        value = values.parse_int(stripped, 32 if kind == "integer" else 64)
    elif kind == "timestamp":
        value = (
            parse_http_date(stripped) if ts_format == "rfc822" else None
        ) or values.parse_timestamp(stripped)
    elif kind == "blob":
        value = values.b64decode(stripped)
    elif kind == "float" or kind == "double":
        value = values.parse_float(stripped)
    else:
        value = text
    if value is None:
        raise errors.malformed_xml()
    return value
