"""Prerequisites: an organization with accounts D, E and R, the central log bucket with a
trail, an admin user, and in each member account a user who will assume Admin's role.
Writes the users' keys as AWS CLI profiles and the ids to accounts.json."""

import configparser
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

BUCKET = "trail-bucket"
TRAIL = "management-trail"
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]


def client(service, creds=None):
    creds = creds or {}
    return boto3.client(service, endpoint_url=ENDPOINT, **creds)


mgmt = client("sts").get_caller_identity()["Account"]
iam = client("iam")
iam.create_user(UserName="admin")
iam.attach_user_policy(UserName="admin",
                       PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
key = iam.create_access_key(UserName="admin")["AccessKey"]
admin = {"aws_access_key_id": key["AccessKeyId"],
         "aws_secret_access_key": key["SecretAccessKey"]}
profiles = {"admin": admin}

# The central bucket, writable by CloudTrail, and a trail with log file validation.
trail_arn = f"arn:aws:cloudtrail:{os.environ['AWS_DEFAULT_REGION']}:{mgmt}:trail/{TRAIL}"
s3 = client("s3")
s3.create_bucket(Bucket=BUCKET)
s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{BUCKET}",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{mgmt}/*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn,
                                        "s3:x-amz-acl": "bucket-owner-full-control"}}},
    ],
}))
cloudtrail = client("cloudtrail")
cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True)
cloudtrail.start_logging(Name=TRAIL)
started = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

# The organization and its member accounts.
org = client("organizations")
org.create_organization(FeatureSet="ALL")
state = {"management": mgmt, "trail_arn": trail_arn, "started": started}
for name in ("D", "E", "R"):
    request = org.create_account(Email=f"{name.lower()}@example.com",
                                 AccountName=f"account-{name}")["CreateAccountStatus"]
    account = org.describe_create_account_status(
        CreateAccountRequestId=request["Id"])["CreateAccountStatus"]["AccountId"]
    state[name] = account
    # Work inside the member account through its OrganizationAccountAccessRole.
    creds = client("sts", admin).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup")["Credentials"]
    member = client("iam", {"aws_access_key_id": creds["AccessKeyId"],
                            "aws_secret_access_key": creds["SecretAccessKey"],
                            "aws_session_token": creds["SessionToken"]})
    user = f"{name.lower()}-user"
    member.create_user(UserName=user)
    member.put_user_policy(UserName=user, PolicyName="assume-admin-role",
                           PolicyDocument=json.dumps({
                               "Version": "2012-10-17",
                               "Statement": [{
                                   "Effect": "Allow", "Action": "sts:AssumeRole",
                                   "Resource": f"arn:aws:iam::{mgmt}:role/CloudTrailReader-{name}",
                               }],
                           }))
    key = member.create_access_key(UserName=user)["AccessKey"]
    profiles[user] = {"aws_access_key_id": key["AccessKeyId"],
                      "aws_secret_access_key": key["SecretAccessKey"]}
    if name == "D":  # D's user gets a virtual MFA device
        import pyotp

        device = member.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
        seed = device["Base32StringSeed"].decode()
        step = int(time.time()) // 30
        totp = pyotp.TOTP(seed)
        member.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                                 AuthenticationCode1=totp.at((step - 1) * 30),
                                 AuthenticationCode2=totp.at(step * 30))
        state["mfa_serial"] = device["SerialNumber"]
        state["mfa_seed"] = seed

credentials_file = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))
credentials = configparser.ConfigParser()
credentials.read(credentials_file.expanduser())
for profile, values in profiles.items():
    credentials[profile] = values
with open(credentials_file.expanduser(), "w") as out:
    credentials.write(out)
Path("accounts.json").write_text(json.dumps(state, indent=2))
print("management", mgmt, "D", state["D"], "E", state["E"], "R", state["R"])
