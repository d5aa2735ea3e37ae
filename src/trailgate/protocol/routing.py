"""Which service and operation one request is for (spec 6.2), on a single endpoint.

In order:

1. ``Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request`` ->
   service and region from the credential scope (``AWS4-ECDSA-P256-SHA256``, SigV4a, has no
   region in its scope);
2. query parameter ``X-Amz-Credential`` (presigned SigV4) -> the same, from the query;
3. ``Authorization: AWS AKID:sig`` or query ``AWSAccessKeyId`` (SigV2) -> S3 — unless the query
   also has ``Action`` and ``SignatureVersion`` (legacy query-protocol SigV2);
4. unsigned: ``X-Amz-Target`` -> JSON service by target prefix (both CloudTrail forms); ``Action``
   in a form body (``POST /``) or in the query string (``GET /``) -> IAM or STS by ``Version``
   (or, without a known version, by which model has the action); anything else -> S3.

A scope naming a service trailgate doesn't speak is ignored (rule 4 decides; authentication
will then reject the signature).  Operation: ``Action`` for query services, the text after the
last ``.`` of ``X-Amz-Target`` for JSON services, and for S3 whatever the ``s3_resolver``
passed to :func:`identify` returns (``None`` without one; the facade's ``identify_request``
passes ``restxml.S3Locator``, which applies spec 6.4 and raises S3's own RoutingErrors).

Failures raise :class:`RoutingError`, a :class:`ServiceError` that also says which service's
protocol must render it: ``InvalidAction`` "Could not find operation X for version Y" and
``MissingAction`` for query services, ``UnknownOperationException`` for JSON services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote_plus

from . import limits, specs
from .errors import ServiceError
from .query import is_form

if TYPE_CHECKING:  # gateway.context imports this package: no runtime import back
    from ..gateway.context import HttpRequest

DEFAULT_REGION: Final = "us-east-1"
S3Resolver = Callable[["HttpRequest"], str | None]

_SIGV4_PREFIXES: Final = ("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")


@dataclass
class RoutingError(ServiceError):
    """A routing failure, with the service whose protocol renders it."""

    service: str = "iam"


def identify(
    req: HttpRequest,
    *,
    default_region: str = "",
    s3_resolver: S3Resolver | None = None,
) -> tuple[str, str | None, str]:
    """``(service, operation or None, region)`` of ``req``; raises :class:`RoutingError`.

    ``region`` comes from the SigV4 credential scope; when the request names none (unsigned,
    SigV2, SigV4a) it is ``default_region`` — by default ``""``, for the caller to fill in.
    """
    scoped, region = _signed_scope(req)
    service = scoped if scoped is not None else _unsigned_service(req)
    region = region or default_region
    proto = specs.SERVICES[service].protocol
    if proto == "query":
        return service, _query_operation(req, service), region
    if proto == "json":
        return service, _json_operation(req, service), region
    return service, s3_resolver(req) if s3_resolver is not None else None, region


# --------------------------------------------------------------------------- signatures


def _scope_service(credential: str, sigv4a: bool) -> tuple[str | None, str]:
    """``AKID/date/region/service/aws4_request`` (SigV4a: no region) -> (service, region)."""
    parts = credential.split("/")
    if sigv4a and len(parts) >= 4:
        service, region = parts[2], ""
    elif len(parts) >= 5:
        service, region = parts[3], parts[2]
    else:
        return None, ""
    if service not in specs.SERVICES:
        return None, ""
    return service, region


def _signed_scope(req: HttpRequest) -> tuple[str | None, str]:
    auth = req.header("authorization")
    if auth.startswith(_SIGV4_PREFIXES):
        start = auth.find("Credential=")
        if start >= 0:
            end = auth.find(",", start)
            credential = auth[start + 11 : end if end >= 0 else len(auth)].strip()
            return _scope_service(credential, auth.startswith("AWS4-ECDSA"))
        return None, ""
    qs = req.query_string
    if "X-Amz-Credential=" in qs:
        presigned = _query_param(qs, "X-Amz-Credential")
        if presigned:
            sigv4a = _query_param(qs, "X-Amz-Algorithm") == "AWS4-ECDSA-P256-SHA256"
            return _scope_service(presigned, sigv4a)
    if auth.startswith("AWS ") or "AWSAccessKeyId=" in qs:
        if "Action=" in qs and "SignatureVersion=" in qs:
            return None, ""  # query-protocol SigV2: route by Action
        return "s3", ""
    return None, ""


def _query_param(qs: str, name: str) -> str | None:
    prefix = name + "="
    for part in qs.split("&"):
        if part.startswith(prefix):
            return unquote_plus(part[len(prefix) :])
    return None


def _form_param(body: bytes, name: bytes) -> str | None:
    """One parameter of a form body without decoding all of it (scans at most the limit)."""
    prefix = name + b"="
    limit = min(len(body), limits.MAX_QUERY_BYTES)
    pos = 0
    while True:
        i = body.find(prefix, pos, limit)
        if i < 0:
            return None
        if i == 0 or body[i - 1] == 0x26:  # at the start of a field ('&')
            end = body.find(b"&", i)
            value = body[i + len(prefix) : end if end >= 0 else len(body)]
            try:
                return unquote_plus(value.decode("utf-8"), errors="strict")
            except UnicodeDecodeError:
                return None
        pos = i + 1


# --------------------------------------------------------------------------- unsigned


def _action_and_version(req: HttpRequest) -> tuple[str | None, str | None]:
    action = version = None
    if req.method == "POST" and req.body and is_form(req):
        action = _form_param(req.body, b"Action")
        if action is not None:
            version = _form_param(req.body, b"Version")
    if action is None and req.query_string:
        action = _query_param(req.query_string, "Action")
        if action is not None:
            version = _query_param(req.query_string, "Version")
    return action, version


def _unsigned_service(req: HttpRequest) -> str:
    target = req.header("x-amz-target")
    if target:
        prefix = target.rpartition(".")[0]
        service = specs.TARGET_PREFIXES.get(prefix)
        if service is None:
            raise RoutingError("UnknownOperationException", "", 400, service="cloudtrail")
        return service
    if req.method in ("GET", "POST") and req.raw_path in ("", "/"):
        action, version = _action_and_version(req)
        if action is not None:
            return _query_service(action, version)
    return "s3"


def _query_service(action: str, version: str | None) -> str:
    if version in specs.QUERY_VERSIONS:
        return specs.QUERY_VERSIONS[version]
    for service in ("sts", "iam"):
        if specs.has_operation(service, action):
            return service
    return "iam"


# --------------------------------------------------------------------------- operations


def _query_operation(req: HttpRequest, service: str) -> str:
    action, version = _action_and_version(req)
    if not action:
        raise RoutingError("MissingAction", "Missing Action", 400, service=service)
    expected = specs.SERVICES[service].api_version
    if (version is not None and version != expected) or not specs.has_operation(service, action):
        raise RoutingError(
            "InvalidAction",
            f"Could not find operation {action} for version {version or expected}",
            400,
            service=service,
        )
    return action


def _json_operation(req: HttpRequest, service: str) -> str:
    target = req.header("x-amz-target")
    prefix, _, operation = target.rpartition(".")
    if (
        specs.TARGET_PREFIXES.get(prefix) != service
        or not operation
        or not specs.has_operation(service, operation)
    ):
        raise RoutingError("UnknownOperationException", "", 400, service=service)
    return operation
