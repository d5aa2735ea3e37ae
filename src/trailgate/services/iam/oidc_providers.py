"""OpenID Connect identity providers (the IAM entities trust policies name as Federated
principals, e.g. GitHub Actions' ``token.actions.githubusercontent.com``).  trailgate keeps them
as AWS does; it does not serve AssumeRoleWithWebIdentity.

Record: ``iam.oidc`` key = the provider's name lower-cased (the URL without ``https://`` and
trailing ``/``), name = that name; Url (as IAM shows it: without the scheme), Arn,
ClientIDList, ThumbprintList, CreateDate, Tags.
"""

from __future__ import annotations

from typing import Any

from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    add_tags,
    already_exists,
    check_tags,
    drop_tags,
    invalid_input,
    limit_exceeded,
    no_such_entity,
    stamp,
    when,
)
from .entity_policies import tag_page

OIDC = "iam.oidc"
CLIENT_IDS = 100  # IAM quota: client IDs per OIDC provider
THUMBPRINTS = 5  # IAM quota: thumbprints per OIDC provider


def provider_name(url: str) -> str:
    """The provider's name in its ARN: the URL without ``https://`` and a trailing ``/``."""
    name = url.split("://", 1)[1] if "://" in url else url
    return name.rstrip("/")


def _missing(arn: str) -> Exception:
    return no_such_entity(f"OpenIDConnect Provider not found for arn {arn}")


def _provider(call: Call, tx: Tx) -> Entity:
    arn = str(call.params["OpenIDConnectProviderArn"])
    prefix = f"arn:aws:iam::{call.account}:oidc-provider/"
    if not arn.startswith("arn:"):
        raise invalid_input(f"ARN {arn} is not valid.")
    entity = None
    if arn.startswith(prefix):
        entity = tx.get_entity(call.account, OIDC, arn[len(prefix):].lower())
    if entity is None:
        raise _missing(arn)
    return entity


def _save(call: Call, tx: Tx, entity: Entity) -> None:
    tx.put(call.account, OIDC, entity.key, entity.name, entity.data)
    tx.bump_generation()


def _check_lists(client_ids: list[str], thumbprints: list[str]) -> None:
    if len(client_ids) > CLIENT_IDS:
        raise limit_exceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: "
                             f"{CLIENT_IDS}")
    if len(thumbprints) > THUMBPRINTS:
        raise limit_exceeded(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: "
                             f"{THUMBPRINTS}")


class OidcProviderOps:
    """CreateOpenIDConnectProvider ... ListOpenIDConnectProviderTags."""

    def CreateOpenIDConnectProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        url = str(call.params["Url"])
        client_ids = list(dict.fromkeys(call.params.get("ClientIDList") or []))
        thumbprints = [str(t).lower() for t in call.params.get("ThumbprintList") or []]
        _check_lists(client_ids, thumbprints)
        tags = check_tags(call.params.get("Tags"))
        name = provider_name(url)
        if tx.get(call.account, OIDC, name.lower()) is not None:
            raise already_exists(f"Provider with url {url} already exists.")
        arn = f"arn:aws:iam::{call.account}:oidc-provider/{name}"
        data: dict[str, Any] = {
            "Url": name,
            "Arn": arn,
            "ClientIDList": client_ids,
            "ThumbprintList": thumbprints,
            "CreateDate": stamp(call.now),
            "Tags": tags,
        }
        tx.insert(call.account, OIDC, name.lower(), name, data)
        tx.bump_generation()
        out: dict[str, Any] = {"OpenIDConnectProviderArn": arn}
        if tags:
            out["Tags"] = tags
        return out

    def GetOpenIDConnectProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        data = _provider(call, tx).data
        out: dict[str, Any] = {
            "Url": data["Url"],
            "ClientIDList": list(data["ClientIDList"]),
            "ThumbprintList": list(data["ThumbprintList"]),
            "CreateDate": when(data["CreateDate"]),
        }
        if data.get("Tags"):
            out["Tags"] = list(data["Tags"])
        return out

    def ListOpenIDConnectProviders(self, call: Call, tx: Tx) -> dict[str, Any]:
        providers = tx.list(call.account, OIDC)
        return {"OpenIDConnectProviderList": [{"Arn": d["Arn"]} for d in providers]}

    def DeleteOpenIDConnectProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        tx.delete(call.account, OIDC, entity.key)
        tx.bump_generation()
        return {}

    def AddClientIDToOpenIDConnectProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        client = str(call.params["ClientID"])
        if client not in entity.data["ClientIDList"]:  # idempotent, as AWS documents
            _check_lists([*entity.data["ClientIDList"], client], [])
            entity.data["ClientIDList"] = [*entity.data["ClientIDList"], client]
            _save(call, tx, entity)
        return {}

    def RemoveClientIDFromOpenIDConnectProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        client = str(call.params["ClientID"])
        entity.data["ClientIDList"] = [c for c in entity.data["ClientIDList"] if c != client]
        _save(call, tx, entity)
        return {}

    def UpdateOpenIDConnectProviderThumbprint(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        thumbprints = [str(t).lower() for t in call.params.get("ThumbprintList") or []]
        _check_lists([], thumbprints)
        entity.data["ThumbprintList"] = thumbprints  # replaces the list, as AWS documents
        _save(call, tx, entity)
        return {}

    def TagOpenIDConnectProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        add_tags(entity.data, call.params)
        _save(call, tx, entity)
        return {}

    def UntagOpenIDConnectProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        drop_tags(entity.data, call.params)
        _save(call, tx, entity)
        return {}

    def ListOpenIDConnectProviderTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        return tag_page(_provider(call, tx).data.get("Tags", []), call.params)
