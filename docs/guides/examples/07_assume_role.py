"""Assume Admin's roles programmatically with boto3, as the users of accounts R and D."""

import json
import os
import time

import boto3
import pyotp
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
accounts = json.load(open("accounts.json"))
mgmt = accounts["management"]


def assume(profile, role, **extra):
    sts = boto3.Session(profile_name=profile).client("sts", endpoint_url=ENDPOINT)
    try:
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{mgmt}:role/{role}",
                                RoleSessionName=profile, **extra)["Credentials"]
    except ClientError as err:
        print(profile, role, extra and sorted(extra) or "", err.response["Error"]["Code"])
        return None
    print(profile, role, "assumed")
    return boto3.client("s3", endpoint_url=ENDPOINT,
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


# R: refused without the ExternalId or with a wrong one, allowed with the agreed one.
assume("r-user", "CloudTrailReader-R")
assume("r-user", "CloudTrailReader-R", ExternalId="wrong")
s3 = assume("r-user", "CloudTrailReader-R", ExternalId="R-analyzer-7f3c2a")
print("R lists", s3.list_objects_v2(Bucket="trail-bucket")["KeyCount"] >= 0)

# D: refused without MFA; with a code from the device, D reads its own prefix only.
assume("d-user", "CloudTrailReader-D")
# (setup used the current code to enable the device, and a code is accepted only once:
# take the next one, which AWS also accepts)
code = pyotp.TOTP(accounts["mfa_seed"]).at(time.time() + 30)
s3 = assume("d-user", "CloudTrailReader-D",
            SerialNumber=accounts["mfa_serial"], TokenCode=code)
own = s3.list_objects_v2(Bucket="trail-bucket", Prefix=f"AWSLogs/{accounts['D']}/")
print("D lists its prefix", own["KeyCount"])
try:
    s3.list_objects_v2(Bucket="trail-bucket", Prefix=f"AWSLogs/{mgmt}/")
except ClientError as err:
    print("D lists Admin's prefix", err.response["Error"]["Code"])
