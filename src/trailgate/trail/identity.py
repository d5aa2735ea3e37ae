"""The ``userIdentity`` block of a CloudTrail record (spec 7.8): who made the call.

One block per principal, built once and kept on the principal (with its JSON form), since
principals never change once made; :mod:`.records` puts it in every record of the caller.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..gateway.context import Principal
from .event_fields import _iso

Record = dict[str, Any]


def _cached_identity(p: Principal) -> Record:
    """:func:`user_identity`, kept on the principal (principals are never changed once made,
    and authenticated long-term keys reuse theirs); records share it, nobody changes it."""
    found: Record | None = p.__dict__.get("_ct_identity")
    if found is None:
        found = user_identity(p)
        p.__dict__["_ct_identity"] = found
    return found


def identity_json(p: Principal) -> bytes:
    """The caller's ``userIdentity`` as JSON, kept on the principal like the block itself."""
    found: bytes | None = p.__dict__.get("_ct_identity_json")
    if found is None:
        found = orjson.dumps(_cached_identity(p))
        p.__dict__["_ct_identity_json"] = found
    return found


def user_identity(p: Principal) -> Record:
    """The caller's ``userIdentity`` block (spec 7.8)."""
    if p.kind == "service":
        name = p.arn if p.arn.endswith(".amazonaws.com") else (p.user_id or p.arn)
        return {"type": "AWSService", "invokedBy": name}
    if p.kind == "anonymous":
        return {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    if p.kind == "assumed_role":
        return _assumed_role_identity(p)
    if p.kind == "saml_user":  # AssumeRoleWithSAML's caller (gateway/authorize_saml.py)
        return {"type": "SAMLUser", "principalId": p.user_id, "userName": p.session_name or "",
                "identityProvider": p.unique_id or ""}
    kind = {"root": "Root", "user": "IAMUser", "federated_user": "FederatedUser"}
    identity: Record = {
        "type": kind.get(p.kind, "Unknown"),
        "principalId": p.user_id,
        "arn": p.arn,
        "accountId": p.account,
    }
    if p.access_key_id:
        identity["accessKeyId"] = p.access_key_id
    if p.kind == "user":
        identity["userName"] = p.arn.rsplit("/", 1)[-1]
    elif p.kind == "root" and p.account_alias:
        identity["userName"] = p.account_alias  # AWS: a root caller is named by its alias
    if p.via_session_token or p.kind == "federated_user":
        identity["sessionContext"] = {
            "sessionIssuer": _federation_issuer(p),
            "webIdFederationData": {},
            "attributes": _session_attributes(p),
        }
    return identity


def _federation_issuer(p: Principal) -> Record:
    """A federated user's sessionIssuer: the IAM user (or root) who called
    GetFederationToken; empty for GetSessionToken sessions, as AWS logs them."""
    issuer = p.issuer_arn
    if p.kind != "federated_user" or not issuer:
        return {}
    if issuer.endswith(":root"):
        return {"type": "Root", "principalId": p.account, "arn": issuer,
                "accountId": p.account}
    return {"type": "IAMUser", "principalId": p.unique_id or "", "arn": issuer,
            "accountId": p.account, "userName": issuer.rsplit("/", 1)[-1]}


def _assumed_role_identity(p: Principal) -> Record:
    role_arn = p.role_arn or ""
    context: Record = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": p.unique_id or p.user_id.split(":", 1)[0],
            "arn": role_arn,
            "accountId": p.account,
            "userName": role_arn.rsplit("/", 1)[-1],
        },
        "webIdFederationData": {},
        "attributes": _session_attributes(p),
    }
    if p.source_identity:
        context["sourceIdentity"] = p.source_identity
    identity: Record = {
        "type": "AssumedRole",
        "principalId": p.user_id,
        "arn": p.arn,
        "accountId": p.account,
    }
    if p.access_key_id:
        identity["accessKeyId"] = p.access_key_id
    identity["sessionContext"] = context
    return identity


def _session_attributes(p: Principal) -> dict[str, str]:
    issued = p.session_issued
    return {
        "creationDate": _iso(issued) if issued is not None else "",
        "mfaAuthenticated": "true" if p.mfa_authenticated else "false",
    }
