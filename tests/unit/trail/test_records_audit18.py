"""Dates inside CloudTrail records, as AWS writes them per service (audit 18).

AWS's own records (Grimoire detonations published by stratus-red-team, 2024) show IAM dates
without a comma after the year -- ``"createDate": "Aug 1, 2024 1:33:28 PM"`` in CreateUser,
CreateAccessKey and CreateRole -- while STS writes its credentials' expiration with one --
``"expiration": "Nov 30, 2024, 8:43:17 PM"`` (GetFederationToken; the IAM User Guide's
AssumeRole example and the S3 Express CreateSession example have the same shape).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from trailgate.gateway.context import Principal
from trailgate.trail.callinfo import CallInfo
from trailgate.trail.records import aws_date, build_records

ACCOUNT = "222222222222"
WHEN = datetime(2024, 8, 1, 13, 33, 28, tzinfo=UTC)
USER = Principal(
    kind="user", arn=f"arn:aws:iam::{ACCOUNT}:user/dave", account=ACCOUNT,
    user_id="AIDAEXAMPLEDUSER00001", access_key_id="AKIAEXAMPLE000000001",
    unique_id="AIDAEXAMPLEDUSER00001",
)


def record(service: str, operation: str, params: dict[str, Any],
           result: dict[str, Any]) -> dict[str, Any]:
    info = CallInfo(
        request_id="req-18", event_time=WHEN, service=service, operation=operation,
        region="us-east-1", source_ip="198.51.100.7", user_agent="audit18", principal=USER,
        params=params, result=result,
    )
    [(_, built)] = build_records(info)
    return built


def test_iam_dates_have_no_comma_after_the_year() -> None:
    user = record("iam", "CreateUser", {"UserName": "mal"}, {"User": {
        "Path": "/", "UserName": "mal", "UserId": "AIDAL1XMLVWIUOK8KAF0",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/mal", "CreateDate": WHEN}})
    assert user["responseElements"]["user"]["createDate"] == "Aug 1, 2024 1:33:28 PM"
    key = record("iam", "CreateAccessKey", {"UserName": "mal"}, {"AccessKey": {
        "UserName": "mal", "AccessKeyId": "AKIAXAFZN8JEPF6L682H", "Status": "Active",
        "SecretAccessKey": "never-logged", "CreateDate": WHEN}})
    assert key["responseElements"] == {"accessKey": {
        "userName": "mal", "accessKeyId": "AKIAXAFZN8JEPF6L682H", "status": "Active",
        "createDate": "Aug 1, 2024 1:33:28 PM"}}


def test_sts_expiration_keeps_the_comma_after_the_year() -> None:
    expires = datetime(2024, 11, 30, 20, 43, 17, tzinfo=UTC)
    fed = record("sts", "GetFederationToken", {"Name": "fed"}, {
        "Credentials": {"AccessKeyId": "ASIASTJKC5GCM7ZE6LUP", "SecretAccessKey": "s",
                        "SessionToken": "tok", "Expiration": expires},
        "FederatedUser": {"FederatedUserId": f"{ACCOUNT}:fed",
                          "Arn": f"arn:aws:sts::{ACCOUNT}:federated-user/fed"}})
    credentials = fed["responseElements"]["credentials"]
    assert credentials == {"accessKeyId": "ASIASTJKC5GCM7ZE6LUP", "sessionToken": "tok",
                           "expiration": "Nov 30, 2024, 8:43:17 PM"}


def test_aws_date_per_service() -> None:
    midnight = datetime(2026, 1, 5, 0, 7, 9, tzinfo=UTC)
    assert aws_date(midnight, "iam") == "Jan 5, 2026 12:07:09 AM"
    assert aws_date(midnight, "sts") == "Jan 5, 2026, 12:07:09 AM"
    assert aws_date(midnight) == "Jan 5, 2026, 12:07:09 AM"
