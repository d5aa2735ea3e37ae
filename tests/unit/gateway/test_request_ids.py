"""Request ids per service: S3's 16 upper-case hex digits and base64 x-amz-id-2, UUIDs for
the others (``gateway.request_ids``)."""

from __future__ import annotations

import base64
import re

from trailgate.gateway.chain import assign_request_id
from trailgate.gateway.context import HttpRequest, RequestContext
from trailgate.gateway.request_ids import (
    HOST_ID_BYTES,
    new_s3_host_id,
    new_s3_request_id,
    new_uuid_request_id,
)

S3_REQUEST_ID = re.compile(r"[0-9A-F]{16}")
HOST_ID = re.compile(r"[A-Za-z0-9+/]{75}=")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_s3_request_ids_are_16_upper_hex_digits_and_never_repeat() -> None:
    ids = [new_s3_request_id() for _ in range(200_000)]
    assert all(S3_REQUEST_ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    # shuffled, not counting up: consecutive ids differ in their leading digits too
    assert len({i[:4] for i in ids[:1000]}) > 900


def test_s3_host_ids_are_base64_of_56_bytes() -> None:
    ids = [new_s3_host_id() for _ in range(10_000)]
    assert all(HOST_ID.fullmatch(i) for i in ids)
    assert all(len(base64.b64decode(i)) == HOST_ID_BYTES for i in ids)
    assert len(set(ids)) == len(ids)


def test_other_services_keep_uuids_that_never_repeat() -> None:
    ids = [new_uuid_request_id() for _ in range(200_000)]
    assert all(UUID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert len({i[:4] for i in ids[:1000]}) > 900  # shuffled, not counting up


def context(service: str) -> RequestContext:
    request = HttpRequest("GET", "/", "", {}, b"", "127.0.0.1")
    return RequestContext(request=request, received_at=None, service=service)  # type: ignore[arg-type]


def test_each_service_gets_its_own_shape() -> None:
    for service in ("iam", "sts", "cloudtrail", "organizations"):
        ctx = context(service)
        assign_request_id(ctx)
        assert UUID.fullmatch(ctx.request_id) and ctx.host_id == ""
    for service in ("s3", ""):  # "": not recognised, answered as S3 answers
        ctx = context(service)
        assign_request_id(ctx)
        assert S3_REQUEST_ID.fullmatch(ctx.request_id)
        assert HOST_ID.fullmatch(ctx.host_id)
