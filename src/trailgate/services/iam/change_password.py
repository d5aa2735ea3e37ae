"""ChangePassword: an IAM user changes their own console password.

AWS facts used (IAM API reference and the AWS CLI's documented examples): only an IAM user
can call it (root credentials get ``InvalidUserType``; so do role and federated sessions,
which are not IAM users); the user needs a login profile (``NoSuchEntity`` "Login Profile for
User U cannot be found.", as AWS words it in public reports); the new password must meet the
account password policy (``PasswordPolicyViolation``), including PasswordReusePrevention; a
login profile that is still being created cannot be changed yet
(``EntityTemporarilyUnmodifiable``).  Permission (``iam:ChangePassword`` on the caller's own
user, or the password policy's AllowUsersToChangePassword) is decided by the gateway's
authorize step.

UNSURE (not published): the wording of InvalidUserType, the code and wording for a wrong
OldPassword (AccessDenied here, as for other failed credential checks), and how long a new
login profile stays unmodifiable (:data:`SETTLE_SECONDS` here).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ...protocol.errors import ServiceError
from ...store.interface import Entity, Tx
from ..base import Call
from .common import DOC_RE, DOC_SHOWN, LOGIN, Checks, no_such_entity, stamp, when
from .password_policy import check_password, reuse_prevention
from .queries import hash_password, password_matches

SETTLE_SECONDS = 2
MAX_HISTORY = 24  # PasswordReusePrevention's upper bound

INVALID_USER_TYPE = "Only IAM users can change their own password."
WRONG_OLD_PASSWORD = "The old password is incorrect."


def _violation() -> ServiceError:
    return ServiceError(
        "PasswordPolicyViolation", "Password does not conform to the account password policy."
    )


def _check_members(params: dict[str, Any]) -> None:
    checks = Checks()
    for member, name in (("OldPassword", "oldPassword"), ("NewPassword", "newPassword")):
        checks.text(params.get(member), name, 1, 128, DOC_RE, DOC_SHOWN)
    checks.done()


def _own_profile(call: Call, tx: Tx) -> Entity:
    p = call.principal
    if p.kind != "user":
        raise ServiceError("InvalidUserType", INVALID_USER_TYPE, 400)
    name = p.arn.rsplit("/", 1)[1]
    profile = tx.get_entity(call.account, LOGIN, name.lower())
    if profile is None:
        raise no_such_entity(f"Login Profile for User {name} cannot be found.")
    if call.now - when(profile.data["CreateDate"]) < timedelta(seconds=SETTLE_SECONDS):
        raise ServiceError(
            "EntityTemporarilyUnmodifiable",
            f"Login Profile for User {name} cannot be modified while login profile is being "
            "created.",
            409,
        )
    return profile


class ChangePasswordOps:
    """ChangePassword."""

    def ChangePassword(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        _check_members(params)
        profile = _own_profile(call, tx)
        data = profile.data
        if not password_matches(data["PasswordHash"], params["OldPassword"]):
            raise ServiceError("AccessDenied", WRONG_OLD_PASSWORD, 403)
        new = params["NewPassword"]
        check_password(tx, call.account, new, "newPassword")
        history = [data["PasswordHash"], *data.get("PasswordHistory", [])][:MAX_HISTORY]
        keep = reuse_prevention(tx, call.account)
        if any(password_matches(old, new) for old in history[:keep]):
            raise _violation()
        data["PasswordHistory"] = history
        data["PasswordHash"] = hash_password(new)
        data["PasswordLastChanged"] = stamp(call.now)
        data["PasswordResetRequired"] = False
        tx.put(call.account, LOGIN, profile.key, profile.name, data)
        tx.bump_generation()
        return {}
