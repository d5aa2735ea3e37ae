"""The organization condition keys of a caller (spec 1.7): ``aws:PrincipalOrgID`` and
``aws:PrincipalOrgPaths``, present only when the caller's account belongs to an organization.

AWS sets them for every IAM principal of a member account (the management account included):
the organization's id, and the account's path from the organization down through its root and
OUs, written ``o-xxxxxxxxxx/r-xxxx/ou-xxxx-xxxxxxxx/.../`` (one value, with a trailing slash).
"""

from __future__ import annotations

from typing import Any

from ..services.organizations.base import ORG, root_id_of

OrgKeys = tuple[tuple[str, tuple[str, ...]], ...]

_MAX_DEPTH = 6  # the root plus five levels of OUs


def org_keys(tx: Any, account: str) -> OrgKeys:
    """The organization keys of ``account``'s principals (empty outside an organization)."""
    org: dict[str, Any] | None = tx.get(ORG, "organization", "org")
    record: dict[str, Any] | None = tx.get(ORG, "account", account) if org else None
    if org is None or record is None:
        return ()
    root = root_id_of(org)
    units: list[str] = []
    parent = record.get("ParentId")
    while parent and parent != root and len(units) < _MAX_DEPTH:
        units.append(str(parent))
        ou: dict[str, Any] | None = tx.get(ORG, "ou", parent)
        parent = ou.get("ParentId") if ou is not None else None
    path = "/".join([org["Id"], root, *reversed(units)]) + "/"
    return (("aws:principalorgid", (org["Id"],)), ("aws:principalorgpaths", (path,)))
