"""JSON -> model: normalisation and statement positions."""

from __future__ import annotations

import json

import pytest

from trailgate.policy.model import (
    ConditionClause,
    MalformedPolicyError,
    Policy,
    PolicyType,
    Position,
    PrincipalSpec,
    Statement,
)
from trailgate.policy.parse import JArray, JObject, JScalar, parse_json, parse_policy

IDN = PolicyType.IDENTITY
T = PolicyType.TRUST
R = PolicyType.RESOURCE


def test_scenario_identity_policy_with_positions() -> None:
    text = (
        "{\n"
        '  "Version": "2012-10-17",\n'
        '  "Statement": [\n'
        "    {\n"
        '      "Sid": "Objects",\n'
        '      "Effect": "Allow",\n'
        '      "Action": ["s3:Get*", "s3:List*"],\n'
        '      "Resource": "arn:aws:s3:::trail-bucket/AWSLogs/222222222222/*"\n'
        "    },\n"
        '    {"Effect": "Deny", "NotAction": "iam:*", "NotResource": ["*"]}\n'
        "  ]\n"
        "}\n"
    )
    assert parse_policy(text, IDN) == Policy(
        version="2012-10-17",
        id=None,
        statements=(
            Statement(
                index=0,
                sid="Objects",
                effect="Allow",
                principal=None,
                not_principal=None,
                action=("s3:Get*", "s3:List*"),
                not_action=None,
                resource=("arn:aws:s3:::trail-bucket/AWSLogs/222222222222/*",),
                not_resource=None,
                conditions=(),
                start=Position(4, 5),
                end=Position(9, 5),
            ),
            Statement(
                index=1,
                sid=None,
                effect="Deny",
                principal=None,
                not_principal=None,
                action=None,
                not_action=("iam:*",),
                resource=None,
                not_resource=("*",),
                conditions=(),
                start=Position(10, 5),
                end=Position(10, 66),
            ),
        ),
    )


def test_statement_as_single_object_and_id() -> None:
    text = '{"Id":"p1","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}'
    policy = parse_policy(text, IDN)
    assert policy.id == "p1"
    assert policy.version is None
    assert not policy.variables_enabled
    (stmt,) = policy.statements
    assert stmt.index == 0
    assert stmt.action == ("*",)
    assert stmt.resource == ("*",)
    assert stmt.start == Position(1, 24)
    assert stmt.end == Position(1, 69)


def test_positions_with_crlf_and_tabs() -> None:
    text = '{\r\n\t"Statement": [\r\n\t\t{"Effect": "Allow", "Action": "*", "Resource": "*"}\r\n]}'
    (stmt,) = parse_policy(text, IDN).statements
    assert stmt.start == Position(3, 3)
    assert stmt.end == Position(3, 53)


def test_trust_policy_principal_forms() -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
                {
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": ["*", "222222222222"],
                        "Service": "ec2.amazonaws.com",
                        "Federated": ["accounts.google.com"],
                    },
                    "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"],
                },
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                },
            ],
        }
    )
    stmts = parse_policy(text, T).statements
    assert stmts[0].principal == PrincipalSpec(wildcard=True)
    assert stmts[1].principal == PrincipalSpec(wildcard=True)
    assert stmts[2].principal == PrincipalSpec(
        wildcard=True,
        aws=("222222222222",),
        service=("ec2.amazonaws.com",),
        federated=("accounts.google.com",),
    )
    assert stmts[3].principal == PrincipalSpec(aws=("arn:aws:iam::333333333333:root",))
    assert all(s.resource is None and s.not_resource is None for s in stmts)
    assert stmts[3].conditions == (
        ConditionClause("Bool", "aws:MultiFactorAuthPresent", ("true",)),
    )


def test_bucket_policy_not_principal_and_canonical_user() -> None:
    text = json.dumps(
        {
            "Statement": [
                {
                    "Sid": "",
                    "Effect": "Deny",
                    "NotPrincipal": {"CanonicalUser": ["ab" * 32]},
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                }
            ]
        }
    )
    (stmt,) = parse_policy(text, R, flavor="s3").statements
    assert stmt.sid == ""
    assert stmt.principal is None
    assert stmt.not_principal == PrincipalSpec(canonical_user=("ab" * 32,))


def test_condition_values_become_strings() -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::b",
                "Condition": {
                    "Bool": {"aws:SecureTransport": True, "aws:ViaAWSService": False},
                    "NumericLessThan": {"s3:max-keys": [10, 2.5, -1e3]},
                    "StringLike": {"s3:prefix": ["", "AWSLogs/*"]},
                    "ForAllValues:StringEquals": {"aws:TagKeys": []},
                },
            },
        }
    )
    (stmt,) = parse_policy(text, IDN).statements
    assert stmt.conditions == (
        ConditionClause("Bool", "aws:SecureTransport", ("true",)),
        ConditionClause("Bool", "aws:ViaAWSService", ("false",)),
        ConditionClause("NumericLessThan", "s3:max-keys", ("10", "2.5", "-1000.0")),
        ConditionClause("StringLike", "s3:prefix", ("", "AWSLogs/*")),
        ConditionClause("ForAllValues:StringEquals", "aws:TagKeys", ()),
    )


def test_number_text_is_kept_as_written() -> None:
    text = (
        '{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",'
        '"Condition":{"NumericEquals":{"s3:max-keys":[1.50, 2E3, 007]}}}}'
    )
    with pytest.raises(MalformedPolicyError):
        parse_policy(text, IDN)  # 007 is not JSON
    text = text.replace(", 007", "")
    (stmt,) = parse_policy(text, IDN).statements
    assert stmt.conditions[0].values == ("1.50", "2E3")


def test_escapes_in_strings_are_decoded() -> None:
    text = r'{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/caf\u00e9\/x"}}'
    (stmt,) = parse_policy(text, IDN).statements
    assert stmt.resource == ("arn:aws:s3:::b/café/x",)


def test_scp_without_resource_gets_star() -> None:
    text = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*"}]}'
    (stmt,) = parse_policy(text, PolicyType.SCP).statements
    assert stmt.resource == ("*",)
    assert stmt.not_resource is None


def test_variables_enabled_only_for_2012() -> None:
    base = '"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}'
    assert parse_policy('{"Version":"2012-10-17",' + base + "}", IDN).variables_enabled
    assert not parse_policy('{"Version":"2008-10-17",' + base + "}", IDN).variables_enabled


@pytest.mark.parametrize(
    "text",
    [
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}',
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},]}',
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",}]}',
        "{'Statement': []}",
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]',
        '\ufeff{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
        '{"Statement":[{"Effect":"Allow","Action":"a\x01","Resource":"*"}]}',
        '{"Statement":[{"Effect":"Allow","Action":NaN,"Resource":"*"}]}',
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]} // comment',
        '{"Id": ' + "[" * 200 + "]" * 200 + "}",
    ],
)
def test_not_json_is_invalid_json(text: str) -> None:
    """IAM answers text that is not JSON with "This policy contains invalid Json" (the wording
    of AWS's real errors); structural problems of valid JSON are "Syntax errors in policy."."""
    with pytest.raises(MalformedPolicyError) as info:
        parse_policy(text, IDN)
    assert info.value.message == "This policy contains invalid Json"


def test_surrounding_whitespace_is_fine_for_iam() -> None:
    text = '\n  {"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}  \n'
    (stmt,) = parse_policy(text, IDN).statements
    assert stmt.start == Position(2, 16)


def test_parse_json_nodes() -> None:
    node = parse_json(' {"a": [1, "x", true, null], "b": {}} ')
    assert isinstance(node, JObject)
    assert node.start == 1
    assert node.end == 36
    assert [k for k, _ in node.members] == ["a", "b"]
    first = node.members[0][1]
    assert isinstance(first, JArray)
    assert first.items == [
        JScalar("number", "1", 8),
        JScalar("string", "x", 11),
        JScalar("true", "true", 16),
        JScalar("null", "null", 22),
    ]
    with pytest.raises(ValueError):
        parse_json('{"a": 1} x')


def test_duplicate_keys_are_noticed() -> None:
    node = parse_json('{"a": 1, "a": 2}')
    assert isinstance(node, JObject)
    assert node.duplicate
    text = (
        '{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",'
        '"Condition":{"StringLike":{"s3:prefix":"a","s3:prefix":"b"}}}}'
    )
    with pytest.raises(MalformedPolicyError) as info:
        parse_policy(text, IDN)
    assert info.value.message == "Syntax errors in policy."


def test_large_document_parses() -> None:
    statements = [
        {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::bucket-{i}", f"arn:aws:s3:::bucket-{i}/*"],
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ["111111111111"]}},
        }
        for i in range(60)
    ]
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)
    policy = parse_policy(text, IDN)
    assert len(policy.statements) == 60
    assert policy.statements[59].sid == "S59"
    assert policy.statements[1].start.line == 23
