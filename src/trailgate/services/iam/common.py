"""Shared pieces of the IAM provider: record kinds, errors with AWS's wording, input checks,
timestamps, paging and tags.

Record layouts (``Tx`` kind -> key -> data) are documented in ``queries.py``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from ...gateway.context import Principal
from ...protocol.errors import ServiceError, validation_error
from ...store.interface import Tx

T = TypeVar("T")

# -- record kinds ------------------------------------------------------------------------------

USER = "iam.user"
GROUP = "iam.group"
ROLE = "iam.role"
POLICY = "iam.policy"
KEY = "iam.accesskey"
LOGIN = "iam.login"
MFA = "iam.mfa"
ALIAS = "iam.alias"
AWS_USAGE = "iam.awsusage"
ACCOUNT = "iam.account"
PROFILE = "iam.instanceprofile"


def key_prefix(user_key: str | None) -> str:
    """The store-key prefix shared by the access keys of one user (``user_key``: the user
    record's key, i.e. the lower-cased name) or, for None, of the root user.

    Access keys are stored under ``<user key>/<AccessKeyId>`` (root keys: ``/<AccessKeyId>``);
    ``/`` cannot occur in a user name, so one user's keys are exactly one ``prefix`` range."""
    return "/" if user_key is None else f"{user_key}/"


def key_entity_key(user_key: str | None, key_id: str) -> str:
    """The store key of an access key record (see :func:`key_prefix`)."""
    return key_prefix(user_key) + key_id


@dataclass(frozen=True)
class EntityKind:
    """What differs between users, groups and roles for the shared policy operations."""

    kind: str  # store kind
    label: str  # "user" | "group" | "role" (as in AWS messages)
    name_field: str  # "UserName"
    id_field: str  # "UserId"
    member: str  # lower-camel request member: "userName"
    name_max: int  # longest name accepted when naming an existing entity
    inline_quota: int  # aggregate inline policy size (spec 3.3)
    attach_quota: str  # quota name in LimitExceeded messages


USERS = EntityKind(USER, "user", "UserName", "UserId", "userName", 128, 2048, "PoliciesPerUser")
GROUPS = EntityKind(
    GROUP, "group", "GroupName", "GroupId", "groupName", 128, 5120, "PoliciesPerGroup"
)
ROLES = EntityKind(ROLE, "role", "RoleName", "RoleId", "roleName", 64, 10240, "PoliciesPerRole")

ATTACH_QUOTA = 10
MAX_TAGS = 50

# -- errors ------------------------------------------------------------------------------------


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def entity_not_found(kind: EntityKind, name: str) -> ServiceError:
    return no_such_entity(f"The {kind.label} with name {name} cannot be found.")


# -- input checks ------------------------------------------------------------------------------

NAME_RE = re.compile(r"[\w+=,.@-]+", re.ASCII)
NAME_SHOWN = r"[\w+=,.@-]+"
PATH_RE = re.compile(r"/|/[\x21-\x7e]+/")
PATH_SHOWN = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"
POLICY_PATH_RE = re.compile(r"(?:/[A-Za-z0-9.,+@=_-]+)*/")
POLICY_PATH_SHOWN = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/"
PREFIX_RE = re.compile(r"/[\x21-\x7f]*")
PREFIX_SHOWN = r"\u002F[\u0021-\u007F]*"
DOC_RE = re.compile(r"[\t\n\r\x20-\xff]+")
DOC_SHOWN = r"[\u0009\u000A\u000D\u0020-\u00FF]+"
DESC_RE = re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]*")
DESC_SHOWN = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*"
TAG_RE = re.compile(r"[\w\s.:/=+\-@]*")
TAG_SHOWN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
ARN_RE = re.compile(r"arn:[\w-]+:[\w-]+:[\w-]*:(?:[0-9]{12}|aws)?:[\x21-\x7e]+")
VERSION_RE = re.compile(r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?")
VERSION_SHOWN = r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?"


class Checks:
    """Collects constraint failures; :meth:`done` raises one ``ValidationError`` for all."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def _fail(self, value: object, member: str, constraint: str) -> None:
        self.failures.append(
            f"Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        )

    def length(self, value: str | None, member: str, low: int, high: int | None) -> bool:
        if value is None:
            return True
        if len(value) < low:
            self._fail(value, member, f"Member must have length greater than or equal to {low}")
            return False
        if high is not None and len(value) > high:
            self._fail(value, member, f"Member must have length less than or equal to {high}")
            return False
        return True

    def pattern(self, value: str | None, member: str, regex: re.Pattern[str], shown: str) -> None:
        if value is not None and regex.fullmatch(value) is None:
            self._fail(value, member, f"Member must satisfy regular expression pattern: {shown}")

    def text(
        self,
        value: str | None,
        member: str,
        low: int,
        high: int | None,
        regex: re.Pattern[str],
        shown: str,
    ) -> None:
        if self.length(value, member, low, high):
            self.pattern(value, member, regex, shown)

    def name(self, value: str | None, member: str, high: int = 64) -> None:
        self.text(value, member, 1, high, NAME_RE, NAME_SHOWN)

    def path(self, value: str | None, member: str = "path") -> None:
        self.text(value, member, 1, 512, PATH_RE, PATH_SHOWN)

    def prefix(self, value: str | None, member: str = "pathPrefix") -> None:
        self.text(value, member, 1, 512, PREFIX_RE, PREFIX_SHOWN)

    def number(self, value: int | None, member: str, low: int, high: int) -> None:
        if value is None:
            return
        if value < low:
            self._fail(value, member, f"Member must have value greater than or equal to {low}")
        elif value > high:
            self._fail(value, member, f"Member must have value less than or equal to {high}")

    def enum(self, value: str | None, member: str, allowed: Sequence[str]) -> None:
        if value is not None and value not in allowed:
            listed = ", ".join(allowed)
            self._fail(value, member, f"Member must satisfy enum value set: [{listed}]")

    def document(self, value: str | None, member: str = "policyDocument") -> None:
        self.text(value, member, 1, 131072, DOC_RE, DOC_SHOWN)

    def done(self) -> None:
        if self.failures:
            raise validation_error(self.failures)


def check_arn(arn: str) -> None:
    """``InvalidInput`` for a string that is not an ARN."""
    if ARN_RE.fullmatch(arn) is None:
        raise invalid_input(f"ARN {arn} is not valid.")


# -- values ------------------------------------------------------------------------------------


def stamp(now: datetime) -> str:
    """A timestamp as stored: ISO 8601, whole seconds (IAM shows no fractions)."""
    return now.replace(microsecond=0).isoformat()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def target_user(params: dict[str, Any], principal: Principal) -> str | None:
    """The user an operation with an optional ``UserName`` acts on: the named one, else the
    calling IAM user; None for the root user; a ``ValidationError`` for other callers."""
    name = params.get("UserName")
    if name is not None:
        return str(name)
    if principal.kind == "user":
        return principal.arn.rsplit("/", 1)[1]
    if principal.kind == "root":
        return None
    raise ServiceError(
        "ValidationError", "Must specify userName when calling with non-User credentials", 400
    )


def entity_arn(account: str, label: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{label}{path}{name}"


def split_iam_arn(arn: str) -> tuple[str, str, str, str] | None:
    """``arn:aws:iam::ACCT:TYPE/path/NAME`` -> (account, type, path, name), else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam":
        return None
    account, rest = parts[4], parts[5]
    kind, slash, tail = rest.partition("/")
    if not slash or not tail or tail.endswith("/"):
        return None
    head, _, name = tail.rpartition("/")
    path = f"/{head}/" if head else "/"
    return account, kind, path, name


# -- paging ------------------------------------------------------------------------------------


def encode_marker(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_marker(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid_input("Invalid Marker.") from None


def max_items(params: dict[str, Any]) -> int:
    value = params.get("MaxItems")
    checks = Checks()
    checks.number(value, "maxItems", 1, 1000)
    checks.done()
    return 100 if value is None else int(value)


def page(
    items: Iterable[T], key: Callable[[T], str], params: dict[str, Any]
) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` (sorted by ``key``) after ``Marker``, at most ``MaxItems``.

    Returns the page and the ``IsTruncated`` / ``Marker`` members of the response.
    """
    after = decode_marker(params.get("Marker"))
    limit = max_items(params)
    rest = [item for item in items if after is None or key(item) > after]
    chunk = rest[:limit]
    extra: dict[str, Any] = {"IsTruncated": len(rest) > limit}
    if len(rest) > limit:
        extra["Marker"] = encode_marker(key(chunk[-1]))
    return chunk, extra


def page_store(
    tx: Tx,
    account: str,
    kind: str,
    params: dict[str, Any],
    where: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """:func:`page` over the records of one kind, using the store's ordered ``after``/``limit``."""
    after = decode_marker(params.get("Marker"))
    limit = max_items(params)
    entities = tx.scan(account, kind, after=after, limit=limit + 1, where=where)
    chunk = entities[:limit]
    extra: dict[str, Any] = {"IsTruncated": len(entities) > limit}
    if len(entities) > limit:
        extra["Marker"] = encode_marker(chunk[-1].key)
    return [e.data for e in chunk], extra


# -- tags --------------------------------------------------------------------------------------


def check_tags(tags: list[dict[str, Any]] | None, member: str = "tags") -> list[dict[str, str]]:
    """Validate a request's tag list; returns it as ``[{"Key", "Value"}]``."""
    if not tags:
        return []
    checks = Checks()
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    for index, tag in enumerate(tags, 1):
        key = str(tag.get("Key", ""))
        value = str(tag.get("Value", ""))
        checks.text(key, f"{member}.{index}.member.key", 1, 128, TAG_RE, TAG_SHOWN)
        checks.text(value, f"{member}.{index}.member.value", 0, 256, TAG_RE, TAG_SHOWN)
        if key.lower() in seen:
            raise invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        if key.lower().startswith("aws:"):
            raise invalid_input(RESERVED_TAG_PREFIX)
        seen.add(key.lower())
        out.append({"Key": key, "Value": value})
    checks.done()
    if len(out) > MAX_TAGS:
        raise limit_exceeded("The number of tags has reached the maximum limit.")  # UNSURE
    return out


# AWS reserves the ``aws:`` prefix (any letter case) for its own tags.  UNSURE: IAM's exact
# answer is not published; InvalidInput is IAM's code for a bad value, and the text is the
# wording AWS services use for the reserved prefix.
RESERVED_TAG_PREFIX = "Tag keys starting with 'aws:' are reserved for internal use."


def add_tags(data: dict[str, Any], params: dict[str, Any]) -> None:
    """A Tag* call: the checked ``Tags`` merged into the record's (same keys replaced)."""
    data["Tags"] = merge_tags(data.get("Tags", []), check_tags(params.get("Tags")))


def drop_tags(data: dict[str, Any], params: dict[str, Any]) -> None:
    """An Untag* call: the record's tags without ``TagKeys``."""
    data["Tags"] = remove_tags(data.get("Tags", []), params.get("TagKeys") or [])


def merge_tags(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """TagX: replace same keys (case-insensitively), append the others; at most 50."""
    merged = {t["Key"].lower(): t for t in current}
    for tag in new:
        merged[tag["Key"].lower()] = tag
    if len(merged) > MAX_TAGS:
        raise limit_exceeded("The number of tags has reached the maximum limit.")  # UNSURE
    return list(merged.values())


def remove_tags(current: list[dict[str, str]], keys: list[str]) -> list[dict[str, str]]:
    drop = {k.lower() for k in keys}
    return [t for t in current if t["Key"].lower() not in drop]
