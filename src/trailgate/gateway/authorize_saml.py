"""The authorize step of AssumeRoleWithSAML (sent unsigned: the assertion is the credential).

1. The provider PrincipalArn names must exist; the SAML Response must verify against its
   metadata's certificates (:mod:`trailgate.services.sts.saml_assertion`) and come from its
   issuer (the metadata's entityID).
2. From then on the caller is the federated user: ``ctx.principal`` becomes a ``saml_user``
   principal (CloudTrail's ``SAMLUser``: principalId NameQualifier:Subject, userName Subject,
   identityProvider NameQualifier), so the call and its refusals are recorded in the role's
   account as AWS records them.
3. The assertion's Role attribute must pair the role with the provider ("role,provider" in
   either order), the RoleSessionName attribute must be valid, and the role's trust policy
   must allow ``sts:AssumeRoleWithSAML`` (and ``sts:SetSourceIdentity`` for a SourceIdentity
   attribute) to ``{"Federated": provider}`` with the SAML condition keys AWS documents
   (``saml:aud`` is the Recipient, ``saml:iss``, ``saml:sub``, ``saml:sub_type``,
   ``saml:namequalifier``, ``saml:doc``); session tags (``PrincipalTag:KEY`` attributes,
   ``TransitiveTagKeys``) need ``sts:TagSession`` and are checked as AssumeRole's Tags.

What it verified goes to the provider in ``ctx.target`` (:class:`SamlFacts`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ..auth.context_keys import _assume_role_keys as _request_tag_keys
from ..auth.context_keys import build_context
from ..policy import BoundPolicy, Caller, PolicyDoc, PolicySet, PolicyType, Request, evaluate
from ..protocol.errors import ServiceError
from ..services.iam.saml_providers import find_provider
from ..services.sts.saml_assertion import Assertion, invalid, verify_response
from ..services.sts.session_inputs import check_policy_arn_count
from .authorize import _role_and_trust
from .context import Principal, RequestContext

ATTRIBUTES = "https://aws.amazon.com/SAML/Attributes/"
SESSION_NAME_RE = re.compile(r"[a-zA-Z_0-9+=,.@-]{2,64}")

NO_PROVIDER = "Specified provider doesn't exist"  # AWS's guide; UNSURE: its code
WRONG_ISSUER = "Issuer not present in specified provider"
NO_SESSION_NAME = "RoleSessionName is required in AuthnResponse"
BAD_SESSION_NAME = "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"
BAD_SOURCE_IDENTITY = (
    'Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"'
)
NOT_AUTHORIZED = "Not authorized to perform sts:AssumeRoleWithSAML"
# UNSURE: how AWS answers an unencrypted assertion to a provider that requires encryption.
NOT_ENCRYPTED = "The SAML provider requires encrypted assertions"


@dataclass(frozen=True)
class SamlFacts:
    """What the provider needs to mint the session."""

    role: dict[str, Any]
    provider_arn: str
    assertion: Assertion
    name_qualifier: str
    session_name: str
    source_identity: str | None
    tags: tuple[tuple[str, str], ...]  # PrincipalTag attributes
    transitive_tag_keys: tuple[str, ...]


def name_qualifier(issuer: str, account: str, provider_name: str) -> str:
    """AWS's NameQualifier: BASE64(SHA1(issuer + account id + "/" + provider name))."""
    digest = hashlib.sha1(f"{issuer}{account}/{provider_name}".encode()).digest()
    return base64.b64encode(digest).decode("ascii")


def _denied() -> ServiceError:
    return ServiceError("AccessDenied", NOT_AUTHORIZED, 403)


def _provider(read: Any, arn: str) -> dict[str, Any]:
    parts = arn.split(":")
    account = parts[4] if len(parts) == 6 else ""
    entity = read(lambda tx: find_provider(tx, account, arn)) if account else None
    if entity is None:
        raise invalid(NO_PROVIDER)
    data: dict[str, Any] = entity.data
    return data


def _session_inputs(assertion: Assertion) -> tuple[str, str | None]:
    names = assertion.attribute(ATTRIBUTES + "RoleSessionName")
    if not names:
        raise invalid(NO_SESSION_NAME)
    if SESSION_NAME_RE.fullmatch(names[0]) is None:
        raise invalid(BAD_SESSION_NAME)
    sources = assertion.attribute(ATTRIBUTES + "SourceIdentity")
    source = sources[0] if sources else None
    if source is not None and (
        SESSION_NAME_RE.fullmatch(source) is None or source.lower().startswith("aws:")
    ):
        raise invalid(BAD_SOURCE_IDENTITY)
    return names[0], source


def _pairs_role(assertion: Assertion, role_arn: str, provider_arn: str) -> bool:
    """The Role attribute holds "role,provider" (either order) for this role and provider."""
    wanted = {role_arn, provider_arn}
    return any(
        len(parts) == 2 and set(parts) == wanted
        for parts in (value.split(",") for value in assertion.attribute(ATTRIBUTES + "Role"))
    )


def _saml_keys(assertion: Assertion, nq: str, provider_arn: str) -> dict[str, tuple[str, ...]]:
    account, name = provider_arn.split(":")[4], provider_arn.rsplit("/", 1)[1]
    return {
        "saml:aud": (assertion.recipient,),
        "saml:iss": (assertion.issuer,),
        "saml:sub": (assertion.subject,),
        "saml:sub_type": (assertion.subject_type,),
        "saml:namequalifier": (nq,),
        "saml:doc": (f"{account}/{name}",),
    }


def _principal(provider_arn: str, account: str, nq: str, assertion: Assertion) -> Principal:
    return Principal(
        kind="saml_user", arn=provider_arn, account=account,
        user_id=f"{nq}:{assertion.subject}", unique_id=nq, session_name=assertion.subject,
    )


def _tag_params(assertion: Assertion) -> dict[str, Any]:
    """The assertion's session tags as AssumeRole's Tags / TransitiveTagKeys: one
    ``PrincipalTag:KEY`` attribute per tag, a multi-valued ``TransitiveTagKeys`` attribute."""
    prefix = ATTRIBUTES + "PrincipalTag:"
    tags = [
        {"Key": name[len(prefix):], "Value": values[0] if values else ""}
        for name, values in assertion.attributes.items() if name.startswith(prefix)
    ]
    transitive = list(assertion.attribute(ATTRIBUTES + "TransitiveTagKeys"))
    params: dict[str, Any] = {}
    if tags:
        params["Tags"] = tags
    if transitive:
        params["TransitiveTagKeys"] = transitive
    return params


def _check_trust(ctx: RequestContext, caller: Caller, keys: dict[str, tuple[str, ...]],
                 role: dict[str, Any], text: str, actions: list[str]) -> None:
    """Each action must be allowed by the role's trust policy alone (the caller, an identity
    provider, has no policies of its own)."""
    trust = BoundPolicy.bind(PolicyDoc(f"{role['RoleName']} trust policy", PolicyType.TRUST, text))
    for action in actions:
        decision = evaluate(
            Request(caller, action, role["Arn"], keys, role["Arn"].split(":")[4]),
            PolicySet(resource=trust),
        )
        if action == actions[0]:
            ctx.decision = decision
        if not decision.allowed:
            raise _denied()


def authorize_saml(ctx: RequestContext, read: Any) -> None:
    """Verify the assertion and the trust policy (see module doc); raise STS's errors."""
    from ..services.sts.provider import _session_tags

    params = ctx.params
    check_policy_arn_count(params.get("PolicyArns"))  # a request check: before the assertion
    role_arn, provider_arn = str(params["RoleArn"]), str(params["PrincipalArn"])
    provider = _provider(read, provider_arn)
    assertion = verify_response(
        str(params["SAMLAssertion"]), provider["Certificates"], ctx.received_at)
    if assertion.issuer != provider["EntityId"]:
        raise invalid(WRONG_ISSUER)
    if provider.get("AssertionEncryptionMode") == "Required":
        raise invalid(NOT_ENCRYPTED)
    account = provider_arn.split(":")[4]
    nq = name_qualifier(assertion.issuer, account, provider["Name"])
    ctx.principal = _principal(provider_arn, account, nq, assertion)
    parts = role_arn.split(":")
    if len(parts) > 4 and parts[4].isdigit():
        ctx.resource_account = parts[4]
    session_name, source = _session_inputs(assertion)
    tag_params = _tag_params(assertion)
    tags, transitive = _session_tags(tag_params, ctx.principal)
    if not _pairs_role(assertion, role_arn, provider_arn):
        raise _denied()
    found = read(lambda tx: _role_and_trust(tx, role_arn))
    if found is None:
        raise _denied()
    caller = Caller(kind="federated", arn=provider_arn, account=account)
    keys = build_context(ctx, caller)
    keys.update(_saml_keys(assertion, nq, provider_arn))
    _request_tag_keys(tag_params, keys)
    if source is not None:
        keys["sts:sourceidentity"] = (source,)
    actions = ["sts:AssumeRoleWithSAML"] + (["sts:SetSourceIdentity"] if source else [])
    actions += ["sts:TagSession"] if tag_params else []
    _check_trust(ctx, caller, keys, found[0], found[1], actions)
    ctx.target = SamlFacts(
        found[0], provider_arn, assertion, nq, session_name, source, tags, transitive)
