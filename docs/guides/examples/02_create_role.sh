#!/bin/sh
# Create CloudTrailReader-E in the management account: account E may assume it, and it
# may read every log file (AmazonS3ReadOnlyAccess).
set -eu
E=$(aws organizations list-accounts --query "Accounts[?Name=='account-E'].Id" --output text)
cat > trust-e.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::$E:root"},
    "Action": "sts:AssumeRole"
  }]
}
JSON
aws iam create-role --role-name CloudTrailReader-E \
    --assume-role-policy-document file://trust-e.json \
    --query Role.Arn --output text
aws iam attach-role-policy --role-name CloudTrailReader-E \
    --policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
