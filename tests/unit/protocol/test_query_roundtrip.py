"""Query protocol (IAM, STS) round trips with botocore as the oracle, both directions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from botocore.handlers import json_decode_policies
from botocore.parsers import create_parser
from protocol_support import (
    POLICY,
    WHEN,
    botocore_request,
    client_roundtrip,
    normalize,
    sample,
)

from trailgate.protocol import query, specs
from trailgate.protocol.errors import ServiceError

QUERY_OPS = [(s, op) for s in ("iam", "sts") for op in sorted(specs.operation_names(s))]


def parse_with_botocore(service: str, operation: str, body: bytes, status: int = 200) -> Any:
    op = specs.operation_model(service, operation)
    parser = create_parser("query")
    return parser.parse({"body": body, "headers": {}, "status_code": status}, op.output_shape)


def our_parse(service: str, operation: str, params: dict[str, Any], **kw: Any) -> Any:
    req = botocore_request(service, operation, params)
    assert req.method == "POST"
    return query.parse_query(service, operation, req.body, **kw)


# --------------------------------------------------------------------------- requests


CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "iam",
        "CreateRole",
        {
            "RoleName": "admin-reader",
            "Path": "/team/",
            "AssumeRolePolicyDocument": POLICY,
            "Description": "reads é things",
            "MaxSessionDuration": 7200,
            "PermissionsBoundary": "arn:aws:iam::111111111111:policy/b",
            "Tags": [{"Key": "team", "Value": "a b+c"}, {"Key": "empty", "Value": ""}],
        },
    ),
    (
        "sts",
        "AssumeRole",
        {
            "RoleArn": "arn:aws:iam::222222222222:role/r",
            "RoleSessionName": "s@x.y",
            "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "Policy": POLICY,
            "DurationSeconds": 900,
            "Tags": [{"Key": "k", "Value": "v"}],
            "TransitiveTagKeys": ["k"],
            "ExternalId": "ext-1",
            "SerialNumber": "arn:aws:iam::111111111111:mfa/u",
            "TokenCode": "123456",
            "SourceIdentity": "me",
        },
    ),
    (
        "iam",
        "SimulatePrincipalPolicy",
        {
            "PolicySourceArn": "arn:aws:iam::111111111111:user/u",
            "ActionNames": ["s3:GetObject", "s3:ListBucket"],
            "ResourceArns": ["arn:aws:s3:::b/*"],
            "ContextEntries": [
                {
                    "ContextKeyName": "aws:MultiFactorAuthPresent",
                    "ContextKeyValues": ["true"],
                    "ContextKeyType": "boolean",
                },
                {
                    "ContextKeyName": "aws:SourceIp",
                    "ContextKeyValues": ["10.0.0.1", "10.0.0.2"],
                    "ContextKeyType": "ipList",
                },
            ],
            "MaxItems": 10,
        },
    ),
    ("iam", "ListRoles", {"PathPrefix": "/", "MaxItems": 100, "Marker": "m 1"}),
    (
        "iam",
        "CreatePolicyVersion",
        {"PolicyArn": "arn:aws:iam::1:policy/p", "PolicyDocument": POLICY, "SetAsDefault": False},
    ),
    (
        "iam",
        "EnableMFADevice",
        {
            "UserName": "u",
            "SerialNumber": "arn:aws:iam::1:mfa/u",
            "AuthenticationCode1": "123456",
            "AuthenticationCode2": "654321",
        },
    ),
    ("sts", "GetCallerIdentity", {}),
    (
        "sts",
        "GetSessionToken",
        {"DurationSeconds": 3600, "SerialNumber": "arn:aws:iam::1:mfa/u", "TokenCode": "000000"},
    ),
]


@pytest.mark.parametrize(("service", "operation", "params"), CASES, ids=[c[1] for c in CASES])
def test_botocore_request_parses_back(service: str, operation: str, params: dict[str, Any]) -> None:
    assert our_parse(service, operation, params) == params


@pytest.mark.parametrize(
    ("service", "operation"), QUERY_OPS, ids=[f"{s}.{o}" for s, o in QUERY_OPS]
)
def test_every_operation_request_roundtrip(service: str, operation: str) -> None:
    op = specs.operation_model(service, operation)
    params = sample(op.input_shape) if op.input_shape is not None else {}
    assert normalize(our_parse(service, operation, params, validate=False)) == normalize(params)


def test_empty_list_is_sent_and_read_back() -> None:
    params = {
        "PolicySourceArn": "arn:aws:iam::1:user/u",
        "ActionNames": ["iam:GetUser"],
        "ResourceArns": [],
    }
    req = botocore_request("iam", "SimulatePrincipalPolicy", params)
    assert b"ResourceArns=&" in req.body or req.body.endswith(b"ResourceArns=")
    assert query.parse_query("iam", "SimulatePrincipalPolicy", req.body) == params


def test_timestamps_booleans_blobs_from_text() -> None:
    # IAM's only timestamp input is in GetServiceLastAccessedDetails... use the reader directly
    params = query.parse_query(
        "iam",
        "GenerateCredentialReport",
        b"Action=GenerateCredentialReport&Version=2010-05-08",
    )
    assert params == {}
    form = {
        "PolicyArn": ["arn:aws:iam::1:policy/p"],
        "PolicyDocument": [POLICY],
        "SetAsDefault": ["TRUE"],
    }
    parsed = query.parse_query("iam", "CreatePolicyVersion", form)
    assert parsed["SetAsDefault"] is True


def test_form_plus_is_space_and_first_value_wins() -> None:
    body = b"Action=ListRoles&Version=2010-05-08&Marker=a+b%2Bc&Marker=second&Unknown=1"
    assert query.parse_query("iam", "ListRoles", body) == {"Marker": "a b+c"}


def test_pairs_and_mapping_inputs() -> None:
    pairs = [
        ("RoleName", "r"),
        ("Tags.member.2.Key", "b"),
        ("Tags.member.2.Value", "2"),
        ("Tags.member.1.Key", "a"),
        ("Tags.member.1.Value", "1"),
    ]
    assert query.parse_query("iam", "TagRole", pairs) == {
        "RoleName": "r",
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    }


# --------------------------------------------------------------------------- responses


def test_create_role_response_parses_in_botocore() -> None:
    role = {
        "Path": "/",
        "RoleName": "r",
        "RoleId": "AROAEXAMPLEEXAMPLE01",
        "Arn": "arn:aws:iam::111111111111:role/r",
        "CreateDate": WHEN,
        "AssumeRolePolicyDocument": POLICY,
        "Description": "a <b> & c",
        "MaxSessionDuration": 3600,
        "Tags": [{"Key": "k", "Value": "v"}],
        "RoleLastUsed": {"LastUsedDate": WHEN, "Region": "us-east-1"},
    }
    body = query.serialize_query("iam", "CreateRole", {"Role": role}, "rid-1")
    text = body.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert '<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">' in text
    assert "<CreateDate>2026-11-28T12:00:00Z</CreateDate>" in text
    # the policy document travels URL-encoded, spaces as %20 (never '+')
    assert f"<AssumeRolePolicyDocument>{quote(POLICY, safe='')}</AssumeRolePolicyDocument>" in text
    assert "%20" in quote(POLICY, safe="") and "+" not in quote(POLICY, safe="")
    # members in model order
    assert (
        text.index("<Path>")
        < text.index("<RoleName>")
        < text.index("<RoleId>")
        < text.index("<Arn>")
    )
    parsed = parse_with_botocore("iam", "CreateRole", body)
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-1"
    json_decode_policies(parsed, specs.operation_model("iam", "CreateRole"))
    expected = dict(role, AssumeRolePolicyDocument=json.loads(POLICY))
    assert normalize(parsed["Role"]) == normalize(expected)


@pytest.mark.parametrize(
    ("service", "operation"), QUERY_OPS, ids=[f"{s}.{o}" for s, o in QUERY_OPS]
)
def test_every_operation_response_parses_in_botocore(service: str, operation: str) -> None:
    op = specs.operation_model(service, operation)
    result = sample(op.output_shape) if op.output_shape is not None else {}
    body = query.serialize_query(service, operation, result, "rid-2")
    ET.fromstring(body)  # well-formed
    parsed = parse_with_botocore(service, operation, body)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "rid-2"
    json_decode_policies(parsed, op)
    assert normalize(parsed) == normalize(_decoded_policies(result, op.output_shape))


def _decoded_policies(value: Any, shape: Any) -> Any:
    """What the client sees after json_decode_policies: policy documents as dicts."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _decoded_policies(v, shape.members[k]) for k, v in value.items()}
    if shape.type_name == "list":
        return [_decoded_policies(v, shape.member) for v in value]
    if shape.type_name == "string" and shape.name == "policyDocumentType":
        return json.loads(value)
    return value


def test_no_output_shape_gives_response_metadata_only() -> None:
    body = query.serialize_query("iam", "DeleteRole", None, "rid-3")
    assert body.decode().endswith(
        '<DeleteRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        "<ResponseMetadata><RequestId>rid-3</RequestId></ResponseMetadata></DeleteRoleResponse>"
    )
    assert (
        parse_with_botocore("iam", "DeleteRole", body)["ResponseMetadata"]["RequestId"] == "rid-3"
    )


def test_timestamps_are_utc_whole_seconds() -> None:
    creds = {
        "AccessKeyId": "ASIAEXAMPLE",
        "SecretAccessKey": "s",
        "SessionToken": "t",
        "Expiration": datetime(2026, 1, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
    }
    body = query.serialize_query("sts", "GetSessionToken", {"Credentials": creds}, "r")
    assert b"<Expiration>2026-01-01T12:00:00Z</Expiration>" in body
    parsed = parse_with_botocore("sts", "GetSessionToken", body)
    assert parsed["Credentials"]["Expiration"] == datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "\x00nul\x01\x08\x0b\x0c\x1f",
        "cr\r\nlf",
        "\ud800lone surrogate\udfff",
        "\ufffe\uffff",
        "]]>",
        "a&amp;b",
    ],
)
def test_any_string_gives_well_formed_xml(text: str) -> None:
    body = query.serialize_query("iam", "GetUser", {"User": {"UserName": text, "Path": "/"}}, text)
    root = ET.fromstring(body)
    assert root is not None
    parsed = parse_with_botocore("iam", "GetUser", body)
    if text in ("plain", "cr\r\nlf", "]]>", "a&amp;b"):
        assert parsed["User"]["UserName"] == text


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("service", "err", "kind"),
    [
        (
            "sts",
            ServiceError(
                "AccessDenied",
                "User: arn:aws:iam::1:user/u is not authorized to perform: sts:AssumeRole on resource: <r>",
                403,
            ),
            "Sender",
        ),
        (
            "iam",
            ServiceError("NoSuchEntity", "The role with name R cannot be found.", 404),
            "Sender",
        ),
        ("iam", ServiceError("ServiceFailure", "boom", 500), "Receiver"),
    ],
)
def test_error_body_parses_in_botocore(service: str, err: ServiceError, kind: str) -> None:
    body = query.serialize_query_error(service, err, "rid-e")
    ns = specs.xml_namespace(service)
    assert body.decode().startswith(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{ns}"><Error>'
    )
    op = "AssumeRole" if service == "sts" else "GetRole"
    parsed = parse_with_botocore(service, op, body, status=err.status)
    assert parsed["Error"] == {"Type": kind, "Code": err.code, "Message": err.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-e"


# --------------------------------------------------------------------------- full client


def test_boto3_client_end_to_end_get_role_policy() -> None:
    def provider(ctx: Any) -> dict[str, Any]:
        assert ctx.operation == "GetRolePolicy"
        assert ctx.params == {"RoleName": "r", "PolicyName": "p"}
        return {"RoleName": "r", "PolicyName": "p", "PolicyDocument": POLICY}

    iam = client_roundtrip("iam", provider)
    out = iam.get_role_policy(RoleName="r", PolicyName="p")
    assert out["PolicyDocument"] == json.loads(POLICY)  # URL-decoded + JSON-decoded by botocore
    assert out["ResponseMetadata"]["RequestId"] == "req-0001"
    assert out["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/xml"


def test_boto3_client_end_to_end_assume_role_and_error() -> None:
    def provider(ctx: Any) -> dict[str, Any]:
        if ctx.params["RoleSessionName"] == "deny":
            raise ServiceError(
                "AccessDenied", "User: x is not authorized to perform: sts:AssumeRole", 403
            )
        return {
            "Credentials": {
                "AccessKeyId": "ASIA1",
                "SecretAccessKey": "s",
                "SessionToken": "t",
                "Expiration": WHEN,
            },
            "AssumedRoleUser": {
                "AssumedRoleId": "AROA1:s",
                "Arn": "arn:aws:sts::1:assumed-role/r/s",
            },
            "PackedPolicySize": 6,
            "SourceIdentity": ctx.params.get("SourceIdentity", "none"),
        }

    sts = client_roundtrip("sts", provider)
    out = sts.assume_role(
        RoleArn="arn:aws:iam::1:role/r", RoleSessionName="sess", SourceIdentity="me"
    )
    assert out["Credentials"]["Expiration"] == WHEN
    assert out["PackedPolicySize"] == 6 and out["SourceIdentity"] == "me"
    with pytest.raises(sts.exceptions.ClientError) as info:
        sts.assume_role(RoleArn="arn:aws:iam::1:role/r", RoleSessionName="deny")
    error = info.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    # the server validates patterns botocore leaves alone
    with pytest.raises(sts.exceptions.ClientError) as info:
        sts.assume_role(RoleArn="arn:aws:iam::1:role/r", RoleSessionName="a b")
    assert info.value.response["Error"] == {
        "Type": "Sender",
        "Code": "ValidationError",
        "Message": "1 validation error detected: Value 'a b' at 'roleSessionName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    }
