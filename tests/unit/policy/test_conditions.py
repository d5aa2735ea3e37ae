"""Every condition operator, qualifier and absent-key rule (spec 1.5, 1.6)."""

from __future__ import annotations

import base64

import pytest

from trailgate.policy.conditions import compile_clause, parse_operator
from trailgate.policy.model import ConditionClause, make_context

ABSENT = object()

# (operator, policy values, request value (str, list, or ABSENT), expected)
CASES: list[tuple[str, list[str], object, bool]] = [
    ("StringEquals", ["a"], "a", True),
    ("StringEquals", ["a"], "A", False),
    ("StringEquals", ["a", "b"], "b", True),
    ("StringEquals", ["a"], ABSENT, False),
    ("StringNotEquals", ["a"], "b", True),
    ("StringNotEquals", ["a", "b"], "b", False),
    ("StringNotEquals", ["a"], ABSENT, True),
    ("StringEqualsIgnoreCase", ["AbC"], "aBc", True),
    ("StringNotEqualsIgnoreCase", ["AbC"], "aBc", False),
    ("StringNotEqualsIgnoreCase", ["AbC"], "x", True),
    ("StringLike", ["AWSLogs/2222*"], "AWSLogs/222222222222/", True),
    ("StringLike", ["a?c"], "abc", True),
    ("StringLike", ["a*"], "A", False),
    ("StringLike", ["", "AWSLogs/*"], "", True),
    ("StringNotLike", ["a*", "b*"], "bz", False),
    ("StringNotLike", ["a*", "b*"], "cz", True),
    ("StringNotLike", ["a*"], ABSENT, True),
    ("StringLikeIfExists", ["a*"], ABSENT, True),
    ("StringLikeIfExists", ["a*"], "b", False),
    ("StringEqualsIfExists", ["a"], "a", True),
    ("NumericEquals", ["10"], "10.0", True),
    ("NumericEquals", ["10"], "11", False),
    ("NumericNotEquals", ["10"], "11", True),
    ("NumericLessThan", ["10"], "9", True),
    ("NumericLessThan", ["10"], "10", False),
    ("NumericLessThanEquals", ["10"], "10", True),
    ("NumericGreaterThan", ["10"], "10", False),
    ("NumericGreaterThan", ["10"], "10.5", True),
    ("NumericGreaterThanEquals", ["10"], "10", True),
    ("NumericLessThan", ["10"], "ten", False),
    ("NumericLessThan", ["10"], ABSENT, False),
    ("NumericLessThanIfExists", ["10"], ABSENT, True),
    ("NumericLessThan", ["5", "10"], "7", True),
    ("NumericGreaterThan", ["5", "10"], "7", True),
    ("DateGreaterThan", ["2020-01-01T00:00:00Z"], "2020-01-01T00:00:01Z", True),
    ("DateGreaterThan", ["2020-01-01T00:00:00Z"], "2019-12-31T23:59:59Z", False),
    ("DateLessThan", ["2020-01-01"], "2019-12-31T23:59:59Z", True),
    ("DateLessThanEquals", ["2020-01-01T00:00:00Z"], "1577836800", True),
    ("DateEquals", ["1577836800"], "2020-01-01T00:00:00Z", True),
    ("DateNotEquals", ["1577836800"], "2020-01-01T00:00:01Z", True),
    ("DateGreaterThanEquals", ["2020-01-01T01:00:00+01:00"], "2020-01-01T00:00:00Z", True),
    ("DateLessThan", ["2020-01-01"], "not-a-date", False),
    ("Bool", ["true"], "true", True),
    ("Bool", ["true"], "TRUE", True),
    ("Bool", ["true"], "false", False),
    ("Bool", ["true"], ABSENT, False),
    ("BoolIfExists", ["false"], ABSENT, True),
    ("BoolIfExists", ["false"], "true", False),
    ("BinaryEquals", [base64.b64encode(b"\x00\x01").decode()], base64.b64encode(b"\x00\x01").decode(), True),
    ("BinaryEquals", [base64.b64encode(b"\x00\x01").decode()], base64.b64encode(b"\x00\x02").decode(), False),
    ("BinaryEquals", ["AAE="], "!!", False),
    ("IpAddress", ["203.0.113.0/24"], "203.0.113.9", True),
    ("IpAddress", ["203.0.113.0/24"], "203.0.114.9", False),
    ("IpAddress", ["203.0.113.9"], "203.0.113.9", True),
    ("IpAddress", ["2001:db8::/32"], "2001:db8::1", True),
    ("IpAddress", ["2001:db8::/32"], "203.0.113.9", False),
    ("IpAddress", ["203.0.113.0/24"], "garbage", False),
    ("NotIpAddress", ["203.0.113.0/24"], "198.51.100.1", True),
    ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "198.51.100.1", False),
    ("NotIpAddress", ["203.0.113.0/24"], ABSENT, True),
    ("ArnEquals", ["arn:aws:cloudtrail:us-east-1:111111111111:trail/t"], "arn:aws:cloudtrail:us-east-1:111111111111:trail/t", True),
    ("ArnLike", ["arn:aws:cloudtrail:*:111111111111:trail/*"], "arn:aws:cloudtrail:us-east-1:111111111111:trail/t", True),
    ("ArnLike", ["arn:aws:cloudtrail:*:111111111111:trail/*"], "arn:aws:cloudtrail:us-east-1:222222222222:trail/t", False),
    ("ArnLike", ["arn:aws:iam::*:role/*"], "arn:aws:iam::1:2:role/x", False),
    ("ArnNotLike", ["arn:aws:iam::*:role/*"], "arn:aws:iam::111111111111:user/x", True),
    ("ArnNotEquals", ["arn:aws:iam::111111111111:role/x"], ABSENT, True),
    ("ArnLikeIfExists", ["arn:aws:iam::*:role/*"], ABSENT, True),
    ("Null", ["true"], ABSENT, True),
    ("Null", ["true"], "x", False),
    ("Null", ["false"], "x", True),
    ("Null", ["false"], ABSENT, False),
    ("ForAnyValue:StringEquals", ["a", "b"], ["x", "b"], True),
    ("ForAnyValue:StringEquals", ["a", "b"], ["x", "y"], False),
    ("ForAnyValue:StringEquals", ["a"], [], False),
    ("ForAnyValue:StringEquals", ["a"], ABSENT, False),
    ("ForAnyValue:StringNotEquals", ["a"], ["a", "b"], True),
    ("ForAnyValue:StringNotEquals", ["a"], ["a"], False),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], False),
    ("ForAllValues:StringEquals", ["a"], [], True),
    ("ForAllValues:StringEquals", ["a"], ABSENT, True),
    ("ForAllValues:StringNotEquals", ["a"], ["b", "c"], True),
    ("ForAllValues:StringNotEquals", ["a"], ["b", "a"], False),
    ("ForAllValues:StringLike", ["team-*"], ["team-a", "team-b"], True),
    ("ForAnyValue:StringLikeIfExists", ["a*"], ABSENT, True),
]


@pytest.mark.parametrize(("operator", "values", "request_value", "expected"), CASES)
def test_operator(operator: str, values: list[str], request_value: object, expected: bool) -> None:
    test = compile_clause(ConditionClause(operator, "k:Key", tuple(values)), variables=True)
    ctx = {} if request_value is ABSENT else make_context({"k:key": request_value})  # type: ignore[dict-item]
    assert test(ctx) is expected


def test_key_names_are_case_insensitive() -> None:
    test = compile_clause(ConditionClause("StringEquals", "AWS:SourceIP", ("x",)), True)
    assert test(make_context({"aws:sourceip": "x"}))


def test_variables_in_string_values() -> None:
    clause = ConditionClause("StringLike", "s3:prefix", ("home/${aws:username}/*",))
    test = compile_clause(clause, variables=True)
    assert test(make_context({"s3:prefix": "home/alice/x", "aws:username": "alice"}))
    assert not test(make_context({"s3:prefix": "home/bob/x", "aws:username": "alice"}))
    # unresolvable: positive operator false
    assert not test(make_context({"s3:prefix": "home/alice/x"}))
    # Version 2008-10-17: the text is literal
    literal = compile_clause(clause, variables=False)
    assert literal(make_context({"s3:prefix": "home/${aws:username}/x"}))
    assert not literal(make_context({"s3:prefix": "home/alice/x", "aws:username": "alice"}))


def test_unresolvable_variable_in_negated_operator_is_true() -> None:
    clause = ConditionClause("StringNotEquals", "aws:PrincipalAccount", ("${aws:ResourceAccount}",))
    test = compile_clause(clause, variables=True)
    assert test(make_context({"aws:principalaccount": "111111111111"}))


def test_variables_in_bool_and_arn_values() -> None:
    b = compile_clause(ConditionClause("Bool", "k:a", ("${k:b}",)), True)
    assert b(make_context({"k:a": "true", "k:b": "TRUE"}))
    assert not b(make_context({"k:a": "true", "k:b": "false"}))
    a = compile_clause(
        ConditionClause("ArnLike", "aws:SourceArn", ("arn:aws:cloudtrail:*:${aws:PrincipalAccount}:trail/*",)),
        True,
    )
    ctx = {"aws:sourcearn": "arn:aws:cloudtrail:us-east-1:1:trail/t", "aws:principalaccount": "1"}
    assert a(make_context(ctx))


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("StringEquals", (None, "StringEquals", False)),
        ("ForAnyValue:StringLikeIfExists", ("ForAnyValue", "StringLike", True)),
        ("forallvalues:stringequals", ("ForAllValues", "StringEquals", False)),
        ("NullIfExists", None),
        ("ForAnyValue:Null", None),
        ("StringEqualz", None),
        ("Sometimes:StringEquals", None),
    ],
)
def test_parse_operator(name: str, parsed: tuple[str | None, str, bool] | None) -> None:
    op = parse_operator(name)
    if parsed is None:
        assert op is None
    else:
        assert op is not None
        assert (op.qualifier, op.base, op.if_exists) == parsed
