"""Helpers for the protocol tests: sample values per shape, botocore as the oracle.

- :func:`sample` builds a value for any botocore shape (every member filled, lists of two,
  tricky strings), so round trips can cover every operation of a model.
- :func:`botocore_request` serialises params exactly as botocore sends them.
- :func:`client_roundtrip` runs a real boto3 client whose ``before-send`` hook answers from our
  protocol layer: the request botocore made is identified and parsed by us, a fake provider
  returns the result, our rendering is parsed by the client with all its handlers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.model import OperationModel, Shape
from botocore.serialize import create_serializer

from trailgate import protocol
from trailgate.gateway.context import HttpRequest, RequestContext
from trailgate.protocol import specs

WHEN = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Action": ["s3:Get*", "s3:List*"], "Resource": "arn:aws:s3:::b/a b+c*"}]}'
)
TRICKY = "tab\there <&> \"q\" 'a' é ü 漢字 😀 +%20=&"
ENDPOINT = "http://localhost:4566"


def sample(shape: Shape, depth: int = 0, text: str = TRICKY) -> Any:
    """A value for ``shape``: all members, lists of two, maps of two, enum's last value."""
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return {"doc": [1, "two"]}
        if depth > 8:
            return {}
        members = shape.members
        if getattr(shape, "is_tagged_union", False):
            name = next(iter(members))
            return {name: sample(members[name], depth + 1, text)}
        return {name: sample(m, depth + 1, text) for name, m in members.items()}
    if kind == "list":
        return [sample(shape.member, depth + 1, text + "1"), sample(shape.member, depth + 1, text)]
    if kind == "map":
        return {
            "k1": sample(shape.value, depth + 1, text),
            "k 2é": sample(shape.value, depth + 1, text + "2"),
        }
    if kind == "string":
        if shape.enum:
            return shape.enum[-1]
        if shape.name == "policyDocumentType":
            return POLICY
        return f"{shape.name}-{text}"
    if kind in ("integer", "long"):
        return 7 if kind == "integer" else 1234567890123
    if kind in ("float", "double"):
        return 1.5
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return WHEN
    if kind == "blob":
        return b"\x00\xffbinary\r\n"
    raise AssertionError(kind)


def normalize(value: Any) -> Any:
    """Comparable form: aware datetimes as UTC."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def botocore_request(service: str, operation: str, params: dict[str, Any]) -> HttpRequest:
    """``params`` serialised by botocore's own serializer, as the HTTP request it sends."""
    op: OperationModel = specs.operation_model(service, operation)
    serializer = create_serializer(specs.protocol(service), include_validation=False)
    serialized = serializer.serialize_to_request(params, op)
    aws = AWSRequest(
        method=serialized["method"],
        url=ENDPOINT + serialized["url_path"],
        data=serialized["body"],
        headers=serialized["headers"],
        params=serialized["query_string"],
    )
    prepared = aws.prepare()
    return _to_http(prepared.method, prepared.url, dict(prepared.headers), prepared.body)


def _to_http(method: str, url: str, headers: dict[str, Any], body: Any) -> HttpRequest:
    parts = urlsplit(url)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return HttpRequest(
        method=method,
        raw_path=parts.path or "/",
        query_string=parts.query,
        headers={k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in headers.items()},
        body=body or b"",
        client_ip="127.0.0.1",
    )


def context(req: HttpRequest) -> RequestContext:
    return RequestContext(request=req, received_at=WHEN, request_id="req-0001")


Provider = Callable[[RequestContext], dict[str, Any]]


def client_roundtrip(service: str, provider: Provider, region: str = "us-east-1") -> Any:
    """A boto3 client answered in-process by trailgate's protocol layer and ``provider``
    (which may raise ServiceError).  ``client.seen`` lists the contexts handled."""
    client = boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 0}),
    )
    seen: list[RequestContext] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        ctx = context(_to_http(request.method, request.url, dict(request.headers), request.body))
        try:
            protocol.identify_request(ctx)
            protocol.parse_request(ctx)
            ctx.result = provider(ctx)
        except protocol.ServiceError as err:
            ctx.error = err
        protocol.render(ctx)
        seen.append(ctx)
        raw = _Raw(ctx.response.body)
        return AWSResponse(request.url, ctx.response.status, ctx.response.headers, raw)

    client.meta.events.register("before-send", answer)
    client.seen = seen  # type: ignore[attr-defined]
    return client


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def policy_json(text: str) -> Any:
    return json.loads(text)
