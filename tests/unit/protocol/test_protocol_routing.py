"""Routing one request on a single endpoint (spec 6.2), from what botocore really sends."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from protocol_support import ENDPOINT, _to_http

from trailgate.gateway.context import HttpRequest
from trailgate.protocol import routing
from trailgate.protocol.routing import RoutingError, identify


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def capture(
    service: str, call: str, config: Config | None = None, region: str = "eu-west-1", **kwargs: Any
) -> HttpRequest:
    client = boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
        config=config or Config(),
    )

    def stop(request: Any, **_: Any) -> None:
        raise _Captured(request)

    client.meta.events.register("before-send", stop)
    with pytest.raises(_Captured) as info:
        getattr(client, call)(**kwargs)
    r = info.value.request
    return _to_http(r.method, r.url, dict(r.headers), r.body)


def raw(
    method: str = "POST", path: str = "/", qs: str = "", body: bytes = b"", **headers: str
) -> HttpRequest:
    return HttpRequest(
        method,
        path,
        qs,
        {k.replace("_", "-").lower(): v for k, v in headers.items()},
        body,
        "127.0.0.1",
    )


# --------------------------------------------------------------------------- signed (SigV4)


@pytest.mark.parametrize(
    ("service", "call", "kwargs", "operation"),
    [
        ("iam", "create_role", {"RoleName": "r", "AssumeRolePolicyDocument": "{}"}, "CreateRole"),
        ("sts", "get_caller_identity", {}, "GetCallerIdentity"),
        ("cloudtrail", "describe_trails", {}, "DescribeTrails"),
        ("organizations", "describe_organization", {}, "DescribeOrganization"),
        ("s3", "list_buckets", {}, None),
    ],
)
def test_sigv4_scope_gives_service_and_region(
    service: str, call: str, kwargs: dict[str, Any], operation: str | None
) -> None:
    req = capture(service, call, **kwargs)
    assert req.header("authorization").startswith("AWS4-HMAC-SHA256 Credential=")
    assert identify(req) == (service, operation, "eu-west-1")


def test_iam_scope_with_sts_action_is_invalid_action() -> None:
    req = capture("sts", "get_caller_identity")
    req.headers["authorization"] = req.headers["authorization"].replace("/sts/", "/iam/")
    with pytest.raises(RoutingError) as info:
        identify(req)
    err = info.value
    assert (err.code, err.status, err.service) == ("InvalidAction", 400, "iam")
    assert err.message == "Could not find operation GetCallerIdentity for version 2011-06-15"


def test_unknown_action_in_signed_request() -> None:
    req = capture("iam", "list_roles")
    req.body = req.body.replace(b"Action=ListRoles", b"Action=ListRolez")
    with pytest.raises(RoutingError) as info:
        identify(req)
    assert info.value.message == "Could not find operation ListRolez for version 2010-05-08"


def test_missing_action_in_signed_query_request() -> None:
    req = capture("iam", "list_roles")
    req.body = b"Version=2010-05-08"
    with pytest.raises(RoutingError) as info:
        identify(req)
    assert (info.value.code, info.value.service) == ("MissingAction", "iam")


def test_presigned_sigv4_query_credential() -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="eu-central-1",
        aws_access_key_id="AKIAX",
        aws_secret_access_key="s",
        config=Config(signature_version="s3v4"),
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    req = _to_http("GET", url, {}, b"")
    assert "X-Amz-Credential=" in req.query_string
    assert identify(req, s3_resolver=lambda r: "GetObject") == ("s3", "GetObject", "eu-central-1")


def test_presigned_sts_query_request() -> None:
    qs = "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20260101%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Signature=00"
    assert identify(raw("GET", qs=qs)) == ("sts", "GetCallerIdentity", "us-west-2")


def test_sigv4a_scope_has_no_region() -> None:
    auth = "AWS4-ECDSA-P256-SHA256 Credential=AKIAX/20260101/sts/aws4_request, SignedHeaders=host, Signature=00"
    req = raw(body=b"Action=GetCallerIdentity&Version=2011-06-15", authorization=auth)
    assert identify(req, default_region="us-east-1") == ("sts", "GetCallerIdentity", "us-east-1")


# --------------------------------------------------------------------------- SigV2 -> S3


def test_sigv2_header_is_s3() -> None:
    req = capture("s3", "list_buckets", config=Config(signature_version="s3"))
    assert req.header("authorization").startswith("AWS ")
    assert identify(req) == ("s3", None, "")


def test_sigv2_presigned_url_is_s3() -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="AKIAX",
        aws_secret_access_key="s",
        config=Config(signature_version="s3"),
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    req = _to_http("GET", url, {}, b"")
    assert "AWSAccessKeyId=" in req.query_string
    assert identify(req, default_region="us-east-1") == ("s3", None, "us-east-1")


def test_query_protocol_sigv2_routes_by_action() -> None:
    qs = "Action=ListUsers&Version=2010-05-08&AWSAccessKeyId=AKIAX&SignatureVersion=2&SignatureMethod=HmacSHA256&Signature=x"
    assert identify(raw("GET", qs=qs)) == ("iam", "ListUsers", "")


# --------------------------------------------------------------------------- unsigned


@pytest.mark.parametrize(
    ("service", "call", "kwargs", "operation"),
    [
        ("iam", "list_roles", {}, "ListRoles"),
        ("sts", "get_caller_identity", {}, "GetCallerIdentity"),
        ("cloudtrail", "describe_trails", {}, "DescribeTrails"),
        ("organizations", "describe_organization", {}, "DescribeOrganization"),
        ("s3", "list_objects_v2", {"Bucket": "b"}, None),
    ],
)
def test_unsigned_requests(
    service: str, call: str, kwargs: dict[str, Any], operation: str | None
) -> None:
    req = capture(service, call, config=Config(signature_version=UNSIGNED), **kwargs)
    assert not req.header("authorization")
    assert identify(req, default_region="us-east-1") == (service, operation, "us-east-1")


def test_short_cloudtrail_target_form() -> None:
    req = raw(
        body=b"{}",
        x_amz_target="CloudTrail_20131101.ListTrails",
        content_type="application/x-amz-json-1.1",
    )
    assert identify(req) == ("cloudtrail", "ListTrails", "")


@pytest.mark.parametrize(
    ("target", "service"),
    [
        ("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.NoSuchOp", "cloudtrail"),
        ("AWSOrganizationsV20161128.NoSuchOp", "organizations"),
        ("DynamoDB_20120810.ListTables", "cloudtrail"),
        ("AWSOrganizationsV20161128.", "organizations"),
    ],
)
def test_unknown_target(target: str, service: str) -> None:
    with pytest.raises(RoutingError) as info:
        identify(raw(body=b"{}", x_amz_target=target))
    assert (info.value.code, info.value.status, info.value.service) == (
        "UnknownOperationException",
        400,
        service,
    )


def test_json_scope_without_target() -> None:
    req = capture("cloudtrail", "describe_trails")
    del req.headers["x-amz-target"]
    with pytest.raises(RoutingError) as info:
        identify(req)
    assert (info.value.code, info.value.service) == ("UnknownOperationException", "cloudtrail")


def test_get_query_string_action() -> None:
    assert identify(raw("GET", qs="Action=GetUser&Version=2010-05-08&UserName=u")) == (
        "iam",
        "GetUser",
        "",
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"Action=GetSessionToken", ("sts", "GetSessionToken", "")),  # no Version: by action name
        (b"Action=ListUsers", ("iam", "ListUsers", "")),
        (b"Version=2011-06-15&Action=AssumeRole", ("sts", "AssumeRole", "")),
    ],
)
def test_unsigned_form_without_or_with_version(body: bytes, expected: tuple[str, str, str]) -> None:
    assert identify(raw(body=body, content_type="application/x-www-form-urlencoded")) == expected


def test_unsigned_unknown_action_and_version() -> None:
    with pytest.raises(RoutingError) as info:
        identify(raw(body=b"Action=Nope&Version=2010-05-08"))
    assert info.value.message == "Could not find operation Nope for version 2010-05-08"
    with pytest.raises(RoutingError) as info:
        identify(raw(body=b"Action=Nope&Version=2099-01-01"))
    assert (info.value.service, info.value.message) == (
        "iam",
        "Could not find operation Nope for version 2099-01-01",
    )


def test_everything_else_is_s3() -> None:
    assert identify(raw("PUT", "/bucket/key", body=b"Action=ListUsers")) == ("s3", None, "")
    assert identify(raw("GET", "/")) == ("s3", None, "")
    assert identify(raw("POST", "/", body=b'{"a": 1}', content_type="application/json")) == (
        "s3",
        None,
        "",
    )


def test_s3_resolver_plugs_in() -> None:
    assert identify(
        raw("GET", "/b"), s3_resolver=lambda r: "ListObjects" if r.raw_path == "/b" else None
    ) == ("s3", "ListObjects", "")


def test_malformed_credential_falls_back() -> None:
    req = raw(
        body=b"Action=ListUsers&Version=2010-05-08",
        authorization="AWS4-HMAC-SHA256 Credential=garbage",
    )
    assert identify(req) == ("iam", "ListUsers", "")
    req = raw(
        "GET",
        "/b",
        authorization="AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/ec2/aws4_request",
    )
    assert identify(req) == ("s3", None, "")


def test_huge_form_body_still_routes() -> None:
    body = b"Action=ListUsers&Version=2010-05-08&Marker=" + b"x" * (
        routing.limits.MAX_QUERY_BYTES + 10
    )
    assert identify(raw(body=body)) == ("iam", "ListUsers", "")
