"""S3's check of IP operators' values in a bucket policy: "Invalid IP address in Conditions"."""

from __future__ import annotations

import json

import pytest

from trailgate.policy.bucket_checks import S3_INVALID_IP, check_bucket_policy_actions
from trailgate.policy.conditions import malformed_ip
from trailgate.policy.model import MalformedPolicyError, PolicyType
from trailgate.policy.parse import parse_policy


def _policy(operator: str, key: str, value: object) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*", "Condition": {operator: {key: value}}}]})


@pytest.mark.parametrize(("operator", "value"), [
    ("IpAddress", "10.0.0.300"),
    ("NotIpAddress", "192.168.1.0/33"),
    ("IpAddressIfExists", "not-an-ip"),
    ("ForAnyValue:IpAddress", ["10.0.0.0/8", "10.0.0"]),
    ("NotIpAddress", "2001:db8::g/64"),
    ("IpAddress", ""),
    ("IpAddress", "${aws:SourceIp}"),
])
def test_a_malformed_ip_is_refused(operator: str, value: object) -> None:
    policy = parse_policy(_policy(operator, "aws:SourceIp", value), PolicyType.RESOURCE)
    with pytest.raises(MalformedPolicyError) as exc:
        check_bucket_policy_actions(policy)
    assert str(exc.value) == S3_INVALID_IP == "Invalid IP address in Conditions"


@pytest.mark.parametrize(("operator", "value"), [
    ("IpAddress", "10.0.0.1"),
    ("IpAddress", "10.1.2.3/24"),  # host bits set: AWS accepts it as the /24
    ("NotIpAddress", ["192.0.2.0/24", "2001:db8::/32"]),
    ("NotIpAddressIfExists", "::1"),
    ("StringEquals", "not-an-ip"),  # not an IP operator: its values are not IP addresses
])
def test_addresses_and_blocks_are_accepted(operator: str, value: object) -> None:
    policy = parse_policy(_policy(operator, "aws:SourceIp", value), PolicyType.RESOURCE)
    check_bucket_policy_actions(policy)


def test_malformed_ip_by_operator() -> None:
    assert malformed_ip("ipaddress", ("1.2.3",)) is True
    assert malformed_ip("IpAddress", ("1.2.3.4",)) is False
    assert malformed_ip("StringLike", ("1.2.3",)) is False
    assert malformed_ip("NoSuchOperator", ("1.2.3",)) is False
