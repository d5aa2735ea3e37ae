"""Shared pieces of CloudTrail's trail operations and of log delivery: record kinds and
layouts, trail ARNs and names, errors with CloudTrail's codes, timestamps.

Records
-------
``cloudtrail.trail`` in the trail owner's account, key ``HOMEREGION/NAME`` (name = NAME):
    Name, Account (the owner), TrailARN, HomeRegion, S3BucketName, S3KeyPrefix (str | None),
    IncludeGlobalServiceEvents, IsMultiRegionTrail, LogFileValidationEnabled,
    IsOrganizationTrail, OrganizationId ("o-..." | None), EventSelectors ([EventSelector] |
    None), AdvancedEventSelectors ([AdvancedEventSelector] | None), HasCustomEventSelectors,
    Tags {key: value} (insertion order), TrailId (random hex: tells a trail from a later one of
    the same name), Revision (int, bumped by every change of configuration or selectors),
    CreationTime (ISO 8601).

``cloudtrail.status`` in the store account ``__cloudtrail__``, key = TrailARN (one per trail,
created and deleted with it; the delivery worker lists these to find every trail):
    TrailARN, Account, Key (of the trail record), TrailId, IsLogging, StartLoggingTime,
    StopLoggingTime (ISO | None), Cursor (the highest event ``seq`` the trail is done with:
    delivered or not selected), StopSeq (int | None: while stopped, events up to it are still
    delivered - the final log), Gaps ([[lo, hi]]: events with lo < seq <= hi were recorded while
    the trail was stopped and are never delivered), LatestDeliveryTime,
    LatestDeliveryAttemptTime, LatestDeliveryAttemptSucceeded, LatestDeliveryError (S3 error
    code | None), LatestDigestDeliveryTime, LatestDigestDeliveryError (kept for the digest
    writer), DeliveredFiles, DeliveredEvents (counters).

Times are ISO 8601 strings in UTC (``datetime.isoformat``); None when never set.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..organizations.base import ORG

NS: Final = "__cloudtrail__"
TRAIL: Final = "cloudtrail.trail"
STATUS: Final = "cloudtrail.status"

MAX_TRAILS_PER_REGION: Final = 5
MAX_PREFIX: Final = 200
MAX_TAGS: Final = 50

ARN_RE: Final = re.compile(r"arn:(aws[a-z-]*):cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)")
_NAME_CHARS: Final = re.compile(r"[A-Za-z0-9._-]+")
_ADJACENT: Final = re.compile(r"[._-]{2}")
_IPV4: Final = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def error(code: str, message: str) -> ServiceError:
    """A CloudTrail error: JSON ``__type`` = code, HTTP 400."""
    return ServiceError(code, message, 400)


def trail_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def trail_key(region: str, name: str) -> str:
    return f"{region}/{name}"


def is_arn(ident: str) -> bool:
    return ident.startswith("arn:")


def parse_arn(ident: str) -> tuple[str, str, str]:
    """``(region, account, name)`` of a trail ARN; CloudTrailARNInvalidException otherwise."""
    match = ARN_RE.fullmatch(ident)
    if match is None:
        raise error("CloudTrailARNInvalidException", f"ARN {ident} is invalid.")
    return match.group(2), match.group(3), match.group(4)


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid trail name (spec 7.1), or None."""
    if len(name) < 3:
        return (
            "Trail name too short. Minimum allowed length: 3 characters. "
            f"Specified name length: {len(name)} characters."
        )
    if len(name) > 128:
        return (
            "Trail name too long. Maximum allowed length: 128 characters. "
            f"Specified name length: {len(name)} characters."
        )
    if not name[0].isascii() or not name[0].isalnum():
        return "Trail name must starts with a letter or number."
    if not name[-1].isascii() or not name[-1].isalnum():
        return "Trail name must ends with a letter or number."
    if not _NAME_CHARS.fullmatch(name):
        return (
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, "
            "periods (.), hyphens (-), and underscores (_)."
        )
    if _ADJACENT.search(name):
        return (
            "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_)."
        )
    if _IPV4.fullmatch(name):
        return "Trail name cannot be formatted as an IP address."
    return None


def check_name(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        raise error("InvalidTrailNameException", problem)


def not_found(ident: str, account: str) -> ServiceError:
    return error("TrailNotFoundException", f"Unknown trail: {ident} for the user: {account}")


# -- time --------------------------------------------------------------------------------------


def stamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat()


def when(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def legacy(text: str | None) -> str | None:
    """The deprecated string form of GetTrailStatus: ``2015-09-01T20:35:57Z``."""
    moment = when(text)
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- organizations -----------------------------------------------------------------------------


def organization(tx: Tx) -> dict[str, Any] | None:
    return tx.get(ORG, "organization", "org")


def org_of(tx: Tx, account: str) -> dict[str, Any] | None:
    """The organization ``account`` belongs to, or None."""
    org = organization(tx)
    if org is None or tx.get(ORG, "account", account) is None:
        return None
    return org


def org_members(tx: Tx) -> list[str]:
    """Every account of the organization (management account included), by id."""
    return [
        str(a["Id"])
        for a in tx.list(ORG, "account")
        if a.get("Status", "ACTIVE") not in ("SUSPENDED", "PENDING_CLOSURE")
    ]
