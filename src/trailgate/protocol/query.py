"""AWS query protocol (IAM, STS): form parameters in, XML out.

Parsing is the inverse of botocore's ``QuerySerializer``: ``Name=v`` scalars,
``Name.member.N`` lists (``Name=`` is an empty list), ``Name.entry.N.key/value`` maps, nested
``A.member.1.B``; ``true``/``false`` booleans, ISO-8601 timestamps, base64 blobs.  Parameters the
input shape doesn't know (``Action``, ``Version``, presigned ``X-Amz-*``...) are ignored.  The
result is then validated against the shape (``shapes.validate``): required members, lengths,
ranges, enums and regex patterns -> ``ValidationError`` (400) with AWS's wording.

Serialising writes ``<OpResponse xmlns=..><OpResult>members in model order</OpResult>
<ResponseMetadata><RequestId>..</RequestId></ResponseMetadata></OpResponse>``; members of IAM's
``policyDocumentType`` are URL-encoded (percent-encoding, ``%20`` for spaces) as AWS does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from . import limits, shapes, specs, values
from .errors import ServiceError, validation_error
from .shapes import Node
from .xmltext import encode, escape

if TYPE_CHECKING:  # gateway.context imports this package: no runtime import back
    from ..gateway.context import HttpRequest

FormInput = Mapping[str, Sequence[str]] | Iterable[tuple[str, str]] | bytes | str
_Tree = dict[str, Any]  # str -> str | _Tree

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
CONTENT_TYPE = "text/xml"


# --------------------------------------------------------------------------- form decoding


def malformed(message: str = "The query string contains a syntax error.") -> ServiceError:
    # AWS's "Common Errors" pages give MalformedQueryString HTTP 404 (sic).
    return ServiceError("MalformedQueryString", message, 404)


def _component(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" in text:
        text = unquote(text, encoding="utf-8", errors="strict")
    return text


def decode_form(data: bytes | str) -> list[tuple[str, str]]:
    """``application/x-www-form-urlencoded`` text -> pairs (``+`` is a space, UTF-8 escapes);
    a field without ``=`` has an empty value, empty fields are skipped."""
    if len(data) > limits.MAX_QUERY_BYTES:
        raise limits.too_large(limits.MAX_QUERY_BYTES)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("The request body is not valid UTF-8.") from None
    else:
        text = data
    if not text:
        return []
    fields = text.split("&")
    if len(fields) > limits.MAX_QUERY_FIELDS:
        raise limits.too_large(limits.MAX_QUERY_FIELDS, "Number of parameters")
    pairs: list[tuple[str, str]] = []
    try:
        for part in fields:
            if part:
                name, _, value = part.partition("=")
                pairs.append((_component(name), _component(value)))
    except UnicodeDecodeError:
        raise malformed("A percent-encoded parameter is not valid UTF-8.") from None
    return pairs


def is_form(req: HttpRequest) -> bool:
    """Whether the body may be a query-protocol form (form content type, or none given)."""
    ctype = req.header("content-type").lower()
    return not ctype or "x-www-form-urlencoded" in ctype


def request_pairs(req: HttpRequest) -> list[tuple[str, str]]:
    """All query-protocol parameters of ``req``: form body first, then the query string
    (the first occurrence of a name wins)."""
    pairs: list[tuple[str, str]] = []
    if req.body and is_form(req):
        pairs.extend(decode_form(req.body))
    if req.query_string:
        pairs.extend(decode_form(req.query_string))
    return pairs


def _pairs(form: FormInput) -> Iterable[tuple[str, str]]:
    if isinstance(form, bytes | str):
        return decode_form(form)
    if isinstance(form, Mapping):
        return [(k, v[0] if not isinstance(v, str) else v) for k, v in form.items() if v]
    return form


def _tree(pairs: Iterable[tuple[str, str]]) -> _Tree:
    root: _Tree = {}
    for key, value in pairs:
        if key.count(".") > limits.MAX_QUERY_KEY_DEPTH:
            continue
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt  # a subtree wins over a scalar at the same name
            node = nxt
        node.setdefault(parts[-1], value)  # the first value of a repeated name wins
    return root


# --------------------------------------------------------------------------- parsing


def parse_query(
    service: str, operation: str, form: FormInput, *, validate: bool = True
) -> dict[str, Any]:
    """Form parameters of ``operation`` -> botocore-shaped params, validated.

    ``form`` is a raw body (bytes/str), a ``parse_qs``-style mapping or ``(name, value)`` pairs.
    Raises :class:`ServiceError` (``ValidationError`` 400, ``MalformedQueryString``, 413).
    Values that cannot be converted (``DurationSeconds=abc``) are always reported;
    ``validate=False`` skips only the shape constraints.
    """
    node = shapes.input_plan(service, operation)
    pairs = _pairs(form)
    if node is None:
        return {}
    problems: list[str] = []
    params = _read_structure(node, _tree(pairs), "", problems)
    if not problems and validate:
        problems = shapes.validate(node, params)
    if problems:
        raise validation_error(problems[: shapes.MAX_FAILURES])
    return params


def _read_structure(node: Node, raw: Any, path: str, problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(raw, dict):
        return out
    for wire, sub in raw.items():
        member = node.by_wire.get(wire)
        if member is None:
            continue
        mpath = f"{path}.{member.path}" if path else member.path
        value = _read(member.node, sub, mpath, problems, member.flattened)
        if value is not None:
            out[member.name] = value
    return out


def _indexed(raw: Any) -> list[Any]:
    if not isinstance(raw, dict):
        return []
    items = [(int(k), v) for k, v in raw.items() if k.isascii() and k.isdigit()]
    items.sort(key=lambda kv: kv[0])
    return [v for _, v in items]


def _read(node: Node, raw: Any, path: str, problems: list[str], flattened: bool = False) -> Any:
    kind = node.kind
    if kind == "structure":
        return _read_structure(node, raw, path, problems) if isinstance(raw, dict) else None
    if kind == "list":
        if isinstance(raw, str):
            return [] if raw == "" else None
        assert node.item is not None
        elements = _indexed(raw if flattened else raw.get(node.item_wire))
        result = []
        for i, element in enumerate(elements, 1):
            value = _read(node.item, element, f"{path}.{i}.member", problems)
            if value is not None:
                result.append(value)
        return result
    if kind == "map":
        return _read_map(node, raw, path, problems, flattened)
    if not isinstance(raw, str):
        return None
    return _scalar(node, raw, path, problems)


def _read_map(
    node: Node, raw: Any, path: str, problems: list[str], flattened: bool
) -> dict[str, Any] | None:
    if isinstance(raw, str):
        return {} if raw == "" else None
    assert node.key is not None and node.value is not None
    result: dict[str, Any] = {}
    for entry in _indexed(raw if flattened else raw.get("entry")):
        if not isinstance(entry, dict):
            continue
        key = _read(node.key, entry.get(node.key_wire), path, problems)
        if key is None:
            continue
        result[key] = _read(node.value, entry.get(node.value_wire), f"{path}.{key}", problems)
    return result


def _scalar(node: Node, raw: str, path: str, problems: list[str]) -> Any:
    kind = node.kind
    if kind == "string" or kind == "character":
        return raw
    value: Any
    if kind == "integer" or kind == "long":
        value = values.parse_int(raw.strip(), 32 if kind == "integer" else 64)
        expected = "an integer"
    elif kind == "boolean":
        lowered = raw.lower()
        value = True if lowered == "true" else False if lowered == "false" else None
        expected = "a boolean (true or false)"
    elif kind == "timestamp":
        value = values.parse_timestamp(raw.strip())
        expected = "an ISO-8601 timestamp"
    elif kind == "blob":
        value = values.b64decode(raw)
        expected = "base64-encoded"
    elif kind == "float" or kind == "double":
        value = values.parse_float(raw.strip())
        expected = "a number"
    else:
        return raw
    if value is None:
        problems.append(shapes.failure(node, raw, path, f"Member must be {expected}"))
    return value


# --------------------------------------------------------------------------- serialising


def serialize_query(
    service: str, operation: str, result: Mapping[str, Any] | None, request_id: str
) -> bytes:
    """The XML success body of ``operation`` for ``result`` (botocore-shaped output dict)."""
    ns = specs.xml_namespace(service)
    out = [XML_DECL, f'<{operation}Response xmlns="{ns}">']
    node = shapes.output_plan(service, operation)
    if node is not None:
        wrapper = shapes.result_wrapper(service, operation)
        if wrapper:
            out.append(f"<{wrapper}>")
        _write_members(node, result or {}, out)
        if wrapper:
            out.append(f"</{wrapper}>")
    out.append(
        f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    return encode("".join(out))


def serialize_query_error(service: str, err: ServiceError, request_id: str) -> bytes:
    """``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``."""
    ns = specs.xml_namespace(service) if service in specs.SERVICES else ""
    xmlns = f' xmlns="{ns}"' if ns else ""
    kind = "Sender" if err.sender_fault else "Receiver"
    # Some AWS errors carry no message at all (IAM's ReportNotPresent): no element then.
    message = f"<Message>{escape(err.message)}</Message>" if err.message else ""
    return encode(
        f"{XML_DECL}<ErrorResponse{xmlns}><Error><Type>{kind}</Type>"
        f"<Code>{escape(err.code)}</Code>{message}</Error>"
        f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
    )


def _write_members(node: Node, value: Mapping[str, Any], out: list[str]) -> None:
    if not isinstance(value, Mapping):
        return
    for member in node.members:
        v = value.get(member.name)
        if v is None:
            continue
        child = member.node
        tag = member.wire
        if member.flattened and child.kind == "list":
            assert child.item is not None
            for item in v:
                if item is not None:
                    out.append(f"<{tag}>")
                    _write(child.item, item, out)
                    out.append(f"</{tag}>")
        elif member.flattened and child.kind == "map":
            _write_entries(child, v, out, tag)
        else:
            out.append(f"<{tag}>")
            _write(child, v, out)
            out.append(f"</{tag}>")


def _write_entries(node: Node, value: Mapping[str, Any], out: list[str], tag: str) -> None:
    assert node.key is not None and node.value is not None
    for k, v in value.items():
        out.append(f"<{tag}><{node.key_wire}>")
        _write(node.key, k, out)
        out.append(f"</{node.key_wire}>")
        if v is not None:
            out.append(f"<{node.value_wire}>")
            _write(node.value, v, out)
            out.append(f"</{node.value_wire}>")
        out.append(f"</{tag}>")


def _write(node: Node, value: Any, out: list[str]) -> None:
    kind = node.kind
    if kind == "string":
        if node.policy_document:
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            out.append(quote(text, safe=""))
        else:
            out.append(escape(value if isinstance(value, str) else str(value)))
    elif kind == "structure":
        _write_members(node, value, out)
    elif kind == "list":
        assert node.item is not None
        tag = node.item_wire
        for item in value:
            if item is not None:
                out.append(f"<{tag}>")
                _write(node.item, item, out)
                out.append(f"</{tag}>")
    elif kind == "map":
        _write_entries(node, value, out, "entry")
    elif kind == "boolean":
        out.append("true" if value is True or value == "true" else "false")
    elif kind == "integer" or kind == "long":
        out.append(str(int(value)))
    elif kind == "timestamp":
        out.append(escape(values.iso8601(value)))
    elif kind == "blob":
        out.append(values.b64encode(value))
    elif kind == "float" or kind == "double":
        out.append(repr(float(value)))
    else:
        out.append(escape(str(value)))
