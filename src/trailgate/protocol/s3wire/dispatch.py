"""Which S3 operation a request is (spec 6.4): method + bucket/key + sub-resource parameters.

The routing table is derived from botocore's s3 model once per process.  Every operation's
``requestUri`` gives its method, its level (service ``/``, bucket ``/{Bucket}``, object
``/{Bucket}/{Key+}``) and its literal sub-resources (``?acl``, ``?uploads``, ``?list-type=2``).
Operations that share all three are told apart by their required query parameters and
headers — ``uploadId``/``partNumber`` (UploadPart, ListParts, CompleteMultipartUpload,
AbortMultipartUpload), ``x-amz-copy-source`` (CopyObject, UploadPartCopy), ``id`` (Get vs
List analytics/inventory/metrics configurations) — the most specific match wins.  Deprecated
duplicates (GetBucketLifecycle, PutBucketNotification...) and endpoints trailgate does not
serve (ListDirectoryBuckets, WriteGetObjectResponse) are left out.

Addressing: path style ``/bucket/key`` by default; virtual-host style ``Host:
bucket.<base_host>[:port]`` only when a ``base_host`` is configured.  The key is the raw path
percent-decoded exactly (UTF-8; ``+`` stays ``+``; ``//`` and a trailing ``/`` are kept).

Failures (:class:`RoutingError` with ``service="s3"``): ``MethodNotAllowed`` 405 for a method
or sub-resource the resource does not support, ``NotImplemented`` 501 for HTTP methods S3 does
not know and bucket POSTs that are not ``multipart/form-data`` uploads (those are PutObject,
see ``gateway/post_upload.py``), ``InvalidURI`` 400 for undecodable paths.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, unquote, unquote_plus

from .. import specs
from ..errors import ServiceError
from ..routing import RoutingError
from . import errors

if TYPE_CHECKING:  # gateway.context imports the protocol package: no runtime import back
    from ...gateway.context import HttpRequest

SERVICE: Final = 0
BUCKET: Final = 1
OBJECT: Final = 2
_LEVEL_NAMES: Final = ("SERVICE", "BUCKET", "OBJECT")
KNOWN_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})
#: Operations not routed: served on other endpoints, or deprecated twins of routed ones.
EXCLUDED: Final = frozenset({"ListDirectoryBuckets", "WriteGetObjectResponse"})
#: Literal parameters that select a variant rather than name a sub-resource.
_VALUE_LITERALS: Final = frozenset({"list-type", "select-type"})


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    literals: tuple[tuple[str, str], ...]  # (name, required value or "" for any)
    query_needs: tuple[str, ...]  # query parameters that must be present
    header_needs: tuple[str, ...]  # lower-cased headers that must be present


@dataclass(frozen=True, slots=True)
class Table:
    routes: dict[tuple[str, int], tuple[Route, ...]]  # (method, level) -> most specific first
    subresources: frozenset[str]  # every literal parameter name of the model
    levels: dict[int, frozenset[str]]  # level -> methods with at least one route there


_lock = threading.Lock()
_table: Table | None = None


def _level(path: str) -> int:
    if "{Key+}" in path:
        return OBJECT
    return BUCKET if "{Bucket}" in path else SERVICE


def _required_locations(operation: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    op = specs.operation_model("s3", operation)
    shape = op.input_shape if op is not None else None
    if shape is None:
        return (), ()
    query: list[str] = []
    headers: list[str] = []
    for name in shape.required_members:
        ser = shape.members[name].serialization
        if ser.get("location") == "querystring":
            query.append(ser.get("name", name))
        elif ser.get("location") == "header":
            headers.append(ser.get("name", name).lower())
    return tuple(query), tuple(headers)


def _build() -> Table:
    model = specs.service_model("s3")
    raw: dict[tuple[str, int, tuple[tuple[str, str], ...]], list[str]] = {}
    for name in sorted(model.operation_names):
        if name in EXCLUDED:
            continue
        http = model.operation_model(name).http
        path, _, qs = http["requestUri"].partition("?")
        literals = tuple(sorted(parse_qsl(qs, keep_blank_values=True)))
        raw.setdefault((http["method"], _level(path), literals), []).append(name)
    routes: dict[tuple[str, int], list[Route]] = {}
    subresources: set[str] = set()
    for (method, level, literals), names in raw.items():
        live = [n for n in names if not model.operation_model(n).deprecated] or names
        subresources.update(k for k, _ in literals)
        for name in live:
            query, headers = _required_locations(name)
            if len(live) == 1 and literals:
                query, headers = (), ()  # nothing to tell apart: missing members are parse errors
            routes.setdefault((method, level), []).append(Route(name, literals, query, headers))
    ordered = {
        key: tuple(
            sorted(
                group,
                key=lambda r: (
                    -len(r.literals),
                    any(k in _VALUE_LITERALS for k, _ in r.literals),
                    -(len(r.query_needs) + len(r.header_needs)),
                    r.operation,
                ),
            )
        )
        for key, group in routes.items()
    }
    levels: dict[int, set[str]] = {}
    for method, level in ordered:
        levels.setdefault(level, set()).add(method)
    return Table(ordered, frozenset(subresources), {k: frozenset(v) for k, v in levels.items()})


def table() -> Table:
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                _table = _build()
    return _table


# --------------------------------------------------------------------------- addressing


def _host_bucket(req: HttpRequest, base_host: str | None) -> str | None:
    if not base_host:
        return None
    host = req.header("host").strip().lower()
    if not host or host.startswith("["):
        return None
    name, _, port = host.rpartition(":")
    if name and port.isdigit():
        host = name
    base = base_host.strip().lower()
    base_name, _, base_port = base.rpartition(":")
    if base_name and base_port.isdigit():
        base = base_name
    if len(host) > len(base) + 1 and host.endswith(base) and host[-len(base) - 1] == ".":
        return host[: -len(base) - 1]
    return None


def _decode(text: str, raw_path: str) -> str:
    if "%" not in text:
        return text
    try:
        return unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise _fail(errors.invalid_uri(raw_path)) from None


def _fail(err: ServiceError) -> RoutingError:
    return RoutingError(err.code, err.message, err.status, dict(err.extra), service="s3")


def locate(req: HttpRequest, base_host: str | None = None) -> tuple[str | None, str | None]:
    """``(bucket, key)`` of ``req``; either may be ``None`` (an empty key is no key)."""
    path = req.raw_path or "/"
    if not path.startswith("/"):
        raise _fail(errors.invalid_uri(path))
    bucket = _host_bucket(req, base_host)
    if bucket is not None:
        key = path[1:]
    else:
        bucket_part, _, key = path[1:].partition("/")
        if not bucket_part:
            if key:
                raise _fail(errors.invalid_uri(path))
            return None, None
        bucket = _decode(bucket_part, path)
    return bucket, (_decode(key, path) if key else None)


# --------------------------------------------------------------------------- dispatch


def _query_names(qs: str) -> dict[str, str]:
    """Parameter names (decoded) -> first value (decoded, '' when absent or undecodable)."""
    names: dict[str, str] = {}
    if not qs:
        return names
    for part in qs.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        try:
            name = unquote_plus(name, errors="strict")
            value = unquote_plus(value, errors="strict")
        except UnicodeDecodeError:
            continue
        names.setdefault(name, value)
    return names


def _matches(route: Route, query: dict[str, str], req: HttpRequest) -> bool:
    for name, value in route.literals:
        if name not in query or (value and query[name] != value):
            return False
    if any(name not in query for name in route.query_needs):
        return False
    return all(name in req.headers for name in route.header_needs)


def s3_operation(
    req: HttpRequest, *, base_host: str | None = None
) -> tuple[str, str | None, str | None]:
    """``(operation, bucket, key)`` of an S3 request; raises :class:`RoutingError`."""
    method = req.method.upper()
    if method not in KNOWN_METHODS:
        raise _fail(errors.not_implemented())
    bucket, key = locate(req, base_host)
    level = SERVICE if bucket is None else OBJECT if key is not None else BUCKET
    tab = table()
    query = _query_names(req.query_string)
    for route in tab.routes.get((method, level), ()):
        if _matches(route, query, req):
            used = {name for name, _ in route.literals}
            stray = [
                n
                for n in query
                if n in tab.subresources and n not in used and n not in _VALUE_LITERALS
            ]
            if not stray:
                return route.operation, bucket, key
            break
    if method == "POST" and level == BUCKET and not (query.keys() & tab.subresources):
        # a browser-based POST upload: a PutObject whose key and body are in the form
        if req.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            return "PutObject", bucket, None
        raise _fail(errors.not_implemented())
    raise _fail(errors.method_not_allowed(method, _LEVEL_NAMES[level]))


class S3Locator:
    """Callable ``HttpRequest -> operation`` (routing's ``S3Resolver``); after a call,
    :attr:`bucket` and :attr:`key` hold what the request addressed."""

    __slots__ = ("base_host", "bucket", "key")

    def __init__(self, base_host: str | None = None) -> None:
        self.base_host = base_host
        self.bucket: str | None = None
        self.key: str | None = None

    def __call__(self, req: HttpRequest) -> str:
        operation, self.bucket, self.key = s3_operation(req, base_host=self.base_host)
        return operation
