"""Event history with boto3: the AssumeRole calls on CloudTrailReader-R, refused or not."""

import json
import os

import boto3

cloudtrail = boto3.client("cloudtrail", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
pages = cloudtrail.get_paginator("lookup_events").paginate(
    LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}]
)
for page in pages:
    for event in page["Events"]:
        record = json.loads(event["CloudTrailEvent"])
        role = (record.get("requestParameters") or {}).get("roleArn", "")
        if role.endswith(":role/CloudTrailReader-R"):
            who = record["userIdentity"]  # another account's caller: only its account id
            print(event["EventName"], who.get("arn", who.get("accountId")),
                  record.get("errorCode", "OK"))
