"""The organization condition keys (spec 1.7): ``aws:PrincipalOrgID`` /
``aws:PrincipalOrgPaths`` of a caller and ``aws:ResourceAccount`` / ``aws:ResourceOrgID`` /
``aws:ResourceOrgPaths`` of the resource a request acts on.

AWS sets the organization keys only when the account belongs to an organization (the
management account included): the organization's id, and the account's path from the
organization down through its root and OUs, written ``o-xxxxxxxxxx/r-xxxx/ou-xxxx-xxxxxxxx/``
(one value, with a trailing slash).  ``aws:ResourceAccount`` is always set.
"""

from __future__ import annotations

from typing import Any

from ..services.organizations.base import ORG, root_id_of

OrgPlace = tuple[str, str] | None
"""Where an account sits in the organization: (organization id, path), or None outside one."""

Keys = dict[str, tuple[str, ...]]

_MAX_DEPTH = 6  # the root plus five levels of OUs


def org_place(tx: Any, account: str) -> OrgPlace:
    """The organization id and path of ``account`` (None outside an organization)."""
    org: dict[str, Any] | None = tx.get(ORG, "organization", "org")
    record: dict[str, Any] | None = tx.get(ORG, "account", account) if org else None
    if org is None or record is None:
        return None
    root = root_id_of(org)
    units: list[str] = []
    parent = record.get("ParentId")
    while parent and parent != root and len(units) < _MAX_DEPTH:
        units.append(str(parent))
        ou: dict[str, Any] | None = tx.get(ORG, "ou", parent)
        parent = ou.get("ParentId") if ou is not None else None
    return org["Id"], "/".join([org["Id"], root, *reversed(units)]) + "/"


def principal_org_keys(place: OrgPlace) -> Keys:
    if place is None:
        return {}
    return {"aws:principalorgid": (place[0],), "aws:principalorgpaths": (place[1],)}


def resource_keys(account: str, place: OrgPlace) -> Keys:
    keys: Keys = {"aws:resourceaccount": (account,)}
    if place is not None:
        keys["aws:resourceorgid"] = (place[0],)
        keys["aws:resourceorgpaths"] = (place[1],)
    return keys
