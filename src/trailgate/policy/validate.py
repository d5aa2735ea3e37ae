"""Grammar and limits of policy documents, with AWS's wording for every refusal.

:func:`validate_policy` checks a document that :mod:`trailgate.policy.parse` has already read
into the model (element types, unknown elements and JSON syntax are the parser's business) and
raises :class:`~trailgate.policy.model.MalformedPolicyError` with the message IAM
(``MalformedPolicyDocument``) or S3 (``MalformedPolicy``) gives; the messages themselves are
in :mod:`trailgate.policy.wording`.

Where the messages come from (see the final report of the change that added this module):
messages without a comment were seen in public error reports of real AWS calls; ``# UNSURE``
marks wording (or the choice between two wordings) that could not be confirmed.

Things this module leaves to its callers, because they need state or another error code:

* size quotas -- :func:`check_size` counts; the caller raises ``LimitExceeded`` (IAM) or the
  S3 size error with the quota of the operation (spec 3.3);
* characters -- :func:`iam_characters_ok`; IAM refuses other characters at the API layer with a
  ``ValidationError`` about the ``policyDocument`` pattern, not with MalformedPolicyDocument;
* whether principals named by ARN exist (trust policies, spec 1.2);
* the ``Version`` requirement of managed policies -- :func:`require_current_version`, also
  applied by ``validate_policy(..., managed=True)`` at the point IAM checks it;
* the bucket named by a bucket policy's resources -- :func:`check_bucket_resources`;
* Organizations answers every invalid SCP with one generic text, :data:`SCP_MALFORMED_MESSAGE`:
  the Organizations provider maps any :class:`MalformedPolicyError` to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trailgate.policy.model import (
    ConditionClause,
    MalformedPolicyError,
    Policy,
    PolicyType,
    PrincipalSpec,
    Statement,
)
from trailgate.policy.wording import (
    IAM_RESOURCE_PREFIXES,
    IAM_WORDING,
    S3_WORDING,
    Flavor,
    Wording,
    fail,
    wording,
)

VERSIONS = ("2012-10-17", "2008-10-17")
CURRENT_VERSION = "2012-10-17"

SCP_MALFORMED_MESSAGE = (
    "The provided policy document does not meet the requirements of the specified policy type."
)

# ------------------------------------------------------------------------------------------
# Sizes and characters
# ------------------------------------------------------------------------------------------

_WHITESPACE = (" ", "\t", "\n", "\r")
_BAD_IAM_CHAR = re.compile("[^\t\n\r\x20-\xff]")


def policy_size(text: str) -> int:
    """The size IAM counts against its quotas: characters that are not whitespace (spec 3.3)."""
    return len(text) - sum(text.count(ch) for ch in _WHITESPACE)


def check_size(text: str, limit: int) -> int | None:
    """Compare a document with a quota (``limit`` characters, whitespace not counted).

    Returns ``None`` when it fits, otherwise the counted size.  It raises nothing: a document
    over its quota is a ``LimitExceeded`` error in IAM (e.g. ``PolicySize: 6144`` for managed
    policies, ``ACLSizePerRole: 2048`` for trust policies), which the caller words with the quota
    of its operation.
    """
    size = policy_size(text)
    return size if size > limit else None


def iam_characters_ok(text: str) -> bool:
    """IAM accepts only tab, LF, CR and U+0020-U+00FF in a policy document (spec 1.1).

    Anything else is refused before the policy grammar is looked at, with a ``ValidationError``
    on the ``policyDocument`` member pattern ``[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+``.
    S3 bucket policies have no such restriction.
    """
    return _BAD_IAM_CHAR.search(text) is None


# ------------------------------------------------------------------------------------------
# Conditions
# ------------------------------------------------------------------------------------------

BASE_OPERATORS = frozenset(
    {
        *("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase"),
        *("StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"),
        *("NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals"),
        *("NumericGreaterThan", "NumericGreaterThanEquals"),
        *("DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals"),
        *("DateGreaterThan", "DateGreaterThanEquals"),
        *("Bool", "BinaryEquals", "IpAddress", "NotIpAddress"),
        *("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"),
    }
)
QUALIFIERS = ("ForAllValues:", "ForAnyValue:")


@dataclass(frozen=True, slots=True)
class OperatorName:
    """An operator split into its parts: ``ForAnyValue:StringLikeIfExists`` ->
    (``ForAnyValue``, ``StringLike``, True)."""

    qualifier: str | None
    base: str
    if_exists: bool


def split_operator(name: str) -> OperatorName | None:
    """Parse a condition operator name (case-sensitive, as AWS); ``None`` if unknown."""
    qualifier: str | None = None
    rest = name
    for prefix in QUALIFIERS:
        if name.startswith(prefix):
            qualifier = prefix[:-1]
            rest = name[len(prefix) :]
            break
    if rest == "Null":
        return OperatorName(qualifier, "Null", False)
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base in BASE_OPERATORS:
        return OperatorName(qualifier, base, if_exists)
    return None


_DATE = re.compile(
    r"-?[0-9]{1,9}(?:-[0-9]{1,2}(?:-[0-9]{1,2})?)?"
    r"(?:[Tt](?:[0-9]{1,2}(?::[0-9]{1,2}(?::[0-9]{1,2}(?:\.[0-9]{1,9})?)?)?)?"
    r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_EPOCH = re.compile(r"[0-9]{1,19}")


def date_value_ok(value: str) -> bool:
    """Dates in conditions: ISO 8601 (``2020-01-01``, ``2020-01-01T00:00:01Z``...) or epoch
    seconds.  Out-of-range month/day/time fields are refused too."""
    if _EPOCH.fullmatch(value):
        return int(value) <= 9223372036854775807
    if _DATE.fullmatch(value) is None:
        return False
    date, _, time = value.replace("t", "T").partition("T")
    fields = date.lstrip("-").split("-")
    if len(fields) > 1 and not 1 <= int(fields[1]) <= 12:
        return False
    if len(fields) > 2 and not 1 <= int(fields[2]) <= 31:
        return False
    clock = re.split("[Zz+-]", time, maxsplit=1)[0]
    limits = (23, 59, 59)
    for part, top in zip(clock.split(":") if clock else [], limits, strict=False):
        if not 0 <= int(part.split(".")[0]) <= top:
            return False
    return True


def _check_operators(stmt: Statement, w: Wording) -> None:
    for clause in stmt.conditions:
        if split_operator(clause.operator) is None:
            raise fail(w.condition_type, operator=clause.operator)


def _check_dates(stmt: Statement, w: Wording) -> None:
    for clause in stmt.conditions:
        op = split_operator(clause.operator)
        if op is not None and op.base.startswith("Date"):
            for value in clause.values:
                if not date_value_ok(value):
                    raise fail(w.condition_date)


def _check_condition_key(clause: ConditionClause, w: Wording) -> None:
    prefix, colon, name = clause.key.partition(":")
    if not colon or not prefix or not name:
        raise fail(w.condition_key, key=clause.key)


# ------------------------------------------------------------------------------------------
# Actions and resources
# ------------------------------------------------------------------------------------------

# Wildcards are accepted in the service part (Access Analyzer only suggests avoiding them).
_VENDOR_OK = re.compile(r"[A-Za-z0-9.\-*?]+")
_SID_OK = re.compile(r"[0-9A-Za-z]*")

PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
)

# S3 resource types whose ARNs carry a Region (Service Authorization Reference, "Resource types
# defined by Amazon S3": access points and their objects, Batch Operations jobs, Storage Lens,
# Access Grants, Multi-Region Access Point requests); buckets and objects never do.
S3_REGIONAL_PREFIXES = (
    "accesspoint/",
    "job/",
    "storage-lens/",
    "storage-lens-group/",
    "access-grants/",
    "async-request/",
)

TRUST_ACTIONS = (
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
)


def check_action(action: str, w: Wording) -> None:
    """``*`` alone, or ``vendor:name`` where name may hold ``*`` / ``?`` wildcards."""
    if action == "*":
        return
    parts = action.split(":")
    if len(parts) == 1:
        raise fail(w.action_vendor)
    if len(parts) > 2:
        raise fail(w.action_colons)
    vendor = parts[0]
    if _VENDOR_OK.fullmatch(vendor) is None:
        raise fail(w.action_bad_vendor, vendor=vendor)


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def legacy_resource(resource: str) -> bool:
    """Forms IAM's legacy parser refuses ("The policy failed legacy parsing"): an ARN of fewer
    than six parts holding ``::`` (``arn:aws:s3::bucket``), or an empty service part."""
    if resource == "*":
        return False
    parts = resource.split(":")
    return (len(parts) < 6 and "::" in resource) or (len(parts) > 2 and not parts[2])


def _shown_arn(partition: str, rest: str) -> str:
    """The resource as IAM names it in a partition refusal: ``arn:`` + partition + the rest,
    missing parts shown as ``*`` (``a:b:cadfsdf`` -> ``arn:b:cadfsdf:*:*:*``)."""
    parts = rest.split(":")
    first = parts[0] if parts[0] or len(parts) > 1 else "*"
    second = parts[1] if len(parts) > 1 else "*"
    third = parts[2] if len(parts) > 2 else "*"
    fourth = ":".join(parts[3:]) if len(parts) > 3 else "*"
    return f"arn:{partition}:{first}:{second}:{third}:{fourth}"


def resource_problem(resource: str, w: Wording) -> MalformedPolicyError | None:
    """The format refusal of a resource (``None`` if none; legacy forms are left to
    :func:`legacy_resource`).  IAM reads the text before the first colon as ``arn`` whatever
    it is, and the next part as the partition; S3 requires ``arn``."""
    if resource == "*":
        return None
    head, colon, rest = resource.partition(":")
    if not colon or (w is not IAM_WORDING and head != "arn"):
        return fail(w.resource_not_arn, resource=resource)
    partition, colon, rest = rest.partition(":")
    # IAM accepts "arn:*:...": AWS managed policies use it (e.g. AmazonFSxFullAccess)
    if partition not in PARTITIONS and not (partition == "*" and w is IAM_WORDING):
        shown = _shown_arn(partition, rest)
        return fail(w.resource_partition, partition=partition, resource=shown)
    service = rest.split(":", 1)[0]
    if not colon or _has_wildcard(service) or "$" in service:
        return fail(w.resource_vendor)
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return None if service and w is IAM_WORDING else _short_arn(resource, w)
    return _service_rules(resource, parts, w)


def _short_arn(resource: str, w: Wording) -> MalformedPolicyError | None:
    return None if legacy_resource(resource) else fail(w.resource_not_arn, resource=resource)


def _service_rules(resource: str, parts: list[str], w: Wording) -> MalformedPolicyError | None:
    service, region, account, rest = parts[2], parts[3], parts[4], parts[5]
    if "${" in region or "${" in account:
        return fail(w.resource_not_arn, resource=resource)  # UNSURE
    if service == "iam" and region:
        return fail(w.resource_region_iam, resource=resource)
    if service == "s3" and region and not rest.startswith(S3_REGIONAL_PREFIXES):
        return fail(w.resource_region_s3, resource=resource)
    if service == "route53" and region:
        return fail(w.resource_region_s3, resource=resource)
    if service == "route53" and account:
        return fail(w.resource_account, resource=resource)
    if service == "iam" and not _iam_path_ok(rest):
        return fail(w.iam_resource_path)
    return None


def _iam_path_ok(rest: str) -> bool:
    if rest == "root" or rest[:1] in ("*", "?", "$"):
        return True
    return rest.startswith(IAM_RESOURCE_PREFIXES)


def _trust_action_ok(action: str) -> bool:
    lowered = action.lower()
    if lowered in TRUST_ACTIONS:
        return True
    if not _has_wildcard(action):
        return False
    # a wildcard pattern is fine when it covers at least one role-assumption action
    return any(wildcard_match(lowered, name) for name in TRUST_ACTIONS)


def wildcard_match(pattern: str, text: str) -> bool:
    """Whole-string match of ``*`` (any run, also empty) and ``?`` (one character).

    A two-pointer scan with backtracking to the last ``*``: linear in practice, and no regular
    expression is ever built from policy text.  Case-sensitive; lower-case both sides for
    action names.
    """
    p = t = 0
    star = -1
    mark = 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star = p
            mark = t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


# ------------------------------------------------------------------------------------------
# Principals
# ------------------------------------------------------------------------------------------

_ACCOUNT = re.compile(r"[0-9]{12}")
_UNIQUE_ID = re.compile(r"A(?:IDA|ROA)[A-Z0-9]{12,124}")  # user and role unique ids
_CANONICAL = re.compile(r"[0-9a-f]{64}")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.\-]*\.[a-z0-9.\-]*[a-z0-9]")
_FEDERATED = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_/:]*")
_PROVIDER_ARN = re.compile(r"arn:[\w-]+:iam::[0-9]{12}:(?:saml|oidc)-provider/[^\s]+")


def _federated_ok(value: str) -> bool:
    """A domain name (accounts.google.com, cognito-identity.amazonaws.com...) or the ARN of
    a SAML or OIDC provider."""
    if _has_wildcard(value) or _FEDERATED.fullmatch(value) is None:
        return False
    return not value.startswith("arn:") or _PROVIDER_ARN.fullmatch(value) is not None


def aws_principal_ok(value: str) -> bool:
    """The forms of spec 1.2 for an ``AWS`` entry (``*`` handled by the caller)."""
    if _has_wildcard(value):
        return False
    if _ACCOUNT.fullmatch(value) or _UNIQUE_ID.fullmatch(value):
        return True
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[1] not in PARTITIONS or parts[3]:
        return False
    service, account, rest = parts[2], parts[4], parts[5]
    if not _ACCOUNT.fullmatch(account):
        return False
    if service == "iam":
        if rest == "root":
            return True
        kind, _, name = rest.partition("/")
        return kind in ("user", "role") and bool(name) and not name.endswith("/")
    if service == "sts":
        pieces = rest.split("/")
        if pieces[0] == "assumed-role":
            return len(pieces) == 3 and all(pieces[1:])
        if pieces[0] == "federated-user":
            return len(pieces) == 2 and bool(pieces[1])
    return False


def _check_principal(spec: PrincipalSpec, flavor: Flavor, w: Wording) -> None:
    for value in spec.aws:
        if not aws_principal_ok(value):
            raise fail(w.principal_invalid, key="AWS", value=value)
    for value in spec.service:
        if _has_wildcard(value) or _SERVICE.fullmatch(value) is None:
            raise fail(w.principal_invalid, key="SERVICE", value=value)
    for value in spec.federated:
        if not _federated_ok(value):
            raise fail(w.federated_invalid)
    for value in spec.canonical_user:
        if flavor != "s3" or _CANONICAL.fullmatch(value) is None:
            raise fail(w.principal_invalid, key="CANONICALUSER", value=value)  # UNSURE


# ------------------------------------------------------------------------------------------
# The document
# ------------------------------------------------------------------------------------------


def validate_policy(
    policy: Policy, policy_type: PolicyType, flavor: Flavor = "iam", *, managed: bool = False
) -> None:
    """Raise :class:`MalformedPolicyError` unless ``policy`` is acceptable as ``policy_type``.

    The checks run in the order IAM applies them (the order of the refusals AWS gives for
    documents with several faults, as recorded in public emulator test tables checked against
    AWS): syntax (version, condition operators), legacy parsing (effect case, date values,
    legacy resource forms), element presence per policy type, Sids, actions then resources of
    every statement, resource formats, action prefixes, principals, condition keys.  A managed
    policy's ``Version`` requirement comes right after the syntax checks.
    """
    w = wording(flavor)
    if policy.version is not None and policy.version not in VERSIONS:
        raise fail(w.invalid_version)
    for stmt in policy.statements:
        _check_operators(stmt, w)
    if managed:
        require_current_version(policy)
    resource_error = _legacy_phase(policy, flavor, w)
    for stmt in policy.statements:
        _check_elements(stmt, policy_type, w)
    _check_sids(policy, flavor, w)
    _check_presence(policy, policy_type, w)
    if resource_error is not None:
        raise resource_error
    if policy_type is not PolicyType.TRUST:
        for stmt in policy.statements:
            for action in (stmt.action or ()) + (stmt.not_action or ()):
                check_action(action, w)
    for stmt in policy.statements:
        for spec in (stmt.principal, stmt.not_principal):
            if spec is not None:
                _check_principal(spec, flavor, w)
    for stmt in policy.statements:
        for clause in stmt.conditions:
            _check_condition_key(clause, w)


def _resources(stmt: Statement) -> tuple[str, ...]:
    return (stmt.resource or ()) + (stmt.not_resource or ())


def _legacy_phase(policy: Policy, flavor: Flavor, w: Wording) -> MalformedPolicyError | None:
    """Effect case, date values and legacy resource forms ("The policy failed legacy parsing"
    in IAM); returns the first resource format refusal, raised later (after Sids and element
    presence).  A resource after a format refusal is not legacy-parsed, as in IAM."""
    for stmt in policy.statements:
        if stmt.effect not in ("Allow", "Deny"):
            raise fail(w.legacy if flavor == "iam" else w.invalid_effect, effect=stmt.effect)
        _check_dates(stmt, w)
    first: MalformedPolicyError | None = None
    for stmt in policy.statements:
        for resource in _resources(stmt):
            problem = resource_problem(resource, w)
            if problem is not None:
                first = first or problem
            elif first is None and legacy_resource(resource):
                raise fail(w.legacy)
    return first


def _check_presence(policy: Policy, policy_type: PolicyType, w: Wording) -> None:
    """Every statement's actions (trust policies: role-assumption actions only), then every
    statement's resources."""
    for stmt in policy.statements:
        if policy_type is PolicyType.TRUST:
            if not stmt.action or not all(_trust_action_ok(a) for a in stmt.action):
                raise fail(w.trust_action)
        elif not (stmt.action if stmt.action is not None else stmt.not_action):
            raise fail(w.missing_action)
    if policy_type in (PolicyType.TRUST, PolicyType.SCP):
        return
    for stmt in policy.statements:
        if not (stmt.resource if stmt.resource is not None else stmt.not_resource):
            raise fail(w.missing_resource)


def _check_elements(stmt: Statement, policy_type: PolicyType, w: Wording) -> None:
    has_principal = stmt.principal is not None or stmt.not_principal is not None
    if policy_type.has_principal and not has_principal:
        raise fail(w.missing_principal)
    if not policy_type.has_principal and has_principal:
        raise fail(w.principal_forbidden)
    if policy_type is PolicyType.TRUST:
        if stmt.not_principal is not None:
            raise fail(w.not_principal_forbidden)
        if stmt.resource is not None or stmt.not_resource is not None:
            raise fail(w.resource_forbidden)


def _check_sids(policy: Policy, flavor: Flavor, w: Wording) -> None:
    if flavor == "s3":
        return
    seen: set[str] = set()
    for stmt in policy.statements:
        if stmt.sid is None:
            continue
        if _SID_OK.fullmatch(stmt.sid) is None:
            raise fail(w.sid_not_alnum)
    for stmt in policy.statements:
        if not stmt.sid:
            continue
        if stmt.sid in seen:
            raise fail(w.sid_duplicate)
        seen.add(stmt.sid)


def require_current_version(policy: Policy) -> None:
    """Managed policies (CreatePolicy, CreatePolicyVersion) must say ``2012-10-17``."""
    if policy.version != CURRENT_VERSION:
        raise MalformedPolicyError("Policy document must be version 2012-10-17 or greater.")


def check_bucket_resources(policy: Policy, bucket: str) -> None:
    """S3: every ``Resource`` / ``NotResource`` of a bucket policy must name the bucket itself
    or objects in it (``arn:aws:s3:::BUCKET`` or ``arn:aws:s3:::BUCKET/...``), with wildcards
    allowed after the bucket name."""
    for stmt in policy.statements:
        for resource in (stmt.resource or ()) + (stmt.not_resource or ()):
            parts = resource.split(":", 5)
            if len(parts) != 6 or parts[2] != "s3":
                raise MalformedPolicyError(S3_WORDING.resource_not_arn)
            name = parts[5].split("/", 1)[0]
            if name != bucket:
                raise MalformedPolicyError(S3_WORDING.resource_not_arn)
