"""Browser-based uploads (S3 "POST Object"): the form's credentials, its signature over the
base64 policy document, and the policy's expiration and conditions.

Signature: SigV4 (``x-amz-algorithm``, ``x-amz-credential``, ``x-amz-date``,
``x-amz-signature`` = hex HMAC-SHA256 of the base64 policy with the scope's signing key) or
SigV2 (``AWSAccessKeyId``, ``signature`` = base64 HMAC-SHA1 of the base64 policy), plus
``x-amz-security-token`` for session credentials.  A form with no credentials is anonymous.

Policy: ``{"expiration": ISO-8601, "conditions": [...]}``; a condition is ``{"field": value}``
(exact match), ``["eq", "$field", value]``, ``["starts-with", "$field", prefix]`` or
``["content-length-range", min, max]``.  Every form field but ``x-amz-signature``, ``file``,
``policy``, ``AWSAccessKeyId``, ``signature`` and ``x-ignore-*`` must be named by a condition.
S3's answers: AccessDenied "Invalid according to Policy: Policy expired." / "... Policy
Condition failed: [...]" / "... Extra input fields: NAME", EntityTooLarge / EntityTooSmall
with the sizes, InvalidArgument "Bucket POST must contain a field named 'NAME'. ...".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from ..protocol.errors import ServiceError
from ..protocol.s3wire.form import PostForm
from .sigv4_canonical import signing_key
from .sigv4_errors import AuthError
from .sigv4_parse import ALGORITHM

#: Fields no condition needs to name.
UNCHECKED: Final = frozenset({"x-amz-signature", "file", "policy", "awsaccesskeyid", "signature"})


@dataclass(frozen=True)
class PostCredentials:
    version: str  # "v4" | "v2"
    access_key_id: str
    signature: str
    policy: str  # base64, as sent
    session_token: str | None = None
    scope_date: str = ""
    region: str = ""


def missing_field(name: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check "
        "the order of the fields.",
        400,
        {"ArgumentName": name, "ArgumentValue": ""},
    )


def _denied(reason: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Invalid according to Policy: {reason}", 403)


def _invalid_policy(reason: str) -> ServiceError:
    return ServiceError("InvalidPolicyDocument", f"Invalid Policy: {reason}", 400)


def _required(form: PostForm, name: str) -> str:
    value = form.get(name)
    if not value:
        raise missing_field(name)
    return value


def credentials(form: PostForm) -> PostCredentials | None:
    """The form's credentials; None for an anonymous upload (no credential field at all)."""
    token = form.get("x-amz-security-token") or None
    if form.get("x-amz-credential") is not None or form.get("x-amz-algorithm") is not None:
        algorithm = _required(form, "x-amz-algorithm")
        credential = _required(form, "x-amz-credential")
        date = _required(form, "x-amz-date")
        signature = _required(form, "x-amz-signature")
        policy = _required(form, "policy")
        parts = credential.split("/")
        if algorithm != ALGORITHM or len(parts) != 5 or parts[4] != "aws4_request" \
                or parts[3] != "s3" or parts[1] != date[:8]:
            raise ServiceError(
                "InvalidArgument", "Invalid argument.", 400,
                {"ArgumentName": "x-amz-credential", "ArgumentValue": credential},
            )
        return PostCredentials("v4", parts[0], signature, policy, token, parts[1], parts[2])
    if form.get("awsaccesskeyid") is not None:
        key_id = _required(form, "AWSAccessKeyId")
        return PostCredentials("v2", key_id, _required(form, "signature"),
                               _required(form, "policy"), token)
    return None


def verify_signature(cred: PostCredentials, secret: str) -> None:
    """Raises AuthError("signature_mismatch") unless the form's signature is the policy's."""
    policy = cred.policy.encode("utf-8")
    if cred.version == "v4":
        key = signing_key(secret, cred.scope_date, cred.region, "s3")
        expected = hmac.new(key, policy, hashlib.sha256).hexdigest()
    else:
        raw = hmac.new(secret.encode("utf-8"), policy, hashlib.sha1).digest()
        expected = base64.b64encode(raw).decode("ascii")
    if not hmac.compare_digest(expected.encode(), cred.signature.encode()):
        raise AuthError("signature_mismatch")


def check_policy(form: PostForm, bucket: str, policy: str, now: datetime) -> tuple[int, int] | None:
    """Raise S3's error when the form breaks its policy; the content-length-range, if any."""
    doc = _document(policy)
    expiration = _expiration(doc.get("expiration"))
    if now > expiration:
        raise _denied("Policy expired.")
    conditions = doc.get("conditions")
    if not isinstance(conditions, list):
        raise _invalid_policy("Invalid 'conditions' value: must be a List.")
    covered: set[str] = set()
    length: tuple[int, int] | None = None
    for condition in conditions:
        op, name, value, shown = _condition(condition)
        if op == "content-length-range":
            length = (int(name), int(value))
            continue
        field = name.lstrip("$").lower()
        covered.add(field)
        actual = bucket if field == "bucket" else form.get(field)
        if actual is None or not (actual == value if op == "eq" else actual.startswith(value)):
            raise _denied(f"Policy Condition failed: {shown}")
    for field in form.fields:
        if field not in covered and field not in UNCHECKED and not field.startswith("x-ignore-"):
            raise _denied(f"Extra input fields: {form.names.get(field, field)}")
    return length


def check_size(length: tuple[int, int] | None, size: int) -> None:
    if length is None:
        return
    low, high = length
    if size > high:
        raise ServiceError(
            "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
            {"ProposedSize": str(size), "MaxSizeAllowed": str(high)},
        )
    if size < low:
        raise ServiceError(
            "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
            400, {"ProposedSize": str(size), "MinSizeAllowed": str(low)},
        )


def _document(policy: str) -> dict[str, Any]:
    try:
        doc = json.loads(base64.b64decode(policy, validate=True))
    except (binascii.Error, ValueError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(doc, dict):
        raise _invalid_policy("Invalid JSON.")
    return doc


def _expiration(value: Any) -> datetime:
    if value is None:
        raise _invalid_policy("Policy missing expiration.")
    text = str(value)
    for layout in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise _invalid_policy(f"Invalid 'expiration' value: '{text}'")


def _condition(condition: Any) -> tuple[str, str, str, str]:
    """``(operator, field or min, value or max, the condition as S3 shows it)``."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, value),) = condition.items()
        if isinstance(value, str):
            return "eq", f"${name}", value, json.dumps(["eq", f"${name}", value])
    elif isinstance(condition, list) and len(condition) == 3:
        op = str(condition[0]).lower()
        if op == "content-length-range":
            try:
                low, high = int(condition[1]), int(condition[2])
            except (TypeError, ValueError):
                raise _invalid_policy("Invalid content-length-range.") from None
            return op, str(low), str(high), json.dumps(condition)
        name, value = condition[1], condition[2]
        if op in ("eq", "starts-with") and isinstance(name, str) and isinstance(value, str) \
                and name.startswith("$"):
            return op, name, value, json.dumps(condition)
    raise _invalid_policy(f"Invalid Policy condition: {json.dumps(condition)}")
