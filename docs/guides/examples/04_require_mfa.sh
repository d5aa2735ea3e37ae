#!/bin/sh
# CloudTrailReader-D: account D may assume it only with MFA.
set -eu
D=$(aws organizations list-accounts --query "Accounts[?Name=='account-D'].Id" --output text)
cat > trust-d.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::$D:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
  }]
}
JSON
aws iam create-role --role-name CloudTrailReader-D \
    --assume-role-policy-document file://trust-d.json \
    --query Role.Arn --output text
