"""Checks of what AssumeRole and GetFederationToken put into a session besides the role:
managed session policy ARNs, session tag keys, and the packed size of policies plus tags.

AWS facts (STS API reference, PolicyArns / Policy / Tags members): up to 10 managed policy
ARNs, which "must exist in the same account as the role" (GetFederationToken: as the IAM user
requesting federated access); AWS "compresses the passed inline session policy, managed policy
ARNs, and session tags into a packed binary format that has a separate limit", refused with
``PackedPolicyTooLarge``, and reports ``PackedPolicySize`` as a percentage of that limit.  The
refusal reads "Packed policy consumes N% of allotted space" (quoted verbatim in many public
reports of the real error).

AWS's packing format is not published.  :func:`packed_units` is an APPROXIMATION that matches
the public data points reasonably: the minified policy JSON with its grammar words (keys such
as ``"Effect"``, the values ``"Allow"``/``"Deny"`` and the ``Version`` pair) counted as one
unit each, every managed policy ARN at its length, every tag at its key and value length plus
two; the limit is :data:`PACKED_LIMIT` units.  With it, AWS's documented example (a one
statement policy plus three tags) packs to about 10%, and an action-heavy 1,690-character
policy to about 160% (a public report of the real service quotes 157%).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from ...protocol.errors import ServiceError, validation_error
from ...store.interface import Tx
from ..iam import queries
from ..iam.managed import aws_managed_by_arn

MAX_POLICY_ARNS = 10
PACKED_LIMIT = 1024

# Policy grammar words: AWS's binary packing does not spend their text (approximation).
_GRAMMAR = re.compile(
    r'"Version":"2012-10-17"|"Version":"2008-10-17"|"(?:Statement|Sid|Effect|Allow|Deny|'
    r'NotAction|Action|NotResource|Resource|Condition|Principal|NotPrincipal)"'
)


def check_policy_arns(tx: Tx, entries: Iterable[dict[str, Any]] | None, account: str) -> list[str]:
    """The PolicyArns passed, checked: at most 10, each a managed policy of ``account`` (the
    role's, or the federating user's) or an AWS managed policy.

    UNSURE: the exact refusals are not published.  More than 10 answers the standard
    constraint ValidationError on ``policyArns`` (the member's documented limit); an ARN that
    names no such policy answers ``MalformedPolicyDocument`` (STS's only policy error code) in
    IAM's wording for a policy that cannot be used ("... does not exist or is not
    attachable.")."""
    arns = check_policy_arn_count(entries)
    for arn in arns:
        if not _usable(tx, arn, account):
            raise ServiceError(
                "MalformedPolicyDocument",
                f"Policy {arn} does not exist or is not attachable.",
                400,
            )
    return arns


def check_policy_arn_count(entries: Iterable[dict[str, Any]] | None) -> list[str]:
    """The PolicyArns passed, at most 10 (a request-validation rule, checked before anything
    else, so also by the AssumeRoleWith* operations whose tokens are never valid here)."""
    arns = [str(entry.get("arn", "")) for entry in entries or []]
    if len(arns) > MAX_POLICY_ARNS:
        shown = ", ".join(f"PolicyDescriptorType(arn={arn})" for arn in arns)
        raise validation_error([
            f"Value '[{shown}]' at 'policyArns' failed to satisfy constraint: Member must "
            f"have length less than or equal to {MAX_POLICY_ARNS}"
        ])
    return arns


def _usable(tx: Tx, arn: str, account: str) -> bool:
    if aws_managed_by_arn(arn) is not None:
        return True
    parts = arn.split(":")
    if len(parts) != 6 or parts[4] != account:
        return False
    return queries.customer_policy(tx, arn) is not None


def check_tag_keys(params: dict[str, Any]) -> None:
    """Session tag keys (Tags and TransitiveTagKeys) may not use the ``aws:`` prefix, which
    AWS reserves in every letter case.

    UNSURE: the code follows the other session-tag refusals (InvalidParameterValue); the text
    is the wording AWS services use for the reserved prefix."""
    keys = [str(tag.get("Key", "")) for tag in params.get("Tags") or []]
    keys += [str(key) for key in params.get("TransitiveTagKeys") or []]
    if any(key.lower().startswith("aws:") for key in keys):
        raise ServiceError("InvalidParameterValue", RESERVED_TAG_PREFIX, 400)


RESERVED_TAG_PREFIX = "Tag keys starting with 'aws:' are reserved for internal use."


def _policy_units(text: str) -> int:
    try:
        compact = json.dumps(json.loads(text), separators=(",", ":"))
    except ValueError:
        compact = text
    saved = sum(len(match.group(0)) - 1 for match in _GRAMMAR.finditer(compact))
    return len(compact) - saved


def packed_units(
    policies: Iterable[str], arns: Iterable[str], tags: Iterable[tuple[str, str]]
) -> int:
    """The approximate packed size (see the module docstring) of a session's inline policy,
    managed policy ARNs and session tags."""
    units = sum(_policy_units(text) for text in policies)
    units += sum(len(arn) for arn in arns)
    units += sum(len(key) + len(value) + 2 for key, value in tags)
    return units


def packed_percent(
    policies: Iterable[str], arns: Iterable[str], tags: Iterable[tuple[str, str]]
) -> int:
    """``PackedPolicySize``: the packed size as a percentage of the limit (at least 1, rounded
    up like AWS's figures, which never read 0 for a non-empty session), refused with
    ``PackedPolicyTooLarge`` beyond 100."""
    units = packed_units(policies, arns, tags)
    percent = max(1, -(-units * 100 // PACKED_LIMIT))
    if percent > 100:
        raise ServiceError(
            "PackedPolicyTooLarge", f"Packed policy consumes {percent}% of allotted space", 400
        )
    return percent
