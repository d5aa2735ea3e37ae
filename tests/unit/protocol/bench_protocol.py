"""Rough per-request costs of the protocol layer (not collected by pytest: no timed asserts).

Run: ``.venv/bin/python tests/unit/protocol/bench_protocol.py``
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from protocol_support import POLICY, WHEN, botocore_request

from trailgate import protocol
from trailgate.protocol import json11, query, routing


def bench(name: str, fn: Any, number: int = 2000) -> None:
    seconds = min(timeit.repeat(fn, number=number, repeat=5)) / number
    print(f"{name:45s} {seconds * 1e6:8.1f} µs")


def main() -> None:
    protocol.warm_up()
    create_role = botocore_request(
        "iam",
        "CreateRole",
        {
            "RoleName": "r",
            "AssumeRolePolicyDocument": POLICY,
            "Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(10)],
        },
    )
    assume = botocore_request(
        "sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "sess"}
    )
    lookup = botocore_request("cloudtrail", "LookupEvents", {"StartTime": WHEN, "MaxResults": 50})
    role = {
        "Path": "/",
        "RoleName": "r",
        "RoleId": "AROAEXAMPLE",
        "Arn": "arn:aws:iam::1:role/r",
        "CreateDate": WHEN,
        "AssumeRolePolicyDocument": POLICY,
        "MaxSessionDuration": 3600,
        "Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(10)],
    }
    events = {
        "Events": [
            {
                "EventId": f"e{i}",
                "EventName": "AssumeRole",
                "EventTime": WHEN,
                "CloudTrailEvent": "{}",
            }
            for i in range(50)
        ]
    }
    bench("identify CreateRole (SigV4-less form)", lambda: routing.identify(create_role))
    bench(
        "parse_query CreateRole + 10 tags",
        lambda: query.parse_query("iam", "CreateRole", create_role.body),
    )
    bench("parse_query AssumeRole", lambda: query.parse_query("sts", "AssumeRole", assume.body))
    bench(
        "serialize_query GetRole",
        lambda: query.serialize_query("iam", "GetRole", {"Role": role}, "rid"),
    )
    bench(
        "parse_json LookupEvents",
        lambda: json11.parse_json("cloudtrail", "LookupEvents", lookup.body),
    )
    bench(
        "serialize_json LookupEvents (50 events)",
        lambda: json11.serialize_json("cloudtrail", "LookupEvents", events),
        500,
    )


if __name__ == "__main__":
    main()
