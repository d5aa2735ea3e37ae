"""What the gateway knows about one finished API call: the input of CloudTrail recording.

The gateway fills a :class:`CallInfo` for every call made by an authenticated principal
(successes, errors and denials alike) and hands it to ``records.build_records``; the records
are appended to the store's ``events`` table in the same transaction as the call's state change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..gateway.context import Principal


@dataclass(slots=True)
class CallInfo:
    request_id: str  # the id returned to the client (x-amzn-RequestId / x-amz-request-id)
    event_time: datetime  # when the call completed (UTC)
    service: str  # iam | sts | s3 | cloudtrail | organizations
    operation: str  # botocore operation name, e.g. "AssumeRole", "GetObject"
    region: str  # region the call was made in (credential scope / server default)
    source_ip: str
    user_agent: str
    principal: Principal  # the authenticated caller
    params: dict[str, Any]  # botocore-shaped request parameters (already parsed)
    result: dict[str, Any] | None  # botocore-shaped output on success, else None
    error_code: str | None = None  # AWS error code on failure (AccessDenied, NoSuchEntity...)
    error_message: str | None = None
    host: str = ""  # the Host header the client sent
    tls: bool = False
    signature_version: str = ""  # "AWS4-HMAC-SHA256" | "AWS" (S3 SigV2)
    auth_type: str = ""  # "REST-HEADER" | "REST-QUERY-STRING"
    resource_account: str | None = None  # owner of the target (role's account, bucket owner)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. S3 bytes transferred
