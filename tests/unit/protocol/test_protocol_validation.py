"""Server-side validation against the input shapes, with AWS's exact wording (spec 3.2)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.loaders import Loader

from trailgate.protocol import json11, patterns, query
from trailgate.protocol.errors import ServiceError

ROLE = "arn:aws:iam::111111111111:role/r"
ASSUME = {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": ROLE, "RoleSessionName": "ok"}


def form(**params: Any) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in params.items()]


def query_error(service: str, operation: str, params: dict[str, Any]) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        query.parse_query(service, operation, form(**params))
    assert info.value.status == 400
    return info.value


PREFIX = "1 validation error detected: "

TABLE: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "sts",
        "AssumeRole",
        {**ASSUME, "RoleSessionName": "a b"},
        "Value 'a b' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ),
    (
        "sts",
        "AssumeRole",
        {**ASSUME, "DurationSeconds": 100},
        "Value '100' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900",
    ),
    (
        "sts",
        "AssumeRole",
        {**ASSUME, "DurationSeconds": 43201},
        "Value '43201' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 43200",
    ),
    (
        "sts",
        "AssumeRole",
        {**ASSUME, "RoleSessionName": "s"},
        "Value 's' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2",
    ),
    (
        "iam",
        "GetRole",
        {"RoleName": "r" * 65},
        f"Value '{'r' * 65}' at 'roleName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64",
    ),
    (
        "iam",
        "GetRole",
        {},
        "Value null at 'roleName' failed to satisfy constraint: Member must not be null",
    ),
    (
        "iam",
        "ListPolicies",
        {"Scope": "Mine"},
        "Value 'Mine' at 'scope' failed to satisfy constraint: "
        "Member must satisfy enum value set: [All, AWS, Local]",
    ),
    (
        "iam",
        "ListPolicies",
        {"MaxItems": 0},
        "Value '0' at 'maxItems' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
    ),
    (
        "iam",
        "TagRole",
        {"RoleName": "r", "Tags.member.1.Key": "bad!", "Tags.member.1.Value": "v"},
        "Value 'bad!' at 'tags.1.member.key' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
    ),
    (
        "iam",
        "CreateLoginProfile",
        {"UserName": "u", "Password": "bad\u0100"},
        "Value at 'password' failed to satisfy constraint: "  # sensitive: value not echoed
        "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
    ),
    (
        "iam",
        "CreateRole",
        {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Path": "nope"},
        "Value 'nope' at 'path' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
    ),
    (
        "sts",
        "AssumeRole",
        {**ASSUME, "DurationSeconds": "abc"},
        "Value 'abc' at 'durationSeconds' failed to satisfy constraint: Member must be an integer",
    ),
    (
        "sts",
        "AssumeRole",
        {**ASSUME, "DurationSeconds": "99999999999"},
        "Value '99999999999' at 'durationSeconds' failed to satisfy constraint: "
        "Member must be an integer",
    ),
]


@pytest.mark.parametrize(("service", "operation", "params", "failure"), TABLE)
def test_single_failure_messages(
    service: str, operation: str, params: dict[str, Any], failure: str
) -> None:
    err = query_error(service, operation, params)
    assert err.code == "ValidationError"
    assert err.message == PREFIX + failure


def test_several_failures_in_model_order() -> None:
    err = query_error("sts", "AssumeRole", {"RoleSessionName": "a b", "DurationSeconds": 1})
    assert err.message == (
        "3 validation errors detected: "
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null; "
        "Value 'a b' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*; "
        "Value '1' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_list_length_and_failure_cap() -> None:
    tags = {}
    for i in range(1, 52):
        tags[f"Tags.member.{i}.Key"] = "!"
        tags[f"Tags.member.{i}.Value"] = "v"
    err = query_error("iam", "TagRole", {"RoleName": "r", **tags})
    assert err.message.startswith("10 validation errors detected: Value '[")
    assert (
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50; "
        in err.message
    )
    assert err.message.count("; ") == 9


@pytest.mark.parametrize("value", ["héllo wörld", "数据", "a_b.c:d/e=f+g-h@i", "Ünïcode 123"])
def test_unicode_tags_pass(value: str) -> None:
    parsed = query.parse_query(
        "iam",
        "TagRole",
        form(RoleName="r", **{"Tags.member.1.Key": value, "Tags.member.1.Value": value}),
    )
    assert parsed["Tags"] == [{"Key": value, "Value": value}]


def test_ascii_word_class_like_java() -> None:
    # Java's \w is ASCII-only: a role name with 'é' fails the pattern
    err = query_error("iam", "GetRole", {"RoleName": "rolé"})
    assert "Member must satisfy regular expression pattern: [\\w+=,.@-]+" in err.message


def test_cloudtrail_invalid_lookup_attribute_key() -> None:
    """CloudTrail answers InvalidLookupAttributesException (its model's exception for a lookup
    attribute that is not valid), not the generic ValidationException."""
    with pytest.raises(ServiceError) as info:
        json11.parse_json(
            "cloudtrail",
            "LookupEvents",
            b'{"MaxResults": 5, "LookupAttributes": [{"AttributeKey": "Nope", "AttributeValue": "x"}]}',
        )
    err = info.value
    assert (err.code, err.status) == ("InvalidLookupAttributesException", 400)
    assert err.message == (
        "Value 'Nope' at 'lookupAttributes.1.member.attributeKey' failed to satisfy constraint: "
        "Member must satisfy enum value set: [EventId, EventName, ReadOnly, Username, "
        "ResourceType, ResourceName, EventSource, AccessKeyId]"
    )


@pytest.mark.parametrize(("operation", "body", "code"), [
    ("LookupEvents", b'{"EventCategory": "management"}', "InvalidEventCategoryException"),
    ("LookupEvents", b'{"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": ""}]}',
     "InvalidLookupAttributesException"),
    ("PutEventSelectors", b'{"TrailName": "t", "EventSelectors": [{"ReadWriteType": "read-only"}]}',
     "InvalidEventSelectorsException"),
    ("PutInsightSelectors",
     b'{"TrailName": "t", "InsightSelectors": [{"InsightType": "ApiCallCount"}]}',
     "InvalidInsightSelectorsException"),
])
def test_cloudtrail_own_input_exceptions(operation: str, body: bytes, code: str) -> None:
    with pytest.raises(ServiceError) as info:
        json11.parse_json("cloudtrail", operation, body)
    assert (info.value.code, info.value.status) == (code, 400)


def test_cloudtrail_max_results_out_of_range() -> None:
    """CloudTrail answers its own InvalidMaxResultsException (spec 7.6), not the generic one."""
    with pytest.raises(ServiceError) as info:
        json11.parse_json("cloudtrail", "LookupEvents", b'{"MaxResults": 51}')
    assert (info.value.code, info.value.status) == ("InvalidMaxResultsException", 400)


def test_json_missing_required() -> None:
    with pytest.raises(ServiceError) as info:
        json11.parse_json("cloudtrail", "GetTrail", b"{}")
    assert (info.value.code, info.value.message) == (
        "ValidationException",
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
        "Member must not be null",
    )


def test_organizations_missing_required_is_invalid_input() -> None:
    with pytest.raises(ServiceError) as info:
        json11.parse_json("organizations", "DescribeAccount", b"{}")
    assert (info.value.code, info.value.message, info.value.extra) == (
        "InvalidInputException",
        "You must provide a value for all required parameters.",
        {"Reason": "INPUT_REQUIRED"},
    )


# --------------------------------------------------------------------------- patterns


def all_patterns() -> list[str]:
    loader = Loader()
    found: set[str] = set()
    for service in ("iam", "sts", "cloudtrail", "organizations", "s3"):
        for shape in loader.load_service_model(service, "service-2")["shapes"].values():
            if "pattern" in shape:
                found.add(shape["pattern"])
    return sorted(found)


@pytest.mark.parametrize("pattern", all_patterns())
def test_every_model_pattern_compiles(pattern: str) -> None:
    assert patterns.compile_pattern(pattern) is not None


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("[\\w+=,.@-]*", "", True),
        ("[\\w+=,.@-]*", "a\nb", False),
        ("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "x\u00a0y", True),  # \p{Z} includes NBSP
        ("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "x\ty", False),
        ("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "Ⅻ", True),  # \p{N} includes letter numbers
        ("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*", "emoji 😀", True),
        ("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*", "bell\x07", False),
        (
            "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+",
            "𝔘",
            True,
        ),
        (
            "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+",
            "\x01",
            False,
        ),
        ("^o-[a-z0-9]{10,32}$", "o-abcdefghij", True),
        ("^o-[a-z0-9]{10,32}$", "o-abcdefghij\n", False),
        ("\\d{12}", "１２３４５６７８９０１２", False),  # \d is ASCII-only
        ("[\\x21\\x23-\\x2B]+", "!#", True),
        ("\\P{L}+", "123", True),
    ],
)
def test_pattern_semantics(pattern: str, value: str, ok: bool) -> None:
    assert patterns.matches(pattern, value) is ok


def test_untranslatable_patterns_are_not_enforced() -> None:
    assert patterns.compile_pattern("[a-z&&[^b]]") is None
    assert patterns.matches("[a-z&&[^b]]", "anything") is True
    assert patterns.compile_pattern("\\p{IsLatin}") is None
    assert isinstance(patterns.compile_pattern("[a-z]"), re.Pattern)
