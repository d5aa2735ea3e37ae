"""Composition root: settings -> store, keys, providers, gateway -> one ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from . import clock
from .auth import tokens
from .config import Settings
from .console import create_console, is_console_request
from .gateway.body import IN_MEMORY_LIMIT, SpooledBody
from .gateway.chain import Gateway
from .gateway.context import HttpRequest, HttpResponse
from .protocol import warm_up
from .services.cloudtrail import CloudTrailProvider
from .services.cloudtrail.events import index_pending
from .services.cloudtrail.journal_move import store_journaled
from .services.iam import queries
from .services.iam.provider import IamProvider
from .services.organizations.provider import OrganizationsProvider
from .services.s3.provider import S3Provider
from .services.sts.provider import StsProvider
from .store.blobs import BlobStore
from .store.interface import StoreClosed
from .store.journal import EventJournal
from .store.sqlite import SqliteStore
from .trail.delivery import DeliveryWorker
from .trail.digest import DigestWorker
from .trail.keys import KeyStore

log = logging.getLogger("trailgate")

INDEX_PERIOD = 1.0  # seconds between event-history index batches
INDEX_STEP = 500  # events indexed per write (~50 ms of the writer thread)


def _index_some(tx: Any) -> int:
    return index_pending(tx, INDEX_STEP)

MAX_BODY = 5 * 1024**3  # S3's limit for one PUT; bodies above 1 MiB are spooled to disk
HEALTH_PATH = "/_trailgate/health"
CLOCK_PATH = "/_trailgate/clock"  # only with TRAILGATE_TEST_CLOCK=1: lets tests move time

Scope = dict[str, Any]


def _derive(master: bytes, purpose: str) -> bytes:
    return hashlib.sha256(master + b"\x00trailgate\x00" + purpose.encode()).digest()


def bootstrap(store: SqliteStore, settings: Settings, master_key: bytes) -> dict[str, str]:
    """First start: the management account and its root access key (outside contract)."""

    def first_start(tx: Any) -> dict[str, str]:
        account = tx.meta_get("management_account")
        created: dict[str, str] = {}
        if account is None:
            account = settings.management_account_id or "".join(
                secrets.choice("0123456789") for _ in range(12)
            )
            tx.meta_set("management_account", account)
            queries.bootstrap_account(tx, account)
            key_id, secret = queries.create_root_access_key(
                tx, master_key, account, settings.root_access_key_id,
                settings.root_secret_access_key,
            )
            if settings.root_access_key_id is None:
                created = {"AccountId": account, "AccessKeyId": key_id, "SecretAccessKey": secret}
        elif settings.root_access_key_id and queries.find_access_key(
            tx, settings.root_access_key_id
        ) is None:
            queries.create_root_access_key(
                tx, master_key, account, settings.root_access_key_id,
                settings.root_secret_access_key,
            )
        tx.bump_generation()
        return created

    created: dict[str, str] = store.write_sync(first_start)
    if created:
        path = settings.data_dir / "root-credentials.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(created, fh, indent=2)
        print(
            "trailgate: created management account {AccountId}; root access key {AccessKeyId} "
            "(secret in {path})".format(path=path, **created),
            file=sys.stderr,
        )
    return created


def open_journal(store: SqliteStore, directory: Path) -> EventJournal:
    """The event journal, after moving what a previous run left in it into the store."""
    journal = EventJournal(directory)
    batch = journal.recover()
    if batch.rows:
        moved = store.write_sync(
            lambda tx: store_journaled(tx, batch.rows, batch.templates, skip_known=True)
        )
        log.info("moved %d journaled event(s) into the store (%d new)", len(batch.rows), moved)
    journal.discard(batch)
    return journal


class TrailgateApp:
    """A small raw-ASGI front: health, then everything else through the gateway."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.master_key = tokens.load_or_create_master_key(settings.data_dir)
        self.store = SqliteStore.open(settings.data_dir / "trailgate.db")
        self.journal = open_journal(self.store, settings.data_dir / "events-journal")
        bootstrap(self.store, settings, self.master_key)
        self.management_account: str = self.store.read(
            lambda tx: tx.meta_get("management_account") or ""
        )
        sealer = tokens.TokenSealer(_derive(self.master_key, "session-token"))
        iam = IamProvider(self.master_key)
        s3 = S3Provider(BlobStore(settings.data_dir / "blobs"), settings.region,
                        read=self.store.read)
        s3.sweep_orphans()  # blobs of requests that died between disk and commit
        self.delivery = DeliveryWorker(
            self.store, s3, settings.region, settings.delivery_interval
        )
        signing_keys = KeyStore(self.store, self.master_key)
        self.digests = DigestWorker(self.store, s3, signing_keys, settings.digest_interval)
        self._tasks: list[asyncio.Task[None]] = []
        self._indexer: asyncio.Task[None] | None = None
        providers = {
            "iam": iam,
            "s3": s3,
            "cloudtrail": CloudTrailProvider(signing_keys),
            "sts": StsProvider(sealer),
            "organizations": OrganizationsProvider(iam, self.management_account),
        }
        self.gateway = Gateway(self.store, self.master_key, sealer, providers, settings.region)
        self.gateway.journal = self.journal
        self.delivery.before_pass = self.gateway.ingest_events
        # Benchmark-only switch (bench/trail_load.py: throughput with recording on vs off).
        if os.environ.get("TRAILGATE_BENCH_NO_RECORDING") == "1":
            self.gateway.recording = False
        self.console = create_console(self.gateway, self.store, self.master_key)
        self.test_clock = os.environ.get("TRAILGATE_TEST_CLOCK") == "1"
        warm_up(("iam", "sts", "cloudtrail", "organizations", "s3"))  # before the first request

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        if is_console_request(scope):  # the web console (Starlette), under /console
            await self.console(scope, receive, send)
            return
        if scope["path"] == CLOCK_PATH and self.test_clock:
            await self._clock(scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH:
            await self._health(send)
            return
        read = await self._read_body(receive, send)
        if read is None:
            return  # the client went away, or the body was too large (answered)
        body, spooled = read
        try:
            response = await self.gateway.handle(_http_request(scope, body, spooled))
            await _send(send, response)
        finally:
            if spooled is not None:
                spooled.discard()

    async def _health(self, send: Any) -> None:
        body = orjson.dumps(
            {
                "status": "ok",
                "region": self.settings.region,
                "managementAccountId": self.management_account,
                "time": clock.iso(clock.now()),
            }
        )
        await _send(send, HttpResponse(200, {"content-type": "application/json"}, body))

    async def _read_body(
        self, receive: Any, send: Any
    ) -> tuple[bytes, SpooledBody | None] | None:
        """The request body: in memory up to IN_MEMORY_LIMIT bytes, else spooled to disk;
        None when the client went away or the body is over MAX_BODY (answered here)."""
        chunks: list[bytes] = []
        size = 0
        spooled: SpooledBody | None = None
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                if spooled is not None:
                    spooled.discard()
                return None
            piece = message.get("body", b"")
            size += len(piece)
            if size > MAX_BODY:
                if spooled is not None:
                    spooled.discard()
                await _send(send, _too_large())
                return None
            if spooled is not None:
                spooled.write(piece)
            elif size > IN_MEMORY_LIMIT:
                spooled = SpooledBody(self.settings.data_dir / "tmp")
                for earlier in chunks:
                    spooled.write(earlier)
                spooled.write(piece)
                chunks = []
            else:
                chunks.append(piece)
            more = message.get("more_body", False)
        if spooled is not None:
            spooled.finish()
        return b"".join(chunks), spooled

    async def _clock(self, scope: Scope, receive: Any, send: Any) -> None:
        """POST {"advance": seconds} moves the server's clock (tests of expiry only)."""
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if scope["method"] == "POST":
            clock.advance(timedelta(seconds=float(orjson.loads(body or b"{}").get("advance", 0))))
        payload = orjson.dumps({"time": clock.iso(clock.now())})
        await _send(send, HttpResponse(200, {"content-type": "application/json"}, payload))

    async def _every_second(self) -> None:
        """About once a second: the access keys' last use noted since the last time, and the
        event-history index of the events recorded meanwhile, in batches (LookupEvents also
        reads the events not indexed yet)."""
        seen = -1
        while True:
            try:
                await self.gateway.flush_key_use()
            except StoreClosed:
                return
            except Exception:
                log.exception("writing access keys' last use failed")
            try:
                await self.gateway.ingest_events()
            except StoreClosed:
                return
            except Exception:
                log.exception("moving the event journal into the store failed")
            if self.store.stats.writes != seen:
                try:
                    # Small batches: other writes wait for the writer thread meanwhile.
                    while await self.store.write(_index_some) == INDEX_STEP:
                        pass
                except StoreClosed:
                    return
                except Exception:
                    log.exception("event history indexing failed")
                seen = self.store.stats.writes
            await asyncio.sleep(INDEX_PERIOD)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._tasks.append(asyncio.create_task(self.delivery.run_forever()))
                self._tasks.append(asyncio.create_task(self.digests.run_forever()))
                self._indexer = asyncio.create_task(self._every_second())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.delivery.stop()  # returns after the pass in progress
                self.digests.stop()
                if self._indexer is not None:
                    self._indexer.cancel()
                    await asyncio.gather(self._indexer, return_exceptions=True)
                with contextlib.suppress(Exception):
                    await self.gateway.flush_key_use()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                try:
                    await self.gateway.ingest_events(last=True)
                except Exception:  # the journal keeps them: the next start moves them
                    log.exception("moving the event journal into the store failed")
                self.journal.close()
                self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _too_large() -> HttpResponse:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>EntityTooLarge</Code>'
        b"<Message>Your proposed upload exceeds the maximum allowed size</Message></Error>"
    )
    return HttpResponse(413, {"content-type": "application/xml"}, body)


def _http_request(scope: Scope, body: bytes, spooled: SpooledBody | None) -> HttpRequest:
    """The gateway's view of an ASGI request (repeated headers joined with commas)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_path = scope.get("raw_path") or scope["path"].encode()
    client = scope.get("client") or ("127.0.0.1", 0)
    return HttpRequest(
        method=scope["method"],
        raw_path=raw_path.decode("latin-1").split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        client_ip=client[0],
        secure=scope.get("scheme") == "https",
        body_source=spooled,
    )


async def _send(send: Any, response: HttpResponse) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    if (
        response.body_iter is None
        and "content-length" not in response.headers
        and response.status not in (204, 304)
    ):
        headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if response.body_iter is None:
        await send({"type": "http.response.body", "body": response.body})
        return
    try:
        for chunk in response.body_iter:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        close = getattr(response.body_iter, "close", None)
        if close is not None:
            close()
    await send({"type": "http.response.body", "body": b""})


def serve(settings: Settings) -> None:
    import uvicorn

    app = TrailgateApp(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        # The caller's address is the socket's: a client must not choose the sourceIPAddress
        # recorded in CloudTrail, nor the aws:SourceIp its policies see, with X-Forwarded-For.
        proxy_headers=False,
        server_header=False,
    )


def default_data_dir() -> Path:
    return Path("data")
