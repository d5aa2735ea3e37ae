"""CloudTrail trail operations checked against AWS's answers (audit 18): tags are reached by
the trail's owner only - a member account naming its organization's trail (an ARN of the
management account) gets CloudTrailARNInvalidException ('AccountID in ARN is wrong ...', as
AWS answers ListTags in cloudquery/cq-provider-aws#405), though it sees the trail itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cloudtrail_trails import ADMIN, BUCKET, D, World, arn, org_policy


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path)
    yield world
    world.close()


def test_member_account_cannot_reach_the_tags_of_its_organization_trail(w: World) -> None:
    org_id = w.org()
    trail_arn = arn(ADMIN, "org-trail")
    w.bucket(policy=org_policy(BUCKET, trail_arn, org_id))
    w("CreateTrail", Name="org-trail", S3BucketName=BUCKET, IsOrganizationTrail=True,
      IsMultiRegionTrail=True, TagsList=[{"Key": "team", "Value": "sec"}])
    assert w("GetTrail", account=D, Name=trail_arn)["Trail"]["TrailARN"] == trail_arn
    expected = (
        "CloudTrailARNInvalidException",
        f"AccountID in ARN is wrong, you can only access resources with AccountID {D}.",
    )
    for op, params in (
        ("ListTags", {"ResourceIdList": [trail_arn]}),
        ("AddTags", {"ResourceId": trail_arn, "TagsList": [{"Key": "k", "Value": "v"}]}),
        ("RemoveTags", {"ResourceId": trail_arn, "TagsList": [{"Key": "team"}]}),
    ):
        err = w.error(op, account=D, **params)
        assert (err.code, err.message) == expected, op
    # The owner's tags are unchanged, and the owner still reaches them.
    assert w("ListTags", ResourceIdList=[trail_arn])["ResourceTagList"] == [
        {"ResourceId": trail_arn, "TagsList": [{"Key": "team", "Value": "sec"}]}
    ]
