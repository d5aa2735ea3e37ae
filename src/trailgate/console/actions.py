"""What the console does on behalf of a person: sign-in (password, then MFA), acting as the
signed-in principal through the gateway, switching roles and switching back.

Every action is an in-process gateway call (:meth:`Gateway.call_as`): authorized by the policy
engine as the signed-in user, or, after a switch, as the role session ONLY; logged in
CloudTrail like an API call.  Sign-in itself is authentication (it reads the login profile and
MFA device as the gateway's authenticate step reads access keys) and logs ``ConsoleLogin``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from .. import clock
from ..auth import principals, tokens
from ..auth.mfa import MfaVerifier
from ..auth.sigv4 import AuthError
from ..gateway.chain import CallError, Gateway
from ..gateway.context import Principal, RequestContext
from ..gateway.recording import Records, append_records
from ..services.iam import queries
from ..services.iam.common import MFA, USER, stamp
from ..trail.records import user_identity
from . import events
from .session import (
    COLOURS,
    PENDING_SECONDS,
    SESSION_SECONDS,
    ActiveRole,
    Pending,
    RecentRole,
    Session,
    SignInThrottle,
    new_token,
)

CONSOLE_USER_AGENT: Final = "console.amazonaws.com"
BAD_SIGNIN: Final = "Your authentication information is incorrect. Please try again."
BAD_MFA: Final = "Your authentication information is incorrect. Check the MFA code and try again."
MIN_SWITCH_SECONDS: Final = 900
_ACCOUNT_ID = re.compile(r"\d{12}")
_ROLE_NAME = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}")


@dataclass(frozen=True)
class Client:
    """Where a console request came from (logged as sourceIPAddress / userAgent)."""

    ip: str
    user_agent: str
    host: str = ""
    secure: bool = False


@dataclass
class SignIn:
    """The outcome of one sign-in step: a session, a pending MFA step, or an error."""

    session: Session | None = None
    pending: Pending | None = None
    error: str = ""


def _epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Console:
    def __init__(self, gateway: Gateway, store: Any) -> None:
        self.gateway = gateway
        self.store = store
        self.throttle = SignInThrottle()
        self.verifier = MfaVerifier()

    # -- who is acting ---------------------------------------------------------------------

    def user_principal(self, s: Session) -> Principal:
        """The signed-in IAM user, with the console session's MFA state."""
        issued = _at(s.issued)
        return Principal(
            kind="user", arn=s.arn, account=s.account, user_id=s.user_id,
            access_key_id=s.access_key_id, unique_id=s.user_id, mfa_authenticated=s.mfa,
            mfa_auth_time=issued if s.mfa else None, session_issued=issued,
            session_expires=_at(s.expires),
        )

    def role_principal(self, s: Session) -> Principal | None:
        role = s.role
        if role is None:
            return None
        try:
            principal, _secret = principals.temporary(
                role.access_key_id, role.session_token, self.gateway.sealer, clock.now()
            )
        except AuthError:
            return None
        return principal

    def principal(self, s: Session) -> Principal:
        """Who the console acts as: the switched role's session when there is one (ONLY its
        permissions), else the user."""
        return self.role_principal(s) or self.user_principal(s)

    async def call(
        self, s: Session, client: Client, service: str, operation: str,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One action through the gateway as :meth:`principal`; raises CallError."""
        return await self.gateway.call_as(
            self.principal(s), service, operation, params or {},
            source_ip=client.ip, user_agent=CONSOLE_USER_AGENT, host=client.host,
            secure=client.secure,
        )

    # -- sign-in -------------------------------------------------------------------------

    def resolve_account(self, text: str) -> str | None:
        """A 12-digit account id, or the account an alias belongs to."""
        raw = text.strip()
        digits = raw.replace("-", "")
        text = digits if _ACCOUNT_ID.fullmatch(digits) else raw.lower()

        def find(tx: Any) -> str | None:
            target = tx.index_get(f"alias:{text}")
            return None if target is None else str(target.account)

        if _ACCOUNT_ID.fullmatch(text):
            return text  # an unknown account simply has no such user
        if not text:
            return None
        found: str | None = self.store.read(find)
        return found

    async def password_step(
        self, account_text: str, user_name: str, password: str, client: Client, csrf: str
    ) -> SignIn:
        account = self.resolve_account(account_text)
        keys = [f"user:{account}/{user_name.lower()}", f"ip:{client.ip}"]
        wait = self.throttle.wait_seconds(keys)
        if wait:
            return SignIn(error=f"Too many failed sign-in attempts. Wait {wait} seconds and "
                                "try again.")
        if account is None or not user_name:
            self.throttle.failed(keys[1:])
            return SignIn(error=BAD_SIGNIN)

        def check(tx: Any) -> tuple[dict[str, Any] | None, bool, bool]:
            user = queries.get_user(tx, account, user_name)
            if user is None:
                return None, False, False
            ok = queries.verify_password(tx, account, user["UserName"], password)
            return user, ok, ok and bool(_devices(tx, account, user["UserName"]))

        user, ok, has_mfa = await asyncio.to_thread(self.store.read, check)
        if not ok:
            self.throttle.failed(keys)
            identity = (
                events.unknown_user_identity(account) if user is None
                else _user_identity(account, user)
            )
            await events.append(self.store, events.console_login(
                identity, account, success=False, mfa_used=False, source_ip=client.ip,
                user_agent=client.user_agent,
            ))
            return SignIn(error=BAD_SIGNIN)
        assert user is not None
        if has_mfa:
            now = _epoch(clock.now())
            pending = Pending(csrf=csrf, expires=now + PENDING_SECONDS, account=account,
                              user=user["UserName"], password_ok_at=now)
            return SignIn(pending=pending)
        self.throttle.succeeded(keys)
        return SignIn(session=await self._start(account, user, mfa=False, client=client))

    async def mfa_step(self, pending: Pending, code: str, client: Client) -> SignIn:
        account, name = pending.account, pending.user
        keys = [f"user:{account}/{name.lower()}", f"ip:{client.ip}"]
        wait = self.throttle.wait_seconds(keys)
        if wait:
            return SignIn(pending=pending, error=f"Too many failed sign-in attempts. Wait "
                                                 f"{wait} seconds and try again.")
        now = clock.now()
        code = code.strip().replace(" ", "")

        def consume(tx: Any) -> dict[str, Any] | None:
            user = queries.get_user(tx, account, name)
            if user is None:
                return None
            for device in _devices(tx, account, user["UserName"]):
                outcome = self.verifier.check(device["Seed"], code, device.get("LastStep"), now)
                if outcome.status == "ok" and outcome.step is not None:
                    queries.set_mfa_last_step(tx, account, device["SerialNumber"], outcome.step)
                    return user
            append_records(tx, events.console_login(
                _user_identity(account, user), account, success=False, mfa_used=True,
                source_ip=client.ip, user_agent=client.user_agent,
            ))
            return None

        user = await self.store.write(consume)
        if user is None:
            self.throttle.failed(keys)
            return SignIn(pending=pending, error=BAD_MFA)
        self.throttle.succeeded(keys)
        return SignIn(session=await self._start(account, user, mfa=True, client=client))

    async def _start(
        self, account: str, user: dict[str, Any], *, mfa: bool, client: Client
    ) -> Session:
        now = clock.now()
        alias: str | None = self.store.read(lambda tx: queries.account_alias(tx, account))
        session = Session(
            sid=new_token(), account=account, alias=alias, user=user["UserName"],
            user_id=user["UserId"], arn=user["Arn"],
            access_key_id=tokens.new_access_key_id("ASIA", account), issued=_epoch(now),
            expires=_epoch(now) + SESSION_SECONDS, mfa=mfa, csrf=new_token(),
        )
        records = events.console_login(
            user_identity(self.user_principal(session)), account, success=True,
            mfa_used=mfa, source_ip=client.ip, user_agent=client.user_agent, when=now,
        )

        def commit(tx: Any) -> None:
            entity = tx.get_entity(account, USER, user["UserName"].lower())
            if entity is not None:
                entity.data["PasswordLastUsed"] = stamp(now)
                tx.put(account, USER, entity.key, entity.name, entity.data)
            append_records(tx, records)

        await self.store.write(commit)
        return session

    # -- switch role ---------------------------------------------------------------------

    async def switch_role(
        self, s: Session, account: str, name: str, display: str, colour: str, client: Client
    ) -> Session:
        """Assume ``name`` in ``account`` with the ORIGINAL user's identity and MFA state
        (spec 7.8); the console then acts only as the role.  Raises CallError when refused."""
        account = account.strip().replace("-", "")
        name = name.strip().strip("/")
        if not _ACCOUNT_ID.fullmatch(account) or not _ROLE_NAME.fullmatch(name):
            raise CallError("ValidationError", "Enter a 12-digit account ID and a role name.",
                            400)
        remaining = s.expires - _epoch(clock.now())
        if remaining < MIN_SWITCH_SECONDS:
            raise CallError("ValidationError", "Your session ends in less than 15 minutes: "
                            "sign in again to switch roles.", 400)
        user = self.user_principal(s)
        role_arn = f"arn:aws:iam::{account}:role/{name}"
        session_name = s.user if len(s.user) >= 2 else f"{s.user}-console"
        params = {"RoleArn": role_arn, "RoleSessionName": session_name[:64],
                  "DurationSeconds": min(3600, remaining)}
        sealer = self.gateway.sealer

        def records(ctx: RequestContext, result: dict[str, Any] | None) -> Records:
            assumed: Principal | None = None
            if ctx.error is None and result is not None:
                creds = result["Credentials"]
                assumed, _ = principals.temporary(
                    creds["AccessKeyId"], creds["SessionToken"], sealer, ctx.received_at
                )
            return events.switch_role(
                user, role_arn, assumed, source_ip=client.ip, user_agent=client.user_agent,
                error=None if ctx.error is None else ctx.error.message,
            )

        result = await self.gateway.call_as(
            user, "sts", "AssumeRole", params, source_ip=client.ip,
            user_agent=client.user_agent, host=client.host, secure=client.secure,
            builder=records,
        )
        creds = result["Credentials"]
        colour = colour if colour in COLOURS else "blue"
        display = display.strip()[:64] or f"{name.rsplit('/', 1)[-1]} @ {account}"
        s.role = ActiveRole(
            account=account, name=name, arn=result["AssumedRoleUser"]["Arn"], display=display,
            colour=colour, access_key_id=creds["AccessKeyId"],
            session_token=creds["SessionToken"],
            expires=min(_epoch(creds["Expiration"]), s.expires),
        )
        s.remember(RecentRole(account=account, name=name, display=display, colour=colour))
        return s

    async def switch_back(self, s: Session, client: Client) -> Session:
        if s.role is not None:
            await events.append(self.store, events.exit_role(
                self.user_principal(s), s.role.arn, source_ip=client.ip,
                user_agent=client.user_agent,
            ))
        s.role = None
        return s


def _devices(tx: Any, account: str, user_name: str) -> list[dict[str, Any]]:
    """The user's enabled virtual MFA devices."""
    key = user_name.lower()

    def mine(d: dict[str, Any]) -> bool:
        owner = d.get("UserName")
        return owner is not None and owner.lower() == key and bool(d.get("Seed"))

    found: list[dict[str, Any]] = tx.list(account, MFA, where=mine)
    return found


def _user_identity(account: str, user: dict[str, Any]) -> dict[str, Any]:
    return {"type": "IAMUser", "principalId": user["UserId"], "arn": user["Arn"],
            "accountId": account, "accessKeyId": "", "userName": user["UserName"]}
