"""AssumeRoleWithSAML: the credentials of a role session for a user a SAML identity provider
vouched for.  The assertion, its provider and the role's trust policy were checked by the
gateway's authorize step (:mod:`trailgate.gateway.authorize_saml`), which hands over what it
verified in ``call.target``; this validates the remaining request rules (duration, session
policies) and mints the session as AssumeRole does.

The session lasts DurationSeconds (default one hour, at most the role's MaxSessionDuration),
and never past the assertion's SessionNotOnOrAfter, as AWS documents.  The response carries
Subject, SubjectType, Issuer, Audience (the Recipient) and NameQualifier; the session carries
the assertion's session tags (transitive ones pass on through role chaining).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ...protocol.errors import ServiceError
from ..base import Call
from .session_inputs import check_policy_arns, packed_percent

if TYPE_CHECKING:
    from ...gateway.authorize_saml import SamlFacts
    from .provider import StsProvider


def _facts(call: Call) -> SamlFacts:
    from ...gateway.authorize_saml import SamlFacts

    facts = call.target
    if not isinstance(facts, SamlFacts):  # authorize always hands them over; defensive
        raise ServiceError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML", 403)
    return facts


def assume_role_with_saml(sts: StsProvider, call: Call, tx: Any) -> dict[str, Any]:
    from .provider import _session_duration, check_session_policy, role_session_claims

    params = call.params
    facts = _facts(call)
    role, assertion = facts.role, facts.assertion
    duration = _session_duration(params, role, chained=False)
    check_session_policy(params.get("Policy"))
    account = role["Arn"].split(":")[4]
    policies = [params["Policy"]] if params.get("Policy") else []
    arns = check_policy_arns(tx, params.get("PolicyArns"), account)
    tags = facts.tags
    packed = packed_percent(policies, arns, tags)
    claims = role_session_claims(
        role, account, facts.session_name, call.now, policies=policies, arns=arns, tags=tags,
        transitive=facts.transitive_tag_keys, source=facts.provider_arn, chained=False,
        source_identity=facts.source_identity,
    )
    session_arn = claims["arn"]
    expires = call.now + timedelta(seconds=duration)
    if assertion.session_not_on_or_after is not None:
        expires = min(expires, assertion.session_not_on_or_after)
    creds = sts._mint(claims, expires)
    sts._note_role_use(call, tx, role, account)
    out: dict[str, Any] = {
        "Credentials": creds,
        "AssumedRoleUser": {"AssumedRoleId": claims["user_id"], "Arn": session_arn},
        "Subject": assertion.subject,
        "SubjectType": assertion.subject_type,
        "Issuer": assertion.issuer,
        "Audience": assertion.recipient,
        "NameQualifier": facts.name_qualifier,
    }
    if policies or arns or tags:
        out["PackedPolicySize"] = packed
    if facts.source_identity:
        out["SourceIdentity"] = facts.source_identity
    out["__trail_request"] = _trail_request(facts)
    return out


def _trail_request(facts: SamlFacts) -> dict[str, Any]:
    """CloudTrail's requestParameters: the assertion and the session it was redeemed for."""
    trail: dict[str, Any] = {
        "sAMLAssertionID": facts.assertion.assertion_id, "roleSessionName": facts.session_name,
    }
    if facts.source_identity:
        trail["sourceIdentity"] = facts.source_identity
    if facts.tags:
        trail["principalTags"] = dict(facts.tags)
    if facts.transitive_tag_keys:
        trail["transitiveTagKeys"] = list(facts.transitive_tag_keys)
    return trail
