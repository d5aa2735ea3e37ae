"""CloudTrail acting AS the service principal ``cloudtrail.amazonaws.com`` on S3 (spec 2.7, 7.3).

Only the bucket policy can grant a service principal anything (it has no identity policies), so
every decision here is the bucket policy evaluated by :func:`trailgate.policy.evaluate` with the
bucket owner as the resource account and this context:

``aws:SourceArn`` = trail ARN, ``aws:SourceAccount`` = trail owner, ``aws:PrincipalIsAWSService``
= true, ``aws:PrincipalServiceName`` = ``cloudtrail.amazonaws.com``, ``aws:SecureTransport`` =
true, ``aws:CurrentTime``/``aws:EpochTime``, ``aws:SourceOrgID``/``aws:SourceOrgPaths`` when the
trail's owner belongs to an organization (any trail, as for every call a service makes on
behalf of a member account's resource; AWS's confused-deputy guardrails rely on it), the
bucket owner's ``aws:ResourceAccount`` (and ``aws:ResourceOrgID``/``aws:ResourceOrgPaths`` when
it belongs to an organization: IAM's global condition key reference includes them in every S3
request's context, whoever the principal), and for PutObject ``s3:x-amz-acl`` =
``bucket-owner-full-control``.

Two checks, both needed: ``s3:GetBucketAcl`` on ``arn:aws:s3:::BUCKET`` and ``s3:PutObject`` on
the object (``[PREFIX/]AWSLogs/[o-ORGID/]ACCT/...``).  A refusal is reported as the S3 error code
the delivery would have received: ``NoSuchBucket`` or ``AccessDenied``.

Writes go through the S3 provider (``prepare_PutObject`` outside the transaction, then
``PutObject`` inside one store write), so objects are ordinary S3 objects: listed, read and
authorised like any other.  The authorisation is repeated inside the write transaction, so a
bucket policy changed meanwhile is honoured.  Objects are written on behalf of the bucket owner
(who owns them, whatever the bucket's object ownership), ``Content-Type: application/json``
with ``Content-Encoding: gzip`` (the metadata CloudTrail gives its ``.json.gz`` objects: a
browser or an HTTP client that honours it receives the JSON inflated; boto3 and the AWS CLI
hand back the gzip bytes as stored), ACL ``bucket-owner-full-control``.  The writes are
S3 data events, recorded (in the same transaction) only for trails that select them: see
:mod:`.delivery_events`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from .. import clock
from ..auth.org_keys import OrgPlace, org_path, resource_org_keys
from ..gateway.context import Principal
from ..policy import (
    BoundPolicy,
    Caller,
    MalformedPolicyError,
    PolicyDoc,
    PolicySet,
    PolicyType,
    Request,
    evaluate,
    make_context,
    principal_context,
)
from ..protocol.errors import ServiceError
from ..services.base import Call
from ..services.s3 import queries as s3q
from ..store.interface import Store, Tx
from .delivery_events import record_deliveries

SERVICE: Final = "cloudtrail.amazonaws.com"
ACL: Final = "bucket-owner-full-control"
CONTENT_TYPE: Final = "application/json"
# UNSURE: not in AWS's documentation; inferred from how clients that honour Content-Encoding
# (browsers, Cyberduck) treat CloudTrail's log files.  Digest files get the same metadata.
CONTENT_ENCODING: Final = "gzip"
NO_SUCH_BUCKET: Final = "NoSuchBucket"
ACCESS_DENIED: Final = "AccessDenied"

Reader = Callable[[Callable[[Tx], Any]], Any]
"""``Store.read`` (or ``lambda fn: fn(tx)`` inside a transaction)."""


@dataclass(frozen=True)
class Source:
    """On whose behalf CloudTrail writes: the trail (``aws:SourceArn``/``aws:SourceAccount``)."""

    trail_arn: str
    trail_account: str
    org_id: str | None = None


def logs_base(prefix: str | None, account: str, org_id: str | None = None) -> str:
    """``[prefix/]AWSLogs/[o-ORGID/]ACCT/``: where a trail writes one account's files."""
    head = f"{prefix}/" if prefix else ""
    org = f"{org_id}/" if org_id else ""
    return f"{head}AWSLogs/{org}{account}/"


def _region_of(trail_arn: str) -> str:
    parts = trail_arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def probe_key(prefix: str | None, source: Source) -> str:
    """The object key the PutObject check of CreateTrail/UpdateTrail is made on."""
    base = logs_base(prefix, source.trail_account, source.org_id)
    return f"{base}CloudTrail/{_region_of(source.trail_arn)}/"


_CALLER: Final = Caller(kind="service", arn=SERVICE)


def _context(source: Source, now: datetime, place: OrgPlace, owner: tuple[str, OrgPlace], *,
             put: bool) -> dict[str, tuple[str, ...]]:
    keys = principal_context(_CALLER)
    resource_org_keys(owner[0], owner[1], keys)  # the bucket owner's, as for any S3 request
    keys.update(
        make_context(
            {
                "aws:SourceArn": source.trail_arn,
                "aws:SourceAccount": source.trail_account,
                "aws:SecureTransport": "true",
                "aws:ViaAWSService": "false",
                "aws:CurrentTime": clock.iso(now),
                "aws:EpochTime": str(int(now.timestamp())),
            }
        )
    )
    if place is not None:  # the trail owner's organization
        keys["aws:sourceorgid"] = (place[0],)
        keys["aws:sourceorgpaths"] = (place[1],)
    elif source.org_id:
        keys["aws:sourceorgid"] = (source.org_id,)
    if put:
        keys["s3:x-amz-acl"] = (ACL,)
    return keys


def _policies(bucket: dict[str, Any]) -> PolicySet | None:
    """The bucket policy as the only policy; None when the bucket has none (or a stored one
    that no longer compiles): nothing can grant the service then."""
    text = bucket.get("Policy")
    if not text:
        return None
    doc = PolicyDoc(f"bucket policy of {bucket['Name']}", PolicyType.RESOURCE, str(text))
    try:
        return PolicySet(resource=BoundPolicy.bind(doc, "s3"))
    except MalformedPolicyError:
        return None


def refusal(
    tx: Tx, bucket: dict[str, Any] | None, keys: Sequence[str], source: Source, now: datetime
) -> str | None:
    """The S3 error code CloudTrail would get writing ``keys`` into ``bucket`` (the bucket
    record, None when it does not exist), or None when both checks pass."""
    if bucket is None:
        return NO_SUCH_BUCKET
    policies = _policies(bucket)
    if policies is None:
        return ACCESS_DENIED
    name, owner = str(bucket["Name"]), str(bucket["Owner"])
    checks = [("s3:GetBucketAcl", f"arn:aws:s3:::{name}", False)]
    checks += [("s3:PutObject", f"arn:aws:s3:::{name}/{key}", True) for key in keys]
    place = org_path(tx, source.trail_account)
    resource_owner = (owner, org_path(tx, owner))
    for action, resource, put in checks:
        context = _context(source, now, place, resource_owner, put=put)
        request = Request(_CALLER, action, resource, context, owner)
        if not evaluate(request, policies).allowed:
            return ACCESS_DENIED
    return None


def check_delivery_access(
    read: Reader,
    bucket_name: str,
    prefix: str | None,
    trail_arn: str,
    trail_account: str,
    org_id: str | None = None,
    *,
    now: datetime | None = None,
) -> str | None:
    """CloudTrail's bucket check (CreateTrail, UpdateTrail): None when the bucket policy lets
    the trail write, else ``"NoSuchBucket"`` or ``"AccessDenied"``."""
    source = Source(trail_arn, trail_account, org_id)
    when = now or clock.now()
    code: str | None = read(lambda tx: refusal(
        tx, s3q.bucket(tx, bucket_name), [probe_key(prefix, source)], source, when))
    return code


# -- writing -----------------------------------------------------------------------------------


class Refused(Exception):
    """Raised inside the write transaction when the bucket (policy) refuses: rolls it back."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Batch:
    """One atomic delivery: several objects of one bucket, plus the caller's own changes."""

    s3: Any  # the S3Provider
    bucket: str
    objects: Sequence[tuple[str, bytes]]
    source: Source
    now: datetime
    also: Callable[[Tx], None] | None
    calls: list[Call] = field(default_factory=list)
    raised: bool = False  # the transaction function raised: nothing refers to the blobs

    def precheck(self, read: Reader) -> str | None:
        """On a snapshot before writing any bytes; also learns the bucket owner."""
        keys = [key for key, _ in self.objects]

        def check(tx: Tx) -> tuple[str | None, str]:
            bucket = s3q.bucket(tx, self.bucket)
            owner = str(bucket["Owner"]) if bucket is not None else ""
            return refusal(tx, bucket, keys, self.source, self.now), owner

        found: tuple[str | None, str] = read(check)
        code, owner = found
        if code is None:
            self.calls = [self._call(owner, key, data) for key, data in self.objects]
        return code

    def _call(self, owner: str, key: str, data: bytes) -> Call:
        principal = Principal(kind="service", arn=SERVICE, account=owner, user_id=SERVICE)
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": CONTENT_TYPE,
            "ContentEncoding": CONTENT_ENCODING,
            "ACL": ACL,
            # The bytes' MD5, verified on arrival: the integrity header S3 requires of every
            # write into a bucket with a default retention (Object Lock), as a log bucket has.
            "ContentMD5": base64.b64encode(hashlib.md5(data).digest()).decode("ascii"),
        }
        return Call(owner, principal, params, self.s3.region, str(uuid.uuid4()), self.now)

    def prepare(self) -> None:
        """Write the blobs (outside the transaction)."""
        self.calls = [replace(c, prepared=self.s3.prepare_PutObject(c)) for c in self.calls]

    def work(self, tx: Tx) -> list[dict[str, Any]]:
        try:
            code = refusal(tx, s3q.bucket(tx, self.bucket), [k for k, _ in self.objects],
                           self.source, self.now)
            if code is not None:
                raise Refused(code)
            results = [self.s3.PutObject(call, tx) for call in self.calls]
            if self.also is not None:
                self.also(tx)
            record_deliveries(tx, self.calls, results, self.now)
            return results
        except BaseException:
            self.raised = True
            raise

    def discard(self) -> None:
        for call in self.calls:
            prepared = call.prepared
            if prepared is None:
                continue
            if self.raised:
                prepared.failed = True
            prepared.discard()

    @staticmethod
    def finish(results: list[dict[str, Any]]) -> None:
        for result in results:
            for action in result.pop("__after_commit", []):
                action()


def _batch(
    s3_provider: Any,
    bucket: str,
    objects: Sequence[tuple[str, bytes]],
    source: Source,
    now: datetime | None,
    also: Callable[[Tx], None] | None,
) -> _Batch:
    return _Batch(s3_provider, bucket, objects, source, now or clock.now(), also)


def put_log_objects(
    s3_provider: Any,
    store: Store,
    bucket: str,
    objects: Sequence[tuple[str, bytes]],
    source: Source,
    *,
    now: datetime | None = None,
    also: Callable[[Tx], None] | None = None,
) -> str | None:
    """Write ``objects`` (key, bytes) into ``bucket`` as CloudTrail, all in ONE store
    transaction together with ``also(tx)`` (the caller's bookkeeping, e.g. a delivery cursor).

    Returns None when everything committed, else the S3 error code (``NoSuchBucket``,
    ``AccessDenied``, or another S3 error the write met); nothing is kept then.  Exceptions
    raised by ``also`` roll everything back and propagate.  Blocks: not for the event loop.
    """
    return run_batch(_batch(s3_provider, bucket, objects, source, now, also), store)


def run_batch(batch: _Batch, store: Store) -> str | None:
    """Check, write the blobs, commit the batch in one transaction and clean up: None when
    everything committed, else the S3 error code (nothing is kept then).  Blocking."""
    code = batch.precheck(store.read)
    if code is not None:
        return code
    try:
        batch.prepare()
        results = store.write_sync(batch.work)
    except Refused as refused:
        batch.discard()
        return refused.code
    except ServiceError as err:
        batch.discard()
        return err.code
    except BaseException:
        batch.discard()
        raise
    batch.finish(results)
    return None


async def put_log_objects_async(
    s3_provider: Any,
    store: Store,
    bucket: str,
    objects: Sequence[tuple[str, bytes]],
    source: Source,
    *,
    now: datetime | None = None,
    also: Callable[[Tx], None] | None = None,
) -> str | None:
    """:func:`put_log_objects` for the event loop: blobs and clean-up in a worker thread, the
    transaction through ``await store.write``."""
    batch = _batch(s3_provider, bucket, objects, source, now, also)
    code = batch.precheck(store.read)
    if code is not None:
        return code
    try:
        await asyncio.to_thread(batch.prepare)
        results = await store.write(batch.work)
    except Refused as refused:
        await asyncio.to_thread(batch.discard)
        return refused.code
    except ServiceError as err:
        await asyncio.to_thread(batch.discard)
        return err.code
    except BaseException:
        batch.discard()
        raise
    await asyncio.to_thread(batch.finish, results)
    return None


def put_log_object(
    s3_provider: Any,
    store: Store,
    bucket: str,
    key: str,
    data: bytes,
    trail_arn: str,
    trail_account: str,
    *,
    org_id: str | None = None,
    now: datetime | None = None,
    also: Callable[[Tx], None] | None = None,
) -> str | None:
    """One object: see :func:`put_log_objects`."""
    source = Source(trail_arn, trail_account, org_id)
    return put_log_objects(
        s3_provider, store, bucket, [(key, data)], source, now=now, also=also
    )


async def put_log_object_async(
    s3_provider: Any,
    store: Store,
    bucket: str,
    key: str,
    data: bytes,
    trail_arn: str,
    trail_account: str,
    *,
    org_id: str | None = None,
    now: datetime | None = None,
    also: Callable[[Tx], None] | None = None,
) -> str | None:
    """One object from the event loop: see :func:`put_log_objects_async`."""
    source = Source(trail_arn, trail_account, org_id)
    return await put_log_objects_async(
        s3_provider, store, bucket, [(key, data)], source, now=now, also=also
    )


# -- writing one object with metadata ----------------------------------------------------------


@dataclass
class _DigestBatch(_Batch):
    """A delivery batch whose PutObject also carries user metadata (the signature)."""

    metadata: dict[str, str] = field(default_factory=dict)

    def _call(self, owner: str, key: str, data: bytes) -> Call:
        call = super()._call(owner, key, data)
        return replace(call, params={**call.params, "Metadata": dict(self.metadata)})


def put_digest_object(
    s3_provider: Any,
    store: Store,
    bucket: str,
    key: str,
    data: bytes,
    metadata: dict[str, str],
    source: Source,
    *,
    now: datetime,
    also: Callable[[Tx], None] | None = None,
) -> str | None:
    """Write one object as CloudTrail with user ``metadata``, in one transaction with
    ``also`` (a digest and its signature); same checks and results as :func:`put_log_objects`."""
    batch = _DigestBatch(s3_provider, bucket, [(key, data)], source, now, also,
                         metadata=metadata)
    return run_batch(batch, store)
