"""Console sessions: sealed cookies, CSRF tokens, sign-out revocation, sign-in throttling.

A session lives entirely in one cookie, sealed (AES-GCM) with a key derived from the data
dir's master key, so it survives restarts and cannot be forged or read by the browser:

``tg_session``  the signed-in IAM user (account, name, ids, when, MFA used), its CSRF token,
                the active switched role (its STS session credentials, display name, colour)
                and the recent roles.
``tg_signin``   before sign-in: the sign-in form's CSRF token, and once the password was
                right for a user with an MFA device, the pending sign-in (5 minutes).

Cookies are ``HttpOnly``, ``SameSite=Lax``, ``Path=/console`` and ``Secure`` over https.
Every POST carries the CSRF token of its cookie in a hidden ``csrf_token`` field.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from ..auth.tokens import TokenError, TokenSealer

SESSION_COOKIE: Final = "tg_session"
SIGNIN_COOKIE: Final = "tg_signin"
COOKIE_PATH: Final = "/console"
SESSION_SECONDS: Final = 12 * 3600  # an IAM user's console session (AWS: 12 hours)
PENDING_SECONDS: Final = 300  # between a right password and the MFA code
MAX_RECENT: Final = 5

# The switch-role colours AWS offers, by name (never CSS from the request).
COLOURS: Final = {
    "red": "#b0281a",
    "orange": "#b35a00",
    "yellow": "#8a6d00",
    "green": "#1d7a1d",
    "blue": "#0a5ea8",
}


@dataclass
class ActiveRole:
    """A switched role: the STS session credentials the console acts with, and its label."""

    account: str
    name: str  # role name, with its path if any ("path/Name")
    arn: str  # the role session ARN (arn:aws:sts::ACCT:assumed-role/NAME/SESSION)
    display: str
    colour: str  # a key of COLOURS
    access_key_id: str
    session_token: str  # the sealed STS session token (carries the secret and claims)
    expires: int


@dataclass
class RecentRole:
    account: str
    name: str
    display: str
    colour: str


@dataclass
class Session:
    sid: str
    account: str
    alias: str | None
    user: str
    user_id: str
    arn: str
    access_key_id: str  # the console session's own ASIA id (shows in CloudTrail records)
    issued: int
    expires: int
    mfa: bool
    csrf: str
    role: ActiveRole | None = None
    recent: list[RecentRole] = field(default_factory=list)
    notice: str = ""  # shown once (e.g. "your role session ended")

    def remember(self, role: RecentRole) -> None:
        """Put ``role`` first in the recent-roles menu (at most MAX_RECENT, no duplicates)."""
        same = (role.account, role.name.lower())
        kept = [r for r in self.recent if (r.account, r.name.lower()) != same]
        self.recent = [role, *kept][:MAX_RECENT]


def _session_from(claims: dict[str, Any]) -> Session:
    role = claims.get("role")
    return Session(
        sid=str(claims["sid"]),
        account=str(claims["account"]),
        alias=claims.get("alias"),
        user=str(claims["user"]),
        user_id=str(claims["user_id"]),
        arn=str(claims["arn"]),
        access_key_id=str(claims["access_key_id"]),
        issued=int(claims["issued"]),
        expires=int(claims["expires"]),
        mfa=bool(claims["mfa"]),
        csrf=str(claims["csrf"]),
        role=None if role is None else ActiveRole(**role),
        recent=[RecentRole(**r) for r in claims.get("recent") or []],
    )


@dataclass
class Pending:
    """Before sign-in completes: the form's CSRF token and, after a right password for a
    user with an MFA device, who is signing in."""

    csrf: str
    expires: int
    account: str = ""
    user: str = ""
    password_ok_at: int = 0


class SessionCodec:
    """Seal and open the console's cookies; remembers signed-out sessions until they expire."""

    def __init__(self, key: bytes) -> None:
        self._sealer = TokenSealer(key)
        self._revoked: dict[str, int] = {}

    def seal_session(self, session: Session) -> str:
        return self._sealer.seal({"t": "session", **asdict(session), "notice": ""})

    def open_session(self, cookie: str | None, now: float) -> Session | None:
        claims = self._open(cookie, "session")
        if claims is None:
            return None
        try:
            session = _session_from(claims)
        except (KeyError, TypeError, ValueError):
            return None
        if session.expires <= now or session.sid in self._revoked:
            return None
        if session.role is not None and session.role.expires <= now:
            session.notice = (f"Your session as {session.role.display} ended: you act as "
                              f"{session.user} again. Switch role again to continue.")
            session.role = None  # the role session ended: back to the user
        return session

    def revoke(self, session: Session, now: float) -> None:
        self._revoked = {sid: exp for sid, exp in self._revoked.items() if exp > now}
        self._revoked[session.sid] = session.expires

    def seal_pending(self, pending: Pending) -> str:
        return self._sealer.seal({"t": "pending", **asdict(pending)})

    def open_pending(self, cookie: str | None, now: float) -> Pending | None:
        claims = self._open(cookie, "pending")
        if claims is None:
            return None
        try:
            pending = Pending(**{k: v for k, v in claims.items() if k != "t"})
        except TypeError:
            return None
        return pending if pending.expires > now else None

    def _open(self, cookie: str | None, kind: str) -> dict[str, Any] | None:
        if not cookie:
            return None
        try:
            claims = self._sealer.open(cookie)
        except TokenError:
            return None
        return claims if claims.get("t") == kind else None


def new_token() -> str:
    return secrets.token_urlsafe(24)


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def new_pending(now: float) -> Pending:
    return Pending(csrf=new_token(), expires=int(now) + PENDING_SECONDS)


class SignInThrottle:
    """Repeated wrong passwords slow down: after ``free`` failures in a row for one user
    (``free_per_address`` for one client address, shared by everyone behind it), each further
    failure locks sign-in for 2, 4, 8 ... seconds (at most ``max_lock``).  A success clears
    the counts.  In memory: a restart forgets."""

    def __init__(self, free: int = 2, free_per_address: int = 20,
                 max_lock: float = 300.0) -> None:
        self.free = free
        self.free_per_address = free_per_address
        self.max_lock = max_lock
        self._state: dict[str, tuple[int, float]] = {}  # key -> (failures, locked until)

    def wait_seconds(self, keys: list[str], now: float | None = None) -> int:
        """Seconds until any of ``keys`` may try again (0: now)."""
        moment = time.monotonic() if now is None else now
        until = max((self._state.get(k, (0, 0.0))[1] for k in keys), default=0.0)
        return max(0, int(until - moment + 0.999))

    def failed(self, keys: list[str], now: float | None = None) -> None:
        moment = time.monotonic() if now is None else now
        if len(self._state) > 10_000:
            self._state = {k: v for k, v in self._state.items() if v[1] > moment}
        for key in keys:
            count = self._state.get(key, (0, 0.0))[0] + 1
            free = self.free_per_address if key.startswith("ip:") else self.free
            lock = 0.0 if count <= free else min(2.0 ** (count - free), self.max_lock)
            self._state[key] = (count, moment + lock)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._state.pop(key, None)
