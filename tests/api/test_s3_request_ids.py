"""S3's request ids on the wire and in CloudTrail: ``x-amz-request-id`` is 16 upper-case hex
digits and ``x-amz-id-2`` opaque base64, the same in error documents (``<RequestId>``,
``<HostId>``), and the CloudTrail record of the call carries them (``requestID``,
``additionalEventData.x-amz-id-2``); other services keep UUIDs."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import Server

S3_REQUEST_ID = re.compile(r"[0-9A-F]{16}")
HOST_ID = re.compile(r"[A-Za-z0-9+/]{75}=")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> Iterator[str]:
    name = f"tg-rid-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def ids(response: dict[str, Any]) -> tuple[str, str]:
    meta = response["ResponseMetadata"]
    headers = meta["HTTPHeaders"]
    assert meta["RequestId"] == headers["x-amz-request-id"]
    assert meta["HostId"] == headers["x-amz-id-2"]
    assert S3_REQUEST_ID.fullmatch(meta["RequestId"]), meta["RequestId"]
    assert HOST_ID.fullmatch(meta["HostId"]), meta["HostId"]
    return meta["RequestId"], meta["HostId"]


def test_successes_carry_s3_shaped_ids(s3: Any, bucket: str) -> None:
    seen = [
        ids(s3.put_object(Bucket=bucket, Key="k", Body=b"abc")),
        ids(s3.get_object(Bucket=bucket, Key="k")),
        ids(s3.head_object(Bucket=bucket, Key="k")),
        ids(s3.list_objects_v2(Bucket=bucket)),
        ids(s3.list_buckets()),
    ]
    assert len({rid for rid, _ in seen}) == len(seen)
    assert len({host for _, host in seen}) == len(seen)


def test_errors_carry_the_same_ids_in_headers_and_body(server: Server, s3: Any,
                                                       bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="missing")
    response = exc.value.response
    assert response["Error"]["Code"] == "NoSuchKey"
    ids(response)
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket=bucket, Key="missing")  # no body: the headers only
    ids(head.value.response)
    # an anonymous request refused: the raw error document
    with pytest.raises(urllib.error.HTTPError) as raw:
        urllib.request.urlopen(f"{server.endpoint}/{bucket}/k", timeout=10)
    body = ET.fromstring(raw.value.read())
    assert body.findtext("Code") == "AccessDenied"
    assert body.findtext("RequestId") == raw.value.headers["x-amz-request-id"]
    assert body.findtext("HostId") == raw.value.headers["x-amz-id-2"]
    assert S3_REQUEST_ID.fullmatch(body.findtext("RequestId") or "")
    assert HOST_ID.fullmatch(body.findtext("HostId") or "")


def test_other_services_keep_uuids(server: Server) -> None:
    iam: Any = server.client("iam")
    sts: Any = server.client("sts")
    ct: Any = server.client("cloudtrail")
    for response in (iam.list_users(), sts.get_caller_identity(), ct.describe_trails()):
        assert UUID.fullmatch(response["ResponseMetadata"]["RequestId"])
        assert "x-amz-id-2" not in response["ResponseMetadata"]["HTTPHeaders"]


def recorded(server: Server, event_name: str, request_id: str) -> dict[str, Any]:
    ct: Any = server.client("cloudtrail")
    deadline = time.monotonic() + 20
    while True:
        pages = ct.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event_name}])
        for page in pages:
            for event in page["Events"]:
                record = json.loads(event["CloudTrailEvent"])
                if record["requestID"] == request_id:
                    assert event["EventId"] == record["eventID"]
                    return dict(record)
        assert time.monotonic() < deadline, f"{event_name} {request_id} not recorded"
        time.sleep(0.3)


def test_cloudtrail_records_the_ids_the_client_received(server: Server, s3: Any,
                                                        bucket: str) -> None:
    """Management events of S3 (event history): the first and the repeated read (the second
    comes from the recorder's template), a write, and an error."""
    calls = [
        ("GetBucketLocation", s3.get_bucket_location(Bucket=bucket)),
        ("GetBucketLocation", s3.get_bucket_location(Bucket=bucket)),
        ("GetBucketLocation", s3.get_bucket_location(Bucket=bucket)),
        ("PutBucketTagging", s3.put_bucket_tagging(
            Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})),
    ]
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket=bucket)
    calls.append(("GetBucketPolicy", exc.value.response))
    for event_name, response in calls:
        request_id, host_id = ids(response)
        record = recorded(server, event_name, request_id)
        assert record["eventSource"] == "s3.amazonaws.com"
        assert record["additionalEventData"]["x-amz-id-2"] == host_id
        assert list(record["additionalEventData"]) == [
            "SignatureVersion", "bytesTransferredIn", "AuthenticationMethod", "x-amz-id-2",
            "bytesTransferredOut"]
    assert record.get("errorCode") == "NoSuchBucketPolicy"
