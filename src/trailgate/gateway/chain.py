"""The pipeline, as ONE ordered list of steps over a RequestContext (DESIGN.md).

    identify -> parse -> authenticate -> authorize -> dispatch -> serialize -> record

A parse failure is raised only after authentication, as AWS does: an unauthenticated caller
learns nothing about parameter rules.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any

from .. import clock
from ..auth import principals, sigv4
from ..auth.sigv4 import WireProtocol
from ..auth.tokens import TokenSealer
from ..protocol import identify_request, parse_request, render
from ..protocol.errors import ServiceError
from ..services import catalog
from ..services.base import Call
from .authorize import PolicyCache, authorize
from .context import HttpRequest, HttpResponse, Principal, RequestContext
from .recording import append_records, records_for, should_record

log = logging.getLogger("trailgate.gateway")

S3_BASE_HOST = "localhost"  # virtual-host style: http://BUCKET.localhost:PORT/KEY

PROTOCOL: dict[str, WireProtocol] = {
    "iam": "query", "sts": "query", "cloudtrail": "json", "organizations": "json"
}


class Gateway:
    def __init__(
        self,
        store: Any,
        master_key: bytes,
        sealer: TokenSealer,
        providers: dict[str, Any],
        region: str,
    ) -> None:
        self.store = store
        self.master_key = master_key
        self.sealer = sealer
        self.providers = providers
        self.region = region
        self.recording = True  # CloudTrail recording of every call (off only in benchmarks)
        self.keys = principals.KeyCache()
        self.policies = PolicyCache()
        self.steps: list[Callable[[RequestContext], Awaitable[None] | None]] = [
            self.identify,
            self.parse,
            self.authenticate,
            self.authorize,
            self.dispatch,
        ]

    async def handle(self, request: HttpRequest) -> HttpResponse:
        ctx = RequestContext(request=request, received_at=clock.now())
        try:
            for step in self.steps:
                pending = step(ctx)
                if pending is not None:
                    await pending
        except ServiceError as err:
            ctx.error = err
        except Exception:
            log.exception("request %s failed", ctx.request_id)
            ctx.error = ServiceError(
                "InternalFailure", "The request processing has failed because of an unknown "
                "error, exception or failure.", 500
            )
        self.serialize(ctx)
        await self.record(ctx)
        return ctx.response

    # -- steps ----------------------------------------------------------------------------

    def identify(self, ctx: RequestContext) -> None:
        if ctx.request.body_source is not None:
            service = _spooled_non_s3_service(ctx.request)
            if service is not None:
                # Query and JSON bodies are small; only S3 uploads may be spooled to disk.
                ctx.service = service
                raise ServiceError("RequestEntityTooLarge", "Request body is too large.", 413)
        identify_request(ctx, default_region=self.region, s3_base_host=S3_BASE_HOST)

    def parse(self, ctx: RequestContext) -> None:
        try:
            parse_request(ctx)
        except ServiceError as err:
            ctx.parse_error = err

    def authenticate(self, ctx: RequestContext) -> None:
        protocol: WireProtocol = PROTOCOL.get(ctx.service, "s3")
        try:
            info = sigv4.parse_auth(ctx.request)
            if info is None:
                if ctx.service == "s3":
                    ctx.principal = Principal("anonymous", "anonymous", "", "anonymous")
                    return
                raise sigv4.AuthError("missing_auth")
            key_id = info.access_key_id
            if key_id.startswith("ASIA"):
                principal, secret = principals.temporary(
                    key_id, info.session_token, self.sealer, ctx.received_at
                )
            else:
                principal, secret = principals.long_term(
                    key_id, self.store.read, self.master_key, self.keys, self.store.generation
                )
            sigv4.verify(ctx.request, info, secret, ctx.received_at)
        except sigv4.AuthError as err:
            raise err.to_service_error(protocol) from None
        ctx.principal = principal
        ctx.signature_version = info.signature_version
        ctx.auth_type = info.auth_type
        if ctx.parse_error is not None:
            raise ctx.parse_error

    def authorize(self, ctx: RequestContext) -> None:
        authorize(ctx, self.store.read, self.store.generation, self.policies)

    async def dispatch(self, ctx: RequestContext) -> None:
        provider = self.providers.get(ctx.service)
        method = getattr(provider, ctx.operation, None) if provider is not None else None
        if method is None and ctx.service == "s3":
            raise ServiceError(
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
                501,
            )
        if method is None:
            raise ServiceError(
                "InvalidAction"
                if PROTOCOL.get(ctx.service) == "query"
                else "UnknownOperationException",
                f"The action {ctx.operation} is not valid for this web service.",
                400,
            )
        assert ctx.principal is not None
        call = Call(
            account=ctx.principal.account,
            principal=ctx.principal,
            params=ctx.params,
            region=ctx.region,
            request_id=ctx.request_id,
            now=ctx.received_at,
        )
        prepare = getattr(provider, f"prepare_{ctx.operation}", None)
        if prepare is not None:
            # Heavy work outside the single writer thread (e.g. S3 object bytes to disk).
            call = replace(call, prepared=await asyncio.to_thread(prepare, call))
        try:
            if catalog.entry(ctx.service, ctx.operation).write:
                result = await self.store.write(
                    lambda tx: self._run_and_record(ctx, method, call, tx)
                )
            else:
                result = self.store.read(lambda tx: method(call, tx))
        except BaseException:
            discard = getattr(call.prepared, "discard", None)
            if discard is not None:
                await asyncio.to_thread(discard)
            raise
        after = result.pop("__after_commit", None)
        if after:
            await asyncio.to_thread(_run_all, after)
        ctx.result = result

    def _run_and_record(
        self, ctx: RequestContext, method: Callable[[Call, Any], Any], call: Call, tx: Any
    ) -> Any:
        """A state-changing call and its CloudTrail records: one transaction."""
        result = method(call, tx)
        if self.recording and should_record(ctx):
            append_records(tx, records_for(ctx, result))
            ctx.recorded = True
        return result

    def serialize(self, ctx: RequestContext) -> None:
        render(ctx)

    async def record(self, ctx: RequestContext) -> None:
        """Reads, errors and denials: their records, committed before the response leaves."""
        if ctx.recorded or not self.recording or not should_record(ctx):
            return
        try:
            records = records_for(ctx, ctx.result)
            await self.store.write(lambda tx: append_records(tx, records))
        except Exception:
            log.exception("recording request %s failed", ctx.request_id)
            ctx.response = HttpResponse()
            ctx.error = ServiceError(
                "InternalFailure", "The request processing has failed because of an unknown "
                "error, exception or failure.", 500
            )
            render(ctx)


def _run_all(actions: Iterable[Callable[[], object]]) -> None:
    """Clean-ups a provider asked for once its transaction committed (e.g. replaced blobs)."""
    for action in actions:
        try:
            action()
        except Exception:
            log.exception("after-commit action failed")


_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([a-z0-9-]+)/aws4_request")


def _spooled_non_s3_service(request: HttpRequest) -> str | None:
    """The query/JSON service a large (spooled) body was sent to, if it was not S3."""
    found = _SCOPE.search(request.headers.get("authorization", ""))
    if found is not None:
        return found.group(1) if found.group(1) in PROTOCOL else None
    target = request.headers.get("x-amz-target", "")
    if target:
        return "organizations" if target.startswith("AWSOrganizations") else "cloudtrail"
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return "iam"
    return None
