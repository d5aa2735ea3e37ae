"""The console's own CloudTrail events (spec 7.8): ``ConsoleLogin``, ``SwitchRole`` and
``ExitRole``, all ``eventSource signin.amazonaws.com`` and ``eventType AwsConsoleSignIn``.

They are appended to the store like the gateway's records (``gateway/recording.py``), so they
show in event history and are delivered by trails.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from .. import clock
from ..gateway.context import Principal
from ..gateway.recording import Records, append_records
from ..trail.records import EVENT_VERSION, HIDDEN, user_identity

SIGNIN_SOURCE: Final = "signin.amazonaws.com"
CONSOLE_URL: Final = "/console/"

Record = dict[str, Any]


def _base(
    identity: Record,
    name: str,
    *,
    source_ip: str,
    user_agent: str,
    when: datetime,
) -> Record:
    return {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": clock.iso(when),
        "eventSource": SIGNIN_SOURCE,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": source_ip,
        "userAgent": user_agent[:1024],
    }


def _tail(record: Record, recipient: str, shared: str | None = None) -> Record:
    record["eventID"] = str(uuid.uuid4())
    record["readOnly"] = False
    record["eventType"] = "AwsConsoleSignIn"
    record["managementEvent"] = True
    record["recipientAccountId"] = recipient
    if shared is not None:
        record["sharedEventID"] = shared
    record["eventCategory"] = "Management"
    return record


def unknown_user_identity(account: str) -> Record:
    """Who failed to sign in when the user name does not exist (AWS hides the name typed)."""
    return {"type": "IAMUser", "principalId": "", "accountId": account, "accessKeyId": "",
            "userName": HIDDEN}


def console_login(
    identity: Record,
    account: str,
    *,
    success: bool,
    mfa_used: bool,
    source_ip: str,
    user_agent: str,
    error: str | None = None,
    when: datetime | None = None,
) -> Records:
    """A ``ConsoleLogin`` record for ``account`` (``identity``: the user's userIdentity; a
    sign-in signs with no access key, so AWS's record names none)."""
    identity = {k: v for k, v in identity.items() if k != "accessKeyId"}
    record = _base(identity, "ConsoleLogin", source_ip=source_ip,
                   user_agent=user_agent, when=when or clock.now())
    if not success:
        record["errorMessage"] = error or "Failed authentication"
    record["requestParameters"] = None
    record["responseElements"] = {"ConsoleLogin": "Success" if success else "Failure"}
    record["additionalEventData"] = {
        "LoginTo": CONSOLE_URL,
        "MobileVersion": "No",
        "MFAUsed": "Yes" if mfa_used else "No",
    }
    return [(account, _tail(record, account))]


def switch_role(
    user: Principal,
    role_arn: str,
    session: Principal | None,
    *,
    source_ip: str,
    user_agent: str,
    error: str | None = None,
    when: datetime | None = None,
) -> Records:
    """``SwitchRole`` records: the user's account gets a copy naming the user; the role's
    account (when it is another one) a copy naming the new role session (or, for a refused
    switch, only the user's account id) — both with one ``sharedEventID``."""
    moment = when or clock.now()
    role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else user.account
    outcome = {"SwitchRole": "Failure" if error else "Success"}
    extra = {"SwitchFrom": user.arn, "SwitchTo": role_arn, "RedirectTo": CONSOLE_URL}

    def one(identity: Record, recipient: str, shared: str | None) -> Record:
        record = _base(identity, "SwitchRole", source_ip=source_ip,
                       user_agent=user_agent, when=moment)
        if error:
            record["errorCode"] = "AccessDenied"
            record["errorMessage"] = error[:1024]
        record["requestParameters"] = None
        record["responseElements"] = dict(outcome)
        record["additionalEventData"] = dict(extra)
        record["resources"] = [
            {"ARN": role_arn, "accountId": role_account, "type": "AWS::IAM::Role"}
        ]
        return _tail(record, recipient, shared)

    own = user_identity(user)
    if role_account == user.account:
        identity = user_identity(session) if session is not None else own
        return [(user.account, one(identity, user.account, None))]
    shared = str(uuid.uuid4())
    other = (
        user_identity(session)
        if session is not None
        else {"type": "AWSAccount", "principalId": user.user_id, "accountId": user.account}
    )
    return [
        (user.account, one(own, user.account, shared)),
        (role_account, one(other, role_account, shared)),
    ]


def exit_role(user: Principal, role_session_arn: str, *, source_ip: str,
              user_agent: str) -> Records:
    """``ExitRole``: "Switch back" to the signed-in user (recorded in the user's account)."""
    record = _base(user_identity(user), "ExitRole", source_ip=source_ip,
                   user_agent=user_agent, when=clock.now())
    record["requestParameters"] = None
    record["responseElements"] = {"ExitRole": "Success"}
    record["additionalEventData"] = {"SwitchFrom": role_session_arn, "RedirectTo": CONSOLE_URL}
    return [(user.account, _tail(record, user.account))]


async def append(store: Any, records: Records) -> None:
    """Commit ``records`` (one transaction), as the gateway's record step does."""
    if records:
        await store.write(lambda tx: append_records(tx, records))
