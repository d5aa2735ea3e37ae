"""PutBucketPolicy refuses an IP operator's value that is not an IP address or CIDR block
("Invalid IP address in Conditions"), leaving the bucket's policy as it was."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import MANAGEMENT, Server


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = f"tg-bp-ip-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket_policy(Bucket=name)
    s3.delete_bucket(Bucket=name)


def _policy(bucket: str, source_ips: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyFromTheOffice", "Effect": "Deny",
        "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": source_ips}}}]})


@pytest.mark.parametrize("source_ips", ["10.0.0.256", ["192.0.2.0/24", "192.0.2.0/40"],
                                        "office"])
def test_a_malformed_address_is_refused_and_the_old_policy_kept(
    s3: Any, bucket: str, source_ips: Any
) -> None:
    good = _policy(bucket, ["192.0.2.0/24", "2001:db8::/32"])
    s3.put_bucket_policy(Bucket=bucket, Policy=good)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, source_ips))
    err = exc.value.response
    assert (err["Error"]["Code"], err["Error"]["Message"],
            err["ResponseMetadata"]["HTTPStatusCode"]) == (
        "MalformedPolicy", "Invalid IP address in Conditions", 400)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(good)
