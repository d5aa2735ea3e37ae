"""The facade over a RequestContext, garbage in (always a 4xx, never a crash), S3 errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from botocore.parsers import create_parser
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_support import botocore_request, context

from trailgate import protocol
from trailgate.gateway.context import HttpRequest
from trailgate.protocol import json11, limits, query, restxml, specs
from trailgate.protocol.errors import ServiceError


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


def run(req: HttpRequest, result: dict[str, Any] | None = None) -> Any:
    """identify + parse (+ a fixed result) + render, the way the chain does it."""
    ctx = context(req)
    try:
        protocol.identify_request(ctx)
        protocol.parse_request(ctx)
        ctx.result = result or {}
    except ServiceError as err:
        ctx.error = err
    protocol.render(ctx)
    return ctx


def test_query_success_headers_and_body() -> None:
    req = botocore_request("iam", "GetUser", {"UserName": "u"})
    ctx = run(
        req,
        {
            "User": {
                "Path": "/",
                "UserName": "u",
                "UserId": "AIDA",
                "Arn": "arn:aws:iam::1:user/u",
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
    )
    assert ctx.params == {"UserName": "u"}
    assert ctx.response.status == 200
    assert ctx.response.headers == {"content-type": "text/xml", "x-amzn-RequestId": "req-0001"}
    assert b"<CreateDate>2026-01-01T00:00:00Z</CreateDate>" in ctx.response.body


def test_json_success_headers() -> None:
    req = botocore_request("organizations", "DescribeOrganization", {})
    ctx = run(req, {"Organization": {"Id": "o-abcdefghij"}})
    assert ctx.response.status == 200
    assert ctx.response.headers == {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-RequestId": "req-0001",
    }
    assert json.loads(ctx.response.body) == {"Organization": {"Id": "o-abcdefghij"}}


def test_validation_error_rendered_as_query_xml() -> None:
    req = botocore_request(
        "sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "a b"}
    )
    ctx = run(req)
    assert ctx.response.status == 400
    parsed = create_parser("query").parse(
        {"body": ctx.response.body, "headers": {}, "status_code": 400},
        specs.operation_model("sts", "AssumeRole").output_shape,
    )
    assert parsed["Error"]["Code"] == "ValidationError"


def test_routing_error_rendered_even_if_chain_leaves_service_empty() -> None:
    ctx = context(raw(body=b"{}", x_amz_target="AWSOrganizationsV20161128.Nope"))
    try:
        protocol.routing.identify(ctx.request)  # the chain's style: ctx.service stays ""
    except ServiceError as err:
        ctx.error = err
    protocol.render(ctx)
    assert ctx.response.status == 400
    assert ctx.response.headers["content-type"] == "application/x-amz-json-1.1"
    assert json.loads(ctx.response.body) == {
        "__type": "com.amazon.coral.service#UnknownOperationException"
    }


def test_invalid_action_rendered_as_query_error() -> None:
    ctx = run(raw(body=b"Action=Bogus&Version=2011-06-15"))
    assert ctx.service == "sts"
    assert ctx.response.status == 400
    root = ET.fromstring(ctx.response.body)
    ns = {"n": "https://sts.amazonaws.com/doc/2011-06-15/"}
    assert root.findtext("n:Error/n:Code", namespaces=ns) == "InvalidAction"
    assert (
        root.findtext("n:Error/n:Message", namespaces=ns)
        == "Could not find operation Bogus for version 2011-06-15"
    )
    assert root.findtext("n:RequestId", namespaces=ns) == "req-0001"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"Action=ListUsers&Version=2010-05-08&PathPrefix=\xff\xfe", 404, "MalformedQueryString"),
        (b"Action=ListUsers&Version=2010-05-08&PathPrefix=%ff%fe", 404, "MalformedQueryString"),
        (
            b"Action=ListUsers&Version=2010-05-08&Marker=" + b"x" * limits.MAX_QUERY_BYTES,
            413,
            "RequestEntityTooLarge",
        ),
        (
            b"Action=ListUsers&Version=2010-05-08" + b"&a=1" * limits.MAX_QUERY_FIELDS,
            413,
            "RequestEntityTooLarge",
        ),
        (b"Action=ListUsers&Version=2010-05-08&MaxItems=lots", 400, "ValidationError"),
    ],
)
def test_garbage_query_bodies(body: bytes, status: int, code: str) -> None:
    ctx = run(raw(body=body, content_type="application/x-www-form-urlencoded"))
    assert (ctx.response.status, ctx.error.code) == (status, code)
    ET.fromstring(ctx.response.body)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"\xff\xfe{", 400, "SerializationException"),
        (b'{"a": [' * 2000, 400, "SerializationException"),
        (b'{"Name": "' + b"x" * limits.MAX_JSON_BYTES + b'"}', 413, "RequestEntityTooLarge"),
        (b"null", 400, "SerializationException"),
    ],
)
def test_garbage_json_bodies(body: bytes, status: int, code: str) -> None:
    req = raw(
        body=body, x_amz_target="com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrail"
    )
    ctx = run(req)
    assert (ctx.response.status, ctx.error.code) == (status, code)
    json.loads(ctx.response.body)


def test_serializer_failure_becomes_internal_failure() -> None:
    req = botocore_request("iam", "GetUser", {"UserName": "u"})
    ctx = run(
        req,
        {
            "User": {
                "UserName": "u",
                "CreateDate": "not a date",
                "PasswordLastUsed": object(),
                "Tags": 5,
            }
        },
    )
    assert ctx.response.status == 500
    root = ET.fromstring(ctx.response.body)
    ns = {"n": "https://iam.amazonaws.com/doc/2010-05-08/"}
    assert root.findtext("n:Error/n:Type", namespaces=ns) == "Receiver"
    assert root.findtext("n:Error/n:Code", namespaces=ns) == "InternalFailure"


def test_s3_errors_and_head() -> None:
    err = ServiceError(
        "NoSuchKey", "The specified key does not exist.", 404, extra={"Key": "a<b", "Bad Name": "x"}
    )
    body = restxml.serialize_error(err, "rid")
    root = ET.fromstring(body)
    assert [c.tag for c in root] == ["Code", "Message", "Key", "RequestId", "HostId"]
    assert root.findtext("Key") == "a<b"
    parsed = create_parser("rest-xml").parse(
        {"body": body, "headers": {}, "status_code": 404},
        specs.service_model("s3").operation_model("GetObject").output_shape,
    )
    assert parsed["Error"] == {
        "Code": "NoSuchKey",
        "Message": "The specified key does not exist.",
        "Key": "a<b",
    }
    ctx = context(raw("HEAD", "/b/k"))
    ctx.service, ctx.error = "s3", err
    protocol.render(ctx)
    assert (ctx.response.status, ctx.response.body) == (404, b"")
    assert set(ctx.response.headers) == {"x-amz-request-id", "x-amz-id-2"}


def test_s3_success_not_rendered_yet() -> None:
    ctx = context(raw("GET", "/"))
    ctx.service = "s3"
    protocol.render(ctx)
    assert ctx.response.status == 501
    assert ET.fromstring(ctx.response.body).findtext("Code") == "NotImplemented"


def test_get_query_string_parameters() -> None:
    ctx = run(raw("GET", qs="Action=GetUser&Version=2010-05-08&UserName=bob"))
    assert (ctx.service, ctx.operation, ctx.params) == ("iam", "GetUser", {"UserName": "bob"})


def test_warm_up_builds_every_plan() -> None:
    protocol.warm_up()
    assert specs.has_operation("iam", "CreateRole")


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_form_body_gives_params_or_service_error(body: bytes) -> None:
    try:
        query.parse_query("sts", "AssumeRole", b"RoleArn=arn:aws:iam::1:role/rr&" + body)
    except ServiceError as err:
        assert 400 <= err.status < 500


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
            lambda c: (
                st.lists(c)
                | st.dictionaries(
                    st.sampled_from(
                        ["Name", "MaxResults", "LookupAttributes", "StartTime", "AttributeKey", "x"]
                    ),
                    c,
                )
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_any_json_body_gives_params_or_service_error(body: bytes) -> None:
    for operation in ("LookupEvents", "GetTrail"):
        try:
            json11.parse_json("cloudtrail", operation, body)
        except ServiceError as err:
            assert 400 <= err.status < 500


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_gives_parseable_xml(text: str) -> None:
    body = query.serialize_query(
        "iam",
        "GetUser",
        {"User": {"UserName": text, "Path": text, "Tags": [{"Key": text, "Value": text}]}},
        "r",
    )
    ET.fromstring(body)
    parsed = create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200},
        specs.operation_model("iam", "GetUser").output_shape,
    )
    assert isinstance(parsed["User"]["UserName"], str)
    err = query.serialize_query_error("iam", ServiceError("X", text), text)
    ET.fromstring(err)
