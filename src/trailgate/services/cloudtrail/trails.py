"""CloudTrail's trail operations (spec 7.1-7.5): create/read/update/delete, logging on/off,
status, event selectors and tags.  Record layouts are in :mod:`.common`.

Identifiers: operations taking a trail accept its name (a trail of the caller's account visible
in the called region) or its ARN (also the organization trail of the caller's organization).
A multi-region trail is visible in every region as a shadow of its home-region self; only the
home region may change it (``InvalidHomeRegionException``).  Member accounts see their
organization's trail but cannot change it (``NotOrganizationMasterAccountException``) nor reach
its tags (an ARN of another account is ``CloudTrailARNInvalidException`` for the tag calls).

The bucket check of CreateTrail/UpdateTrail is the one delivery makes
(:func:`trailgate.trail.service_access.check_delivery_access`): ``s3:GetBucketAcl`` and
``s3:PutObject`` as ``cloudtrail.amazonaws.com``, decided by the bucket policy alone.

StartLogging sets the trail's delivery cursor to the newest recorded event, so only events
recorded from then on are delivered; StopLogging keeps delivering what was recorded before it
(the final log) and nothing after; events recorded while stopped are never delivered.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ...trail.service_access import check_delivery_access
from ..base import Call
from ..s3 import queries as s3q
from ..s3.buckets import bucket_name_ok
from .common import (
    MAX_PREFIX,
    MAX_TRAILS_PER_REGION,
    NS,
    STATUS,
    TRAIL,
    check_name,
    error,
    is_arn,
    legacy,
    not_found,
    org_of,
    parse_arn,
    stamp,
    trail_arn,
    trail_key,
    when,
)
from .eventlog import last_event_seq
from .selectors import DEFAULT_SELECTORS, normalize_advanced, normalize_basic
from .tagging import checked_tags, merge_tags

Trail = dict[str, Any]

CREATE_FIELDS = (
    "Name",
    "S3BucketName",
    "S3KeyPrefix",
    "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail",
    "TrailARN",
    "LogFileValidationEnabled",
    "IsOrganizationTrail",
)
TRAIL_FIELDS = (
    "Name",
    "S3BucketName",
    "S3KeyPrefix",
    "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail",
    "HomeRegion",
    "TrailARN",
    "LogFileValidationEnabled",
    "HasCustomEventSelectors",
    "HasInsightSelectors",
    "IsOrganizationTrail",
)


def _view(trail: Trail, fields: tuple[str, ...]) -> dict[str, Any]:
    out = {f: trail.get(f, False) for f in fields}
    if not trail.get("S3KeyPrefix"):
        out.pop("S3KeyPrefix", None)
    if trail.get("RecursiveLogging") is not None:  # UNSURE: AWS may show the default (true)
        out["RecursiveLogging"] = trail["RecursiveLogging"]
    return out


# -- checks ------------------------------------------------------------------------------------


def _check_prefix(prefix: str | None) -> None:
    if not prefix:
        return
    if len(prefix) > MAX_PREFIX:
        raise error(
            "InvalidS3PrefixException",
            f"The S3 key prefix must not exceed {MAX_PREFIX} characters.",
        )
    if prefix.startswith("/") or prefix.endswith("/") or prefix.startswith("AWSLogs/"):
        raise error("InvalidS3PrefixException", f"Prefix {prefix} is invalid.")


def _check_bucket_name(name: str) -> None:
    if not bucket_name_ok(name):
        raise error("InvalidS3BucketNameException", f"Bucket name {name} is not valid.")


def _check_unsupported(params: dict[str, Any]) -> None:
    """Destinations trailgate does not have (SNS, KMS, CloudWatch Logs): refused as AWS refuses
    a topic, key or log group that does not exist."""
    if params.get("SnsTopicName"):
        raise error(
            "InsufficientSnsTopicPolicyException",
            "SNS Topic does not exist or the topic policy is incorrect!",
        )
    if params.get("KmsKeyId"):
        raise error("KmsKeyNotFoundException", f"KMS key {params['KmsKeyId']} not found.")
    if params.get("CloudWatchLogsLogGroupArn") and not params.get("CloudWatchLogsRoleArn"):
        raise error(  # AWS's answer (e.g. terraform-provider-aws#148, pulumi/docs#5117)
            "InvalidCloudWatchLogsRoleArnException",
            "You must specify a role ARN as well as a log group.",
        )
    if params.get("CloudWatchLogsLogGroupArn"):
        raise error(  # AWS's answer for a log group it cannot find
            "InvalidCloudWatchLogsLogGroupArnException",
            "CloudTrail cannot validate the specified log group ARN.",
        )
    if params.get("CloudWatchLogsRoleArn"):
        raise error(
            "InvalidCloudWatchLogsLogGroupArnException",
            "CloudWatch Logs log group does not exist.",
        )


def _check_combination(trail: Trail) -> None:
    if trail["IsMultiRegionTrail"] and not trail["IncludeGlobalServiceEvents"]:
        raise error(
            "InvalidParameterCombinationException",
            "Multi-Region trail must include global service events.",
        )


def _organization_id(call: Call, tx: Tx) -> str:
    """The caller's organization id, when the caller may own an organization trail."""
    org = org_of(tx, call.account)
    if org is None:
        raise error(
            "OrganizationsNotInUseException",
            "This account is not a member of an organization.",
        )
    if org.get("MasterAccountId") != call.account:
        raise _not_management(call)
    if org.get("FeatureSet", "ALL") != "ALL":
        raise error(
            "OrganizationNotInAllFeaturesModeException",
            "This operation requires that all features are enabled in the organization.",
        )
    return str(org["Id"])


def _check_destination(tx: Tx, trail: Trail, call: Call) -> None:
    """The bucket exists and its policy lets CloudTrail write for this trail (spec 7.3); an
    organization trail needs both the account's and the organization's folder."""
    bucket = trail["S3BucketName"]
    if s3q.bucket(tx, bucket) is None:
        raise error("S3BucketDoesNotExistException", f"S3 bucket {bucket} does not exist!")
    orgs: list[str | None] = [None]
    if trail["IsOrganizationTrail"]:
        orgs.append(trail["OrganizationId"])
    for org_id in orgs:
        code = check_delivery_access(
            lambda fn: fn(tx),
            bucket,
            trail.get("S3KeyPrefix"),
            trail["TrailARN"],
            call.account,
            org_id,
            now=call.now,
        )
        if code is not None:
            raise error(
                "InsufficientS3BucketPolicyException",
                f"Incorrect S3 bucket policy is detected for bucket: {bucket}",
            )


def _check_quota(call: Call, tx: Tx) -> None:
    """At most five trails of the caller's in the called region; a multi-region trail exists in
    every region and counts in each (AWS's CloudTrail FAQ and quotas page)."""
    here = [
        t
        for t in tx.list(call.account, TRAIL)
        if t["HomeRegion"] == call.region or t["IsMultiRegionTrail"]
    ]
    if len(here) >= MAX_TRAILS_PER_REGION:
        raise error(
            "MaximumNumberOfTrailsExceededException",
            f"User: {call.account} already has {MAX_TRAILS_PER_REGION} trails in "
            f"{call.region}.",
        )


# -- the operations ----------------------------------------------------------------------------


class TrailOps:
    """Trail operations; each ``(self, call, tx) -> dict`` (see :mod:`trailgate.services.base`).
    Writes: CreateTrail, UpdateTrail, DeleteTrail, StartLogging, StopLogging,
    PutEventSelectors, AddTags, RemoveTags.  The others only read."""

    # -- lookups ----------------------------------------------------------------------------

    def _visible(self, call: Call, tx: Tx, trail: Trail) -> bool:
        if trail["HomeRegion"] != call.region and not trail["IsMultiRegionTrail"]:
            return False
        if trail["Account"] == call.account:
            return True
        if not trail.get("IsOrganizationTrail"):
            return False
        org = org_of(tx, call.account)
        return org is not None and org["Id"] == trail.get("OrganizationId")

    def _find(self, call: Call, tx: Tx, ident: str) -> Trail | None:
        if is_arn(ident):
            region, owner, name = parse_arn(ident)
            trail = tx.get(owner, TRAIL, trail_key(region, name))
        else:
            trail = tx.get(call.account, TRAIL, trail_key(call.region, ident))
            if trail is None:  # the shadow of a multi-region trail of another home region
                trail = next(
                    (
                        t
                        for t in tx.list(call.account, TRAIL)
                        if t["Name"] == ident and t["IsMultiRegionTrail"]
                    ),
                    None,
                )
        if trail is None or not self._visible(call, tx, trail):
            return None
        return trail

    def _trail(self, call: Call, tx: Tx, ident: str | None, *, by_arn: bool = False) -> Trail:
        """The trail ``ident`` names; TrailNotFoundException names it as given, or, with
        ``by_arn``, a name as the ARN it has in the caller's account and region (AWS's message
        for GetTrailStatus and UpdateTrail)."""
        name = str(ident or "")
        if not is_arn(name):
            check_name(name)  # InvalidTrailNameException, as for CreateTrail
        trail = self._find(call, tx, name)
        if trail is None:
            raise not_found(self._shown(call, name, by_arn), call.account)
        return trail

    @staticmethod
    def _shown(call: Call, ident: str, by_arn: bool) -> str:
        if by_arn and not is_arn(ident):
            return trail_arn(call.region, call.account, ident)
        return ident

    def _own_trail(
        self, call: Call, tx: Tx, ident: str | None, *, by_arn: bool = False
    ) -> Trail:
        """A trail the caller may change: its own, from the home region."""
        trail = self._trail(call, tx, ident, by_arn=by_arn)
        if trail["Account"] != call.account:
            raise _not_management(call)
        if trail["HomeRegion"] != call.region:
            raise error(
                "InvalidHomeRegionException",
                f"This operation must be called from the trail's home region, "
                f"{trail['HomeRegion']}.",
            )
        return trail

    def _save(self, tx: Tx, trail: Trail, *, revise: bool = True) -> None:
        if revise:
            trail["Revision"] = int(trail.get("Revision", 0)) + 1
        key = trail_key(trail["HomeRegion"], trail["Name"])
        tx.put(trail["Account"], TRAIL, key, trail["Name"], trail)

    def _status(self, tx: Tx, trail: Trail) -> dict[str, Any]:
        status = tx.get(NS, STATUS, trail["TrailARN"])
        if status is None:  # pragma: no cover - created and deleted with the trail
            raise not_found(trail["Name"], trail["Account"])
        return status

    # -- create / update / delete -----------------------------------------------------------

    def CreateTrail(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        name = str(params.get("Name") or "")
        check_name(name)
        prefix = params.get("S3KeyPrefix") or None
        _check_prefix(prefix)
        _check_unsupported(params)
        trail: Trail = {
            "Name": name,
            "Account": call.account,
            "TrailARN": trail_arn(call.region, call.account, name),
            "HomeRegion": call.region,
            "S3BucketName": str(params.get("S3BucketName") or ""),
            "S3KeyPrefix": prefix,
            "IncludeGlobalServiceEvents": params.get("IncludeGlobalServiceEvents") is not False,
            "IsMultiRegionTrail": bool(params.get("IsMultiRegionTrail")),
            "LogFileValidationEnabled": bool(params.get("EnableLogFileValidation")),
            "IsOrganizationTrail": bool(params.get("IsOrganizationTrail")),
            "OrganizationId": None,
            "EventSelectors": copy.deepcopy(DEFAULT_SELECTORS),
            "AdvancedEventSelectors": None,
            "HasCustomEventSelectors": False,
            "HasInsightSelectors": False,
            # None: trailgate's default, false (AWS's is true; see trail/delivery_events.py)
            "RecursiveLogging": params.get("RecursiveLogging"),
            "TrailId": uuid.uuid4().hex,
            "Revision": 0,
            "CreationTime": stamp(call.now),
        }
        _check_combination(trail)
        _check_bucket_name(trail["S3BucketName"])
        tags = merge_tags({}, checked_tags(params.get("TagsList")))
        if trail["IsOrganizationTrail"]:
            trail["OrganizationId"] = _organization_id(call, tx)
        if self._find(call, tx, name) is not None:
            raise error(
                "TrailAlreadyExistsException",
                f"Trail {name} already exists for customer: {call.account}",
            )
        _check_quota(call, tx)
        _check_destination(tx, trail, call)
        trail["Tags"] = tags
        self._save(tx, trail, revise=False)
        tx.put(NS, STATUS, trail["TrailARN"], trail["Name"], _new_status(trail))
        return _view(trail, CREATE_FIELDS)

    def UpdateTrail(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        trail = self._own_trail(call, tx, params.get("Name"), by_arn=True)
        _check_unsupported(params)
        if params.get("S3BucketName") is not None:
            trail["S3BucketName"] = str(params["S3BucketName"])
            _check_bucket_name(trail["S3BucketName"])
        if params.get("S3KeyPrefix") is not None:
            trail["S3KeyPrefix"] = params["S3KeyPrefix"] or None
            _check_prefix(trail["S3KeyPrefix"])
        for param, member in (
            ("IncludeGlobalServiceEvents", "IncludeGlobalServiceEvents"),
            ("IsMultiRegionTrail", "IsMultiRegionTrail"),
            ("EnableLogFileValidation", "LogFileValidationEnabled"),
            ("IsOrganizationTrail", "IsOrganizationTrail"),
            ("RecursiveLogging", "RecursiveLogging"),
        ):
            if params.get(param) is not None:
                trail[member] = bool(params[param])
        _check_combination(trail)
        if params.get("IsOrganizationTrail") is not None:
            trail["OrganizationId"] = (
                _organization_id(call, tx) if trail["IsOrganizationTrail"] else None
            )
        _check_destination(tx, trail, call)
        self._save(tx, trail)
        return _view(trail, CREATE_FIELDS)

    def DeleteTrail(self, call: Call, tx: Tx) -> dict[str, Any]:
        trail = self._own_trail(call, tx, call.params.get("Name"))
        tx.delete(trail["Account"], TRAIL, trail_key(trail["HomeRegion"], trail["Name"]))
        tx.delete(NS, STATUS, trail["TrailARN"])
        return {}

    # -- reads ------------------------------------------------------------------------------

    def GetTrail(self, call: Call, tx: Tx) -> dict[str, Any]:
        return {"Trail": _view(self._trail(call, tx, call.params.get("Name")), TRAIL_FIELDS)}

    def _all_visible(self, call: Call, tx: Tx, *, shadows: bool) -> list[Trail]:
        found = [t for t in tx.list(call.account, TRAIL) if self._visible(call, tx, t)]
        org = org_of(tx, call.account)
        if org is not None and org.get("MasterAccountId") != call.account:
            found += [
                t
                for t in tx.list(str(org["MasterAccountId"]), TRAIL)
                if t.get("IsOrganizationTrail") and self._visible(call, tx, t)
            ]
        if not shadows:
            found = [t for t in found if _home(t, call)]
        return found

    def DescribeTrails(self, call: Call, tx: Tx) -> dict[str, Any]:
        names = call.params.get("trailNameList") or []
        shadows = call.params.get("includeShadowTrails") is not False
        if not names:
            trails = self._all_visible(call, tx, shadows=shadows)
        else:
            trails = []
            for ident in map(str, names):
                # A name matches only a trail of the caller's account whose home is the called
                # region; a trail of another region (a shadow) is described by its ARN only.
                trail = (
                    self._find(call, tx, ident)
                    if is_arn(ident)
                    else tx.get(call.account, TRAIL, trail_key(call.region, ident))
                )
                if trail is None or trail["TrailARN"] in (t["TrailARN"] for t in trails):
                    continue
                if shadows or _home(trail, call):
                    trails.append(trail)
        return {"trailList": [_view(t, TRAIL_FIELDS) for t in trails]}

    def ListTrails(self, call: Call, tx: Tx) -> dict[str, Any]:
        trails = self._all_visible(call, tx, shadows=True)
        return {
            "Trails": [
                {"TrailARN": t["TrailARN"], "Name": t["Name"], "HomeRegion": t["HomeRegion"]}
                for t in trails
            ]
        }

    def _trail_here(self, call: Call, tx: Tx, ident: str | None) -> Trail:
        """The trail ``ident`` names, where a name means a trail of the called region only (a
        shadow is named by its ARN); TrailNotFoundException names a name as its ARN here."""
        trail = self._trail(call, tx, ident, by_arn=True)
        if trail["HomeRegion"] != call.region and not is_arn(str(ident)):
            raise not_found(self._shown(call, str(ident), True), call.account)
        return trail

    def GetTrailStatus(self, call: Call, tx: Tx) -> dict[str, Any]:
        # A shadow trail's status is asked for by its ARN only (AWS's documentation).
        return status_view(self._status(tx, self._trail_here(call, tx, call.params.get("Name"))))

    # -- logging ----------------------------------------------------------------------------

    def StartLogging(self, call: Call, tx: Tx) -> dict[str, Any]:
        trail = self._own_trail(call, tx, call.params.get("Name"))
        status = self._status(tx, trail)
        if status["IsLogging"]:
            return {}
        newest = last_event_seq(tx)
        stop = status.get("StopSeq")
        if stop is not None and status["Cursor"] < stop:
            # The final log of the previous run is still pending: keep it, skip the pause.
            if newest > stop:
                status["Gaps"] = [*status.get("Gaps", []), [stop, newest]]
        else:
            status["Cursor"] = max(int(status["Cursor"]), newest)
            status["Gaps"] = []
        status.update(IsLogging=True, StopSeq=None, StartLoggingTime=stamp(call.now))
        tx.put(NS, STATUS, trail["TrailARN"], trail["Name"], status)
        return {}

    def StopLogging(self, call: Call, tx: Tx) -> dict[str, Any]:
        trail = self._own_trail(call, tx, call.params.get("Name"))
        status = self._status(tx, trail)
        if not status["IsLogging"]:
            return {}
        status.update(IsLogging=False, StopSeq=last_event_seq(tx), StopLoggingTime=stamp(call.now))
        tx.put(NS, STATUS, trail["TrailARN"], trail["Name"], status)
        return {}

    # -- event selectors --------------------------------------------------------------------

    def PutEventSelectors(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        trail = self._own_trail(call, tx, params.get("TrailName"))
        basic, advanced = params.get("EventSelectors"), params.get("AdvancedEventSelectors")
        if (basic is None) == (advanced is None):
            raise error(
                "InvalidEventSelectorsException",
                "Specify either EventSelectors or AdvancedEventSelectors, but not both.",
            )
        if basic is not None:
            trail["EventSelectors"] = normalize_basic(list(basic))
            trail["AdvancedEventSelectors"] = None
        else:
            trail["AdvancedEventSelectors"] = normalize_advanced(list(advanced or []))
            trail["EventSelectors"] = None
        trail["HasCustomEventSelectors"] = True
        self._save(tx, trail)
        return _selectors_view(trail)

    def GetEventSelectors(self, call: Call, tx: Tx) -> dict[str, Any]:
        # By name, as GetTrailStatus (AWS's answer, e.g. aws/aws-sdk-go-v2#1957).
        return _selectors_view(self._trail_here(call, tx, call.params.get("TrailName")))

    # -- tags -------------------------------------------------------------------------------

    def _tagged(self, call: Call, tx: Tx, resource: str | None) -> Trail:
        ident = str(resource or "")
        if not is_arn(ident):
            raise error("CloudTrailARNInvalidException", f"ARN {ident} is invalid.")
        region, owner, _ = parse_arn(ident)
        # Tags are reached in the home region only, and by the owner only (AWS's messages).
        if region != call.region:
            raise error("CloudTrailARNInvalidException", "Region in ARN is wrong, you can only "
                        f"access resources in region {call.region}.")
        if owner != call.account:
            raise error("CloudTrailARNInvalidException", "AccountID in ARN is wrong, you can "
                        f"only access resources with AccountID {call.account}.")
        trail = self._find(call, tx, ident)
        if trail is None:
            raise error("ResourceNotFoundException", f"Resource {ident} does not exist.")
        return trail

    def AddTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        trail = self._tagged(call, tx, call.params.get("ResourceId"))
        trail["Tags"] = merge_tags(
            trail.get("Tags") or {}, checked_tags(call.params.get("TagsList"))
        )
        self._save(tx, trail, revise=False)
        return {}

    def RemoveTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        trail = self._tagged(call, tx, call.params.get("ResourceId"))
        doomed = {key for key, _ in checked_tags(call.params.get("TagsList"), adding=False)}
        trail["Tags"] = {k: v for k, v in (trail.get("Tags") or {}).items() if k not in doomed}
        self._save(tx, trail, revise=False)
        return {}

    def ListTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        out = []
        for resource in call.params.get("ResourceIdList") or []:
            trail = self._tagged(call, tx, str(resource))
            tags = [{"Key": k, "Value": v} for k, v in (trail.get("Tags") or {}).items()]
            out.append({"ResourceId": trail["TrailARN"], "TagsList": tags})
        return {"ResourceTagList": out}


def _home(trail: Trail, call: Call) -> bool:
    """Not a shadow: the caller's own trail, in its home region."""
    return bool(trail["HomeRegion"] == call.region and trail["Account"] == call.account)


def _not_management(call: Call) -> ServiceError:
    return error(
        "NotOrganizationMasterAccountException",
        f"The request was rejected because account {call.account} is not the management "
        "account of the organization.",
    )


def _new_status(trail: Trail) -> dict[str, Any]:
    return {
        "TrailARN": trail["TrailARN"],
        "Account": trail["Account"],
        "Key": trail_key(trail["HomeRegion"], trail["Name"]),
        "TrailId": trail["TrailId"],
        "IsLogging": False,
        "StartLoggingTime": None,
        "StopLoggingTime": None,
        "Cursor": 0,
        "StopSeq": None,
        "Gaps": [],
        "LatestDeliveryTime": None,
        "LatestDeliveryAttemptTime": None,
        "LatestDeliveryAttemptSucceeded": None,
        "LatestDeliveryError": None,
        "LatestDigestDeliveryTime": None,
        "LatestDigestDeliveryError": None,
        "DeliveredFiles": 0,
        "DeliveredEvents": 0,
    }


def _selectors_view(trail: Trail) -> dict[str, Any]:
    out: dict[str, Any] = {"TrailARN": trail["TrailARN"]}
    if trail.get("AdvancedEventSelectors"):
        out["AdvancedEventSelectors"] = trail["AdvancedEventSelectors"]
    else:
        out["EventSelectors"] = trail.get("EventSelectors") or copy.deepcopy(DEFAULT_SELECTORS)
    return out


def status_view(status: dict[str, Any]) -> dict[str, Any]:
    """GetTrailStatus from a status record: the timestamps and errors that have a value, and
    the deprecated string fields always (an empty string when unset, as AWS answers)."""
    out: dict[str, Any] = {"IsLogging": bool(status.get("IsLogging"))}
    for member in (
        "LatestDeliveryTime",
        "StartLoggingTime",
        "StopLoggingTime",
        "LatestDigestDeliveryTime",
    ):
        moment = when(status.get(member))
        if moment is not None:
            out[member] = moment
    for member in ("LatestDeliveryError", "LatestDigestDeliveryError"):
        if status.get(member):
            out[member] = str(status[member])
    for member, source in (
        ("LatestDeliveryAttemptTime", "LatestDeliveryAttemptTime"),
        ("LatestDeliveryAttemptSucceeded", "LatestDeliveryAttemptSucceeded"),
        ("TimeLoggingStarted", "StartLoggingTime"),
        ("TimeLoggingStopped", "StopLoggingTime"),
    ):
        out[member] = legacy(status.get(source)) or ""
    out["LatestNotificationAttemptTime"] = ""  # no SNS notifications here
    out["LatestNotificationAttemptSucceeded"] = ""
    return out
