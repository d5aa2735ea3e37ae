"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole,
GetServiceLinkedRoleDeletionStatus, and the protection AWS gives such roles.

AWS facts used: a service-linked role lives at path ``/aws-service-role/<service principal>/``
under the name AWS chose for the service (``AWSServiceRoleForCloudTrail``...), trusts that
service principal, and carries the service's AWS managed policy; creating it twice answers
``InvalidInput`` "Service role name N has been taken in this account, please try a different
suffix." (quoted verbatim in many public reports); users cannot change its trust policy,
permissions or boundary, nor delete it with DeleteRole: ``UnmodifiableEntity`` "Cannot perform
the operation on the protected role 'N' - this role is only modifiable by AWS" (quoted in
public reports for UpdateAssumeRolePolicy and PutRolePolicy); its description and tags stay
editable.  DeleteServiceLinkedRole answers a DeletionTaskId of the form
``task/aws-service-role/<service>/<role>/<uuid>`` and GetServiceLinkedRoleDeletionStatus a
Status of SUCCEEDED | IN_PROGRESS | FAILED | NOT_STARTED (IAM API reference).

Trailgate serves no resource that uses a service-linked role, so a deletion always succeeds at
once (AWS deletes asynchronously, after checking the service no longer uses the role).  The
AWS managed policies AWS attaches to these roles (``CloudTrailServiceRolePolicy``,
``AWSOrganizationsServiceTrustPolicy``... under ``/aws-service-role/``) are not in trailgate's
managed-policy data, so they are attached only if that data ever holds them.

UNSURE (not published): the answers for an unknown service name, a CustomSuffix the service
does not allow, DeleteServiceLinkedRole on an ordinary role, and an unknown deletion task, and
UpdateRole's wording for MaxSessionDuration.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ...auth import tokens
from ...store.interface import Tx
from ..base import Call
from .common import (
    DESC_RE,
    DESC_SHOWN,
    NAME_RE,
    NAME_SHOWN,
    ROLE,
    ROLES,
    Checks,
    entity_arn,
    invalid_input,
    no_such_entity,
    stamp,
)
from .documents import adjust_usage, check_trust_document
from .entity_policies import load
from .linked_services import SERVICES
from .managed import aws_managed_by_arn
from .roles import role_view

SLR_PATH = "/aws-service-role/"
DELETION = "iam.slrdeletion"


def linked_role_name(service: str, suffix: str | None) -> str:
    """The role name AWS gives ``service``'s service-linked role (``InvalidInput`` for a
    service without one, or a suffix the service does not take)."""
    found = SERVICES.get(service)
    if found is None:
        raise invalid_input(f"Unrecognized service name {service}.")  # UNSURE wording
    if suffix is None:
        return found.role_name
    if not found.suffix_allowed:
        raise invalid_input(f"Custom suffix is not allowed for {service}")  # UNSURE
    return f"{found.role_name}_{suffix}"


def _trust(service: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }],
    })


def _check_create(params: dict[str, Any]) -> None:
    checks = Checks()
    checks.text(params.get("AWSServiceName"), "aWSServiceName", 1, 128, NAME_RE, NAME_SHOWN)
    checks.text(params.get("Description"), "description", 0, 1000, DESC_RE, DESC_SHOWN)
    checks.text(params.get("CustomSuffix"), "customSuffix", 1, 64, NAME_RE, NAME_SHOWN)
    checks.done()


def _role_record(call: Call, tx: Tx, service: str, name: str) -> dict[str, Any]:
    path = f"{SLR_PATH}{service}/"
    text = _trust(service)
    policy = SERVICES[service].policy
    arn = f"arn:aws:iam::aws:policy{SLR_PATH}{policy}" if policy else None
    attached = [arn] if arn and aws_managed_by_arn(arn) is not None else []
    return {
        "RoleName": name,
        "RoleId": tokens.new_unique_id("AROA"),
        "Arn": entity_arn(call.account, "role", path, name),
        "Path": path,
        "CreateDate": stamp(call.now),
        "AssumeRolePolicyDocument": text,
        "Description": call.params.get("Description"),
        "MaxSessionDuration": 3600,
        "PermissionsBoundary": None,
        "Tags": [],
        "RoleLastUsed": None,
        "InlinePolicies": {},
        "AttachedPolicies": attached,
        "TrustPrincipalIds": check_trust_document(tx, text, "assumeRolePolicyDocument"),
        "ServiceLinked": service,
    }


class ServiceLinkedRoleOps:
    """CreateServiceLinkedRole, DeleteServiceLinkedRole, GetServiceLinkedRoleDeletionStatus."""

    def CreateServiceLinkedRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        _check_create(call.params)
        service = str(call.params["AWSServiceName"])
        name = linked_role_name(service, call.params.get("CustomSuffix"))
        if tx.get(call.account, ROLE, name.lower()) is not None:
            raise invalid_input(
                f"Service role name {name} has been taken in this account, please try a "
                "different suffix."
            )
        data = _role_record(call, tx, service, name)
        tx.insert(call.account, ROLE, name.lower(), name, data)
        tx.index_put(data["RoleId"], call.account, ROLE, name.lower())
        for arn in data["AttachedPolicies"]:
            adjust_usage(tx, call.account, arn, attach=1)
        tx.bump_generation()
        view = role_view(data)
        del view["RoleLastUsed"]  # as CreateRole, the new role reports none
        return {"Role": view}

    def DeleteServiceLinkedRole(self, call: Call, tx: Tx) -> dict[str, Any]:
        checks = Checks()
        checks.name(call.params.get("RoleName"), "roleName", 64)
        checks.done()
        entity = load(tx, call.account, ROLES, call.params["RoleName"])
        service = entity.data.get("ServiceLinked")
        if not service:
            raise invalid_input(  # UNSURE wording
                f"Role {entity.data['RoleName']} is not a service-linked role."
            )
        for arn in entity.data.get("AttachedPolicies", []):
            adjust_usage(tx, call.account, arn, attach=-1)
        tx.delete(call.account, ROLE, entity.key)
        task = f"task{SLR_PATH}{service}/{entity.data['RoleName']}/{uuid.uuid4()}"
        tx.put(call.account, DELETION, task, task,
               {"Status": "SUCCEEDED", "RoleArn": entity.data["Arn"]})
        tx.bump_generation()
        return {"DeletionTaskId": task}

    def GetServiceLinkedRoleDeletionStatus(self, call: Call, tx: Tx) -> dict[str, Any]:
        task = str(call.params["DeletionTaskId"])
        checks = Checks()
        checks.length(task, "deletionTaskId", 1, 1000)
        checks.done()
        if not task.startswith(f"task{SLR_PATH}") or task.count("/") != 4:
            raise invalid_input(f"Invalid deletion task id: {task}")  # UNSURE wording
        record = tx.get(call.account, DELETION, task)
        if record is None:
            raise no_such_entity(f"Deletion task {task} cannot be found.")  # UNSURE wording
        return {"Status": record["Status"]}
