"""The pipeline, as ONE ordered list of steps over a RequestContext (DESIGN.md).

    identify -> parse -> authenticate -> authorize -> dispatch -> serialize -> record

A parse failure is raised only after authentication, as AWS does: an unauthenticated caller
learns nothing about parameter rules.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .. import clock
from ..auth import principals, sigv4
from ..auth.sigv4 import WireProtocol
from ..auth.tokens import TokenSealer
from ..protocol import identify_request, parse_request, render, shapes, specs
from ..protocol.errors import ServiceError, validation_error
from ..protocol.json11 import validation_exception
from ..services import catalog
from ..services.base import Call
from ..services.cloudtrail.journal_move import (
    line_pieces,
    needs_rows,
    store_journaled,
    store_lines,
)
from ..services.iam.queries import record_access_key_used
from ..services.s3 import queries as s3q
from ..services.s3.common import no_such_bucket
from ..store.interface import Conflict
from ..store.journal import Defined, EventJournal, EventRow, JournalBatch, span_rows
from ..trail.records import is_data_call
from . import chunked, post_upload
from .authorize import PolicyCache, authorize
from .context import HttpRequest, HttpResponse, Principal, RequestContext
from .recording import (
    DataEventFilter,
    Records,
    append_records,
    encoded_rows,
    journal_read,
    journal_rows,
    records_for,
    should_record,
    write_line,
)
from .request_ids import new_s3_host_id, new_s3_request_id, new_uuid_request_id
from .s3_region import BucketRegions
from .service_use import ServiceUse, write_uses

log = logging.getLogger("trailgate.gateway")

INGEST_CHUNK = 1000  # journaled records per transaction (~5-10 ms of the writer thread)

S3_BASE_HOST = "localhost"  # virtual-host style: http://BUCKET.localhost:PORT/KEY

PROTOCOL: dict[str, WireProtocol] = {
    "iam": "query", "sts": "query", "cloudtrail": "json", "organizations": "json"
}

RecordBuilder = Callable[[RequestContext, "dict[str, Any] | None"], Records]


@dataclass
class CallError(ServiceError):
    """What :meth:`Gateway.call_as` raises: the AWS error plus the engine's decision (for
    denials: the deciding statements and the reason) and the request id it was logged under."""

    decision: Any = None
    request_id: str = ""


# IAM operations whose answer shows access-key use (noted in memory, written in batches).
_KEY_USE_READERS = frozenset({
    "GetAccessKeyLastUsed", "GenerateCredentialReport", "GenerateServiceLastAccessedDetails",
})


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
        self.data_events = DataEventFilter()
        self.keys = principals.KeyCache()
        self.bucket_regions = BucketRegions()  # S3: signed for the bucket's region?
        self._key_used: dict[str, float] = {}  # access key -> last use noted (clock.epoch())
        self._key_pending: dict[str, tuple[datetime, str, str]] = {}  # not written yet
        self._key_lock = threading.Lock()  # noted in the writer thread and the event loop
        self.service_use = ServiceUse()  # IAM's service last accessed data
        self.policies = PolicyCache()
        # Records of calls that change nothing go through the journal (None: straight into
        # the store, one write each; see trailgate.store.journal).
        self.journal: EventJournal | None = None
        self._ingesting = asyncio.Lock()
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

    async def call_as(
        self,
        principal: Principal,
        service: str,
        operation: str,
        params: dict[str, Any],
        *,
        source_ip: str,
        user_agent: str,
        region: str | None = None,
        host: str = "",
        secure: bool = False,
        builder: RecordBuilder = records_for,
    ) -> dict[str, Any]:
        """One call made in-process (the web console) by an already authenticated principal:
        the same steps as :meth:`handle` from ``authorize`` on (params checked against the
        operation's input shape first), logged like any API call (``builder`` may replace
        the CloudTrail records, e.g. the console's SwitchRole event).  Returns the
        botocore-shaped result; raises :class:`CallError`."""
        headers = {"user-agent": user_agent, "host": host}
        request = HttpRequest("POST", "/", "", headers, b"", source_ip, secure)
        ctx = RequestContext(request=request, received_at=clock.now())
        ctx.service, ctx.operation = service, operation
        ctx.region = region or self.region
        ctx.params = dict(params)
        ctx.principal = principal
        assign_request_id(ctx)
        try:
            _check_params(service, operation, ctx.params)
            self.authorize(ctx)
            await self.dispatch(ctx, builder)
        except ServiceError as err:
            ctx.error = err
        except Exception:
            log.exception("console call %s failed", ctx.request_id)
            ctx.error = ServiceError(
                "InternalFailure", "The request processing has failed because of an unknown "
                "error, exception or failure.", 500
            )
        await self.record(ctx, builder)
        failure = ctx.error
        if failure is not None:
            raise CallError(
                failure.code, failure.message, failure.status, dict(failure.extra),
                decision=ctx.decision, request_id=ctx.request_id,
            )
        return ctx.result or {}

    # -- steps ----------------------------------------------------------------------------

    def identify(self, ctx: RequestContext) -> None:
        try:
            if ctx.request.body_source is not None:
                service = _spooled_non_s3_service(ctx.request)
                if service is not None:
                    # Query and JSON bodies are small; only S3 uploads may be spooled to disk.
                    ctx.service = service
                    raise ServiceError("RequestEntityTooLarge", "Request body is too large.", 413)
            identify_request(ctx, default_region=self.region, s3_base_host=S3_BASE_HOST)
        finally:
            assign_request_id(ctx)

    def parse(self, ctx: RequestContext) -> Awaitable[None] | None:
        if post_upload.is_upload(ctx):
            # Its credentials are in the form: no deferring errors.  A large (spooled) form
            # is read off the event loop.
            if ctx.request.body_source is not None:
                return asyncio.to_thread(post_upload.parse, ctx)
            post_upload.parse(ctx)
            return None
        try:
            parse_request(ctx)
        except ServiceError as err:
            ctx.parse_error = err
        return None

    def _credentials(
        self, key_id: str, token: str | None, now: datetime
    ) -> tuple[Principal, str]:
        """The principal and secret of an access key; raises sigv4.AuthError."""
        if key_id.startswith("ASIA"):
            return principals.temporary(key_id, token, self.sealer, now)
        found = principals.long_term(
            key_id, self.store.read, self.master_key, self.keys, self.store.generation
        )
        if token:  # a long-term key has no session: AWS refuses any token sent with it
            raise sigv4.AuthError("bad_token")
        return found

    def authenticate(self, ctx: RequestContext) -> Awaitable[None] | None:
        protocol: WireProtocol = PROTOCOL.get(ctx.service, "s3")
        if ctx.form is not None:  # an S3 browser-based POST upload
            try:
                post_upload.authenticate(
                    ctx, lambda key, token: self._credentials(key, token, ctx.received_at)
                )
            except sigv4.AuthError as err:
                raise err.to_service_error("s3") from None
            return None
        try:
            info = sigv4.parse_auth(ctx.request)
            if info is None:
                if ctx.service == "s3":
                    ctx.principal = Principal("anonymous", "anonymous", "", "anonymous")
                    return None if ctx.parse_error else chunked.decode(ctx, None, None)
                if (ctx.service, ctx.operation) not in catalog.UNSIGNED:
                    raise sigv4.AuthError("missing_auth")
                # AssumeRoleWithWebIdentity/SAML: the token or assertion is the credential
                ctx.principal = Principal("anonymous", "anonymous", "", "anonymous")
                if ctx.parse_error is not None:
                    raise ctx.parse_error
                return None
            if ctx.service == "s3":
                bucket = str(ctx.params.get("Bucket") or "")
                self.bucket_regions.check(ctx.operation, bucket, info, self.store.read)
            principal, secret = self._credentials(
                info.access_key_id, info.session_token, ctx.received_at
            )
            sigv4.verify(ctx.request, info, secret, ctx.received_at)
        except sigv4.AuthError as err:
            raise err.to_service_error(protocol) from None
        ctx.principal = principal
        ctx.signature_version = info.signature_version
        ctx.auth_type = info.auth_type
        if ctx.parse_error is not None:
            raise ctx.parse_error
        return chunked.decode(ctx, info, secret) if ctx.service == "s3" else None

    def authorize(self, ctx: RequestContext) -> None:
        authorize(ctx, self.store.read, self.store.generation, self.policies)

    async def dispatch(
        self, ctx: RequestContext, builder: RecordBuilder = records_for
    ) -> None:
        provider = self.providers.get(ctx.service)
        method = getattr(provider, ctx.operation, None) if provider is not None else None
        if method is None and ctx.service == "s3":
            raise self._s3_not_implemented(ctx)
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
            target=ctx.target,
        )
        if ctx.service == "iam" and ctx.operation in _KEY_USE_READERS:
            await self.flush_key_use()  # the answer includes every use noted before it
        elif ctx.service == "cloudtrail":
            # LookupEvents sees every call recorded before it; Start/StopLogging and trail
            # changes take effect after every call recorded before them.
            await self.ingest_events()
        prepare = getattr(provider, f"prepare_{ctx.operation}", None)
        if prepare is not None:
            # Heavy work outside the single writer thread (e.g. S3 object bytes to disk).
            call = replace(call, prepared=await asyncio.to_thread(prepare, call))
        try:
            if catalog.entry(ctx.service, ctx.operation).write:
                result = await self.store.write(
                    lambda tx: self._run_and_record(ctx, method, call, tx, builder)
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
        if ctx.service == "cloudtrail" and catalog.entry(ctx.service, ctx.operation).write:
            self.data_events.invalidate()  # a trail's selectors may have changed
        ctx.result = result

    def _s3_not_implemented(self, ctx: RequestContext) -> ServiceError:
        """An S3 operation trailgate lacks: NotImplemented, but NoSuchBucket first for a bucket
        that does not exist (S3 names a missing bucket before anything else)."""
        name = str(ctx.params.get("Bucket") or "")
        if name and self.store.read(lambda tx: s3q.bucket(tx, name)) is None:
            return no_such_bucket(name)
        return ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
        )

    def _run_and_record(
        self,
        ctx: RequestContext,
        method: Callable[[Call, Any], Any],
        call: Call,
        tx: Any,
        builder: RecordBuilder = records_for,
    ) -> Any:
        """A state-changing call and its CloudTrail records: one transaction."""
        result = method(call, tx)
        if should_record(ctx):
            if self.recording:
                # Appended when the write's group commits, in one statement for the group's
                # writes: a statement per write would give the GIL away (and wait to get it
                # back from the busy event loop thread) once more per write.
                made = write_line(ctx, result) if builder is records_for else None
                if made is not None:
                    tx.append_events_at_commit([made[0]])  # whole JSON from a template
                elif self.data_events.may_want(self.store.read, ctx.service, ctx.operation):
                    tx.append_events_at_commit(encoded_rows(
                        self.data_events.keep(self.store.read, builder(ctx, result))))
            self._note_key_use(ctx)  # IAM's, not CloudTrail's: also without recording
            ctx.recorded = True
        return result

    def _key_use_due(self, ctx: RequestContext) -> bool:
        p = ctx.principal
        if p is None or not p.access_key_id.startswith("AKIA"):
            return False
        last = self._key_used.get(p.access_key_id)
        return last is None or clock.epoch() - last >= 60  # floats: this runs for every call

    def _note_key_use(self, ctx: RequestContext) -> None:
        """GetAccessKeyLastUsed: a long-term key's last use (at most once a minute per key;
        AWS's own figure is not real-time either), written by :meth:`flush_key_use` in one
        transaction for every key used since the last flush, not in the call's own."""
        self.service_use.note(ctx)
        p = ctx.principal
        if p is None or not self._key_use_due(ctx):
            return
        now = ctx.received_at
        with self._key_lock:
            if len(self._key_used) > 100_000:
                self._key_used.clear()
            self._key_used[p.access_key_id] = clock.epoch()
            self._key_pending[p.access_key_id] = (now, ctx.service, ctx.region)

    async def flush_key_use(self) -> None:
        """Write the key uses noted since the last flush (the server does it every second,
        and before answering GetAccessKeyLastUsed)."""
        with self._key_lock:
            pending, self._key_pending = self._key_pending, {}
        uses = self.service_use.take()
        if not pending and not uses:
            return

        def write(tx: Any) -> None:
            for key_id, (when, service, region) in pending.items():
                record_access_key_used(tx, key_id, when, service, region)
            write_uses(tx, uses)

        try:
            await self.store.write(write)
        except BaseException:
            with self._key_lock:  # try again at the next flush (newer uses win)
                self._key_pending = {**pending, **self._key_pending}
            self.service_use.restore(uses)
            raise

    async def ingest_events(self, *, last: bool = False) -> int:
        """Move the journal's records into the store's events table, in transactions of about
        INGEST_CHUNK records (calls' own writes get the writer thread in between); returns how
        many were moved.  Concurrent callers wait for each other, so on return every record
        journaled before the call is in the store.  ``last``: the server stops (the journal's
        current segment file goes too)."""
        journal = self.journal
        if journal is None:
            return 0
        async with self._ingesting:
            batch = journal.take(seal=last)
            if batch.empty():
                journal.discard(batch)
                return 0
            rows, templates, spans = batch.parts()
            pieces: list[tuple[bytes, Defined]] = []
            for blob, defined in spans:
                # A copy: the current segment's own goes on taking templates meanwhile.
                known = dict(defined)
                pieces.extend((piece, known) for piece in line_pieces(blob))
            done = moved = 0
            try:
                while True:
                    while done < len(rows):  # rows recovered, given back, or read from lines
                        step = await self._store_rows(rows[done:done + INGEST_CHUNK], templates)
                        done += step
                        moved += step
                    if not pieces:
                        break
                    lines, defined = pieces[0]
                    stored = await self._store_lines(lines, defined)
                    pieces.pop(0)
                    if stored is None:  # as rows
                        rows, done = [], 0
                        span_rows(lines, defined, rows, templates)
                    else:
                        moved += stored
            except BaseException:
                # The segment files hold every row (a restart skips the stored ones); the rows
                # not stored yet are taken again next time.
                journal.restore(JournalBatch(rows[done:], batch.paths, templates, pieces))
                raise
            journal.discard(batch)
            return moved

    async def _store_rows(self, rows: list[EventRow], templates: dict[int, bytes]) -> int:
        """Rows in one transaction (those stored already skipped); returns how many."""
        try:
            await self.store.write(lambda tx: store_journaled(tx, rows, templates))
        except Conflict:  # stored already (cannot happen; never block on it)
            await self.store.write(
                lambda tx: store_journaled(tx, rows, templates, skip_known=True))
        return len(rows)

    async def _store_lines(self, lines: bytes, defined: Defined) -> int | None:
        """Journal lines as they are, in one transaction; None (nothing done) when they
        must go in as rows: a template lacks its index keys, or they cannot go in as they
        are (an eventID stored already: a move cut short by a crash)."""
        if needs_rows(lines, defined):
            return None
        try:
            return int(await self.store.write(lambda tx: store_lines(tx, lines, defined)))
        except Conflict:
            return None

    def serialize(self, ctx: RequestContext) -> None:
        render(ctx)
        if ctx.form is not None:
            post_upload.respond(ctx)

    async def record(self, ctx: RequestContext, builder: RecordBuilder = records_for) -> None:
        """Reads, errors and denials: their records, committed before the response leaves."""
        if ctx.recorded or not should_record(ctx):
            return
        if not self.recording:  # benchmarks only; key use is IAM's, noted all the same
            self._note_key_use(ctx)
            return
        try:
            journal = self.journal
            if builder is records_for and journal is not None and journal_read(ctx, journal):
                self._note_key_use(ctx)
                return
            read = self.store.read
            if not is_data_call(ctx.service, ctx.operation):
                records = builder(ctx, ctx.result)
            elif self.data_events.may_want(read, ctx.service, ctx.operation):
                records = self.data_events.keep(read, builder(ctx, ctx.result))
            else:
                records = []  # a data event no trail selects: AWS records it nowhere
            self._note_key_use(ctx)
            if not records:
                pass
            elif self.journal is not None:
                self.journal.append(journal_rows(records))
            else:
                await self.store.write(lambda tx: append_records(tx, records))
        except Exception:
            log.exception("recording request %s failed", ctx.request_id)
            ctx.response = HttpResponse()
            ctx.error = ServiceError(
                "InternalFailure", "The request processing has failed because of an unknown "
                "error, exception or failure.", 500
            )
            render(ctx)


def assign_request_id(ctx: RequestContext) -> None:
    """The call's request id, shaped as its service shapes them (S3: with x-amz-id-2)."""
    if ctx.service in PROTOCOL:
        ctx.request_id = new_uuid_request_id()
    else:  # S3, and requests rendered as S3's because no service was recognised
        ctx.request_id, ctx.host_id = new_s3_request_id(), new_s3_host_id()


def _check_params(service: str, operation: str, params: dict[str, Any]) -> None:
    """In-process calls skip the wire parser: check their params as it would."""
    if not specs.has_operation(service, operation):
        raise ServiceError("InvalidAction", f"The action {operation} is not valid.", 400)
    if PROTOCOL.get(service) is None:
        return  # S3: the provider checks names, keys and values itself
    node = shapes.input_plan(service, operation)
    problems = shapes.validate(node, params) if node is not None else []
    if problems:
        if PROTOCOL[service] == "query":
            raise validation_error(problems[: shapes.MAX_FAILURES])
        raise validation_exception(problems)


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
