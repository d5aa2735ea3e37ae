"""Browser-based uploads (S3 "POST Object", boto3 ``generate_presigned_post``) through the
pipeline as a PutObject.

``POST /bucket`` with a ``multipart/form-data`` body is routed as PutObject.  The parse step
reads the form (:func:`parse`): the object's key (``${filename}`` replaced by the file's name),
its content type, ACL, metadata and other headers given as fields, and the ``file`` field as
the body.  The authenticate step (:func:`authenticate`) takes the credentials from the form,
checks the signature over the base64 policy and the policy itself; the caller's principal is
then authorized for ``s3:PutObject`` by the normal authorize step (``s3:authType`` ``POST``),
the provider stores the object, and the call is recorded as a PutObject data event.
:func:`respond` shapes S3's answer: 204 by default, ``success_action_status`` 200 (empty) or
201 (``<PostResponse>``), or a 303 to ``success_action_redirect`` with ``bucket``, ``key`` and
``etag`` added to its query; always with ``ETag`` and ``Location``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit

from ..auth import post_policy
from ..auth.sigv4_parse import ALGORITHM
from ..protocol.errors import ServiceError
from ..protocol.s3wire.errors import CONTENT_TYPE, XML_DECL
from ..protocol.s3wire.form import is_form_upload, parse_form
from ..protocol.xmltext import encode, escape
from .context import Principal, RequestContext

#: form field (lower-cased) -> PutObject parameter
FIELD_PARAMS: Final = {
    "content-type": "ContentType",
    "acl": "ACL",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "x-amz-storage-class": "StorageClass",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
}
AUTH_TYPE: Final = "POST"  # s3:authType of a browser-based upload
Resolver = Callable[[str, "str | None"], "tuple[Principal, str]"]


def is_upload(ctx: RequestContext) -> bool:
    request = ctx.request
    return ctx.operation == "PutObject" and is_form_upload(
        request.method, request.headers.get("content-type", "")
    )


def parse(ctx: RequestContext) -> None:
    """The form as PutObject's params (``ctx.form`` keeps the form itself)."""
    request = ctx.request
    source = request.body_source
    if source is not None:
        with source.open() as stream:
            body = stream.read()
    else:
        body = request.body
    form = parse_form(request.headers.get("content-type", ""), body)
    ctx.form = form
    key = form.get("key")
    if not key:
        raise post_policy.missing_field("key")
    if form.file is None:
        raise ServiceError(
            "InvalidArgument", "POST requires exactly one file upload per request.", 400,
            {"ArgumentName": "file", "ArgumentValue": "0"},
        )
    params: dict[str, Any] = {"Bucket": str(ctx.params.get("Bucket") or ""),
              "Key": key.replace("${filename}", form.filename), "Body": form.file}
    for field, value in form.fields.items():
        param = FIELD_PARAMS.get(field)
        if param is not None:
            params[param] = value
    metadata = {field[len("x-amz-meta-"):]: value for field, value in form.fields.items()
                if field.startswith("x-amz-meta-")}
    if metadata:
        params["Metadata"] = metadata
    ctx.params = params


def authenticate(ctx: RequestContext, resolve: Resolver) -> None:
    """The caller of the form (anonymous without credentials), its signature and policy;
    raises S3's error (AuthError for the signature and key)."""
    form = ctx.form
    assert form is not None and form.file is not None
    cred = post_policy.credentials(form)
    policy = form.get("policy")
    if cred is None:
        ctx.principal = Principal("anonymous", "anonymous", "", "anonymous")
    else:
        principal, secret = resolve(cred.access_key_id, cred.session_token)
        post_policy.verify_signature(cred, secret)
        ctx.principal = principal
        ctx.signature_version = ALGORITHM if cred.version == "v4" else "AWS"
        ctx.auth_type = AUTH_TYPE
    if policy:
        bucket = str(ctx.params.get("Bucket") or "")
        length = post_policy.check_policy(form, bucket, policy, ctx.received_at)
        post_policy.check_size(length, len(form.file))


def respond(ctx: RequestContext) -> None:
    """S3's answer to a stored POST upload (the PutObject response reshaped)."""
    form = ctx.form
    if form is None or ctx.error is not None:
        return
    response = ctx.response
    bucket, key = str(ctx.params["Bucket"]), str(ctx.params["Key"])
    etag = response.headers.get("ETag") or response.headers.get("etag") or ""
    location = _object_url(ctx, key)
    response.headers["Location"] = location
    response.body, response.body_iter = b"", None
    redirect = form.get("success_action_redirect") or form.get("redirect")
    if redirect and urlsplit(redirect).scheme in ("http", "https"):
        joiner = "&" if "?" in redirect else "?"
        response.status = 303
        response.headers["Location"] = redirect + joiner + urlencode(
            {"bucket": bucket, "key": key, "etag": etag})
        return
    status = form.get("success_action_status")
    if status == "201":
        response.status = 201
        response.headers["content-type"] = CONTENT_TYPE
        response.body = encode(
            f"{XML_DECL}<PostResponse><Location>{escape(location)}</Location>"
            f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>"
            f"<ETag>{escape(etag)}</ETag></PostResponse>")
    else:
        response.status = 200 if status == "200" else 204


def _object_url(ctx: RequestContext, key: str) -> str:
    request = ctx.request
    scheme = "https" if request.secure else "http"
    host = request.headers.get("host") or "localhost"
    return f"{scheme}://{host}{request.raw_path.rstrip('/')}/{quote(key, safe='/~')}"
