"""SAML 2.0 identity providers: the IAM entities that trust policies name as
``{"Federated": "arn:aws:iam::ACCT:saml-provider/NAME"}`` and that STS AssumeRoleWithSAML
checks assertions against.

Record: ``iam.saml`` key = the name lower-cased (IAM names are unique whatever their case),
name = the name as given; Arn, SAMLMetadataDocument (as uploaded), CreateDate, ValidUntil (the
metadata's validUntil, else 100 years after the upload, as AWS sets it), SAMLProviderUUID,
AssertionEncryptionMode, PrivateKeys ([{KeyId, Timestamp, Key}], the PEM encrypted with the
data dir's master key), Tags, and what STS reads from the metadata: EntityId (the issuer) and
Certificates (PEM).
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ...auth import tokens
from ...store.interface import Entity, Tx
from ..base import Call
from .common import (
    add_tags,
    already_exists,
    check_arn,
    check_tags,
    drop_tags,
    invalid_input,
    limit_exceeded,
    no_such_entity,
    stamp,
    when,
)
from .entity_policies import tag_page
from .saml_metadata import MetadataError, read_metadata

SAML = "iam.saml"
PROVIDERS = 100  # IAM quota: SAML providers per account
PRIVATE_KEYS = 2  # IAM quota: private keys per SAML provider
KEY_CONTEXT = "saml-private-key"
DEFAULT_VALIDITY_YEARS = 100

# UNSURE: these refusals are worded as AWS's SAML troubleshooting guide words them; the API's
# exact texts are not published.
NO_UPDATES = (
    "Unable to update identity provider. No updates are defined for metadata or encryption "
    "assertion."
)
REQUIRED_WITHOUT_KEY = (
    "Unable to set assertion encryption mode to Required because no private key is provided."
)
ADD_AND_REMOVE = (
    "Unable to add and remove private keys in the same request. Set a value for only one of "
    "the two parameters."
)
INVALID_KEY = "Invalid private key."
KEY_LIMIT = f"Private key limit of {PRIVATE_KEYS} is reached."
NO_SUCH_KEY = "Failed to remove private key because the Key ID does not match a private key."


def provider_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:saml-provider/{name}"


def new_identifier() -> str:
    """SAMLProviderUUID and private key ids: 26 upper-case letters and digits (IAM's pattern
    ``[A-Z0-9]+``, 22 to 64 long).  UNSURE: AWS's own form is not published."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


def _missing(arn: str) -> Exception:
    return no_such_entity(f"Manifest not found for arn {arn}")


def find_provider(tx: Tx, account: str, arn: str) -> Entity | None:
    """The provider an ARN of ``account`` names, or None."""
    prefix = f"arn:aws:iam::{account}:saml-provider/"
    if not arn.startswith(prefix):
        return None
    return tx.get_entity(account, SAML, arn[len(prefix):].lower())


def _provider(call: Call, tx: Tx) -> Entity:
    arn = str(call.params["SAMLProviderArn"])
    check_arn(arn)
    entity = find_provider(tx, call.account, arn)
    if entity is None:
        raise _missing(arn)
    return entity


def _save(call: Call, tx: Tx, entity: Entity) -> None:
    tx.put(call.account, SAML, entity.key, entity.name, entity.data)
    tx.bump_generation()


def _years_later(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year + years)
    except ValueError:  # 29 February, and the later year is not a leap year
        return now.replace(year=now.year + years, day=28)


def _metadata_fields(document: str, now: datetime) -> dict[str, Any]:
    try:
        metadata = read_metadata(document)
    except MetadataError as exc:
        raise invalid_input(str(exc)) from None
    valid_until = metadata.valid_until or _years_later(now, DEFAULT_VALIDITY_YEARS)
    return {
        "SAMLMetadataDocument": document,
        "ValidUntil": stamp(valid_until),
        "EntityId": metadata.entity_id,
        "Certificates": list(metadata.certificates),
    }


class SamlProviderOps:
    """CreateSAMLProvider ... ListSAMLProviderTags."""

    secret_key: bytes  # the data dir's master key (IamProvider)

    def _private_key(self, pem: str, now: datetime) -> dict[str, str]:
        try:
            load_pem_private_key(pem.encode("latin-1"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise invalid_input(INVALID_KEY) from None
        sealed = tokens.encrypt_secret(self.secret_key, pem, KEY_CONTEXT)
        return {"KeyId": new_identifier(), "Timestamp": stamp(now), "Key": sealed}

    def CreateSAMLProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        name = str(params["Name"])
        tags = check_tags(params.get("Tags"))
        fields = _metadata_fields(str(params["SAMLMetadataDocument"]), call.now)
        mode = params.get("AssertionEncryptionMode") or "Allowed"
        pem = params.get("AddPrivateKey")
        if mode == "Required" and not pem:
            raise invalid_input(REQUIRED_WITHOUT_KEY)
        if tx.get(call.account, SAML, name.lower()) is not None:
            raise already_exists(f"Provider with name {name} already exists.")
        if tx.count(call.account, SAML) >= PROVIDERS:
            raise limit_exceeded(f"Cannot exceed quota for SAMLProvidersPerAccount: {PROVIDERS}")
        arn = provider_arn(call.account, name)
        data: dict[str, Any] = {
            "Arn": arn,
            "Name": name,
            **fields,
            "CreateDate": stamp(call.now),
            "SAMLProviderUUID": new_identifier(),
            "AssertionEncryptionMode": mode,
            "PrivateKeys": [self._private_key(str(pem), call.now)] if pem else [],
            "Tags": tags,
        }
        tx.insert(call.account, SAML, name.lower(), name, data)
        tx.bump_generation()
        out: dict[str, Any] = {"SAMLProviderArn": arn}
        if tags:
            out["Tags"] = tags
        return out

    def GetSAMLProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        data = _provider(call, tx).data
        return {
            "SAMLProviderUUID": data["SAMLProviderUUID"],
            "SAMLMetadataDocument": data["SAMLMetadataDocument"],
            "CreateDate": when(data["CreateDate"]),
            "ValidUntil": when(data["ValidUntil"]),
            "Tags": list(data.get("Tags") or []),  # AWS answers an empty list too
            "AssertionEncryptionMode": data["AssertionEncryptionMode"],
            "PrivateKeyList": [
                {"KeyId": key["KeyId"], "Timestamp": when(key["Timestamp"])}
                for key in data.get("PrivateKeys") or []
            ],
        }

    def UpdateSAMLProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        params = call.params
        entity = _provider(call, tx)
        document = params.get("SAMLMetadataDocument")
        mode = params.get("AssertionEncryptionMode")
        add, remove = params.get("AddPrivateKey"), params.get("RemovePrivateKey")
        if document is None and mode is None and add is None and remove is None:
            raise invalid_input(NO_UPDATES)
        if add is not None and remove is not None:
            raise invalid_input(ADD_AND_REMOVE)
        data = entity.data
        if document is not None:
            data.update(_metadata_fields(str(document), call.now))
        keys = self._updated_keys(list(data.get("PrivateKeys") or []), add, remove, call.now)
        mode = mode or data["AssertionEncryptionMode"]
        if mode == "Required" and not keys:
            raise invalid_input(REQUIRED_WITHOUT_KEY)
        data["PrivateKeys"], data["AssertionEncryptionMode"] = keys, mode
        _save(call, tx, entity)
        return {"SAMLProviderArn": data["Arn"]}

    def _updated_keys(
        self, keys: list[dict[str, str]], add: Any, remove: Any, now: datetime
    ) -> list[dict[str, str]]:
        if add is not None:
            if len(keys) >= PRIVATE_KEYS:
                raise limit_exceeded(KEY_LIMIT)
            return [*keys, self._private_key(str(add), now)]
        if remove is not None:
            kept = [key for key in keys if key["KeyId"] != remove]
            if len(kept) == len(keys):
                raise invalid_input(NO_SUCH_KEY)
            return kept
        return keys

    def DeleteSAMLProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        tx.delete(call.account, SAML, entity.key)
        tx.bump_generation()
        return {}

    def ListSAMLProviders(self, call: Call, tx: Tx) -> dict[str, Any]:
        return {
            "SAMLProviderList": [
                {"Arn": d["Arn"], "ValidUntil": when(d["ValidUntil"]),
                 "CreateDate": when(d["CreateDate"])}
                for d in tx.list(call.account, SAML)
            ]
        }

    def TagSAMLProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        add_tags(entity.data, call.params)
        _save(call, tx, entity)
        return {}

    def UntagSAMLProvider(self, call: Call, tx: Tx) -> dict[str, Any]:
        entity = _provider(call, tx)
        drop_tags(entity.data, call.params)
        _save(call, tx, entity)
        return {}

    def ListSAMLProviderTags(self, call: Call, tx: Tx) -> dict[str, Any]:
        return tag_page(_provider(call, tx).data.get("Tags", []), call.params)
