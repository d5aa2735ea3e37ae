"""SigV4 canonical request pieces (spec 5.2) and the cached signing key (spec 5.3).

Canonical URI candidates, canonical query string and canonical headers; :func:`signing_key`
derives kSigning once per (secret, date, region, service).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from typing import Final
from urllib.parse import quote, unquote_to_bytes

# Text already in canonical form: unreserved characters and upper-case %XX escapes of
# characters that are NOT unreserved (an escaped "A" must be canonicalised to "A").
_CANONICAL_RE: Final = re.compile(
    r"(?:[A-Za-z0-9\-_.~]|%(?:[01][0-9A-F]|2[0-9ABCF]|3[A-F]|40|5[B-E]|60|7[BCDF]|[89A-F][0-9A-F]))*"
)

_KEY_CACHE: dict[tuple[str, str, str, str], bytes] = {}
_KEY_CACHE_MAX: Final = 4096


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning of spec 5.3, cached per (secret, date, region, service) in a bounded dict."""
    cache_key = (secret, date, region, service)
    key = _KEY_CACHE.get(cache_key)
    if key is None:
        key = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
        for part in (region, service, "aws4_request"):
            key = hmac.digest(key, part.encode(), "sha256")
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            _KEY_CACHE.clear()  # atomic; the next requests re-derive (4 HMACs each)
        _KEY_CACHE[cache_key] = key
    return key


def clear_signing_key_cache() -> None:
    _KEY_CACHE.clear()


def canonical_headers(headers: dict[str, str], names: tuple[str, ...]) -> str:
    """Spec 5.2 CanonicalHeaders, including the block's final newline."""
    return "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names)


def canonical_query_string(qs: str, *, presigned: bool = False) -> str:
    """Spec 5.2: decode and re-encode names and values, sort, join (drop X-Amz-Signature)."""
    if not qs:
        return ""
    pairs: list[tuple[str, str]] = []
    for part in qs.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((_canon_component(name), _canon_component(value)))
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


def _canon_component(text: str) -> str:
    if _CANONICAL_RE.fullmatch(text):
        return text
    return quote(unquote_to_bytes(text), safe="-_.~")


def uri_candidates(raw_path: str, s3: bool) -> Iterator[str]:
    """Canonical URIs to try: S3 raw path then decode-and-re-encode (computed only if the first
    does not match); other services: normalised and encoded twice."""
    path = raw_path or "/"
    if not s3:
        yield "/" if path == "/" else quote(_remove_dot_segments(path), safe="/~")
        return
    yield path
    alt = quote(unquote_to_bytes(path), safe="/~")
    if alt != path:
        yield alt


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 plus collapsing of empty segments (what botocore does for non-S3)."""
    out: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if out:
                out.pop()
        elif seg and seg != ".":
            out.append(seg)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and out else ""
    return lead + "/".join(out) + trail
