"""The one object a request carries through the pipeline (``chain.py``).

Each step reads what earlier steps wrote and fills its own fields; nothing else is passed
between steps.  Fields are documented with the step that sets them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..protocol.errors import ServiceError

if TYPE_CHECKING:
    from ..services.base import RequestBody


@dataclass
class HttpRequest:
    """The request as received (set by the HTTP adapter)."""

    method: str
    raw_path: str  # path exactly as on the request line (percent-encoded), without query
    query_string: str  # raw query string, without '?'
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ','
    body: bytes  # the whole body when small; b"" when it was spooled to ``body_source``
    client_ip: str
    secure: bool = False
    body_source: RequestBody | None = None  # large bodies (S3 uploads), spooled to disk

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class HttpResponse:
    """What goes back (set by the serialize step)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_iter: Iterator[bytes] | None = None  # streamed instead of ``body`` (S3 GetObject)


@dataclass
class Principal:
    """The authenticated caller (set by authenticate)."""

    kind: str  # root | user | assumed_role | federated_user | service | anonymous | saml_user
    arn: str
    account: str
    user_id: str  # aws:userid (AIDA..., AROA...:session, the account id for root)
    access_key_id: str = ""
    unique_id: str | None = None  # AIDA.../AROA...
    role_arn: str | None = None
    session_name: str | None = None
    mfa_authenticated: bool = False
    mfa_auth_time: datetime | None = None
    session_issued: datetime | None = None  # temporary credentials only
    session_expires: datetime | None = None
    session_policies: tuple[str, ...] | None = None  # inline session policy texts; None: none
    session_policy_arns: tuple[str, ...] = ()  # managed session policies (PolicyArns)
    source_identity: str | None = None
    chained: bool = False  # a role session created from role-session credentials
    via_session_token: bool = False  # GetSessionToken credentials of an IAM user or root
    session_tags: tuple[tuple[str, str], ...] = ()  # AssumeRole Tags, inherited ones included
    transitive_tag_keys: tuple[str, ...] = ()  # the session tags role chaining passes on
    issuer_arn: str | None = None  # federated users: the IAM user (or root) who federated
    account_alias: str | None = None  # root (long-term key): the account alias, if one is set


@dataclass
class RequestContext:
    request: HttpRequest
    received_at: datetime
    # Set by the gateway as soon as the service is known (gateway/request_ids.py): a UUID, or
    # for S3 16 upper-case hex digits, with ``host_id`` its ``x-amz-id-2``.
    request_id: str = ""
    host_id: str = ""  # S3 only
    # identify
    service: str = ""  # iam | sts | s3 | cloudtrail | organizations
    operation: str = ""  # botocore operation name, e.g. "CreateRole"
    region: str = ""
    # parse
    params: dict[str, Any] = field(default_factory=dict)
    parse_error: ServiceError | None = None  # raised after authentication
    form: Any = None  # S3 browser-based POST upload: its PostForm (gateway/post_upload.py)
    # authenticate
    principal: Principal | None = None
    signature_version: str = ""  # "AWS4-HMAC-SHA256" | "AWS" | "" (anonymous)
    auth_type: str = ""  # "REST-HEADER" | "REST-QUERY-STRING" | ""
    # authorize
    decision: Any = None  # trailgate.policy.Decision of the main check
    resource_account: str | None = None  # owner of the target (role account, bucket owner)
    target: Any = None  # what authorize read of the target (AssumeRole: the role's record)
    # dispatch
    result: dict[str, Any] | None = None
    error: ServiceError | None = None
    # serialize
    response: HttpResponse = field(default_factory=HttpResponse)
    # record
    recorded: bool = False  # the call's CloudTrail records were committed with its changes
