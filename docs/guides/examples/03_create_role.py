"""Create a cross-account role with boto3: CloudTrailAuditor-E, trusted by account E,
with AmazonS3ReadOnlyAccess."""

import json
import os

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
accounts = json.load(open("accounts.json"))

iam = boto3.client("iam", endpoint_url=ENDPOINT)
trust = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{accounts['E']}:root"},
        "Action": "sts:AssumeRole",
    }],
}
role = iam.create_role(RoleName="CloudTrailAuditor-E",
                       AssumeRolePolicyDocument=json.dumps(trust))["Role"]
iam.attach_role_policy(RoleName="CloudTrailAuditor-E",
                       PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
print(role["Arn"])
