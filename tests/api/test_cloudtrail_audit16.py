"""CloudTrail API behaviour checked against AWS's documentation (audit 16): the per-Region
trail quota counts multi-Region trails of other home Regions, tag lists with a repeated key or
characters outside AWS's tag character set are refused, and advanced event selectors for
network activity events take the fields AWS documents for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, REGION, Server

BUCKET = "tg-audit16-trails"
WEST = "us-west-2"


def failure(call: Any, **params: Any) -> tuple[str, str]:
    """The error code and message of a call that must fail with HTTP 400."""
    with pytest.raises(ClientError) as exc:
        call(**params)
    response = exc.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    return response["Error"]["Code"], response["Error"]["Message"]


def arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:cloudtrail:{region}:{MANAGEMENT}:trail/{name}"


@pytest.fixture(scope="module")
def ct(own_server: Server) -> Iterator[Any]:
    """CloudTrail as the management account's root user, on a server of this module's own (the
    quota test needs to know every trail of the account), with a bucket any trail may use."""
    s3: Any = own_server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    statements = [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
    ]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    yield own_server.client("cloudtrail")


@pytest.fixture
def trail(ct: Any) -> Iterator[str]:
    """A fresh single-Region trail in us-east-1, deleted afterwards."""
    name = "audit16-trail"
    ct.create_trail(Name=name, S3BucketName=BUCKET)
    yield name
    ct.delete_trail(Name=name)


def tags_of(ct: Any, name: str) -> list[dict[str, str]]:
    listed = ct.list_tags(ResourceIdList=[arn(name)])["ResourceTagList"]
    return list(listed[0].get("TagsList", []))


# -- trails per Region --------------------------------------------------------------------------


def test_multi_region_trail_counts_toward_every_regions_quota(own_server: Server,
                                                                ct: Any) -> None:
    """AWS: a trail that applies to all Regions exists in each Region and counts as one of the
    five trails of each Region (CloudTrail FAQ and quotas page)."""
    west: Any = own_server.client("cloudtrail", region=WEST)
    west.create_trail(Name="audit16-west-multi", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    made: list[str] = []
    try:
        for i in range(4):  # with the shadow of the West trail: five in us-east-1
            name = f"audit16-quota{i}"
            ct.create_trail(Name=name, S3BucketName=BUCKET)
            made.append(name)
        assert len(ct.list_trails()["Trails"]) == 5
        assert failure(ct.create_trail, Name="audit16-quota4", S3BucketName=BUCKET) == (
            "MaximumNumberOfTrailsExceededException",
            f"User: {MANAGEMENT} already has 5 trails in {REGION}.")
        # A single-Region trail of another Region takes no place here.
        west.update_trail(Name="audit16-west-multi", IsMultiRegionTrail=False)
        created = ct.create_trail(Name="audit16-quota4", S3BucketName=BUCKET)
        made.append(created["Name"])
        assert created["TrailARN"] == arn("audit16-quota4")
    finally:
        for name in made:
            ct.delete_trail(Name=name)
        west.delete_trail(Name="audit16-west-multi")


# -- tags ---------------------------------------------------------------------------------------


def test_add_tags_refuses_a_repeated_key(ct: Any, trail: str) -> None:
    """AWS: InvalidTagParameterException also covers duplicate tags; a key is unique on its
    resource.  Nothing of a refused list is applied."""
    code, _ = failure(ct.add_tags, ResourceId=arn(trail), TagsList=[
        {"Key": "team", "Value": "a"}, {"Key": "other", "Value": "x"},
        {"Key": "team", "Value": "b"}])
    assert code == "InvalidTagParameterException"
    assert tags_of(ct, trail) == []
    ct.add_tags(ResourceId=arn(trail), TagsList=[{"Key": "team", "Value": "a"}])
    ct.add_tags(ResourceId=arn(trail), TagsList=[{"Key": "team", "Value": "b"}])  # overwrites
    assert tags_of(ct, trail) == [{"Key": "team", "Value": "b"}]


def test_create_trail_refuses_a_repeated_tag_key(ct: Any) -> None:
    code, _ = failure(ct.create_trail, Name="audit16-dup", S3BucketName=BUCKET, TagsList=[
        {"Key": "team", "Value": "a"}, {"Key": "team", "Value": "a"}])
    assert code == "InvalidTagParameterException"
    assert "audit16-dup" not in {t["Name"] for t in ct.list_trails()["Trails"]}


@pytest.mark.parametrize(("key", "value"), [
    ("a*b", "ok"), ("semi;colon", "ok"), ("ok", "hash#value"), ("ok", "quote\"d"),
    ("<tag>", "ok"),
])
def test_tags_outside_the_tag_character_set(ct: Any, trail: str, key: str, value: str) -> None:
    """AWS: tag keys and values are letters, numbers and spaces (any script) plus
    ``_ . : / = + - @``; anything else is InvalidTagParameterException."""
    code, _ = failure(ct.add_tags, ResourceId=arn(trail), TagsList=[{"Key": key, "Value": value}])
    assert code == "InvalidTagParameterException"
    assert tags_of(ct, trail) == []


def test_tags_inside_the_tag_character_set(ct: Any, trail: str) -> None:
    tags = [{"Key": "cost center", "Value": "team=a+b@x.y/z:1-2_3"},
            {"Key": "Ünïcødé 名前", "Value": "値 ٣"}]
    ct.add_tags(ResourceId=arn(trail), TagsList=tags)
    assert tags_of(ct, trail) == tags


# -- advanced event selectors: network activity events ------------------------------------------


def network(*fields: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Name": "vpce", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["NetworkActivity"]}, *fields]}]


def test_network_activity_selector_as_aws_documents_it(ct: Any, trail: str) -> None:
    """AWS: network activity events are selected by eventCategory NetworkActivity and an
    eventSource (required, Equals); errorCode (VpceAccessDenied) and vpcEndpointId may narrow
    them.  No resources.type is involved."""
    selectors = network(
        {"Field": "eventSource", "Equals": ["cloudtrail.amazonaws.com"]},
        {"Field": "errorCode", "Equals": ["VpceAccessDenied"]},
        {"Field": "vpcEndpointId", "NotEquals": ["vpce-0123456789abcdef0"]},
    )
    put = ct.put_event_selectors(TrailName=trail, AdvancedEventSelectors=selectors)
    assert put["AdvancedEventSelectors"] == selectors
    got = ct.get_event_selectors(TrailName=trail)
    assert got["AdvancedEventSelectors"] == selectors
    assert "EventSelectors" not in got


@pytest.mark.parametrize("fields", [
    [],  # no eventSource
    [{"Field": "eventSource", "StartsWith": ["kms."]}],  # eventSource by Equals only
    [{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}],
    [{"Field": "eventSource", "Equals": ["kms.amazonaws.com"]},
     {"Field": "readOnly", "Equals": ["true"]}],
    [{"Field": "eventSource", "Equals": ["kms.amazonaws.com"]},
     {"Field": "errorCode", "Equals": ["AccessDenied"]}],
    [{"Field": "eventSource", "Equals": ["kms.amazonaws.com"]},  # a data events' field
     {"Field": "userIdentity.arn", "Equals": ["arn:aws:iam::111111111111:user/x"]}],
])
def test_network_activity_selector_refusals(ct: Any, trail: str,
                                            fields: list[dict[str, Any]]) -> None:
    code, _ = failure(ct.put_event_selectors, TrailName=trail,
                      AdvancedEventSelectors=network(*fields))
    assert code == "InvalidEventSelectorsException"
    assert ct.get_trail(Name=trail)["Trail"]["HasCustomEventSelectors"] is False


@pytest.mark.parametrize("field", ["errorCode", "vpcEndpointId"])
def test_network_only_fields_refused_in_data_selectors(ct: Any, trail: str, field: str) -> None:
    """AWS lists errorCode and vpcEndpointId only among the network activity fields."""
    code, _ = failure(ct.put_event_selectors, TrailName=trail, AdvancedEventSelectors=[
        {"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": field, "Equals": ["VpceAccessDenied"]},
        ]}])
    assert code == "InvalidEventSelectorsException"


def test_resources_type_takes_equals_only(ct: Any, trail: str) -> None:
    """AWS: Equals is the only operator of eventCategory, readOnly and resources.type."""
    code, _ = failure(ct.put_event_selectors, TrailName=trail, AdvancedEventSelectors=[
        {"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"],
             "NotEquals": ["AWS::Lambda::Function"]},
        ]}])
    assert code == "InvalidEventSelectorsException"
    assert ct.get_trail(Name=trail)["Trail"]["HasCustomEventSelectors"] is False


# -- trails of other Regions ----------------------------------------------------------------


@pytest.fixture
def west_multi(own_server: Server, ct: Any) -> Iterator[str]:
    """A multi-Region trail whose home is us-west-2 (a shadow in us-east-1), tagged there."""
    west: Any = own_server.client("cloudtrail", region=WEST)
    name = "audit16-west-shadow"
    west.create_trail(Name=name, S3BucketName=BUCKET, IsMultiRegionTrail=True,
                      TagsList=[{"Key": "home", "Value": WEST}])
    yield name
    west.delete_trail(Name=name)


def region_in_arn_is_wrong() -> tuple[str, str]:
    return ("CloudTrailARNInvalidException",
            f"Region in ARN is wrong, you can only access resources in region {REGION}.")


def test_tags_of_a_shadow_trail_only_from_its_home_region(own_server: Server, ct: Any,
                                                          west_multi: str) -> None:
    """AWS tags a trail only in its home Region: elsewhere an ARN of another Region is
    CloudTrailARNInvalidException ('Region in ARN is wrong ...', as AWS answers ListTags);
    the trail's tags are unchanged."""
    home_arn = arn(west_multi, WEST)
    assert failure(ct.list_tags, ResourceIdList=[home_arn]) == region_in_arn_is_wrong()
    assert failure(ct.add_tags, ResourceId=home_arn,
                   TagsList=[{"Key": "k", "Value": "v"}]) == region_in_arn_is_wrong()
    assert failure(ct.remove_tags, ResourceId=home_arn,
                   TagsList=[{"Key": "home"}]) == region_in_arn_is_wrong()
    # Also for an ARN naming no trail at all: the Region is checked first.
    assert failure(ct.list_tags, ResourceIdList=[arn("audit16-nowhere", WEST)]) == (
        region_in_arn_is_wrong())
    west: Any = own_server.client("cloudtrail", region=WEST)
    listed = west.list_tags(ResourceIdList=[home_arn])["ResourceTagList"]
    assert listed == [{"ResourceId": home_arn, "TagsList": [{"Key": "home", "Value": WEST}]}]


def test_event_selectors_of_a_shadow_trail_by_name(ct: Any, west_multi: str) -> None:
    """AWS: GetEventSelectors names a trail by name in the called Region only; a multi-Region
    trail of another home Region is TrailNotFoundException, naming the ARN the name would have
    here (AWS's answer as reported in aws/aws-sdk-go-v2#1957)."""
    assert failure(ct.get_event_selectors, TrailName=west_multi) == (
        "TrailNotFoundException",
        f"Unknown trail: {arn(west_multi)} for the user: {MANAGEMENT}")
    assert failure(ct.get_event_selectors, TrailName="audit16-nosuch") == (
        "TrailNotFoundException",
        f"Unknown trail: {arn('audit16-nosuch')} for the user: {MANAGEMENT}")
