"""CloudTrail record content compared with AWS's own records (audit 18), on a server of the
module's own, read back through LookupEvents' CloudTrailEvent.

AWS's records (Grimoire detonations published by stratus-red-team, 2024): IAM writes its dates
without a comma after the year (``"createDate": "Aug 1, 2024 1:33:28 PM"`` in CreateUser,
CreateAccessKey, CreateRole); STS writes the credentials' expiration with one
(``"expiration": "Nov 30, 2024, 8:43:17 PM"``)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from .server import MANAGEMENT, Server

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def looked_up(server: Server, event_name: str, request_id: str) -> dict[str, Any]:
    ct = server.client("cloudtrail")
    deadline = time.monotonic() + 20
    while True:
        events = ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": event_name}])["Events"]
        for event in events:
            record: dict[str, Any] = json.loads(event["CloudTrailEvent"])
            if record["requestID"] == request_id:
                return record
        assert time.monotonic() < deadline, f"{request_id} not in event history"
        time.sleep(0.3)


def expected(dt: datetime, comma: bool) -> str:
    dt = dt.astimezone(UTC)
    hour = dt.hour % 12 or 12
    half = "AM" if dt.hour < 12 else "PM"
    sep = "," if comma else ""
    return f"{_MONTHS[dt.month - 1]} {dt.day}, {dt.year}{sep} {hour}:{dt:%M:%S} {half}"


def rid(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["RequestId"])


def test_iam_and_sts_dates_are_written_as_each_service_writes_them(own_server: Server) -> None:
    iam = own_server.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
        "Action": "sts:AssumeRole"}]})
    made_user = iam.create_user(UserName="audit18-dates")
    made_key = iam.create_access_key(UserName="audit18-dates")
    key = made_key["AccessKey"]
    iam.put_user_policy(UserName="audit18-dates", PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    made_role = iam.create_role(RoleName="audit18-dates", AssumeRolePolicyDocument=trust)

    user = looked_up(own_server, "CreateUser", rid(made_user))["responseElements"]["user"]
    assert user["createDate"] == expected(made_user["User"]["CreateDate"], comma=False)
    access = looked_up(own_server, "CreateAccessKey", rid(made_key))["responseElements"]
    assert access["accessKey"]["createDate"] == expected(key["CreateDate"], comma=False)
    assert "secretAccessKey" not in access["accessKey"]
    role = looked_up(own_server, "CreateRole", rid(made_role))["responseElements"]["role"]
    assert role["createDate"] == expected(made_role["Role"]["CreateDate"], comma=False)
    assert ", 20" in role["createDate"] and "M" in role["createDate"]

    sts = own_server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    deadline = time.monotonic() + 20
    while True:  # a new key and policy can take a moment, as on AWS
        try:
            assumed = sts.assume_role(RoleArn=made_role["Role"]["Arn"], RoleSessionName="s18")
            break
        except sts.exceptions.ClientError:
            assert time.monotonic() < deadline
            time.sleep(0.5)
    record = looked_up(own_server, "AssumeRole", rid(assumed))
    credentials = record["responseElements"]["credentials"]
    assert credentials["expiration"] == expected(assumed["Credentials"]["Expiration"], comma=True)
    assert credentials["accessKeyId"] == assumed["Credentials"]["AccessKeyId"]
