"""Where an account sits in the organization, as the ``aws:PrincipalOrgID`` /
``aws:PrincipalOrgPaths`` and ``aws:ResourceOrgID`` / ``aws:ResourceOrgPaths`` condition keys
give it: the organization's id, and the account's path ``o-.../r-.../ou-.../.../``, the ids
from the organization down to the account's parent, each followed by a slash."""

from __future__ import annotations

from typing import Any

from .base import ORG, root_id_of

MAX_LEVELS = 6  # the root and five levels of OUs


def org_path(tx: Any, account: str) -> tuple[str, str] | None:
    """(organization id, path of the account's parent) of ``account``; None when it is in no
    organization."""
    org: dict[str, Any] | None = tx.get(ORG, "organization", "org")
    if org is None:
        return None
    record: dict[str, Any] | None = tx.get(ORG, "account", account)
    if record is None:
        return None
    return str(org["Id"]), _path_below(tx, org, record.get("ParentId"))


def entity_path(tx: Any, entity: str, kind: str) -> str:
    """The path of an account or OU (``kind``: ``account`` / ``ou``) including itself, as
    DescribeAccount's ``Paths`` and DescribeOrganizationalUnit's ``Path`` give it:
    ``o-.../r-.../ou-.../<id>/``."""
    org: dict[str, Any] = tx.get(ORG, "organization", "org")
    record: dict[str, Any] = tx.get(ORG, kind, entity)
    return f"{_path_below(tx, org, record.get('ParentId'))}{entity}/"


def _path_below(tx: Any, org: dict[str, Any], parent: Any) -> str:
    """``o-.../r-.../ou-.../`` down to ``parent`` (None: the root)."""
    root = root_id_of(org)
    ous: list[str] = []
    while parent and parent != root and len(ous) < MAX_LEVELS:
        ous.append(str(parent))
        ou: dict[str, Any] | None = tx.get(ORG, "ou", parent)
        parent = ou.get("ParentId") if ou is not None else None
    return "/".join([org["Id"], root, *reversed(ous)]) + "/"
