#!/bin/sh
# Validate the trail's digest chain and log files, with the stock AWS CLI and with trailgate.
set -eu
TRAIL_ARN=$(python -c 'import json; print(json.load(open("accounts.json"))["trail_arn"])')
START=$(python -c 'import json; print(json.load(open("accounts.json"))["started"])')
# Digests are delivered once per digest period (--digest-interval): wait for the first one.
until aws s3api list-objects-v2 --bucket trail-bucket --prefix AWSLogs/ \
        --query 'Contents[].Key' --output text | grep -q CloudTrail-Digest; do
    sleep 1
done
aws cloudtrail validate-logs --trail-arn "$TRAIL_ARN" --start-time "$START"
trailgate validate-logs --trail-arn "$TRAIL_ARN" --start-time "$START"
