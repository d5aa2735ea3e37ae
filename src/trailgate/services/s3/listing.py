"""ListObjects (v1) and ListObjectsV2 over the store's ordered keys (spec 6.4).  They show each
key's current object only, which is where every object of an unversioned bucket lives too:
noncurrent versions and delete markers are kept apart (:mod:`.versions`) and listed by
ListObjectVersions (:mod:`.versioning`).

The listing is the ordered sequence of *items* of a bucket under ``prefix``: a key without the
delimiter after the prefix is an item of its own; keys with it roll up into one common prefix
(prefix + text up to and including the first delimiter).  Items are ordered by their text in
UTF-8 byte order (= code point order, which is also SQLite's ``BINARY`` order of UTF-8 text),
``marker`` / ``start-after`` / continuation tokens keep the items strictly greater than them,
and a page holds at most ``max-keys`` items (keys and common prefixes both count).

A page reads only what it returns (plus one row to know whether the listing is truncated): the
store is asked for keys in order from a cursor, and after each common prefix the cursor jumps
past every key sharing it, so the keys under a common prefix are never read one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    MAX_KEY_BYTES,
    NS,
    STANDARD,
    decode_token,
    encode_token,
    invalid_argument,
    listed_checksum,
    load_bucket,
    objects_kind,
    owner_view,
    when,
)

MAX_KEYS: Final = 1000
NULL_VERSION: Final = "null"
_TOP: Final = "\U0010ffff" * MAX_KEY_BYTES
"""Appended to a common prefix, gives a string greater than every key (at most 1,024 bytes,
so at most 1,024 characters) that starts with the prefix and smaller than every greater key."""

_FIRST_BATCH: Final = 64  # rows asked for at once while common prefixes may interrupt a batch


@dataclass
class Page:
    contents: list[Entity] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the last item returned (key or common prefix)


def past(common_prefix: str) -> str:
    """A cursor after every key starting with ``common_prefix``."""
    return common_prefix + _TOP


def rollup(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix ``key`` rolls up into, or None."""
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]


def list_page(
    tx: Tx, kind: str, *, prefix: str, delimiter: str, after: str | None, max_keys: int
) -> Page:
    """One page of items strictly after ``after`` (see the module docstring)."""
    page = Page()
    if max_keys <= 0:
        return page
    cursor = after
    if after is not None and after.startswith(prefix):
        group = rollup(after, prefix, delimiter)
        if group is not None:  # the marker lies inside a group, which is then <= the marker
            cursor = past(group)
    batch = min(max_keys + 1, MAX_KEYS + 1) if not delimiter else _FIRST_BATCH
    while True:
        want = min(batch, max_keys - len(page.contents) - len(page.prefixes) + 1)
        rows = tx.scan(NS, kind, prefix=prefix or None, after=cursor, limit=want)
        jumped = False
        for row in rows:
            if len(page.contents) + len(page.prefixes) == max_keys:
                page.truncated = True
                return page
            group = rollup(row.key, prefix, delimiter)
            if group is not None:
                page.prefixes.append(group)
                page.last = group
                cursor = past(group)
                jumped = True
                break
            page.contents.append(row)
            page.last = cursor = row.key
        if not jumped and len(rows) < want:
            return page  # the store has nothing more
        # A batch cut short by a common prefix suggests more of them: ask for less next
        # time; a batch read to its end suggests plain keys: ask for more.
        batch = max(8, batch // 4) if jumped else min(batch * 4, MAX_KEYS + 1)


# -- operations --------------------------------------------------------------------------------


INT32_MAX: Final = 2147483647


def max_keys_of(params: dict[str, Any], *, versions: bool = False) -> int:
    """``max-keys`` capped at 1,000.  A negative value is refused in S3's words, which differ
    between the object listings ("Argument maxKeys must be an integer between 0 and
    2147483647", argument ``maxKeys``) and ListObjectVersions ("max-keys cannot be
    negative"); a value that is no integer never gets here (the wire layer refuses it)."""
    value = params.get("MaxKeys")
    if value is None:
        return MAX_KEYS
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_argument(
            "Provided max-keys not an integer or within integer range", "max-keys", value
        ) from None
    if number < 0 and versions:
        raise invalid_argument("max-keys cannot be negative", "max-keys", number)
    if number < 0:
        raise invalid_argument(
            f"Argument maxKeys must be an integer between 0 and {INT32_MAX}", "maxKeys", number
        )
    return min(number, MAX_KEYS)


def non_negative(params: dict[str, Any], member: str, wire: str) -> int | None:
    """An integer listing parameter (``max-parts``, ``max-uploads``, ``part-number-marker``)
    that S3 reads as an int32 and refuses below 0: "Argument <name> must be an integer between
    0 and 2147483647".  None when absent."""
    value = params.get(member)
    if value is None:
        return None
    number = int(value)  # the wire layer has refused anything that is not an int32
    if number < 0:
        raise invalid_argument(
            f"Argument {wire} must be an integer between 0 and {INT32_MAX}", wire, number
        )
    return number


def encoding_type(params: dict[str, Any]) -> str | None:
    """``encoding-type``: only ``url`` exists.  The provider returns raw keys and echoes
    ``EncodingType``; the wire layer percent-encodes the fields S3 encodes."""
    encoding = params.get("EncodingType")
    if encoding is not None and encoding != "url":
        raise invalid_argument(
            "Invalid Encoding Method specified in Request", "encoding-type", encoding
        )
    return None if encoding is None else "url"


def _content(row: Entity, owner: bool) -> dict[str, Any]:
    data = row.data
    item: dict[str, Any] = {
        "Key": row.key,
        "LastModified": when(data["LastModified"]),
        "ETag": data["ETag"],
        "Size": data["Size"],
        "StorageClass": data.get("StorageClass") or STANDARD,
        **listed_checksum(data),
    }
    if owner:
        item["Owner"] = owner_view(data["Owner"])
    return item


def _body(
    page: Page,
    bucket: str,
    prefix: str,
    delimiter: str,
    max_keys: int,
    owner: bool,
    encoding: str | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": bucket,
        "Prefix": prefix,
        "MaxKeys": max_keys,
        "IsTruncated": page.truncated,
    }
    if delimiter:
        out["Delimiter"] = delimiter
    if encoding is not None:
        out["EncodingType"] = encoding
    if page.contents:
        out["Contents"] = [_content(row, owner) for row in page.contents]
    if page.prefixes:
        out["CommonPrefixes"] = [{"Prefix": p} for p in page.prefixes]
    return out


class ListingOps:
    def ListObjects(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        bucket = load_bucket(tx, params)
        prefix = str(params.get("Prefix") or "")
        delimiter = str(params.get("Delimiter") or "")
        marker = str(params.get("Marker") or "")
        max_keys = max_keys_of(params)
        encoding = encoding_type(params)
        page = list_page(
            tx,
            objects_kind(bucket["Name"]),
            prefix=prefix,
            delimiter=delimiter,
            after=marker or None,
            max_keys=max_keys,
        )
        out = _body(page, bucket["Name"], prefix, delimiter, max_keys, True, encoding)
        out["Marker"] = marker
        if page.truncated and delimiter and page.last is not None:
            # Without a delimiter clients continue from the last Key (botocore's paginator).
            out["NextMarker"] = page.last
        return out

    def ListObjectsV2(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        bucket = load_bucket(tx, params)
        prefix = str(params.get("Prefix") or "")
        delimiter = str(params.get("Delimiter") or "")
        start_after = str(params.get("StartAfter") or "")
        token = params.get("ContinuationToken")
        max_keys = max_keys_of(params)
        encoding = encoding_type(params)
        after: str | None = start_after or None
        if token is not None:
            after = decode_token(str(token))
        page = list_page(
            tx,
            objects_kind(bucket["Name"]),
            prefix=prefix,
            delimiter=delimiter,
            after=after,
            max_keys=max_keys,
        )
        owner = bool(params.get("FetchOwner"))
        out = _body(page, bucket["Name"], prefix, delimiter, max_keys, owner, encoding)
        out["KeyCount"] = len(page.contents) + len(page.prefixes)
        if token is not None:
            out["ContinuationToken"] = token
        if start_after:
            out["StartAfter"] = start_after
        if page.truncated and page.last is not None:
            out["NextContinuationToken"] = encode_token(page.last)
        return out
