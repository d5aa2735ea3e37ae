"""The packed-size approximation of session policies, policy ARNs and session tags."""

from __future__ import annotations

import json

import pytest

from trailgate.protocol.errors import ServiceError
from trailgate.services.sts.session_inputs import PACKED_LIMIT, packed_percent, packed_units

# AWS's AssumeRole documentation example: one statement and three session tags.
EXAMPLE = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Stmt1", "Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                   "Resource": "*"}],
})
EXAMPLE_TAGS = [("Project", "Unicorn"), ("Team", "Automation"), ("Cost-Center", "12345")]


def test_grammar_words_cost_one_unit_and_whitespace_nothing() -> None:
    spaced = json.dumps(json.loads(EXAMPLE), indent=4)
    assert packed_units([spaced], [], []) == packed_units([EXAMPLE], [], [])
    assert packed_units([EXAMPLE], [], []) < len(EXAMPLE) // 2


def test_documented_example_is_a_small_percentage() -> None:
    assert 5 <= packed_percent([EXAMPLE], [], EXAMPLE_TAGS) <= 15


@pytest.mark.parametrize(
    ("arns", "tags", "units"),
    [
        (["arn:aws:iam::aws:policy/ReadOnlyAccess"], [], 38),
        ([], [("Team", "blue")], 10),
        ([], [("k", "")], 3),
    ],
)
def test_arns_and_tags_cost_their_length(
    arns: list[str], tags: list[tuple[str, str]], units: int
) -> None:
    assert packed_units([], arns, tags) == units


def test_limit_boundary() -> None:
    exactly = [("k" * 126, "v" * 254)] * (PACKED_LIMIT // 382)
    assert packed_percent([], [], exactly) <= 100
    with pytest.raises(ServiceError) as exc:
        packed_percent([], [], [("k" * 128, "v" * 256)] * 3)
    assert exc.value.code == "PackedPolicyTooLarge"
    assert str(exc.value.message) == "Packed policy consumes 114% of allotted space"
