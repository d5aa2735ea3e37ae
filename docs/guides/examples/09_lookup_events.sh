#!/bin/sh
# Who assumed which role: CloudTrail event history, filtered by event name.
set -eu
aws cloudtrail lookup-events \
    --lookup-attributes AttributeKey=EventName,AttributeValue=AssumeRole \
    --max-results 50 \
    --query 'Events[].[EventName, Username]' --output text
