"""The pipeline, as ONE ordered list of steps over a RequestContext (DESIGN.md).

    identify -> parse -> authenticate -> authorize -> dispatch -> serialize -> record

A parse failure is raised only after authentication, as AWS does: an unauthenticated caller
learns nothing about parameter rules.
"""

from __future__ import annotations

import asyncio
import logging
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
        self.record(ctx)
        return ctx.response

    # -- steps ----------------------------------------------------------------------------

    def identify(self, ctx: RequestContext) -> None:
        identify_request(ctx, default_region=self.region, s3_base_host=S3_BASE_HOST)

    def parse(self, ctx: RequestContext) -> None:
        if ctx.request.body_source is not None and ctx.service in PROTOCOL:
            # Query and JSON bodies are small; only S3 uploads are spooled.
            ctx.parse_error = ServiceError(
                "RequestEntityTooLarge", "Request body is too large.", 413
            )
            return
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
                result = await self.store.write(lambda tx: method(call, tx))
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

    def serialize(self, ctx: RequestContext) -> None:
        render(ctx)

    def record(self, ctx: RequestContext) -> None:
        """CloudTrail recording arrives with the CloudTrail issue."""


def _run_all(actions: Iterable[Callable[[], object]]) -> None:
    """Clean-ups a provider asked for once its transaction committed (e.g. replaced blobs)."""
    for action in actions:
        try:
            action()
        except Exception:
            log.exception("after-commit action failed")
