"""IAM's service last accessed reports ("Access Advisor"): GenerateServiceLastAccessedDetails,
GetServiceLastAccessedDetails, GetServiceLastAccessedDetailsWithEntities and
ListPoliciesGrantingServiceAccess.

A report covers a user, a role, a group (its members) or a managed policy (the users and roles
it is attached to, directly or through a group), and lists the services their identity policies
allow, each with the most recent attempt (allowed or denied) by one of those entities: when,
from which region, by whom, and how many of them attempted it.  ``ACTION_LEVEL`` reports add the
tracked actions (IAM's, and S3's management actions) that were attempted.  The attempts come
from :mod:`trailgate.gateway.service_use`; a report is made at once (``COMPLETED``) and kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from ...gateway.service_use import TRACKED_SERVICES, USAGE
from ...store.interface import Tx
from ..base import Call
from . import queries
from .common import (
    GROUP,
    ROLE,
    USER,
    Checks,
    check_arn,
    invalid_input,
    no_such_entity,
    page,
    split_iam_arn,
    stamp,
)
from .managed import aws_managed_by_arn
from .service_names import allowed_namespaces, grants, service_name

JOB: Final = "iam.lastaccessjob"
_KINDS: Final = {"user": (USER, "UserName", "UserId", "USER"),
                 "role": (ROLE, "RoleName", "RoleId", "ROLE"),
                 "group": (GROUP, "GroupName", "GroupId", "GROUP")}


@dataclass
class _Subject:
    documents: list[str] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)  # user / role records


def _record(tx: Tx, account: str, kind: str, name: str, arn: str) -> dict[str, Any]:
    data = tx.get(account, _KINDS[kind][0], name.lower())
    if data is None or str(data["Arn"]) != arn:
        raise no_such_entity(f"The {kind} with name {name} cannot be found.")
    return data


def _group_members(tx: Tx, account: str, group: dict[str, Any]) -> list[dict[str, Any]]:
    members = (tx.get(account, USER, key) for key in sorted(group.get("Members", [])))
    return [m for m in members if m is not None]


def _policy_subject(tx: Tx, account: str, arn: str) -> _Subject:
    parts = split_iam_arn(arn)
    mine = aws_managed_by_arn(arn) is not None or (parts is not None and parts[0] == account)
    text = queries.managed_policy_document(tx, arn) if mine else None
    if text is None:
        raise no_such_entity(f"Policy {arn} was not found.")
    subject = _Subject([text])

    def attached(data: dict[str, Any]) -> bool:
        return arn in data.get("AttachedPolicies", [])

    for kind in (USER, ROLE):
        subject.entities += [e.data for e in tx.scan(account, kind, where=attached)]
    for group in tx.scan(account, GROUP, where=attached):
        subject.entities += _group_members(tx, account, group.data)
    return subject


def _subject(tx: Tx, account: str, arn: str) -> tuple[str, _Subject]:
    """What ``arn`` names ("user", "role", "group" or "policy") and its policies and entities."""
    check_arn(arn)
    parts = split_iam_arn(arn)
    if (parts is not None and parts[1] == "policy") or aws_managed_by_arn(arn) is not None:
        return "policy", _policy_subject(tx, account, arn)
    if parts is None or parts[1] not in _KINDS or parts[0] != account:
        raise invalid_input(f"ARN {arn} is not valid.")  # UNSURE: AWS's answer here
    kind, name = parts[1], parts[3]
    data = _record(tx, account, kind, name, arn)
    if kind == "user":
        documents = queries.identity_policies_for_user(tx, account, name)
        return kind, _Subject([t for _, t in documents], [data])
    if kind == "role":
        documents = queries.identity_policies_for_role(tx, account, name)
        return kind, _Subject([t for _, t in documents], [data])
    texts = list(data.get("InlinePolicies", {}).values())
    texts += [t for a in data.get("AttachedPolicies", [])
              if (t := queries.managed_policy_document(tx, a)) is not None]
    return kind, _Subject(texts, _group_members(tx, account, data))


def _entity_info(data: dict[str, Any]) -> dict[str, Any]:
    kind = "role" if "RoleId" in data else "user"
    _, name_field, id_field, label = _KINDS[kind]
    return {"Arn": data["Arn"], "Name": data[name_field], "Type": label, "Id": data[id_field],
            "Path": data["Path"]}


def _usage(tx: Tx, account: str, entity: dict[str, Any]) -> dict[str, Any]:
    unique = entity.get("UserId") or entity.get("RoleId")
    return (tx.get(account, USAGE, str(unique)) or {}) if unique else {}


def _service_row(namespace: str, used: list[tuple[str, str, str]],
                 actions: dict[str, tuple[str, str, str]] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"ServiceName": service_name(namespace),
                           "ServiceNamespace": namespace,
                           "TotalAuthenticatedEntities": len(used)}
    if used:
        when, region, arn = max(used)
        row.update(LastAuthenticated=when, LastAuthenticatedEntity=arn,
                   LastAuthenticatedRegion=region)
    if actions is not None:
        # UNSURE: only the tracked actions attempted are listed, not every one allowed
        row["TrackedActionsLastAccessed"] = [
            {"ActionName": name, "LastAccessedEntity": arn, "LastAccessedTime": when,
             "LastAccessedRegion": region}
            for name, (when, region, arn) in sorted(actions.items())]
    return row


def build_report(tx: Tx, account: str, subject: _Subject, action_level: bool) -> dict[str, Any]:
    """The report's services (sorted by name) and, per service, the entities' last attempts."""
    usages = [(e, _usage(tx, account, e)) for e in subject.entities]
    services: list[dict[str, Any]] = []
    entities: dict[str, list[dict[str, Any]]] = {}
    for namespace in sorted(allowed_namespaces(subject.documents), key=service_name):
        used: list[tuple[str, str, str]] = []
        actions: dict[str, tuple[str, str, str]] = {}
        listed: list[dict[str, Any]] = []
        for entity, usage in usages:
            last = usage.get("Services", {}).get(namespace)
            detail: dict[str, Any] = {"EntityInfo": _entity_info(entity)}
            if last:
                used.append((last[0], last[1], str(usage["Arn"])))
                detail["LastAuthenticated"] = last[0]
            listed.append(detail)
            for name, (when, region) in usage.get("Actions", {}).get(namespace, {}).items():
                if name not in actions or actions[name] < (when, region, str(usage["Arn"])):
                    actions[name] = (when, region, str(usage["Arn"]))
        tracked = action_level and namespace in TRACKED_SERVICES
        services.append(_service_row(namespace, used, actions if tracked else None))
        entities[namespace] = listed
    return {"Services": services, "Entities": entities}


def _job(call: Call, tx: Tx) -> dict[str, Any]:
    job_id = call.params["JobId"]
    data = tx.get(call.account, JOB, str(job_id))
    if data is None:
        raise no_such_entity(f"Job with id {job_id} cannot be found.")  # UNSURE: AWS's text
    return data


def _job_head(data: dict[str, Any]) -> dict[str, Any]:
    return {"JobStatus": "COMPLETED", "JobType": data["JobType"],
            "JobCreationDate": data["JobCreationDate"],
            "JobCompletionDate": data["JobCompletionDate"]}


class LastAccessedOps:
    def GenerateServiceLastAccessedDetails(self, call: Call, tx: Tx) -> dict[str, Any]:
        granularity = call.params.get("Granularity") or "SERVICE_LEVEL"
        checks = Checks()
        checks.enum(granularity, "granularity", ("SERVICE_LEVEL", "ACTION_LEVEL"))
        checks.done()
        _, subject = _subject(tx, call.account, str(call.params["Arn"]))
        now = stamp(call.now)
        report = build_report(tx, call.account, subject, granularity == "ACTION_LEVEL")
        job_id = str(uuid.uuid4())
        tx.put(call.account, JOB, job_id, job_id, {
            "JobType": granularity, "JobCreationDate": now, "JobCompletionDate": now,
            "Arn": call.params["Arn"], **report})
        return {"JobId": job_id}

    def GetServiceLastAccessedDetails(self, call: Call, tx: Tx) -> dict[str, Any]:
        data = _job(call, tx)
        rows, extra = page(data["Services"], lambda r: str(r["ServiceName"]), call.params)
        return {**_job_head(data), "ServicesLastAccessed": rows, **extra}

    def GetServiceLastAccessedDetailsWithEntities(self, call: Call, tx: Tx) -> dict[str, Any]:
        data = _job(call, tx)
        namespace = str(call.params["ServiceNamespace"])
        listed = data["Entities"].get(namespace)
        if listed is None:  # UNSURE: AWS's answer for a namespace the report does not list
            raise invalid_input(f"The service namespace {namespace} is not in the report.")
        rows, extra = page(listed, lambda r: str(r["EntityInfo"]["Arn"]), call.params)
        return {**_job_head(data), "EntityDetailsList": rows, **extra}

    def ListPoliciesGrantingServiceAccess(self, call: Call, tx: Tx) -> dict[str, Any]:
        arn = str(call.params["Arn"])
        check_arn(arn)
        parts = split_iam_arn(arn)
        if parts is None or parts[1] not in _KINDS or parts[0] != call.account:
            raise invalid_input(f"ARN {arn} is not valid.")
        data = _record(tx, call.account, parts[1], parts[3], arn)
        sources = _policy_sources(tx, call.account, parts[1], data)
        out = []
        for namespace in call.params["ServiceNamespaces"]:
            policies = [dict(item) for item, text in sources if grants(text, namespace)]
            out.append({"ServiceNamespace": namespace, "Policies": policies})
        return {"PoliciesGrantingServiceAccess": out, "IsTruncated": False}


def _own(tx: Tx, kind: str, data: dict[str, Any]) -> list[tuple[dict[str, str], str]]:
    name = str(data[_KINDS[kind][1]])
    found: list[tuple[dict[str, str], str]] = [
        ({"PolicyName": policy, "PolicyType": "INLINE", "EntityType": _KINDS[kind][3],
          "EntityName": name}, text)
        for policy, text in sorted(data.get("InlinePolicies", {}).items())]
    for arn in data.get("AttachedPolicies", []):
        text = queries.managed_policy_document(tx, arn)
        if text is not None:
            found.append(({"PolicyName": arn.rsplit("/", 1)[-1], "PolicyType": "MANAGED",
                           "PolicyArn": arn}, text))
    return found


def _policy_sources(tx: Tx, account: str, kind: str,
                    data: dict[str, Any]) -> list[tuple[dict[str, str], str]]:
    """(Policies item, document) of every identity policy of the entity (a user's groups'
    too; a managed policy once)."""
    found = _own(tx, kind, data)
    if kind == "user":
        for key in data.get("Groups", []):
            group = tx.get(account, GROUP, key)
            if group is not None:
                found += _own(tx, "group", group)
    seen: set[str] = set()
    unique = []
    for item, text in found:
        ident = item.get("PolicyArn") or f"{item.get('EntityType')}/{item['PolicyName']}"
        if ident not in seen:
            seen.add(ident)
            unique.append((item, text))
    return unique
