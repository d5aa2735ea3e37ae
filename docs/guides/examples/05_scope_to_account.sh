#!/bin/sh
# CloudTrailReader-D may read only D's logs: objects under AWSLogs/<D>/ and listing of that
# prefix.
set -eu
D=$(aws organizations list-accounts --query "Accounts[?Name=='account-D'].Id" --output text)
cat > read-own-prefix.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::trail-bucket/AWSLogs/$D/*"
    },
    {
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::trail-bucket",
      "Condition": {"StringLike": {"s3:prefix": "AWSLogs/$D/*"}}
    }
  ]
}
JSON
aws iam put-role-policy --role-name CloudTrailReader-D --policy-name read-own-prefix \
    --policy-document file://read-own-prefix.json
aws iam list-role-policies --role-name CloudTrailReader-D --query PolicyNames --output text
