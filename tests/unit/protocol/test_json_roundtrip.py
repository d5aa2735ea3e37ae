"""JSON 1.1 (CloudTrail, Organizations) round trips with botocore as the oracle."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.parsers import create_parser
from protocol_support import WHEN, botocore_request, client_roundtrip, normalize, sample

from trailgate.protocol import json11, specs
from trailgate.protocol.errors import ServiceError

JSON_OPS = [
    (s, op) for s in ("cloudtrail", "organizations") for op in sorted(specs.operation_names(s))
]


def parse_with_botocore(service: str, operation: str, body: bytes, status: int = 200) -> Any:
    op = specs.operation_model(service, operation)
    headers = json11.json_headers(service, "rid-j")
    response = {
        "body": body,
        "headers": {k.lower(): v for k, v in headers.items()},
        "status_code": status,
    }
    return create_parser("json").parse(response, op.output_shape)


def our_parse(service: str, operation: str, params: dict[str, Any], **kw: Any) -> Any:
    req = botocore_request(service, operation, params)
    assert req.headers["content-type"] == "application/x-amz-json-1.1"
    assert req.headers["x-amz-target"] == f"{specs.target_prefix(service)}.{operation}"
    return json11.parse_json(service, operation, req.body, **kw)


CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "cloudtrail",
        "PutEventSelectors",
        {
            "TrailName": "org-trail",
            "EventSelectors": [
                {
                    "ReadWriteType": "All",
                    "IncludeManagementEvents": True,
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b/"]}],
                    "ExcludeManagementEventSources": [],
                }
            ],
        },
    ),
    (
        "cloudtrail",
        "LookupEvents",
        {
            "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}],
            "StartTime": datetime(2026, 1, 1, tzinfo=UTC),
            "EndTime": WHEN,
            "MaxResults": 50,
            "NextToken": "tok",
        },
    ),
    (
        "cloudtrail",
        "CreateTrail",
        {
            "Name": "t",
            "S3BucketName": "trail-bucket",
            "S3KeyPrefix": "p",
            "IsMultiRegionTrail": True,
            "EnableLogFileValidation": True,
            "IsOrganizationTrail": False,
            "TagsList": [{"Key": "k", "Value": "v"}],
        },
    ),
    (
        "organizations",
        "CreateAccount",
        {
            "Email": "d@example.com",
            "AccountName": "D account",
            "RoleName": "OrganizationAccountAccessRole",
            "IamUserAccessToBilling": "DENY",
            "Tags": [{"Key": "env", "Value": "prod"}],
        },
    ),
    ("organizations", "DescribeOrganization", {}),
    ("organizations", "ListAccounts", {"MaxResults": 20, "NextToken": "n"}),
]


@pytest.mark.parametrize(("service", "operation", "params"), CASES, ids=[c[1] for c in CASES])
def test_botocore_request_parses_back(service: str, operation: str, params: dict[str, Any]) -> None:
    assert our_parse(service, operation, params) == params


@pytest.mark.parametrize(("service", "operation"), JSON_OPS, ids=[f"{s}.{o}" for s, o in JSON_OPS])
def test_every_operation_request_roundtrip(service: str, operation: str) -> None:
    op = specs.operation_model(service, operation)
    params = sample(op.input_shape) if op.input_shape is not None else {}
    assert normalize(our_parse(service, operation, params, validate=False)) == normalize(params)


@pytest.mark.parametrize(("service", "operation"), JSON_OPS, ids=[f"{s}.{o}" for s, o in JSON_OPS])
def test_every_operation_response_parses_in_botocore(service: str, operation: str) -> None:
    op = specs.operation_model(service, operation)
    result = sample(op.output_shape) if op.output_shape is not None else {}
    body = json11.serialize_json(service, operation, result)
    parsed = parse_with_botocore(service, operation, body)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "rid-j"
    assert normalize(parsed) == normalize(result)


def test_timestamps_accept_int_float_iso() -> None:
    for raw in (1704067200, 1704067200.0, "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00"):
        body = json.dumps({"StartTime": raw}).encode()
        assert json11.parse_json("cloudtrail", "LookupEvents", body) == {
            "StartTime": datetime(2024, 1, 1, tzinfo=UTC)
        }


def test_timestamps_out_are_epoch_seconds_with_millis() -> None:
    status = {
        "Id": "car-abcdefgh",
        "State": "SUCCEEDED",
        "RequestedTimestamp": datetime(2015, 9, 1, 20, 35, 57, 497000, tzinfo=UTC),
    }
    body = json11.serialize_json(
        "organizations", "DescribeCreateAccountStatus", {"CreateAccountStatus": status}
    )
    assert json.loads(body) == {
        "CreateAccountStatus": {
            "Id": "car-abcdefgh",
            "State": "SUCCEEDED",
            "RequestedTimestamp": 1441139757.497,
        }
    }


def test_null_members_are_absent_and_unknown_ignored() -> None:
    body = b'{"Name": "t", "S3BucketName": "b", "S3KeyPrefix": null, "Bogus": 1}'
    assert json11.parse_json("cloudtrail", "CreateTrail", body) == {
        "Name": "t",
        "S3BucketName": "b",
    }


def test_empty_body_is_empty_object() -> None:
    assert json11.parse_json("organizations", "DescribeOrganization", b"") == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", ""),
        (b"\xff\xfe", ""),
        (b"[]", "Unrecognized collection type class LookupEventsRequest"),
        (b'{"MaxResults": "5"}', "STRING_VALUE cannot be converted to Integer"),
        (b'{"MaxResults": 1.5}', "DECIMAL_VALUE cannot be converted to Integer"),
        (b'{"MaxResults": 99999999999}', "NUMBER_VALUE cannot be converted to Integer"),
        (b'{"NextToken": 5}', "NUMBER_VALUE cannot be converted to String"),
        (b'{"NextToken": true}', "TRUE_VALUE cannot be converted to String"),
        (b'{"NextToken": {}}', "Start of structure or map found where not expected"),
        (b'{"NextToken": []}', "Unrecognized collection type class java.lang.String"),
        (b'{"LookupAttributes": {}}', "Start of structure or map found where not expected"),
        (b'{"LookupAttributes": "x"}', "Unexpected field type"),
        (b'{"StartTime": "yesterday"}', "STRING_VALUE cannot be converted to Date"),
        (b'{"StartTime": false}', "FALSE_VALUE cannot be converted to Date"),
    ],
)
def test_type_errors_are_serialization_exceptions(body: bytes, message: str) -> None:
    with pytest.raises(ServiceError) as info:
        json11.parse_json("cloudtrail", "LookupEvents", body)
    assert (info.value.code, info.value.status, info.value.message) == (
        "SerializationException",
        400,
        message,
    )


def test_boolean_type_errors() -> None:
    with pytest.raises(ServiceError) as info:
        json11.parse_json(
            "cloudtrail",
            "CreateTrail",
            b'{"Name": "t", "S3BucketName": "b", "IsMultiRegionTrail": "true"}',
        )
    assert info.value.message == "Unexpected token received from parser"
    with pytest.raises(ServiceError) as info:
        json11.parse_json(
            "cloudtrail",
            "CreateTrail",
            b'{"Name": "t", "S3BucketName": "b", "IsMultiRegionTrail": 1}',
        )
    assert info.value.message == "NUMBER_VALUE cannot be converted to Boolean"


@pytest.mark.parametrize(
    ("err", "expected"),
    [
        (
            ServiceError("TrailNotFoundException", "Unknown trail: t for the user: 1", 400),
            {"__type": "TrailNotFoundException", "Message": "Unknown trail: t for the user: 1"},
        ),
        (
            ServiceError("UnknownOperationException", "", 400),
            {"__type": "com.amazon.coral.service#UnknownOperationException"},
        ),
        (
            ServiceError("SerializationException", "", 400),
            {"__type": "com.amazon.coral.service#SerializationException", "Message": ""},
        ),
        (
            ServiceError("ValidationException", "1 validation error detected: x", 400),
            {
                "__type": "com.amazon.coral.validate#ValidationException",
                "message": "1 validation error detected: x",
            },
        ),
        (
            ServiceError("AccessDeniedException", "You don't have permissions", 403),
            {"__type": "AccessDeniedException", "Message": "You don't have permissions"},
        ),
    ],
)
def test_error_bodies_parse_in_botocore(err: ServiceError, expected: dict[str, str]) -> None:
    body = json11.serialize_json_error(err)
    assert json.loads(body) == expected
    parsed = parse_with_botocore("cloudtrail", "GetTrail", body, status=err.status)
    assert parsed["Error"]["Code"] == err.code
    assert parsed["Error"]["Message"] == err.message
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-j"


def test_lone_surrogates_still_give_json() -> None:
    body = json11.serialize_json("cloudtrail", "GetTrail", {"Trail": {"Name": "bad\ud800"}})
    assert json.loads(body) == {"Trail": {"Name": "bad\ud800"}}


def test_boto3_client_end_to_end() -> None:
    def provider(ctx: Any) -> dict[str, Any]:
        if ctx.operation == "GetTrail":
            raise ServiceError("TrailNotFoundException", "Unknown trail: x", 400)
        assert ctx.operation == "LookupEvents"
        assert ctx.params["StartTime"] == datetime(2026, 1, 1, tzinfo=UTC)
        return {
            "Events": [
                {
                    "EventId": "e1",
                    "EventName": "AssumeRole",
                    "EventTime": WHEN,
                    "CloudTrailEvent": "{}",
                }
            ]
        }

    ct = client_roundtrip("cloudtrail", provider)
    out = ct.lookup_events(StartTime=datetime(2026, 1, 1, tzinfo=UTC), EndTime=WHEN)
    assert out["Events"][0]["EventTime"] == WHEN
    assert out["ResponseMetadata"]["RequestId"] == "req-0001"
    with pytest.raises(ct.exceptions.TrailNotFoundException):
        ct.get_trail(Name="x")


def test_boto3_organizations_invalid_input() -> None:
    """Organizations answers constraint failures with InvalidInputException and a Reason."""
    org = client_roundtrip("organizations", lambda ctx: {})
    with pytest.raises(org.exceptions.InvalidInputException) as info:
        org.create_account(Email="not-an-email", AccountName="D")
    error = info.value.response["Error"]
    assert error["Code"] == "InvalidInputException"
    assert error["Message"] == "You provided a value that does not match the required pattern."
    assert info.value.response["Reason"] == "INVALID_PATTERN"
