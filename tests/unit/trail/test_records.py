"""CloudTrail records built from finished calls (spec 7.8): identities, cross-account copies,
failures, secrets, S3 data/management classification and parameter naming."""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trailgate import clock
from trailgate.gateway.context import Principal
from trailgate.trail import event_fields
from trailgate.trail.callinfo import CallInfo
from trailgate.trail.records import (
    HIDDEN,
    _iso,
    aws_date,
    build_records,
    event_stamp,
    event_stamp_bytes,
    event_time_now,
    is_data_event,
    is_global_service_event,
    new_event_id,
    record_region,
)

ADMIN = "111111111111"
D = "222222222222"
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
ISSUED = datetime(2026, 11, 28, 11, 30, 0, tzinfo=UTC)
ROLE_ARN = f"arn:aws:iam::{ADMIN}:role/LogReaderD"

ROOT = Principal(
    kind="root", arn=f"arn:aws:iam::{D}:root", account=D, user_id=D,
    access_key_id="AKIAROOTKEY000000001", unique_id=D,
)
USER = Principal(
    kind="user", arn=f"arn:aws:iam::{D}:user/ops/dave", account=D,
    user_id="AIDAEXAMPLEDUSER00001", access_key_id="AKIAEXAMPLE000000001",
    unique_id="AIDAEXAMPLEDUSER00001",
)
USER_SESSION = replace(
    USER, access_key_id="ASIAEXAMPLE000000009", via_session_token=True,
    mfa_authenticated=True, session_issued=ISSUED,
)
ROLE_SESSION = Principal(
    kind="assumed_role", arn=f"arn:aws:sts::{ADMIN}:assumed-role/LogReaderD/d-audit",
    account=ADMIN, user_id="AROAEXAMPLEROLE000001:d-audit",
    access_key_id="ASIAEXAMPLE000000001", unique_id="AROAEXAMPLEROLE000001",
    role_arn=ROLE_ARN, session_name="d-audit", session_issued=ISSUED,
    source_identity="dave",
)
SERVICE = Principal(kind="service", arn="cloudtrail.amazonaws.com", account="",
                    user_id="cloudtrail.amazonaws.com")


def call(
    service: str = "iam",
    operation: str = "GetUser",
    *,
    principal: Principal = USER,
    params: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    **extra: Any,
) -> CallInfo:
    fields: dict[str, Any] = {
        "request_id": "req-0001",
        "event_time": NOW,
        "service": service,
        "operation": operation,
        "region": "eu-west-1",
        "source_ip": "198.51.100.7",
        "user_agent": "Boto3/1.44.8 md/Botocore#1.44.8",
        "principal": principal,
        "params": params if params is not None else {},
        "result": result if result is not None else {},
        "host": "localhost:8080",
    }
    fields.update(extra)
    return CallInfo(**fields)


def only(info: CallInfo) -> dict[str, Any]:
    records = build_records(info)
    assert len(records) == 1
    return records[0][1]


def assume_role(principal: Principal = USER, **extra: Any) -> CallInfo:
    creds = {
        "AccessKeyId": "ASIANEWSESSION000001",
        "SecretAccessKey": "wJalrSECRETSECRETSECRETSECRETSECRET0001",
        "SessionToken": "FQoGZXIvYXdzSEALEDTOKEN",
        "Expiration": NOW + timedelta(hours=1),
    }
    fields: dict[str, Any] = {
        "principal": principal,
        "params": {
            "RoleArn": ROLE_ARN, "RoleSessionName": "d-audit", "ExternalId": "ext-1234",
            "SerialNumber": f"arn:aws:iam::{D}:mfa/dave", "TokenCode": "987123",
        },
        "result": {
            "Credentials": creds,
            "AssumedRoleUser": {
                "AssumedRoleId": "AROAEXAMPLEROLE000001:d-audit",
                "Arn": f"arn:aws:sts::{ADMIN}:assumed-role/LogReaderD/d-audit",
            },
        },
        "resource_account": ADMIN,
        "tls": True,
        "host": "sts.amazonaws.com",
        "region": "us-east-1",  # the global endpoint's signing region
    }
    fields.update(extra)
    return call("sts", "AssumeRole", **fields)


# -- userIdentity ------------------------------------------------------------------------------


SESSION_ATTRS = {"creationDate": "2026-11-28T11:30:00Z", "mfaAuthenticated": "true"}

IDENTITIES: list[tuple[str, Principal, dict[str, Any]]] = [
    ("root", ROOT, {
        "type": "Root", "principalId": D, "arn": f"arn:aws:iam::{D}:root", "accountId": D,
        "accessKeyId": "AKIAROOTKEY000000001",
    }),
    ("iam-user", USER, {
        "type": "IAMUser", "principalId": "AIDAEXAMPLEDUSER00001",
        "arn": f"arn:aws:iam::{D}:user/ops/dave", "accountId": D,
        "accessKeyId": "AKIAEXAMPLE000000001", "userName": "dave",
    }),
    ("iam-user-session-token", USER_SESSION, {
        "type": "IAMUser", "principalId": "AIDAEXAMPLEDUSER00001",
        "arn": f"arn:aws:iam::{D}:user/ops/dave", "accountId": D,
        "accessKeyId": "ASIAEXAMPLE000000009", "userName": "dave",
        "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                           "attributes": SESSION_ATTRS},
    }),
    ("assumed-role", ROLE_SESSION, {
        "type": "AssumedRole", "principalId": "AROAEXAMPLEROLE000001:d-audit",
        "arn": f"arn:aws:sts::{ADMIN}:assumed-role/LogReaderD/d-audit", "accountId": ADMIN,
        "accessKeyId": "ASIAEXAMPLE000000001",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLE000001",
                              "arn": ROLE_ARN, "accountId": ADMIN, "userName": "LogReaderD"},
            "webIdFederationData": {},
            "attributes": {"creationDate": "2026-11-28T11:30:00Z", "mfaAuthenticated": "false"},
            "sourceIdentity": "dave",
        },
    }),
]


@pytest.mark.parametrize(("principal", "expected"), [(p, e) for _, p, e in IDENTITIES],
                         ids=[name for name, _, _ in IDENTITIES])
def test_user_identity(principal: Principal, expected: dict[str, Any]) -> None:
    record = only(call("iam", "ListUsers", principal=principal))
    assert record["userIdentity"] == expected
    assert record["recipientAccountId"] == principal.account
    assert "sharedEventID" not in record


def test_aws_service_identity() -> None:
    info = call("s3", "GetBucketAcl", principal=SERVICE, params={"Bucket": "trail-bucket"},
                resource_account=ADMIN)
    record = only(info)
    assert record["userIdentity"] == {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
    assert record["sourceIPAddress"] == "cloudtrail.amazonaws.com"
    assert record["userAgent"] == "cloudtrail.amazonaws.com"
    assert record["recipientAccountId"] == ADMIN


def test_record_skeleton() -> None:
    record = only(call("iam", "CreateUser", params={"UserName": "bob"}, tls=True,
                       result={"User": {"UserName": "bob", "CreateDate": NOW}}))
    assert list(record)[:8] == [
        "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
        "sourceIPAddress", "userAgent",
    ]
    assert record["eventVersion"] == "1.08"
    assert record["eventTime"] == "2026-11-28T12:00:00Z"
    assert record["eventSource"] == "iam.amazonaws.com"
    assert record["eventType"] == "AwsApiCall"
    assert record["requestID"] == "req-0001"
    assert record["responseElements"] == {
        "user": {"userName": "bob", "createDate": "Nov 28, 2026 12:00:00 PM"}
    }
    assert record["tlsDetails"] == {
        "tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
        "clientProvidedHostHeader": "localhost:8080",
    }
    assert "errorCode" not in record and "errorMessage" not in record
    assert "tlsDetails" not in only(call("iam", "GetUser"))


# -- cross-account AssumeRole ------------------------------------------------------------------


def test_cross_account_assume_role_gives_two_copies() -> None:
    records = build_records(assume_role())
    assert [account for account, _ in records] == [D, ADMIN]
    (_, caller), (_, owner) = records
    assert caller["recipientAccountId"] == D
    assert owner["recipientAccountId"] == ADMIN
    assert caller["userIdentity"]["type"] == "IAMUser"
    assert owner["userIdentity"] == {
        "type": "AWSAccount", "principalId": "AIDAEXAMPLEDUSER00001", "accountId": D,
    }
    assert caller["sharedEventID"] == owner["sharedEventID"]
    assert caller["requestID"] == owner["requestID"] == "req-0001"
    assert caller["eventID"] != owner["eventID"]
    for record in (caller, owner):
        assert record["eventName"] == "AssumeRole"
        assert record["eventSource"] == "sts.amazonaws.com"
        assert record["awsRegion"] == "us-east-1"
        assert record["readOnly"] is True
        assert record["managementEvent"] is True
        assert record["eventCategory"] == "Management"
        assert record["resources"] == [
            {"ARN": ROLE_ARN, "accountId": ADMIN, "type": "AWS::IAM::Role"}
        ]
        assert record["requestParameters"] == {
            "roleArn": ROLE_ARN, "roleSessionName": "d-audit", "externalId": "ext-1234",
            "serialNumber": f"arn:aws:iam::{D}:mfa/dave",
        }
        assert record["responseElements"] == {
            "credentials": {
                "accessKeyId": "ASIANEWSESSION000001",
                "sessionToken": "FQoGZXIvYXdzSEALEDTOKEN",
                "expiration": "Nov 28, 2026, 1:00:00 PM",
            },
            "assumedRoleUser": {
                "assumedRoleId": "AROAEXAMPLEROLE000001:d-audit",
                "arn": f"arn:aws:sts::{ADMIN}:assumed-role/LogReaderD/d-audit",
            },
        }


def test_same_account_assume_role_gives_one_record() -> None:
    own_role = replace(ROLE_SESSION, account=D)
    records = build_records(assume_role(own_role, resource_account=D))
    assert len(records) == 1
    assert records[0][0] == D
    assert "sharedEventID" not in records[0][1]


def test_role_session_chaining_cross_account_names_the_session() -> None:
    chained = replace(ROLE_SESSION, account=D, arn=f"arn:aws:sts::{D}:assumed-role/Ops/s1",
                      user_id="AROAOPSROLE0000000001:s1")
    _, owner = build_records(assume_role(chained))
    assert owner[1]["userIdentity"] == {
        "type": "AWSAccount", "principalId": "AROAOPSROLE0000000001:s1", "accountId": D,
    }


def test_failed_assume_role_records_the_error_in_both_accounts() -> None:
    message = f"User: {USER.arn} is not authorized to perform: sts:AssumeRole on resource: {ROLE_ARN}"
    records = build_records(assume_role(result=None, error_code="AccessDenied",
                                        error_message=message))
    assert len(records) == 2
    assert records[0][1]["sharedEventID"] == records[1][1]["sharedEventID"]
    for _, record in records:
        assert record["errorCode"] == "AccessDenied"
        assert record["errorMessage"] == message
        assert record["responseElements"] is None
        assert record["readOnly"] is True


def test_error_message_and_user_agent_are_clipped_to_1kb() -> None:
    record = only(call("iam", "CreateUser", result=None, error_code="ValidationError",
                       error_message="é" * 2000, user_agent="x" * 5000))
    assert len(record["errorMessage"].encode()) <= 1024
    assert record["errorMessage"] == "é" * 512
    assert len(record["userAgent"]) == 1024


# -- secrets -----------------------------------------------------------------------------------


SECRET = "TOPSECRETVALUE0123456789"

SECRET_CALLS: list[tuple[str, CallInfo]] = [
    ("assume-role-secret-key", assume_role(result={
        "Credentials": {"AccessKeyId": "ASIAX", "SecretAccessKey": SECRET,
                        "SessionToken": "tok", "Expiration": NOW}})),
    ("assume-role-token-code", assume_role(params={
        "RoleArn": ROLE_ARN, "RoleSessionName": "s", "SerialNumber": "arn:aws:iam::1:mfa/x",
        "TokenCode": SECRET})),
    ("get-session-token", call("sts", "GetSessionToken", params={"TokenCode": SECRET}, result={
        "Credentials": {"AccessKeyId": "ASIAX", "SecretAccessKey": SECRET,
                        "SessionToken": "tok", "Expiration": NOW}})),
    ("create-access-key", call("iam", "CreateAccessKey", params={"UserName": "bob"}, result={
        "AccessKey": {"UserName": "bob", "AccessKeyId": "AKIANEW", "Status": "Active",
                      "SecretAccessKey": SECRET, "CreateDate": NOW}})),
    ("create-login-profile", call("iam", "CreateLoginProfile", params={
        "UserName": "bob", "Password": SECRET, "PasswordResetRequired": True}, result={
        "LoginProfile": {"UserName": "bob", "CreateDate": NOW}})),
    ("update-login-profile", call("iam", "UpdateLoginProfile", params={
        "UserName": "bob", "Password": SECRET})),
    ("change-password", call("iam", "ChangePassword", params={
        "OldPassword": SECRET, "NewPassword": SECRET + "2"})),
    ("virtual-mfa-seed", call("iam", "CreateVirtualMFADevice", params={
        "VirtualMFADeviceName": "dev"}, result={"VirtualMFADevice": {
            "SerialNumber": "arn:aws:iam::1:mfa/dev", "Base32StringSeed": SECRET.encode(),
            "QRCodePNG": SECRET.encode()}})),
    ("enable-mfa-codes", call("iam", "EnableMFADevice", params={
        "UserName": "bob", "SerialNumber": "arn:aws:iam::1:mfa/dev",
        "AuthenticationCode1": SECRET, "AuthenticationCode2": SECRET})),
    ("s3-upload-body", call("s3", "PutObject", params={
        "Bucket": "b", "Key": "k", "Body": SECRET.encode()})),
    ("s3-customer-key", call("s3", "GetObject", params={
        "Bucket": "b", "Key": "k", "SSECustomerKey": SECRET, "SSECustomerAlgorithm": "AES256"})),
    ("org-create-account", call("organizations", "CreateAccount", params={
        "Email": f"{SECRET}@example.com", "AccountName": SECRET}, result={
        "CreateAccountStatus": {"Id": "car-1", "AccountName": SECRET, "State": "SUCCEEDED"}})),
]


@pytest.mark.parametrize("info", [c for _, c in SECRET_CALLS], ids=[n for n, _ in SECRET_CALLS])
def test_secrets_never_reach_a_record(info: CallInfo) -> None:
    for _, record in build_records(info):
        assert SECRET not in json.dumps(record)


def test_secret_free_parts_are_kept() -> None:
    profile = only(SECRET_CALLS[4][1])
    assert profile["requestParameters"] == {"userName": "bob", "passwordResetRequired": True}
    assert profile["responseElements"] == {
        "loginProfile": {"userName": "bob", "createDate": "Nov 28, 2026 12:00:00 PM"}
    }
    assert only(SECRET_CALLS[6][1])["requestParameters"] is None  # ChangePassword
    key = only(SECRET_CALLS[3][1])["responseElements"]["accessKey"]
    assert key == {"userName": "bob", "accessKeyId": "AKIANEW", "status": "Active",
                   "createDate": "Nov 28, 2026 12:00:00 PM"}
    mfa = only(SECRET_CALLS[7][1])["responseElements"]
    assert mfa == {"virtualMFADevice": {"serialNumber": "arn:aws:iam::1:mfa/dev"}}
    org = only(SECRET_CALLS[11][1])
    assert org["requestParameters"] == {"email": HIDDEN, "accountName": HIDDEN}
    assert org["responseElements"]["createAccountStatus"]["accountName"] == HIDDEN


def test_policy_documents_stay() -> None:
    document = '{"Version":"2012-10-17","Statement":[]}'
    record = only(call("iam", "PutRolePolicy", params={
        "RoleName": "r", "PolicyName": "p", "PolicyDocument": document}))
    assert record["requestParameters"] == {
        "roleName": "r", "policyName": "p", "policyDocument": document,
    }


# -- naming ------------------------------------------------------------------------------------


NAMING: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("sts", "AssumeRole",
     {"RoleArn": ROLE_ARN, "RoleSessionName": "s", "DurationSeconds": 900,
      "Tags": [{"Key": "k", "Value": "v"}], "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/X"}]},
     {"roleArn": ROLE_ARN, "roleSessionName": "s", "policyArns": [
         {"arn": "arn:aws:iam::aws:policy/X"}], "durationSeconds": 900,
      "tags": [{"key": "k", "value": "v"}]}),
    ("iam", "AttachRolePolicy", {"RoleName": "r", "PolicyArn": "arn:aws:iam::aws:policy/X"},
     {"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/X"}),
    ("cloudtrail", "CreateTrail",
     {"Name": "t", "S3BucketName": "b", "IsMultiRegionTrail": True,
      "EnableLogFileValidation": True},
     {"name": "t", "s3BucketName": "b", "isMultiRegionTrail": True,
      "enableLogFileValidation": True}),
    ("s3", "GetObject", {"Bucket": "b", "Key": "a/k.json", "VersionId": "v1"},
     {"bucketName": "b", "Host": "localhost:8080", "key": "a/k.json", "versionId": "v1"}),
    ("s3", "GetBucketPolicy", {"Bucket": "b"},
     {"bucketName": "b", "Host": "localhost:8080", "policy": ""}),
    ("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": '{"Version":"2012-10-17"}'},
     {"bucketName": "b", "Host": "localhost:8080", "policy": "",
      "bucketPolicy": {"Version": "2012-10-17"}}),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "", "Delimiter": "/", "MaxKeys": 10},
     {"bucketName": "b", "Host": "localhost:8080", "list-type": "2", "delimiter": "/",
      "max-keys": "10", "prefix": ""}),
    ("s3", "ListBuckets", {}, {"Host": "localhost:8080"}),
    ("s3", "DeleteObjects",
     {"Bucket": "b", "Delete": {"Objects": [{"Key": "secret-name"}]}},
     {"bucketName": "b", "Host": "localhost:8080", "delete": ""}),
]


@pytest.mark.parametrize(("service", "operation", "params", "expected"), NAMING,
                         ids=[f"{s}.{o}" for s, o, _, _ in NAMING])
def test_request_parameter_names(
    service: str, operation: str, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    record = build_records(call(service, operation, params=params))[0][1]
    assert record["requestParameters"] == expected


def test_get_caller_identity_has_null_parameters_and_response() -> None:
    record = only(call("sts", "GetCallerIdentity", result={"UserId": "x", "Account": D}))
    assert record["requestParameters"] is None
    assert record["responseElements"] is None
    assert record["readOnly"] is True


# -- classification ----------------------------------------------------------------------------


# (service, operation, eventName, readOnly, management)
CLASSES: list[tuple[str, str, str, bool, bool]] = [
    ("sts", "AssumeRole", "AssumeRole", True, True),
    ("sts", "GetSessionToken", "GetSessionToken", True, True),
    ("sts", "GetCallerIdentity", "GetCallerIdentity", True, True),
    ("iam", "CreateRole", "CreateRole", False, True),
    ("iam", "GetRole", "GetRole", True, True),
    ("iam", "ListRoles", "ListRoles", True, True),
    ("iam", "SimulatePrincipalPolicy", "SimulatePrincipalPolicy", True, True),
    ("cloudtrail", "LookupEvents", "LookupEvents", True, True),
    ("cloudtrail", "DescribeTrails", "DescribeTrails", True, True),
    ("cloudtrail", "StartLogging", "StartLogging", False, True),
    ("organizations", "DescribeOrganization", "DescribeOrganization", True, True),
    ("s3", "CreateBucket", "CreateBucket", False, True),
    ("s3", "PutBucketPolicy", "PutBucketPolicy", False, True),
    ("s3", "GetBucketAcl", "GetBucketAcl", True, True),
    ("s3", "ListBuckets", "ListBuckets", True, True),
    ("s3", "GetPublicAccessBlock", "GetBucketPublicAccessBlock", True, True),
    ("s3", "GetObject", "GetObject", True, False),
    ("s3", "HeadObject", "HeadObject", True, False),
    ("s3", "PutObject", "PutObject", False, False),
    ("s3", "CopyObject", "CopyObject", False, False),
    ("s3", "DeleteObject", "DeleteObject", False, False),
    ("s3", "DeleteObjects", "DeleteObjects", False, False),
    ("s3", "CreateMultipartUpload", "CreateMultipartUpload", False, False),
    ("s3", "UploadPart", "UploadPart", False, False),
    ("s3", "CompleteMultipartUpload", "CompleteMultipartUpload", False, False),
    ("s3", "AbortMultipartUpload", "AbortMultipartUpload", False, False),
    ("s3", "ListParts", "ListParts", True, False),
    ("s3", "ListObjectsV2", "ListObjects", True, False),
    ("s3", "HeadBucket", "HeadBucket", True, False),
]


@pytest.mark.parametrize(("service", "operation", "name", "read_only", "management"), CLASSES,
                         ids=[f"{c[0]}.{c[1]}" for c in CLASSES])
def test_classification(
    service: str, operation: str, name: str, read_only: bool, management: bool
) -> None:
    params = {"Bucket": "b", "Key": "k", "UploadId": "u"} if service == "s3" else {}
    record = build_records(call(service, operation, params=params))[0][1]
    assert record["eventName"] == name
    assert record["readOnly"] is read_only
    assert record["managementEvent"] is management
    assert record["eventCategory"] == ("Management" if management else "Data")
    assert is_data_event(record) is not management


@pytest.mark.parametrize(("service", "region"), [
    ("iam", "us-east-1"), ("organizations", "us-east-1"),
    ("s3", "eu-west-1"), ("cloudtrail", "eu-west-1"),
])
def test_regions(service: str, region: str) -> None:
    record = build_records(call(service, "ListThings"))[0][1]
    assert record["awsRegion"] == region
    assert record_region(record) == region
    assert is_global_service_event(record) is (service in ("iam", "organizations"))


@pytest.mark.parametrize(("signed", "region", "is_global"), [
    ("us-east-1", "us-east-1", True), ("eu-west-1", "eu-west-1", False), ("", "us-east-1", True),
])
def test_sts_region_is_the_endpoints(signed: str, region: str, is_global: bool) -> None:
    """AWS logs a call to a regional STS endpoint in that region (a regional event, not a
    global service event); the global endpoint's calls in us-east-1."""
    record = build_records(call("sts", "GetCallerIdentity", region=signed))[0][1]
    assert (record["awsRegion"], is_global_service_event(record)) == (region, is_global)


# -- S3 ----------------------------------------------------------------------------------------


def s3_call(operation: str, **extra: Any) -> CallInfo:
    fields: dict[str, Any] = {
        "params": {"Bucket": "trail-bucket", "Key": "AWSLogs/1/x.json.gz"},
        "signature_version": "AWS4-HMAC-SHA256",
        "auth_type": "REST-HEADER",
        "resource_account": D,
        "extra": {"bytesTransferredIn": 0, "bytesTransferredOut": 1234},
    }
    fields.update(extra)
    return call("s3", operation, **fields)


def test_s3_object_event() -> None:
    record = only(s3_call("GetObject", result={"ContentLength": 1234, "Body": b"zz"}))
    assert record["resources"] == [
        {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::trail-bucket/AWSLogs/1/x.json.gz"},
        {"accountId": D, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::trail-bucket"},
    ]
    assert record["additionalEventData"] == {
        "SignatureVersion": "SigV4", "bytesTransferredIn": 0,
        "AuthenticationMethod": "AuthHeader", "bytesTransferredOut": 1234,
    }
    assert record["responseElements"] is None


def test_s3_presigned_sigv2_over_tls() -> None:
    record = only(s3_call("GetObject", signature_version="AWS", auth_type="REST-QUERY-STRING",
                          tls=True))
    data = record["additionalEventData"]
    assert data["SignatureVersion"] == "SigV2"
    assert data["AuthenticationMethod"] == "QueryString"
    assert data["CipherSuite"] == "TLS_AES_128_GCM_SHA256"


def test_s3_bucket_event_resources() -> None:
    record = only(s3_call("GetBucketAcl", params={"Bucket": "trail-bucket"}))
    assert record["resources"] == [
        {"accountId": D, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::trail-bucket"}
    ]


def test_s3_write_response_headers() -> None:
    record = only(s3_call("PutObject", result={"ETag": '"abc"', "ServerSideEncryption": "AES256",
                                               "VersionId": "v9"}))
    assert record["responseElements"] == {
        "x-amz-server-side-encryption": "AES256", "x-amz-version-id": "v9",
    }


def test_s3_call_on_another_accounts_bucket_goes_to_both() -> None:
    records = build_records(s3_call("GetObject", resource_account=ADMIN))
    assert [account for account, _ in records] == [D, ADMIN]
    (_, caller), (_, owner) = records
    assert caller["userIdentity"]["type"] == "IAMUser"
    assert owner["userIdentity"] == {
        "type": "AWSAccount", "principalId": "AIDAEXAMPLEDUSER00001", "accountId": D,
    }
    assert caller["sharedEventID"] == owner["sharedEventID"]
    assert caller["eventID"] != owner["eventID"]


def test_s3_copy_object_names_both_objects() -> None:
    record = only(s3_call("CopyObject", params={
        "Bucket": "dst", "Key": "k2", "CopySource": "src/a%20b.txt?versionId=1"}))
    arns = [r["ARN"] for r in record["resources"]]
    assert arns == ["arn:aws:s3:::dst/k2", "arn:aws:s3:::dst", "arn:aws:s3:::src/a b.txt",
                    "arn:aws:s3:::src"]


def test_aws_date_format() -> None:
    assert aws_date(datetime(2026, 1, 5, 0, 7, 9, tzinfo=UTC)) == "Jan 5, 2026, 12:07:09 AM"
    assert aws_date(datetime(2026, 11, 28, 13, 0, 0, tzinfo=UTC)) == "Nov 28, 2026, 1:00:00 PM"


def test_event_ids_are_unique_time_ordered_version_4_uuids() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_event_id() for _ in range(5000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    for text in ids[:50] + ids[-50:]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert before <= parsed.int >> 80 <= after  # the first 48 bits: milliseconds
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)


def test_event_stamps_are_event_time_now_and_new_event_id() -> None:
    """The recorder's fast path: eventTime as event_time_now gives it (the clock moved by
    clock.advance included, at once), eventIDs as new_event_id makes them: unique version 4
    UUIDs whose first 48 bits are the millisecond, in the counter's order."""
    before = time.time_ns() // 1_000_000
    stamps = [event_stamp() for _ in range(5000)]
    after = time.time_ns() // 1_000_000
    ids = [event_id for _, event_id in stamps]
    assert len(set(ids)) == len(ids)
    for text in ids[:50] + ids[-50:]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert before <= parsed.int >> 80 <= after
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)
    assert ids[0][-13:] == new_event_id()[-13:]  # the same process salt
    assert _iso(datetime.fromtimestamp(before / 1000, UTC).replace(microsecond=0)) \
        <= stamps[0][0] <= stamps[-1][0] <= event_time_now()
    try:
        clock.advance(timedelta(days=400, seconds=7))
        text, _ = event_stamp()  # within the same millisecond as the last stamp, maybe
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text)
        got = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert timedelta(0) <= clock.now() - got < timedelta(seconds=2)
    finally:
        clock.reset()
    assert event_stamp()[0] <= event_time_now()


@pytest.mark.parametrize("offset_ms", [0, 500, 7_250, -1_999])
def test_event_stamps_follow_the_clock_across_seconds(monkeypatch: pytest.MonkeyPatch,
                                                      offset_ms: int) -> None:
    """eventTime from event_stamp is event_time_now's at every millisecond, also with a clock
    moved by a fraction of a second (its seconds then start mid-second of the real clock)."""
    now = [1_795_000_000_000]  # milliseconds
    monkeypatch.setattr(time, "time_ns", lambda: now[0] * 1_000_000)
    monkeypatch.setattr(time, "time", lambda: now[0] / 1000)
    try:
        clock.advance(timedelta(milliseconds=offset_ms))
        for step in [0, 1, 249, 250, 251, 499, 500, 501, 999, 1000, 1001, 1750, 3000]:
            now[0] = 1_795_000_000_000 + step
            assert event_stamp()[0] == event_time_now(), step
    finally:
        clock.reset()


def test_event_time_now_is_the_clock_to_the_second() -> None:
    try:
        clock.advance(timedelta(days=400, seconds=7))
        before = _iso(clock.now())
        text = event_time_now()
        assert before <= text <= _iso(clock.now())
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text)
    finally:
        clock.reset()


@pytest.mark.parametrize("start", [0, 0xFF, 0x3FFF, 0x3FFFF00, 0x3FFFFFF])
def test_event_stamp_ids_stay_unique_across_the_counters_cached_bits(
        monkeypatch: pytest.MonkeyPatch, start: int) -> None:
    """event_stamp_bytes keeps an eventID's first 21 characters while the second and the
    counter's bits above its low 8 stay: IDs made across those bits' changes (and across the
    26-bit counter's wrap) are still unique version 4 UUIDs, each the layout new_event_id
    gives its counter value (low 8 bits in the fourth group's last two digits)."""
    monkeypatch.setattr(event_fields, "_ids", itertools.count(start))
    monkeypatch.setattr(event_fields, "_stamp", (-1, -1, b"", b""))
    made = [event_stamp_bytes()[1].decode() for _ in range(700)]
    assert len(set(made)) == len(made)
    for offset, text in enumerate(made):
        n = (start + offset) & 0x3FFFFFF
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert (parsed.int >> 64 & 0xFFF, parsed.int >> 48 & 0x3FFF) == (n >> 14, n & 0x3FFF)
    assert {text[-13:] for text in made} == {new_event_id()[-13:]}  # the process's salt
