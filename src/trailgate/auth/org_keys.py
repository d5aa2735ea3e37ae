"""The organization condition keys of a request: ``aws:PrincipalOrgID`` and
``aws:PrincipalOrgPaths`` for a caller whose account belongs to the organization,
``aws:ResourceAccount``, ``aws:ResourceOrgID`` and ``aws:ResourceOrgPaths`` for the account
that owns the resource.  A key is absent when its account is in no organization (AWS leaves
it out of the request context then)."""

from __future__ import annotations

from ..services.organizations.paths import org_path

__all__ = ["OrgPlace", "org_path", "principal_org_keys", "resource_org_keys"]

OrgPlace = tuple[str, str] | None
"""(organization id, path) of an account, or None: in no organization (:func:`org_path`)."""


def principal_org_keys(place: OrgPlace, keys: dict[str, tuple[str, ...]]) -> None:
    if place is not None:
        keys["aws:principalorgid"] = (place[0],)
        keys["aws:principalorgpaths"] = (place[1],)


def resource_org_keys(account: str, place: OrgPlace, keys: dict[str, tuple[str, ...]]) -> None:
    keys["aws:resourceaccount"] = (account,)
    if place is not None:
        keys["aws:resourceorgid"] = (place[0],)
        keys["aws:resourceorgpaths"] = (place[1],)
