"""Access key -> principal: root, IAM user, role session, GetSessionToken session.

A root principal carries the account alias (CloudTrail names root callers by it); the cache
is per store generation and every IAM write starts a new one, so a new alias is seen at once.

Long-term keys (AKIA...) are looked up in the store (secret decrypted with the data dir's
master key, cached per store generation); temporary keys (ASIA...) are self-contained: the
sealed session token carries the secret and the session's claims.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..gateway.context import Principal
from . import tokens
from .sigv4 import AuthError

Reader = Callable[[Callable[[Any], Any]], Any]


class KeyCache:
    """access key id -> (principal template, secret), valid for one store generation."""

    def __init__(self) -> None:
        self.generation = -1
        self.entries: dict[str, tuple[Principal, str]] = {}

    def get(self, generation: int, key_id: str) -> tuple[Principal, str] | None:
        if generation != self.generation:
            self.entries.clear()
            self.generation = generation
            return None
        return self.entries.get(key_id)

    def put(self, key_id: str, value: tuple[Principal, str]) -> None:
        if len(self.entries) > 100_000:
            self.entries.clear()
        self.entries[key_id] = value


def long_term(
    key_id: str, read: Reader, master_key: bytes, cache: KeyCache, generation: int
) -> tuple[Principal, str]:
    """Resolve an AKIA key; raises AuthError("unknown_key") when unknown or inactive."""
    found = cache.get(generation, key_id)
    if found is not None:
        return found
    from ..services.iam import queries

    def lookup(tx: Any) -> tuple[Principal, str] | None:
        record = queries.find_access_key(tx, key_id)
        if record is None or record.status != "Active":
            return None
        secret = tokens.decrypt_secret(master_key, record.secret_blob)
        if record.user_name is None:
            arn = f"arn:aws:iam::{record.account}:root"
            principal = Principal(
                kind="root", arn=arn, account=record.account, user_id=record.account,
                access_key_id=key_id, unique_id=record.account,
                account_alias=queries.account_alias(tx, record.account),
            )
        else:
            user = queries.get_user(tx, record.account, record.user_name)
            if user is None:
                return None
            principal = Principal(
                kind="user", arn=user["Arn"], account=record.account, user_id=user["UserId"],
                access_key_id=key_id, unique_id=user["UserId"],
            )
        return principal, secret

    resolved: tuple[Principal, str] | None = read(lookup)
    if resolved is None:
        raise AuthError("unknown_key", extra={"AWSAccessKeyId": key_id})  # S3 names it
    cache.put(key_id, resolved)
    return resolved


def temporary(
    key_id: str, token: str | None, sealer: tokens.TokenSealer, now: datetime
) -> tuple[Principal, str]:
    """Resolve an ASIA key from its sealed session token."""
    if not token:
        raise AuthError("unknown_key", extra={"AWSAccessKeyId": key_id})
    try:
        claims = sealer.open(token)
    except Exception as exc:  # any tampering, truncation or foreign token
        raise AuthError("bad_token") from exc
    if claims.get("akid") != key_id:
        raise AuthError("bad_token")
    if int(claims["exp"]) <= now.timestamp():
        raise AuthError("expired_token")
    mfa_at = claims.get("mfa_at")
    principal = Principal(
        kind=claims["kind"],
        arn=claims["arn"],
        account=claims["account"],
        user_id=claims["user_id"],
        access_key_id=key_id,
        unique_id=claims.get("uid"),
        role_arn=claims.get("role_arn"),
        session_name=claims.get("session"),
        mfa_authenticated=bool(claims.get("mfa")),
        mfa_auth_time=None if mfa_at is None else datetime.fromtimestamp(mfa_at, UTC),
        session_issued=datetime.fromtimestamp(claims["iat"], UTC),
        session_expires=datetime.fromtimestamp(claims["exp"], UTC),
        session_policies=tuple(claims["sp"]) if claims.get("sp") is not None else None,
        session_policy_arns=tuple(claims.get("spa") or ()),
        source_identity=claims.get("si"),
        chained=bool(claims.get("chained")),
        via_session_token=bool(claims.get("gst")),
        session_tags=tuple((str(k), str(v)) for k, v in claims.get("tags") or ()),
        transitive_tag_keys=tuple(claims.get("ttk") or ()),
        issuer_arn=claims.get("iss_arn"),
    )
    return principal, claims["secret"]
