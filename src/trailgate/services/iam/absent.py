"""Listings of IAM entities trailgate never holds (nothing can create them here): signing
certificates, SSH public keys, service-specific credentials, server certificates.  They
answer the empty lists AWS gives an account without any, after the same input checks (a named
user must exist), so inventory and compliance tools can walk IAM."""

from __future__ import annotations

from typing import Any

from ...store.interface import Tx
from ..base import Call
from .common import USERS, Checks, max_items, target_user
from .entity_policies import load


def _user_listing(call: Call, tx: Tx, high: int) -> None:
    """Checks of the per-user listings; the named (or calling) user must exist."""
    checks = Checks()
    checks.name(call.params.get("UserName"), "userName", high)
    checks.done()
    max_items(call.params)
    name = target_user(call.params, call.principal)
    if name is not None:
        load(tx, call.account, USERS, name)


class AbsentEntityOps:
    """ListSigningCertificates ... ListServerCertificates (always empty)."""

    def ListSigningCertificates(self, call: Call, tx: Tx) -> dict[str, Any]:
        _user_listing(call, tx, 128)
        return {"Certificates": [], "IsTruncated": False}

    def ListSSHPublicKeys(self, call: Call, tx: Tx) -> dict[str, Any]:
        _user_listing(call, tx, 64)
        return {"SSHPublicKeys": [], "IsTruncated": False}

    def ListServiceSpecificCredentials(self, call: Call, tx: Tx) -> dict[str, Any]:
        _user_listing(call, tx, 64)
        return {"ServiceSpecificCredentials": []}

    def ListServerCertificates(self, call: Call, tx: Tx) -> dict[str, Any]:
        checks = Checks()
        checks.prefix(call.params.get("PathPrefix"))
        checks.done()
        max_items(call.params)
        return {"ServerCertificateMetadataList": [], "IsTruncated": False}
