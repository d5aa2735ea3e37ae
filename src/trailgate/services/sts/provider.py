"""STS: GetCallerIdentity, GetSessionToken, AssumeRole (spec section 4), AssumeRoleWithSAML
(:mod:`.saml`).

Access to AssumeRole (trust policy, caller's identity policy, ExternalId, MFA keys) has already
been decided by the gateway's authorize step; this provider validates the remaining request
rules (durations, chaining, MFA code replay) and mints credentials.  Session credentials are
self-contained: the session token is sealed (AES-GCM) and carries everything authentication
needs, so no session is stored.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ...auth import tokens
from ...auth.mfa import MfaVerifier
from ...auth.principal_tags import merge_tags
from ...gateway.context import Principal
from ...policy import MalformedPolicyError, PolicyType, load_policy
from ...protocol.errors import ServiceError, validation_error
from ..base import Call
from ..iam import queries
from .session_inputs import (
    check_policy_arn_count,
    check_policy_arns,
    check_tag_keys,
    packed_percent,
)

MAX_CHAINED_SECONDS = 3600


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


class StsProvider:
    def __init__(self, sealer: tokens.TokenSealer) -> None:
        self.sealer = sealer
        # RoleId -> the RoleLastUsed this process last wrote (AssumeRole runs in the store's
        # one writer thread only).
        self._role_used: dict[str, dict[str, str]] = {}

    # -- read-only ------------------------------------------------------------------------

    def GetCallerIdentity(self, call: Call, tx: Any) -> dict[str, Any]:
        p = call.principal
        return {"UserId": p.user_id, "Account": p.account, "Arn": p.arn}

    def GetAccessKeyInfo(self, call: Call, tx: Any) -> dict[str, Any]:
        """The account an access key id belongs to: the stored key's, else the account the id
        encodes (AWS reads it from the id; the key may be inactive, deleted or unknown)."""
        key_id = str(call.params["AccessKeyId"])
        record = queries.find_access_key(tx, key_id) if key_id.startswith("AKIA") else None
        account = record.account if record is not None else tokens.account_of_key_id(key_id)
        if account is None:
            raise validation_error(
                [f"Value '{key_id}' at 'accessKeyId' failed to satisfy constraint: "
                 "Member must be a valid access key id"]
            )
        return {"Account": account}

    def DecodeAuthorizationMessage(self, call: Call, tx: Any) -> dict[str, Any]:
        """No trailgate service answers a refusal with an encoded authorization message (only
        services such as EC2 do), so no message passed here can be one of them."""
        raise ServiceError(
            "InvalidAuthorizationMessageException", INVALID_AUTHORIZATION_MESSAGE, 400
        )

    # -- federation -----------------------------------------------------------------------

    def AssumeRoleWithWebIdentity(self, call: Call, tx: Any) -> dict[str, Any]:
        """No OpenID Connect provider exists in any account: a token naming its issuer gets
        AWS's answer for an issuer without a provider, any other token the invalid-token one."""
        check_policy_arn_count(call.params.get("PolicyArns"))
        issuer = _jwt_issuer(str(call.params.get("WebIdentityToken", "")))
        if issuer is not None:
            raise ServiceError(
                "InvalidIdentityToken",
                f"No OpenIDConnect provider found in your account for {issuer}",
                400,
            )
        raise ServiceError("InvalidIdentityToken", INVALID_IDENTITY_TOKEN, 400)

    def AssumeRoleWithSAML(self, call: Call, tx: Any) -> dict[str, Any]:
        """A role session for a SAML identity provider's user (:mod:`.saml`)."""
        from .saml import assume_role_with_saml

        return assume_role_with_saml(self, call, tx)

    # -- credentials ----------------------------------------------------------------------

    def _mint(self, claims: dict[str, Any], expires: datetime) -> dict[str, Any]:
        key_id = tokens.new_access_key_id("ASIA", claims["account"])
        secret = tokens.new_secret_access_key()
        claims = {**claims, "akid": key_id, "secret": secret, "exp": int(expires.timestamp())}
        return {
            "AccessKeyId": key_id,
            "SecretAccessKey": secret,
            "SessionToken": self.sealer.seal(claims),
            "Expiration": expires,
        }

    def GetSessionToken(self, call: Call, tx: Any) -> dict[str, Any]:
        p = call.principal
        if p.kind not in ("user", "root") or p.via_session_token:
            raise ServiceError(
                "AccessDenied",
                "Cannot call GetSessionToken with session credentials",
                403,
            )
        duration = int(call.params.get("DurationSeconds") or (3600 if p.kind == "root" else 43200))
        if duration < 900 or duration > 129600:
            raise validation_error(
                [f"Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
                 "Member must have value between 900 and 129600"]
            )
        if p.kind == "root":
            duration = min(duration, 3600)
        mfa_time = _verify_mfa_params(call, tx, required=False)
        claims = {
            "kind": p.kind,
            "arn": p.arn,
            "account": p.account,
            "uid": p.unique_id,
            "user_id": p.user_id,
            "gst": True,
            "iat": int(call.now.timestamp()),
            "mfa": mfa_time is not None,
            "mfa_at": None if mfa_time is None else int(mfa_time.timestamp()),
        }
        creds = self._mint(claims, call.now + timedelta(seconds=duration))
        return {"Credentials": creds}

    def GetFederationToken(self, call: Call, tx: Any) -> dict[str, Any]:
        """Credentials of a federated user: the IAM user's (or root's) permissions narrowed by
        the session policies passed (none passed: no permissions, as AWS documents)."""
        p = call.principal  # an IAM user or root with long-term keys (authorize checked)
        params = call.params
        duration = int(params.get("DurationSeconds") or 43200)
        if p.kind == "root":
            duration = min(duration, 3600)
        check_session_policy(params.get("Policy"))
        tags, _ = _session_tags({"Tags": params.get("Tags")}, p)
        name = params["Name"]
        arn = f"arn:aws:sts::{p.account}:federated-user/{name}"
        policies = [params["Policy"]] if params.get("Policy") else []
        arns = check_policy_arns(tx, params.get("PolicyArns"), p.account)
        packed = packed_percent(policies, arns, tags)
        claims = {
            "kind": "federated_user",
            "arn": arn,
            "account": p.account,
            "uid": p.unique_id,
            "user_id": f"{p.account}:{name}",
            "iat": int(call.now.timestamp()),
            "mfa": False,
            "sp": policies,  # always a session: nothing passed grants nothing
            "spa": arns or None,
            "iss_arn": p.arn,
            "tags": [list(tag) for tag in tags] or None,
        }
        # Unlike AssumeRole, AWS always reports PackedPolicySize here: 0 when nothing was
        # passed (real responses to a bare `aws sts get-federation-token --name ...` read 0).
        return {
            "Credentials": self._mint(claims, call.now + timedelta(seconds=duration)),
            "FederatedUser": {"FederatedUserId": claims["user_id"], "Arn": arn},
            "PackedPolicySize": packed if (policies or arns or tags) else 0,
        }

    def AssumeRole(self, call: Call, tx: Any) -> dict[str, Any]:
        p = call.principal
        params = call.params
        role = call.target  # the role authorize found (cached for the IAM generation)
        if not isinstance(role, dict) or str(role.get("Arn", "")).lower() != str(
            params["RoleArn"]
        ).lower():
            role = queries.role_by_arn(tx, params["RoleArn"])
        if role is None:  # authorize already refused unknown roles; defensive
            raise ServiceError("AccessDenied", "Not authorized to perform sts:AssumeRole", 403)
        chained = p.kind == "assumed_role"
        # AWS counts GetSessionToken credentials as role chaining for the one-hour cap too
        duration = _session_duration(params, role, chained or p.via_session_token)
        source_identity = _source_identity(params, role, p)
        check_session_policy(params.get("Policy"))
        tags, transitive = _session_tags(params, p)
        account = role["Arn"].split(":")[4]
        policies = [params["Policy"]] if params.get("Policy") else []
        arns = check_policy_arns(tx, params.get("PolicyArns"), account)
        packed = packed_percent(policies, arns, tags)
        mfa_time = _verify_mfa_params(call, tx, required=False)
        mfa = mfa_time is not None or p.mfa_authenticated
        if mfa_time is None and p.mfa_authenticated:
            mfa_time = p.mfa_auth_time
        claims = role_session_claims(
            role, account, params["RoleSessionName"], call.now, policies=policies, arns=arns,
            tags=tags, transitive=transitive, source=p.arn, chained=chained,
            source_identity=source_identity or p.source_identity,
        )
        claims["mfa"] = mfa
        claims["mfa_at"] = None if mfa_time is None else int(mfa_time.timestamp())
        session_arn = claims["arn"]
        creds = self._mint(claims, call.now + timedelta(seconds=duration))
        self._note_role_use(call, tx, role, account)
        out: dict[str, Any] = {
            "Credentials": creds,
            "AssumedRoleUser": {"AssumedRoleId": claims["user_id"], "Arn": session_arn},
        }
        if policies or arns or params.get("Tags"):
            out["PackedPolicySize"] = packed
        if claims["si"]:
            out["SourceIdentity"] = claims["si"]
        return out

    def _note_role_use(self, call: Call, tx: Any, role: dict[str, Any], account: str) -> None:
        """GetRole's RoleLastUsed, rewritten at most once a minute per role and region."""
        used = self._role_used.get(role["RoleId"]) or role.get("RoleLastUsed")
        if _last_use_stale(used, call.now, call.region):
            queries.record_role_last_used(tx, account, role["RoleName"], call.now, call.region)
            if len(self._role_used) > 100_000:
                self._role_used.clear()
            self._role_used[role["RoleId"]] = {
                "LastUsedDate": call.now.replace(microsecond=0).isoformat(),
                "Region": call.region,
            }



def role_session_claims(
    role: dict[str, Any], account: str, session_name: str, now: datetime, *,
    policies: list[str], arns: list[str], tags: Any, transitive: Any, source: str,
    chained: bool, source_identity: str | None,
) -> dict[str, Any]:
    """The sealed token's claims of a session of ``role`` (AssumeRole, AssumeRoleWithSAML),
    without MFA (the caller sets ``mfa`` / ``mfa_at`` when it has some)."""
    return {
        "kind": "assumed_role",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/{session_name}",
        "account": account,
        "uid": role["RoleId"],
        "user_id": f"{role['RoleId']}:{session_name}",
        "role_arn": role["Arn"],
        "role_name": role["RoleName"],
        "session": session_name,
        "iat": int(now.timestamp()),
        "mfa": False,
        "mfa_at": None,
        "sp": policies if (policies or arns) else None,
        "spa": arns or None,
        "si": source_identity,
        "chained": chained,
        "src": source,
        "tags": [list(tag) for tag in tags] or None,
        "ttk": list(transitive) or None,
    }

INVALID_AUTHORIZATION_MESSAGE = "The message passed to DecodeAuthorizationMessage is invalid."

# botocore's description of InvalidIdentityTokenException.
INVALID_IDENTITY_TOKEN = (
    "The web identity token that was passed could not be validated by Amazon Web Services. "
    "Get a new identity token from the identity provider and then retry the request."
)


def _jwt_issuer(token: str) -> str | None:
    """The ``iss`` claim of a JWT (read, not verified), or None when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) and issuer else None


def _session_duration(params: dict[str, Any], role: dict[str, Any], chained: bool) -> int:
    """AssumeRole's DurationSeconds (default 3600), within the role's MaxSessionDuration and,
    for role chaining, one hour.  AWS applies that hour to any temporary credentials calling
    AssumeRole, GetSessionToken ones included (the knowledge-center article on the
    role-chaining limit says so of MFA users' session-token credentials; tools that assume
    roles with them hit the same ValidationError)."""
    max_duration = int(role.get("MaxSessionDuration", 3600))
    duration = params.get("DurationSeconds")
    if duration is None:
        duration = 3600
    duration = int(duration)
    if chained and duration > MAX_CHAINED_SECONDS:
        raise ServiceError(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles "
            "assumed by role chaining.",
            400,
        )
    if duration > max_duration:
        raise ServiceError(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            400,
        )
    return duration


def _session_tags(
    params: dict[str, Any], p: Principal
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The new session's tags and transitive tag keys: the Tags passed, plus (role chaining)
    the transitive tags of the calling session, which the new session inherits and which
    stay transitive.  AWS refuses (InvalidParameterValue) tag keys repeated in another case,
    a transitive key that is not one of the Tags, a tag that would override an inherited
    transitive one, and keys with the reserved ``aws:`` prefix."""
    check_tag_keys(params)
    passed = tuple((str(t["Key"]), str(t.get("Value", ""))) for t in params.get("Tags") or [])
    passed_keys = {key.lower() for key, _ in passed}
    if len(passed_keys) < len(passed):
        raise _invalid_tags(DUPLICATE_TAG_KEYS)
    if any(str(key).lower() not in passed_keys for key in params.get("TransitiveTagKeys") or []):
        raise _invalid_tags(TRANSITIVE_KEY_NOT_A_TAG)
    inherited_keys = {key.lower() for key in p.transitive_tag_keys}
    if inherited_keys & passed_keys:
        raise _invalid_tags(TRANSITIVE_TAG_CONFLICT)
    inherited = tuple(tag for tag in p.session_tags if tag[0].lower() in inherited_keys)
    keys = {key.lower(): key for key in p.transitive_tag_keys}
    for key in params.get("TransitiveTagKeys") or []:
        keys.setdefault(str(key).lower(), str(key))
    return merge_tags(inherited, passed), tuple(keys.values())


DUPLICATE_TAG_KEYS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
TRANSITIVE_KEY_NOT_A_TAG = (
    "The specified transitive tag key must be included in the requested tags."
)
TRANSITIVE_TAG_CONFLICT = (
    "One of the specified transitive tag keys can't be set because it conflicts with a "
    "transitive tag key from the calling session."
)


def _invalid_tags(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message, 400)


def check_role_arn(role_arn: str) -> None:
    """AssumeRole's RoleArn must at least have an ARN's six parts (AWS: ValidationError
    '<arn> is invalid'); a well-formed ARN naming no assumable role is refused later, as
    AccessDenied."""
    parts = role_arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
        raise ServiceError("ValidationError", f"{role_arn} is invalid", 400)


def _source_identity(params: dict[str, Any], role: dict[str, Any], p: Principal) -> Any:
    """AssumeRole's SourceIdentity parameter, checked: not ``aws:``-prefixed, and equal to
    the caller's own source identity if it has one."""
    source_identity = params.get("SourceIdentity")
    if source_identity is not None and source_identity.lower().startswith("aws:"):
        raise validation_error(
            [
                f"Value '{source_identity}' at 'sourceIdentity' failed to satisfy "
                "constraint: Member must not start with 'aws:'"
            ]
        )
    if p.source_identity and source_identity and source_identity != p.source_identity:
        raise ServiceError(
            "AccessDenied",
            f"User: {p.arn} is not authorized to perform: sts:SetSourceIdentity on "
            f"resource: {role['Arn']}",
            403,
        )
    return source_identity


def check_session_policy(text: str | None) -> None:
    """AssumeRole's inline session policy (``Policy``), checked before any credentials are
    minted: AWS refuses an invalid one with ``MalformedPolicyDocument`` (HTTP 400) carrying
    the grammar error, so no session ever holds a policy the engine cannot read.  Parsed
    through the engine's cache, so the session's later calls reuse the compiled policy."""
    if text is None:
        return
    try:
        load_policy(text, PolicyType.SESSION)
    except MalformedPolicyError as exc:
        raise ServiceError("MalformedPolicyDocument", exc.message, 400) from None


LAST_USED_PRECISION = timedelta(minutes=1)


def _last_use_stale(last: Any, now: datetime, region: str) -> bool:
    """Whether GetRole's RoleLastUsed must be rewritten: at most once a minute per role and
    region (AWS's own figure is not real-time either), so that AssumeRole does not rewrite the
    role on every call."""
    if not isinstance(last, dict) or last.get("Region") != region:
        return True
    try:
        when = datetime.fromisoformat(str(last.get("LastUsedDate")))
    except ValueError:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return not timedelta(0) <= now - when < LAST_USED_PRECISION


def mfa_failure(message: str) -> ServiceError:
    return ServiceError("AccessDenied", message, 403)


MFA_BOTH = (
    "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
)
# The serial number names no enabled device of the caller's.
MFA_INVALID = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA "
    "serial number is valid and associated with this user."
)
# The caller's device, but a wrong code or one already used (AWS answers both alike).
MFA_BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def _verify_mfa_params(call: Call, tx: Any, *, required: bool) -> datetime | None:
    """Check SerialNumber + TokenCode (spec 4.3) and consume the code; the MFA time or None."""
    serial = call.params.get("SerialNumber")
    code = call.params.get("TokenCode")
    if serial is None and code is None:
        return None
    if serial is None or code is None:
        raise mfa_failure(MFA_BOTH)
    p = call.principal
    step = _check_code(tx, p, serial, code, call.now)
    queries.set_mfa_last_step(tx, p.account, serial, step)
    return call.now


def check_mfa_readonly(tx: Any, p: Any, params: dict[str, Any], now: datetime) -> bool:
    """Authorize-time check of SerialNumber + TokenCode: True when a valid code is present
    (the code is consumed later, in the write transaction); MFA errors as AWS words them."""
    serial = params.get("SerialNumber")
    code = params.get("TokenCode")
    if serial is None and code is None:
        return False
    if serial is None or code is None:
        raise mfa_failure(MFA_BOTH)
    _check_code(tx, p, serial, code, now)
    return True


_VERIFIER = MfaVerifier()


def _check_code(tx: Any, p: Any, serial: str, code: str, now: datetime) -> int:
    """The accepted time step of ``code`` on the caller's own, enabled device (spec 4.3)."""
    device = queries.mfa_device(tx, p.account, serial)
    if (
        device is None
        or p.kind != "user"
        or device.get("UserName") != p.arn.rsplit("/", 1)[1]
        or not device.get("Seed")
    ):
        raise mfa_failure(MFA_INVALID)
    outcome = _VERIFIER.check(device["Seed"], code, device.get("LastStep"), now)
    if outcome.status == "replay" or outcome.step is None:
        raise mfa_failure(MFA_BAD_CODE)
    return outcome.step
