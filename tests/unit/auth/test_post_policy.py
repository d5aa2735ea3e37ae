"""Browser-based upload forms (``protocol.s3wire.form``) and their POST policies
(``auth.post_policy``): parsing, signatures checked against botocore's presigned POST, and
S3's answer to each kind of policy violation."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config

from trailgate.auth import post_policy
from trailgate.auth.sigv4_errors import AuthError
from trailgate.protocol.errors import ServiceError
from trailgate.protocol.s3wire.form import PostForm, is_form_upload, parse_form

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BOUNDARY = "xyzBOUNDARY"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def body(fields: list[tuple[str, str]], file: bytes | None = b"DATA", after: str = "") -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'
             for n, v in fields]
    out = "".join(parts).encode()
    if file is not None:
        out += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="a b.txt"\r\nContent-Type: text/plain\r\n\r\n').encode()
        out += file + b"\r\n"
    out += after.encode()
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_parse_form_keeps_fields_in_order_up_to_the_file() -> None:
    raw = body([("Key", "k/${filename}"), ("X-Amz-Meta-A", "é")], b"\r\nbin\x00ary\r\n",
               after=f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="late"\r\n\r\nx\r\n')
    form = parse_form(CONTENT_TYPE, raw)
    assert form.fields == {"key": "k/${filename}", "x-amz-meta-a": "é"}
    assert form.names == {"key": "Key", "x-amz-meta-a": "X-Amz-Meta-A"}
    assert (form.file, form.filename) == (b"\r\nbin\x00ary\r\n", "a b.txt")
    assert parse_form(CONTENT_TYPE, body([("key", "k")], None)).file is None


@pytest.mark.parametrize("raw", [b"", b"garbage", body([("key", "k")])[:-8],
                                 f"--{BOUNDARY}\r\nno-disposition\r\n\r\nx\r\n"
                                 f"--{BOUNDARY}--\r\n".encode()])
def test_malformed_forms(raw: bytes) -> None:
    with pytest.raises(ServiceError) as exc:
        parse_form(CONTENT_TYPE, raw)
    assert (exc.value.code, exc.value.status) == ("MalformedPOSTRequest", 400)


def test_is_form_upload() -> None:
    assert is_form_upload("POST", "Multipart/Form-Data; boundary=x")
    assert not is_form_upload("PUT", CONTENT_TYPE)
    assert not is_form_upload("POST", "application/xml")


def presigned(v4: bool, **options: Any) -> dict[str, Any]:
    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:1", region_name="us-east-1",
                      aws_access_key_id="AKIAEXAMPLE000000001", aws_secret_access_key="secret",
                      aws_session_token=options.pop("token", None),
                      config=Config(signature_version="s3v4" if v4 else None))
    return dict(s3.generate_presigned_post("b", "up/${filename}", **options))


def form_of(fields: dict[str, str]) -> PostForm:
    return PostForm({k.lower(): v for k, v in fields.items()}, {k.lower(): k for k in fields})


@pytest.mark.parametrize("v4", [True, False])
@pytest.mark.parametrize("token", [None, "TOKEN"])
def test_botocore_signatures_verify(v4: bool, token: str | None) -> None:
    fields = presigned(v4, token=token)["fields"]
    cred = post_policy.credentials(form_of(fields))
    assert cred is not None
    assert (cred.version, cred.access_key_id, cred.session_token) == (
        "v4" if v4 else "v2", "AKIAEXAMPLE000000001", token)
    post_policy.verify_signature(cred, "secret")
    with pytest.raises(AuthError) as exc:
        post_policy.verify_signature(cred, "other secret")
    assert exc.value.kind == "signature_mismatch"
    now = datetime.now(UTC)
    assert post_policy.check_policy(form_of(fields), "b", fields["policy"], now) is None


def test_anonymous_form_has_no_credentials() -> None:
    assert post_policy.credentials(form_of({"key": "k"})) is None


@pytest.mark.parametrize(("drop", "missing"), [
    ("x-amz-signature", "x-amz-signature"), ("policy", "policy"), ("x-amz-date", "x-amz-date"),
])
def test_missing_fields(drop: str, missing: str) -> None:
    fields = {k: v for k, v in presigned(True)["fields"].items() if k != drop}
    with pytest.raises(ServiceError) as exc:
        post_policy.credentials(form_of(fields))
    assert (exc.value.code, exc.value.status) == ("InvalidArgument", 400)
    assert exc.value.extra == {"ArgumentName": missing, "ArgumentValue": ""}


def policy(conditions: list[Any], expiration: str = "2026-11-29T12:00:01Z") -> str:
    doc = {"expiration": expiration, "conditions": conditions}
    return base64.b64encode(json.dumps(doc).encode()).decode()


FIELDS = {"key": "up/a.txt", "Content-Type": "text/plain", "acl": "private"}
ALL_COVERED: list[Any] = [{"bucket": "b"}, ["starts-with", "$key", "up/"],
                          ["eq", "$Content-Type", "text/plain"], {"acl": "private"}]


@pytest.mark.parametrize(("conditions", "fields", "code", "message"), [
    (ALL_COVERED, FIELDS, None, None),
    (ALL_COVERED, {**FIELDS, "x-ignore-me": "1", "x-amz-signature": "s"}, None, None),
    ([{"bucket": "other"}, *ALL_COVERED[1:]], FIELDS, "AccessDenied",
     'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "other"]'),
    ([*ALL_COVERED[:1], ["starts-with", "$key", "down/"], *ALL_COVERED[2:]], FIELDS,
     "AccessDenied",
     'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "down/"]'),
    (ALL_COVERED[:3], FIELDS, "AccessDenied",
     "Invalid according to Policy: Extra input fields: acl"),
    ([*ALL_COVERED, {"x-amz-meta-a": "1"}], FIELDS, "AccessDenied",
     'Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-meta-a", "1"]'),
    ([["nope", "$key", "x"]], FIELDS, "InvalidPolicyDocument",
     'Invalid Policy: Invalid Policy condition: ["nope", "$key", "x"]'),
    ({"not": "a list"}, FIELDS, "InvalidPolicyDocument",
     "Invalid Policy: Invalid 'conditions' value: must be a List."),
])
def test_conditions(conditions: Any, fields: dict[str, str], code: str | None,
                    message: str | None) -> None:
    text = policy(conditions)
    if code is None:
        assert post_policy.check_policy(form_of(fields), "b", text, NOW) is None
        return
    with pytest.raises(ServiceError) as exc:
        post_policy.check_policy(form_of(fields), "b", text, NOW)
    assert (exc.value.code, exc.value.message) == (code, message)
    assert exc.value.status == (403 if code == "AccessDenied" else 400)


@pytest.mark.parametrize(("text", "message"), [
    (policy(ALL_COVERED, "2026-11-29T11:59:59Z"), "Invalid according to Policy: Policy expired."),
    (policy(ALL_COVERED, "2026-11-29T11:59:59.999Z"),
     "Invalid according to Policy: Policy expired."),
    (policy(ALL_COVERED, "tomorrow"), "Invalid Policy: Invalid 'expiration' value: 'tomorrow'"),
    (base64.b64encode(b"{not json").decode(), "Invalid Policy: Invalid JSON."),
    ("%%%", "Invalid Policy: Invalid JSON."),
])
def test_expiration_and_document(text: str, message: str) -> None:
    with pytest.raises(ServiceError) as exc:
        post_policy.check_policy(form_of(FIELDS), "b", text, NOW)
    assert exc.value.message == message


def test_content_length_range() -> None:
    text = policy([*ALL_COVERED, ["content-length-range", "2", 4]])
    length = post_policy.check_policy(form_of(FIELDS), "b", text, NOW)
    assert length == (2, 4)
    for size in (2, 4):
        post_policy.check_size(length, size)
    with pytest.raises(ServiceError) as big:
        post_policy.check_size(length, 5)
    assert (big.value.code, big.value.extra) == (
        "EntityTooLarge", {"ProposedSize": "5", "MaxSizeAllowed": "4"})
    with pytest.raises(ServiceError) as small:
        post_policy.check_size(length, 1)
    assert (small.value.code, small.value.extra) == (
        "EntityTooSmall", {"ProposedSize": "1", "MinSizeAllowed": "2"})
