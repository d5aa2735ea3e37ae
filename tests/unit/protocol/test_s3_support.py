"""Helpers for the S3 protocol tests (no tests here): botocore as the oracle both ways.

- :func:`serialized` — params serialised by botocore's own rest-xml serializer (no handlers),
  as the HttpRequest the HTTP adapter would build;
- :func:`capture` — the request a real boto3 client sends (all handlers: checksums,
  ``encoding-type=url``, Expect...), captured in ``before-send`` without sending;
- :func:`s3_client` — a boto3 client answered in-process by trailgate's protocol facade and a
  fake provider, streaming ``HttpResponse.body_iter`` back to the client;
- :func:`parse_output` — our response read by botocore's rest-xml parser.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSRequest, AWSResponse, HeadersDict
from botocore.config import Config
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from protocol_support import context

from trailgate import protocol
from trailgate.gateway.context import HttpRequest, HttpResponse, RequestContext
from trailgate.protocol import specs

ENDPOINT = "http://localhost:4566"
BASE_HOST = "localhost"


def http_request(
    method: str, url: str, headers: Any, body: Any, body_source: Any = None
) -> HttpRequest:
    """An HttpRequest as the adapter builds it: raw path and query, lower-cased str headers
    (Host from the URL when the client has not set it yet), body bytes."""
    parts = urlsplit(url)
    if hasattr(body, "read"):
        position = body.tell()
        data = body.read()
        body.seek(position)
        body = data
    if isinstance(body, str):
        body = body.encode("utf-8")
    lowered: dict[str, str] = {}
    for name, value in dict(headers).items():
        text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        lowered[name.lower()] = text
    lowered.setdefault("host", parts.netloc)
    return HttpRequest(
        method=method,
        raw_path=parts.path or "/",
        query_string=parts.query,
        headers=lowered,
        body=body or b"",
        client_ip="127.0.0.1",
        body_source=body_source,
    )


def raw(
    method: str = "GET",
    path: str = "/",
    qs: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> HttpRequest:
    hdrs = {"host": "localhost:4566"}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    return HttpRequest(method, path, qs, hdrs, body, "127.0.0.1")


def serialized(operation: str, params: dict[str, Any]) -> HttpRequest:
    """``params`` as botocore's rest-xml serializer writes them (path style)."""
    op = specs.operation_model("s3", operation)
    request = create_serializer("rest-xml", include_validation=False).serialize_to_request(
        params, op
    )
    aws = AWSRequest(
        method=request["method"],
        url=ENDPOINT + request["url_path"],
        data=request["body"],
        headers=request["headers"],
        params=request["query_string"],
    )
    prepared = aws.prepare()
    return http_request(prepared.method, prepared.url, prepared.headers, prepared.body)


def client(*, virtual: bool = False, region: str = "us-east-1", **config: Any) -> Any:
    if virtual:
        config["s3"] = {"addressing_style": "virtual"}
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 0}, **config),
    )


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def capture(call: str, *, virtual: bool = False, **kwargs: Any) -> HttpRequest:
    """The request ``client.<call>(**kwargs)`` sends, captured before sending."""
    c = client(virtual=virtual)

    def stop(request: Any, **_: Any) -> None:
        raise _Captured(request)

    c.meta.events.register("before-send", stop)
    with pytest.raises(_Captured) as info:
        getattr(c, call)(**kwargs)
    r = info.value.request
    return http_request(r.method, r.url, r.headers, r.body)


Provider = Callable[[RequestContext], dict[str, Any]]


def handle(req: HttpRequest, provider: Provider) -> RequestContext:
    """identify + parse + provider + render, as the gateway chain does it."""
    ctx = context(req)
    try:
        protocol.identify_request(ctx, s3_base_host=BASE_HOST)
        protocol.parse_request(ctx)
        ctx.result = provider(ctx)
    except protocol.ServiceError as err:
        ctx.error = err
    protocol.render(ctx)
    return ctx


def s3_client(provider: Provider, *, virtual: bool = False) -> Any:
    """A boto3 s3 client answered in-process; ``client.seen`` lists the contexts handled."""
    c = client(virtual=virtual)
    seen: list[RequestContext] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        ctx = handle(
            http_request(request.method, request.url, request.headers, request.body), provider
        )
        seen.append(ctx)
        resp = ctx.response
        return AWSResponse(request.url, resp.status, resp.headers, _Raw(resp))

    c.meta.events.register("before-send", answer)
    c.seen = seen
    return c


class _Raw:
    """urllib3-like raw response over an HttpResponse (streams ``body_iter``)."""

    def __init__(self, resp: HttpResponse) -> None:
        self._chunks: Iterator[bytes] = (
            resp.body_iter if resp.body_iter is not None else iter([resp.body])
        )
        self._buffer = b""

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        if self._buffer:
            yield self._buffer
            self._buffer = b""
        yield from self._chunks

    def read(self, amt: int | None = None, *_: Any, **__: Any) -> bytes:
        if amt is None:
            data = self._buffer + b"".join(self._chunks)
            self._buffer = b""
            return data
        while len(self._buffer) < amt:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data, self._buffer = self._buffer[:amt], self._buffer[amt:]
        return data


def body_of(resp: HttpResponse) -> bytes:
    return resp.body if resp.body_iter is None else b"".join(resp.body_iter)


def parse_output(operation: str, resp: HttpResponse, body: bytes | None = None) -> Any:
    """``resp`` read by botocore's rest-xml parser against the operation's output shape."""
    op = specs.operation_model("s3", operation)
    data = body_of(resp) if body is None else body
    payload = op.output_shape.serialization.get("payload") if op.output_shape else None
    streaming = payload is not None and op.output_shape.members[payload].type_name == "blob"
    return create_parser("rest-xml").parse(
        {
            "body": io.BytesIO(data) if streaming else data,
            "headers": HeadersDict(resp.headers),
            "status_code": resp.status,
        },
        op.output_shape,
    )
