"""The account password policy: Update/Get/DeleteAccountPasswordPolicy, and the check every
new console password goes through (the custom policy if there is one, else AWS's default).

Record: ``iam.passwordpolicy`` key = "policy": the members of UpdateAccountPasswordPolicy as
AWS stores them (unspecified ones at their defaults; MaxPasswordAge / PasswordReusePrevention
None when not set).
"""

from __future__ import annotations

from typing import Any

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import Checks, no_such_entity

PASSWORD_POLICY = "iam.passwordpolicy"
_KEY = "policy"
# The non-alphanumeric characters AWS's password policies count as symbols.
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")
_FLAGS = (
    "RequireSymbols",
    "RequireNumbers",
    "RequireUppercaseCharacters",
    "RequireLowercaseCharacters",
    "AllowUsersToChangePassword",
)
_DEFAULT_CLASSES = (str.isupper, str.islower, str.isdigit)


def _violation() -> ServiceError:
    return ServiceError(
        "PasswordPolicyViolation", "Password does not conform to the account password policy."
    )


def _meets(policy: dict[str, Any], password: str) -> bool:
    wanted = (
        ("RequireSymbols", lambda ch: ch in SYMBOLS),
        ("RequireNumbers", lambda ch: "0" <= ch <= "9"),
        ("RequireUppercaseCharacters", lambda ch: "A" <= ch <= "Z"),
        ("RequireLowercaseCharacters", lambda ch: "a" <= ch <= "z"),
    )
    if len(password) < int(policy["MinimumPasswordLength"]):
        return False
    return all(any(test(ch) for ch in password) for flag, test in wanted if policy.get(flag))


def check_password(tx: Tx, account: str, password: str, member: str = "password") -> None:
    """Model constraints, then the account's password policy; without a custom one, AWS's
    default: at least 8 characters with three of uppercase, lowercase, digits and symbols."""
    checks = Checks()
    checks.document(password, member)
    checks.length(password, member, 1, 128)
    checks.done()
    policy = tx.get(account, PASSWORD_POLICY, _KEY)
    if policy is not None:
        if not _meets(policy, password):
            raise _violation()
        return
    kinds = sum(any(test(ch) for ch in password) for test in _DEFAULT_CLASSES)
    kinds += any(not ch.isalnum() for ch in password)
    if len(password) < 8 or kinds < 3:
        raise _violation()


def users_may_change_password(tx: Tx, account: str) -> bool:
    """The account password policy's AllowUsersToChangePassword (False without a policy)."""
    policy = tx.get(account, PASSWORD_POLICY, _KEY)
    return bool(policy and policy.get("AllowUsersToChangePassword"))


def reuse_prevention(tx: Tx, account: str) -> int:
    """How many previous passwords a user may not reuse (PasswordReusePrevention; 0 = off)."""
    policy = tx.get(account, PASSWORD_POLICY, _KEY)
    value = policy.get("PasswordReusePrevention") if policy else None
    return 0 if value is None else int(value)


def _policy_view(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"MinimumPasswordLength": int(data["MinimumPasswordLength"])}
    out.update({flag: bool(data.get(flag)) for flag in _FLAGS})
    out["ExpirePasswords"] = data.get("MaxPasswordAge") is not None
    for member in ("MaxPasswordAge", "PasswordReusePrevention"):
        if data.get(member) is not None:
            out[member] = int(data[member])
    if data.get("MaxPasswordAge") is not None or data.get("HardExpiry"):
        out["HardExpiry"] = bool(data.get("HardExpiry"))
    return out


class PasswordPolicyOps:
    """UpdateAccountPasswordPolicy, GetAccountPasswordPolicy, DeleteAccountPasswordPolicy."""

    def UpdateAccountPasswordPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        checks = Checks()
        checks.number(params.get("MinimumPasswordLength"), "minimumPasswordLength", 6, 128)
        checks.number(params.get("MaxPasswordAge"), "maxPasswordAge", 1, 1095)
        checks.number(params.get("PasswordReusePrevention"), "passwordReusePrevention", 1, 24)
        checks.done()
        # Members left out take their defaults (AWS documents this: the call replaces the policy).
        data: dict[str, Any] = {
            "MinimumPasswordLength": int(params.get("MinimumPasswordLength") or 6),
            "MaxPasswordAge": params.get("MaxPasswordAge"),
            "PasswordReusePrevention": params.get("PasswordReusePrevention"),
            "HardExpiry": bool(params.get("HardExpiry", False)),
        }
        data.update({flag: bool(params.get(flag, False)) for flag in _FLAGS})
        tx.put(call.account, PASSWORD_POLICY, _KEY, _KEY, data)
        tx.bump_generation()
        return {}

    def GetAccountPasswordPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        data = tx.get(call.account, PASSWORD_POLICY, _KEY)
        if data is None:
            # AWS answers NoSuchEntity for an account without a custom policy (the default
            # one applies, and is not returned).
            raise no_such_entity(
                f"The Password Policy with domain name {call.account} cannot be found."
            )
        return {"PasswordPolicy": _policy_view(data)}

    def DeleteAccountPasswordPolicy(self, call: Call, tx: Tx) -> dict[str, Any]:
        if not tx.delete(call.account, PASSWORD_POLICY, _KEY):
            raise no_such_entity("The account policy with name PasswordPolicy cannot be found.")
        tx.bump_generation()
        return {}
