"""Shared pieces of the S3 provider: record kinds, errors with AWS's wording, input checks,
timestamps, owners and the blob clean-up helpers.

Record layouts are documented in :mod:`trailgate.services.s3.queries`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qsl

from ...protocol.errors import ServiceError
from ...protocol.s3wire.scalars import Verbatim
from ...store.blobs import BlobStore
from ...store.interface import Tx

# -- record kinds ------------------------------------------------------------------------------

NS: Final = "__s3__"
#: Storage classes whose objects cannot be read or copied until restored (RestoreObject is
#: not served).
ARCHIVED: Final = frozenset({"GLACIER", "DEEP_ARCHIVE"})
"""The store account of every S3 record: bucket names are global across accounts."""

BUCKET: Final = "s3.bucket"


def owned_kind(account: str) -> str:
    """Per-account list of bucket names (ListBuckets without scanning every bucket)."""
    return f"s3.owned/{account}"


def objects_kind(bucket: str) -> str:
    return f"s3.object/{bucket}"


def versions_kind(bucket: str) -> str:
    """Noncurrent versions and delete markers of a bucket (see :mod:`.versions`)."""
    return f"s3.version/{bucket}"


def uploads_kind(bucket: str) -> str:
    return f"s3.upload/{bucket}"


def parts_kind(bucket: str) -> str:
    return f"s3.part/{bucket}"


def part_key(upload_id: str, number: int) -> str:
    return f"{upload_id}/{number:05d}"


def blob_ref(blob_id: str) -> str:
    """The ``ids`` index entry naming the one record that references a blob."""
    return f"s3blob:{blob_id}"


MAX_KEY_BYTES: Final = 1024
MAX_METADATA_BYTES: Final = 2048
MAX_OBJECT_SIZE: Final = 5 * 1024**3
MIN_PART_SIZE: Final = 5 * 1024**2
MAX_PART_NUMBER: Final = 10_000
SSE_S3: Final = "AES256"
"""Every bucket encrypts new objects with SSE-S3 by default (S3 since January 2023); the
objects' responses say so and GetBucketEncryption returns that configuration."""
STANDARD: Final = "STANDARD"
DEFAULT_CONTENT_TYPE: Final = "binary/octet-stream"
ENFORCED: Final = "BucketOwnerEnforced"
PREFERRED: Final = "BucketOwnerPreferred"
WRITER: Final = "ObjectWriter"
OWNERSHIPS: Final = (ENFORCED, PREFERRED, WRITER)

# -- errors ------------------------------------------------------------------------------------


def no_such_bucket(name: str) -> ServiceError:
    return ServiceError(
        "NoSuchBucket", "The specified bucket does not exist", 404, {"BucketName": name}
    )


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, {"Key": key})


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        404,
        {"UploadId": upload_id},
    )


def access_denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)


def invalid_argument(message: str, name: str, value: object) -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        message,
        400,
        {"ArgumentName": name, "ArgumentValue": "" if value is None else str(value)},
    )


def part_number(value: Any) -> int:
    """A ``partNumber`` (UploadPart, GetObject, HeadObject): an integer 1..10000."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= MAX_PART_NUMBER:
        raise invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", value
        )
    return number


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def internal_error() -> ServiceError:
    """A transient failure (e.g. a blob replaced while being read); botocore retries 500s."""
    return ServiceError("InternalError", "We encountered an internal error. Please try again.", 500)


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        {"Condition": condition},
    )


def not_modified() -> ServiceError:
    """304 for GET/HEAD conditionals (rendered without a body)."""
    return ServiceError("NotModified", "Not Modified", 304)


def acls_not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


# -- values ------------------------------------------------------------------------------------


def stamp(now: datetime) -> str:
    """A timestamp as stored: ISO 8601 in UTC, at whole seconds.  S3 keeps times (LastModified,
    CreationDate, Initiated) to the second: listings show ``.000Z``, and tools rely on it (``aws s3
    sync --exact-timestamps`` compares a file's whole-second mtime with the listed time).

    A fraction rounds up, never down: a time is then never earlier than the request, so a file
    written just before its upload is not newer than the object (``aws s3 sync`` uploads a file
    again when its mtime is later than the object's LastModified)."""
    whole = now.astimezone(UTC)
    if whole.microsecond:
        whole = whole.replace(microsecond=0) + timedelta(seconds=1)
    return whole.isoformat(timespec="milliseconds")


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def canonical_id(account: str) -> str:
    """The account's S3 canonical user id: 64 hex digits derived from the account id."""
    return hashlib.sha256(f"trailgate-s3-canonical-user:{account}".encode()).hexdigest()


def owner_view(account: str) -> dict[str, str]:
    """The ``Owner`` shape of an account."""
    # No DisplayName: S3 stopped returning it on November 21, 2025 (Owner and Grantee).
    return {"ID": canonical_id(account)}


def quote_etag(md5_hex: str) -> str:
    return f'"{md5_hex}"'


def b64_digest(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def decode_b64(text: str) -> bytes | None:
    """Strict base64, or None."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


_TOKEN_CHECK: Final = 6  # bytes of digest ahead of the text in a paging token


def _token_check(raw: bytes) -> bytes:
    return hashlib.sha256(b"trailgate paging token\x00" + raw).digest()[:_TOKEN_CHECK]


def encode_token(value: str) -> str:
    """An opaque paging token: base64 of a short digest and the last name or key returned.
    The digest lets :func:`decode_token` refuse a token this server did not hand out, as S3
    refuses a made-up one."""
    raw = value.encode("utf-8")
    return base64.b64encode(_token_check(raw) + raw).decode("ascii")


def decode_token(token: str) -> str:
    """The text a token from :func:`encode_token` resumes after; anything else (not base64,
    empty, no matching digest) is S3's InvalidArgument "The continuation token provided is
    incorrect"."""
    try:
        data = base64.b64decode(token, validate=True)
        check, raw = data[:_TOKEN_CHECK], data[_TOKEN_CHECK:]
        if len(check) == _TOKEN_CHECK and check == _token_check(raw):
            return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        pass
    raise invalid_argument(
        "The continuation token provided is incorrect", "continuation-token", token
    )


def check_key(key: str) -> None:
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise ServiceError(
            "KeyTooLongError",
            "Your key is too long",
            400,
            {"Size": str(size), "MaxSizeAllowed": str(MAX_KEY_BYTES)},
        )


def clean_metadata(metadata: dict[str, Any] | None) -> dict[str, str]:
    """User metadata as stored: lower-cased names (HTTP headers), 2 KB at most."""
    out = {str(k).lower(): str(v) for k, v in (metadata or {}).items()}
    size = sum(len(k.encode()) + len(v.encode()) for k, v in out.items())
    if size > MAX_METADATA_BYTES:
        raise ServiceError(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
            400,
            {"Size": str(size), "MaxSizeAllowed": str(MAX_METADATA_BYTES)},
        )
    return out


SYSTEM_HEADERS: Final = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)


def check_redirect(params: dict[str, Any]) -> None:
    """``x-amz-website-redirect-location`` must be a path or an http(s) URL, as S3 requires."""
    location = params.get("WebsiteRedirectLocation")
    if location and not str(location).startswith(("/", "http://", "https://")):
        raise ServiceError(
            "InvalidRedirectLocation",
            "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.",
            400,
        )


def system_headers(params: dict[str, Any]) -> dict[str, str]:
    """The stored representation headers other than Content-Type (``Expires`` as ISO text, or
    as sent when it is not a date)."""
    check_redirect(params)
    out = {name: str(params[name]) for name in SYSTEM_HEADERS if params.get(name)}
    expires = params.get("Expires")
    if isinstance(expires, datetime):
        out["Expires"] = expires.astimezone(UTC).isoformat()
    elif isinstance(expires, str) and expires:
        out["Expires"] = expires
    return out


def headers_view(headers: dict[str, str]) -> dict[str, Any]:
    """The stored representation headers as answers give them: ``Expires`` as a datetime when
    it was a date, else the text it was sent as (S3 answers that back unchanged)."""
    out: dict[str, Any] = dict(headers)
    if "Expires" in out:
        try:
            out["Expires"] = when(out["Expires"])
        except ValueError:
            out["Expires"] = Verbatim(out["Expires"])
    return out


def tag_set(tagging: Any, limit: int) -> dict[str, str]:
    """A ``Tagging`` payload's ``TagSet`` as a dict, checked as S3 checks it: at most
    ``limit`` tags (10 for an object, 50 for a bucket), keys unique, at most 128 and 256
    characters."""
    tags = (tagging.get("TagSet") or []) if isinstance(tagging, dict) else []
    if len(tags) > limit:
        what = "Object tags" if limit == 10 else "Bucket tag count"
        raise ServiceError("BadRequest", f"{what} cannot be greater than {limit}", 400)
    out: dict[str, str] = {}
    for tag in tags:
        key, value = str(tag.get("Key") or ""), str(tag.get("Value") or "")
        if key in out:
            raise ServiceError("InvalidTag", "Cannot provide multiple Tags with the same key",
                               400, {"TagKey": key})
        if not key or len(key) > 128:
            raise ServiceError("InvalidTag", "The TagKey you have provided is invalid", 400,
                               {"TagKey": key})
        if limit == 50 and key.startswith("aws:"):  # reserved for AWS's own (system) tags
            raise ServiceError("InvalidTag", "System tags cannot be added/updated by requester",
                               400, {"TagKey": key})
        if limit == 50 and key.lower().startswith("aws:"):  # UNSURE: S3's words for "AWS:"
            raise ServiceError("InvalidTag", "Your TagKey cannot be prefixed with aws:", 400,
                               {"TagKey": key})
        if len(value) > 256:
            raise ServiceError("InvalidTag", "The TagValue you have provided is invalid", 400,
                               {"TagKey": key, "TagValue": value})
        out[key] = value
    return out


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def parse_tagging(text: str | None) -> dict[str, str]:
    """``x-amz-tagging`` (URL query syntax) -> tags, checked as S3 checks the header: every pair
    names a key, no key twice (InvalidArgument), then the limits of a TagSet."""
    if not text:
        return {}
    pairs = parse_qsl(text, keep_blank_values=True)
    keys = [key for key, _ in pairs]
    if not all(keys) or len(set(keys)) != len(keys):
        raise ServiceError(
            "InvalidArgument",
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
            "parameters without tag name duplicates.",
            400,
        )
    return tag_set({"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}, 10)


# -- buckets -----------------------------------------------------------------------------------


def load_bucket(tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """The bucket named by ``params["Bucket"]``; NoSuchBucket, or AccessDenied when
    ``ExpectedBucketOwner`` names another account."""
    name = str(params.get("Bucket") or "")
    data = tx.get(NS, BUCKET, name)
    if data is None:
        raise no_such_bucket(name)
    expected = params.get("ExpectedBucketOwner")
    if expected and expected != data["Owner"]:
        raise access_denied()
    return data


def object_owner(bucket: dict[str, Any], writer: str, acl: str | None) -> str:
    """Who owns a new object: the bucket owner unless ACLs keep the writer as owner."""
    ownership = bucket.get("ObjectOwnership") or WRITER
    if ownership == ENFORCED or not writer:
        return str(bucket["Owner"])
    if ownership == PREFERRED and acl == "bucket-owner-full-control":
        return str(bucket["Owner"])
    return writer


# -- blobs -------------------------------------------------------------------------------------


def drop_blobs(blobs: BlobStore, blob_ids: Iterable[str]) -> None:
    """Delete blobs no record points at any more (best effort; the sweep catches the rest)."""
    for blob_id in blob_ids:
        try:
            blobs.delete(blob_id)
        except (OSError, ValueError):
            continue


def after_commit(result: dict[str, Any], blobs: BlobStore, blob_ids: list[str]) -> dict[str, Any]:
    """Ask the gateway to delete ``blob_ids`` once the transaction committed."""
    if blob_ids:
        ids = list(blob_ids)
        result.setdefault("__after_commit", []).append(lambda: drop_blobs(blobs, ids))
    return result


def reference_blob(tx: Tx, blob_id: str, kind: str, key: str) -> None:
    tx.index_put(blob_ref(blob_id), NS, kind, key)


def unreference_blob(tx: Tx, blob_id: str | None) -> None:
    if blob_id:
        tx.index_delete(blob_ref(blob_id))


def listed_checksum(record: dict[str, Any]) -> dict[str, Any]:
    """ListObjects(V2) and ListObjectVersions: the ``ChecksumAlgorithm`` (a list of one) and
    ``ChecksumType`` of an object stored with a checksum, as S3 lists them."""
    stored = record.get("Checksums") or {}
    if not stored:
        return {}
    name = str(next(iter(stored))).removeprefix("Checksum")
    kind = record.get("ChecksumType") or "FULL_OBJECT"
    return {"ChecksumAlgorithm": [name], "ChecksumType": kind}
