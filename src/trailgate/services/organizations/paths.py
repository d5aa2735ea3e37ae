"""Where an account sits in the organization, as the ``aws:PrincipalOrgID`` /
``aws:PrincipalOrgPaths`` and ``aws:ResourceOrgID`` / ``aws:ResourceOrgPaths`` condition keys
give it: the organization's id, and the account's path ``o-.../r-.../ou-.../.../``, the ids
from the organization down to the account's parent, each followed by a slash."""

from __future__ import annotations

from typing import Any

from .base import ORG, root_id_of

MAX_LEVELS = 6  # the root and five levels of OUs


def org_path(tx: Any, account: str) -> tuple[str, str] | None:
    """(organization id, entity path) of ``account``; None when it is in no organization."""
    org: dict[str, Any] | None = tx.get(ORG, "organization", "org")
    if org is None:
        return None
    record: dict[str, Any] | None = tx.get(ORG, "account", account)
    if record is None:
        return None
    root = root_id_of(org)
    ous: list[str] = []
    parent = record.get("ParentId")
    while parent and parent != root and len(ous) < MAX_LEVELS:
        ous.append(str(parent))
        ou: dict[str, Any] | None = tx.get(ORG, "ou", parent)
        parent = ou.get("ParentId") if ou is not None else None
    path = "/".join([org["Id"], root, *reversed(ous)]) + "/"
    return str(org["Id"]), path
