"""Helpers for the auth tests: capture what boto3/botocore really send, as ``HttpRequest``s.

A ``before-send`` handler raises before anything goes on the network, so every request is the
exact bytes botocore would have sent (signed by botocore: the oracle).
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from trailgate.gateway.context import HttpRequest

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "TG1session-token-value/with+odd=chars"
ENDPOINT = "http://localhost:4566"
SPECIAL_KEY = "a b+c=d/é~!*'()$&,;:@.json.gz"


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def session(token: str | None = None, region: str = "eu-west-1") -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        region_name=region,
    )


def new_client(
    service: str,
    *,
    token: str | None = None,
    endpoint: str = ENDPOINT,
    signature_version: str | None = None,
    addressing_style: str | None = None,
) -> Any:
    """A fresh botocore client (creating one costs ~0.3 s: prefer :func:`client`)."""
    config = Config(retries={"max_attempts": 0, "mode": "standard"})
    if signature_version:
        config = config.merge(Config(signature_version=signature_version))
    if addressing_style:
        config = config.merge(Config(s3={"addressing_style": addressing_style}))
    return session(token).client(service, endpoint_url=endpoint, config=config)


@functools.cache
def client(
    service: str,
    *,
    token: str | None = None,
    endpoint: str = ENDPOINT,
    signature_version: str | None = None,
    addressing_style: str | None = None,
) -> Any:
    """A shared client per configuration (do not register handlers on it)."""
    return new_client(
        service,
        token=token,
        endpoint=endpoint,
        signature_version=signature_version,
        addressing_style=addressing_style,
    )


def capture(cl: Any, operation: str, **params: Any) -> HttpRequest:
    """Call ``operation`` and return the request botocore was about to send."""

    def handler(request: Any, **_: Any) -> None:
        raise _Captured(request)

    cl.meta.events.register("before-send", handler, unique_id="trailgate-capture")
    try:
        getattr(cl, operation)(**params)
    except _Captured as captured:
        return prepared_to_http(captured.request)
    finally:
        cl.meta.events.unregister("before-send", unique_id="trailgate-capture")
    raise AssertionError("no request was sent")


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def prepared_to_http(prepared: Any) -> HttpRequest:
    parts = urlsplit(prepared.url)
    headers: dict[str, str] = {}
    for name, value in prepared.headers.items():
        lname = name.lower()
        text = _text(value)
        headers[lname] = f"{headers[lname]},{text}" if lname in headers else text
    headers.setdefault("host", parts.netloc)  # what http.client adds
    body = prepared.body
    if hasattr(body, "read"):
        body = body.read()
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode()
    return HttpRequest(
        method=prepared.method,
        raw_path=parts.path,
        query_string=parts.query,
        headers=headers,
        body=bytes(body),
        client_ip="127.0.0.1",
        secure=parts.scheme == "https",
    )


def url_to_http(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> HttpRequest:
    parts = urlsplit(url)
    return HttpRequest(
        method=method,
        raw_path=parts.path,
        query_string=parts.query,
        headers={"host": parts.netloc, **(headers or {})},
        body=b"",
        client_ip="127.0.0.1",
    )


def now() -> datetime:
    return datetime.now(UTC)


def replace(req: HttpRequest, **changes: Any) -> HttpRequest:
    return dataclasses.replace(req, headers=dict(req.headers), **changes)


def substitute(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by a different one."""
    char = text[index]
    new = "x" if char != "x" else "y"
    if char.isdigit():
        new = "7" if char != "7" else "8"
    elif char in "0123456789abcdef" and len(text) == 64:
        new = "0" if char != "0" else "1"
    return text[:index] + new + text[index + 1 :]
