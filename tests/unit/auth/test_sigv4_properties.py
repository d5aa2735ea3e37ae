"""Property test: whatever botocore's signers sign, our canonicalisation verifies (spec 5.2-5.3).

Random paths (unicode, sub-delims, ``//``, dot segments), query strings (repeated names, no
``=``, encoded characters), header values with odd whitespace, bodies and session tokens.
"""

from __future__ import annotations

from urllib.parse import quote

from auth_capture import AKID, SECRET, now, prepared_to_http
from botocore.auth import HmacV1Auth, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trailgate.auth.sigv4 import AuthError, parse_auth, verify

_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00", max_codepoint=0x2FF
    ),
    max_size=12,
)
_SEGMENT = st.one_of(_TEXT, st.sampled_from(["", ".", "..", "a b", "+", "%", "~!*'()"]))
_PATHS = st.lists(_SEGMENT, min_size=1, max_size=5).map(lambda segs: "/" + "/".join(segs))
_QUERY = st.lists(
    st.tuples(
        st.text(alphabet="abcXYZ-_.~ +/%=é", min_size=1, max_size=6),
        st.one_of(st.none(), _TEXT),
    ),
    max_size=4,
)
_HEADER_VALUE = st.text(
    alphabet=st.sampled_from(list("abc XYZ0123456789-_.,;:=/\t")), min_size=1, max_size=20
).filter(lambda v: v.strip() != "")


def _url(path: str, query: list[tuple[str, str | None]], host: str) -> str:
    encoded_path = quote(path.encode(), safe="/~")
    parts = [
        quote(name, safe="-_.~") + ("" if value is None else "=" + quote(value, safe="-_.~"))
        for name, value in query
    ]
    return f"http://{host}{encoded_path}" + ("?" + "&".join(parts) if parts else "")


def _check(auth: object, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    auth.add_auth(request)  # type: ignore[attr-defined]
    req = prepared_to_http(request.prepare())
    info = parse_auth(req)
    assert info is not None
    try:
        verify(req, info, SECRET, now())
    except AuthError as exc:  # pragma: no cover - shows the canonical request on failure
        raise AssertionError(exc.extra.get("CanonicalRequest", exc.extra)) from exc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    path=_PATHS,
    query=_QUERY,
    meta=_HEADER_VALUE,
    body=st.binary(max_size=64),
    token=st.one_of(st.none(), st.text(alphabet="abcXYZ019+/=", min_size=1, max_size=30)),
)
def test_s3_sigv4_matches_botocore(
    method: str,
    path: str,
    query: list[tuple[str, str | None]],
    meta: str,
    body: bytes,
    token: str | None,
) -> None:
    auth = S3SigV4Auth(Credentials(AKID, SECRET, token), "s3", "us-west-2")
    headers = {"x-amz-meta-note": meta, "Content-Type": "text/plain"}
    _check(auth, method, _url(path, query, "localhost:9000"), headers, body)


@settings(max_examples=200, deadline=None)
@given(path=_PATHS, query=_QUERY, body=st.binary(max_size=64), target=_HEADER_VALUE)
def test_other_services_sigv4_matches_botocore(
    path: str, query: list[tuple[str, str | None]], body: bytes, target: str
) -> None:
    """Non-S3 signers normalise the path and encode it twice."""
    auth = SigV4Auth(Credentials(AKID, SECRET), "cloudtrail", "eu-central-1")
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    _check(auth, "POST", _url(path, query, "127.0.0.1:4566"), headers, body)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "DELETE"]),
    key=_PATHS,
    sub=st.sampled_from(["", "acl", "policy", "uploads", "versionId=3", "prefix=a&delimiter=/"]),
    meta=_HEADER_VALUE,
)
def test_s3_sigv2_header_matches_botocore(method: str, key: str, sub: str, meta: str) -> None:
    auth = HmacV1Auth(Credentials(AKID, SECRET))
    url = (
        "http://localhost:9000/bucket" + quote(key.encode(), safe="/~") + ("?" + sub if sub else "")
    )
    _check(auth, method, url, {"x-amz-meta-note": meta}, b"")
