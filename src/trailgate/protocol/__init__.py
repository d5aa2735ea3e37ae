"""Wire protocols, driven by botocore's service models; no business rules.

The pipeline (``gateway/chain.py``) uses three steps from here, each reading and writing the
:class:`~trailgate.gateway.context.RequestContext`:

- :func:`identify_request` — ``ctx.service``, ``ctx.operation``, ``ctx.region`` (``routing``);
  for S3 also ``ctx.params["Bucket"]``/``["Key"]`` (``restxml.s3_operation``, path style or,
  with ``s3_base_host``, virtual-host style);
- :func:`parse_request` — ``ctx.params`` from the query form, JSON body or, for S3, the path,
  query, headers and payload, validated against the operation's input shape;
- :func:`render` — ``ctx.response`` from ``ctx.error`` or ``ctx.result``, per protocol (S3:
  ``restxml.serialize_s3``, which may stream through ``HttpResponse.body_iter``).

Every failure is a :class:`ServiceError`; :func:`render` never raises (a serializer bug becomes
a 500 ``InternalFailure`` in the service's own format).  :func:`warm_up` loads the models and
builds every plan ahead of the first request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import json11, query, restxml, shapes, specs
from .errors import ReadInputError, ServiceError
from .routing import DEFAULT_REGION, RoutingError, S3Resolver, identify

if TYPE_CHECKING:  # gateway.context imports this package: no runtime import back
    from ..gateway.context import RequestContext

__all__ = [
    "RoutingError",
    "ServiceError",
    "identify",
    "identify_request",
    "parse_request",
    "render",
    "warm_up",
]

log = logging.getLogger(__name__)


def identify_request(
    ctx: RequestContext,
    *,
    default_region: str = DEFAULT_REGION,
    s3_resolver: S3Resolver | None = None,
    s3_base_host: str | None = None,
) -> None:
    """Fill ``ctx.service``/``operation``/``region`` (and, for S3, ``ctx.params`` with
    ``Bucket``/``Key`` when the request addresses them).  On failure ``ctx.service`` is still
    set (so :func:`render` picks the right format) and the :class:`RoutingError` is raised.

    S3 requests are resolved by :class:`restxml.S3Locator` unless ``s3_resolver`` is given;
    ``s3_base_host`` (e.g. ``"localhost"``) enables virtual-host addressing
    (``Host: bucket.localhost:4566``).
    """
    locator = restxml.S3Locator(s3_base_host) if s3_resolver is None else None
    try:
        service, operation, region = identify(
            ctx.request, default_region=default_region, s3_resolver=s3_resolver or locator
        )
    except RoutingError as err:
        ctx.service = err.service
        ctx.region = ctx.region or default_region
        raise
    ctx.service, ctx.operation, ctx.region = service, operation or "", region
    if service == "s3" and locator is not None:
        located = {"Bucket": locator.bucket, "Key": locator.key}
        ctx.params = {k: v for k, v in located.items() if v is not None}


def parse_request(ctx: RequestContext) -> None:
    """Fill ``ctx.params``; raises :class:`ServiceError`."""
    proto = specs.protocol(ctx.service)
    if proto == "query":
        ctx.params = query.parse_query(ctx.service, ctx.operation, query.request_pairs(ctx.request))
    elif proto == "json":
        try:
            ctx.params = json11.parse_json(ctx.service, ctx.operation, ctx.request.body)
        except ReadInputError as err:
            ctx.params = err.params  # the service read them: its record shows them
            raise
    elif ctx.operation and specs.has_operation(ctx.service, ctx.operation):
        ctx.params = restxml.parse_s3(
            ctx.operation, ctx.request, ctx.params.get("Bucket"), ctx.params.get("Key")
        )
        if ctx.operation == "CompleteMultipartUpload":  # its Location is the object's URL
            ctx.params[restxml.LOCATION] = restxml.object_url(ctx.request)


def render(ctx: RequestContext) -> None:
    """Fill ``ctx.response`` (status, headers incl. the request id, body) from ``ctx.error``
    or ``ctx.result``."""
    service = ctx.service
    if isinstance(ctx.error, RoutingError) and not service:
        service = ctx.error.service
    if service not in specs.SERVICES:
        service = "s3"
    try:
        if ctx.error is not None:
            _render_error(ctx, service, ctx.error)
        else:
            _render_result(ctx, service)
    except Exception:
        log.exception("cannot serialize %s %s", service, ctx.operation)
        _render_error(ctx, service, _internal_failure(service))


#: ``encoding-type`` is echoed by S3 in these listings; the provider need not copy it.
_S3_ENCODED_LISTINGS = frozenset(
    {"ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads"}
)


def _render_result(ctx: RequestContext, service: str) -> None:
    proto = specs.protocol(service)
    rid = ctx.request_id
    resp = ctx.response
    if proto == "query":
        resp.body = query.serialize_query(service, ctx.operation, ctx.result, rid)
        resp.headers.update({"content-type": query.CONTENT_TYPE, "x-amzn-RequestId": rid})
    elif proto == "json":
        resp.body = json11.serialize_json(service, ctx.operation, ctx.result)
        resp.headers.update(json11.json_headers(service, rid))
    elif ctx.operation and specs.has_operation(service, ctx.operation):
        result = ctx.result or {}
        encoding = ctx.params.get("EncodingType")
        if encoding and ctx.operation in _S3_ENCODED_LISTINGS and "EncodingType" not in result:
            result = {**result, "EncodingType": encoding}
        ctx.response = restxml.serialize_s3(
            ctx.operation, result, rid, head=ctx.request.method == "HEAD",
            host=ctx.host_id or None,
        )
        return
    else:
        err = ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
        )
        _render_error(ctx, service, err)
        return
    resp.status = 200


def _render_error(ctx: RequestContext, service: str, err: ServiceError) -> None:
    proto = specs.protocol(service)
    rid = ctx.request_id
    resp = ctx.response
    resp.status = err.status
    if proto == "query":
        resp.body = query.serialize_query_error(service, err, rid)
        resp.headers.update({"content-type": query.CONTENT_TYPE, "x-amzn-RequestId": rid})
    elif proto == "json":
        resp.body = json11.serialize_json_error(err)
        resp.headers.update(json11.json_headers(service, rid))
    else:
        bodiless = ctx.request.method == "HEAD" or err.status == 304
        host = ctx.host_id or None
        resp.body = restxml.serialize_error(err, rid, head=bodiless, host=host)
        resp.body_iter = None
        resp.headers.update(restxml.error_headers(rid, head=bodiless, host=host))
        resp.headers.update(err.headers)


def _internal_failure(service: str) -> ServiceError:
    if specs.protocol(service) == "rest-xml":
        return ServiceError(
            "InternalError", "We encountered an internal error. Please try again.", 500
        )
    return ServiceError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
    )


def warm_up(
    services: Iterable[str] = ("iam", "sts", "cloudtrail", "organizations", "s3"),
) -> None:
    """Load models and build every operation's plans (and their patterns) now."""
    for service in services:
        if specs.protocol(service) == "rest-xml":
            restxml.warm_up()
            continue
        for name in specs.operation_names(service):
            shapes.input_plan(service, name)
            shapes.output_plan(service, name)
