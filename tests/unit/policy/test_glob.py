"""Glob, ARN-segment and policy-variable matching (spec 1.3, 1.4, 1.6)."""

from __future__ import annotations

import pytest

from trailgate.policy.glob import (
    compile_arn_glob,
    compile_glob,
    parse_template,
)
from trailgate.policy.model import make_context

GLOB_CASES = [
    ("*", "", True),
    ("*", "anything:at/all", True),
    ("abc", "abc", True),
    ("abc", "abcd", False),
    ("abc", "ABC", False),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ba", False),
    ("*c", "abc", True),
    ("*c", "abd", False),
    ("a?c", "abc", True),
    ("a?c", "ac", False),
    ("a?c", "abbc", False),
    ("a*b*c", "a-b-c", True),
    ("a*b*c", "a-c", False),
    ("AWSLogs/111111111111/*", "AWSLogs/111111111111/", True),
    ("AWSLogs/111111111111/*", "AWSLogs/222222222222/x", False),
    ("a.b", "axb", False),  # regex metacharacters are literal
    ("(a|b)", "a", False),
    ("(a|b)", "(a|b)", True),
    ("[ab]*", "[ab]x", True),
    ("x\\y", "x\\y", True),
    ("*\n*", "a\nb", True),
    ("**", "", True),
    ("a**b", "ab", True),
]


@pytest.mark.parametrize(("pattern", "subject", "expected"), GLOB_CASES)
def test_whole_string_glob(pattern: str, subject: str, expected: bool) -> None:
    assert compile_glob(pattern)(subject) is expected


def test_ignore_case_glob_folds_the_pattern() -> None:
    matcher = compile_glob("S3:Get*", ignore_case=True)
    assert matcher("s3:getobject")
    assert not matcher("s3:putobject")


ARN_CASES = [
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b", False),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/a:b:c", True),
    ("arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b/1/2/test/x", True),
    ("arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b//test/x", True),
    ("arn:aws:s3:::b/*/test/*", "arn:aws:s3:::b/test/x", False),
    ("arn:aws:iam::*:role/R", "arn:aws:iam::111111111111:role/R", True),
    ("arn:aws:iam::*:role/R", "arn:aws:iam::111111111111:role/RR", False),
    # a wildcard in segments 1-5 never swallows a colon
    ("arn:aws:iam::*:role/R", "arn:aws:iam::1:2:role/R", False),
    ("arn:aws:iam::*", "arn:aws:iam::111111111111:role/R", False),
    ("arn:aws:iam::*:*", "arn:aws:iam::111111111111:role/R", True),
    ("arn:aws:iam::1?1111111111:root", "arn:aws:iam::121111111111:root", True),
    ("arn:aws:iam::1?1111111111:root", "arn:aws:iam::1:1111111111:root", False),
    ("arn:aws:*:us-east-1:111111111111:trail/t", "arn:aws:cloudtrail:us-east-1:111111111111:trail/t", True),
    ("*", "arn:aws:s3:::b", True),
    ("arn:aws:s3:::B", "arn:aws:s3:::b", False),  # case-sensitive
    ("arn:aws:s3:::b", "arn:aws:s3:::b", True),
]


@pytest.mark.parametrize(("pattern", "subject", "expected"), ARN_CASES)
def test_arn_glob_is_segment_aware(pattern: str, subject: str, expected: bool) -> None:
    assert compile_arn_glob(pattern)(subject) is expected


def test_template_substitutes_literals_not_wildcards() -> None:
    template = parse_template("arn:aws:s3:::b/home/${aws:username}/*")
    assert template is not None
    ctx = make_context({"aws:username": "a*"})
    tokens = template.render_tokens(ctx)
    assert tokens is not None
    from trailgate.policy.glob import compile_arn_tokens

    matcher = compile_arn_tokens(tokens)
    assert matcher("arn:aws:s3:::b/home/a*/x")
    assert not matcher("arn:aws:s3:::b/home/ab/x")


@pytest.mark.parametrize(
    ("text", "ctx", "expected"),
    [
        ("${aws:username}", {"aws:username": "alice"}, "alice"),
        ("${AWS:UserName}", {"aws:username": "alice"}, "alice"),
        ("${aws:username}", {}, None),
        ("${aws:PrincipalTag/team, 'company-wide'}", {}, "company-wide"),
        ("${aws:PrincipalTag/team, 'company-wide'}", {"aws:principaltag/team": "x"}, "x"),
        ("a${*}b${?}c${$}", {}, "a*b?c$"),
        ("${aws:TagKeys}", {"aws:tagkeys": ["a", "b"]}, None),  # multi-valued: not usable
        ("no-variable-${", {}, None),
    ],
)
def test_template_rendering(text: str, ctx: dict[str, str], expected: str | None) -> None:
    template = parse_template(text)
    if text == "no-variable-${":
        assert template is None
        return
    assert template is not None
    assert template.render_text(make_context(ctx)) == expected


def test_plain_text_is_not_a_template() -> None:
    assert parse_template("arn:aws:s3:::b/*") is None
