#!/bin/sh
# CloudTrailReader-R: the third party (account R) may assume it only with the agreed
# ExternalId.
set -eu
R=$(aws organizations list-accounts --query "Accounts[?Name=='account-R'].Id" --output text)
cat > trust-r.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::$R:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": "R-analyzer-7f3c2a"}}
  }]
}
JSON
aws iam create-role --role-name CloudTrailReader-R \
    --assume-role-policy-document file://trust-r.json \
    --query Role.Arn --output text
aws iam attach-role-policy --role-name CloudTrailReader-R \
    --policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
