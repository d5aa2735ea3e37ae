"""AssumeRole rewrites GetRole's RoleLastUsed at most once a minute per role and region."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trailgate.services.sts.provider import _last_use_stale

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def used(ago: timedelta, region: str = "us-east-1") -> dict[str, Any]:
    return {"LastUsedDate": (NOW - ago).replace(microsecond=0).isoformat(), "Region": region}


@pytest.mark.parametrize(
    ("last", "region", "stale"),
    [
        (None, "us-east-1", True),  # never used
        ({}, "us-east-1", True),
        (used(timedelta(seconds=0)), "us-east-1", False),
        (used(timedelta(seconds=59)), "us-east-1", False),
        (used(timedelta(seconds=60)), "us-east-1", True),
        (used(timedelta(hours=3)), "us-east-1", True),
        (used(timedelta(seconds=5)), "eu-west-1", True),  # another region: rewritten
        (used(-timedelta(seconds=5)), "us-east-1", True),  # in the future (clock moved back)
        ({"LastUsedDate": "garbage", "Region": "us-east-1"}, "us-east-1", True),
    ],
)
def test_role_last_used_is_rewritten_only_when_stale(
    last: dict[str, Any] | None, region: str, stale: bool
) -> None:
    assert _last_use_stale(last, NOW, region) is stale
