"""S3 pages: buckets, a bucket's prefixes and objects, an object (download; a CloudTrail log
file opens as a table of its records)."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any, Final
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from ..services.s3_actions import bucket_arn, object_arn
from .web import Page, page

MAX_VIEW_BYTES: Final = 16 * 1024 * 1024  # log files larger than this are only downloaded
MAX_ROWS: Final = 2000


@page
async def buckets(ctx: Page) -> Response:
    out = await ctx.call("s3", "ListBuckets", {})
    return ctx.render("buckets.html", title="Buckets", buckets=out.get("Buckets") or [])


def crumbs(bucket: str, prefix: str) -> list[tuple[str, str]]:
    """(label, prefix) for each folder level of ``prefix``."""
    out = [(bucket, "")]
    walked = ""
    for part in [p for p in prefix.split("/") if p]:
        walked += part + "/"
        out.append((part, walked))
    return out


@page
async def bucket(ctx: Page) -> Response:
    name = ctx.request.path_params["bucket"]
    prefix = ctx.arg("prefix")
    params: dict[str, Any] = {"Bucket": name, "Prefix": prefix, "Delimiter": "/",
                              "MaxKeys": 500}
    if ctx.arg("token"):
        params["ContinuationToken"] = ctx.arg("token")
    shown = bucket_arn(name) + (f" (listing prefix {prefix})" if prefix else "")
    out = await ctx.call("s3", "ListObjectsV2", params, resource=shown)
    folders = [p["Prefix"] for p in out.get("CommonPrefixes") or []]
    objects = [o for o in out.get("Contents") or [] if o["Key"] != prefix]
    token = out.get("NextContinuationToken")
    more = f"?prefix={quote(prefix, safe='')}&token={quote(token, safe='')}" if token else ""
    return ctx.render("bucket.html", title=f"{name}/{prefix}", bucket=name, prefix=prefix,
                      folders=folders, objects=objects, crumbs=crumbs(name, prefix),
                      more_link=more)


def _is_log(key: str) -> bool:
    return key.endswith((".json.gz", ".json"))


def log_rows(data: bytes) -> tuple[list[dict[str, Any]], dict[str, Any] | None, str]:
    """(records as table rows, the document when it is not a log file, an error)."""
    try:
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        doc = json.loads(raw)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        return [], None, f"Not a readable JSON log file: {exc}"
    records = doc.get("Records") if isinstance(doc, dict) else None
    if not isinstance(records, list):
        return [], doc if isinstance(doc, dict) else {"value": doc}, ""
    rows = []
    for record in records[:MAX_ROWS]:
        if not isinstance(record, dict):
            continue
        identity = record.get("userIdentity") or {}
        who = identity.get("arn") or identity.get("userName") or identity.get("invokedBy") \
            or identity.get("principalId") or identity.get("type") or ""
        rows.append({
            "time": record.get("eventTime", ""),
            "source": str(record.get("eventSource", "")).replace(".amazonaws.com", ""),
            "name": record.get("eventName", ""),
            "who": who,
            "account": record.get("recipientAccountId", ""),
            "ip": record.get("sourceIPAddress", ""),
            "error": record.get("errorCode", ""),
            "json": json.dumps(record, indent=2),
        })
    rows.sort(key=lambda r: str(r["time"]))
    return rows, None, ""


@page
async def obj(ctx: Page) -> Response:
    name = ctx.request.path_params["bucket"]
    key = ctx.arg("key")
    resource = object_arn(name, key)
    head = await ctx.call("s3", "HeadObject", {"Bucket": name, "Key": key}, resource=resource)
    rows: list[dict[str, Any]] = []
    document: dict[str, Any] | None = None
    problem = ""
    size = int(head.get("ContentLength") or 0)
    viewable = _is_log(key) and size <= MAX_VIEW_BYTES
    if viewable:
        got = await ctx.call("s3", "GetObject", {"Bucket": name, "Key": key},
                             resource=resource)
        rows, document, problem = log_rows(_read_body(got))
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    return ctx.render("object.html", title=key.rsplit("/", 1)[-1], bucket=name, key=key,
                      head=head, rows=rows, document=document, problem=problem,
                      viewable=viewable, crumbs=crumbs(name, folder),
                      truncated=len(rows) >= MAX_ROWS)


def _read_body(result: dict[str, Any]) -> bytes:
    body = result.get("Body")
    if body is None:
        return b""
    try:
        return b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


@page
async def download(ctx: Page) -> Response:
    name = ctx.request.path_params["bucket"]
    key = ctx.arg("key")
    got = await ctx.call("s3", "GetObject", {"Bucket": name, "Key": key},
                         resource=object_arn(name, key))
    filename = key.rsplit("/", 1)[-1] or "download"
    headers = {
        "content-disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
        "cache-control": "no-store",
    }
    if got.get("ContentLength") is not None:
        headers["content-length"] = str(got["ContentLength"])
    body = got.get("Body") or iter(())
    return StreamingResponse(body, media_type="application/octet-stream", headers=headers)
