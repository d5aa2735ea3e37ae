"""SAML 2.0 identity-provider metadata, read as IAM reads it for CreateSAMLProvider and
UpdateSAMLProvider: an ``md:EntityDescriptor`` (its ``entityID`` is the issuer AWS expects in
assertions) with an ``md:IDPSSODescriptor`` that holds at least one X.509 certificate for
signing (a ``md:KeyDescriptor`` with ``use="signing"`` or without ``use``).  Anything else is
refused with IAM's ``InvalidInput`` "Could not parse metadata".

The XML is parsed without entity expansion or network access (lxml, hardened parser).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"

# UNSURE: the text is the one AWS's SAML troubleshooting guide shows for metadata IAM cannot
# read; whether the API's message carries the guide's trailing period is not published.
COULD_NOT_PARSE = "Could not parse metadata"


class MetadataError(ValueError):
    """The document is not metadata IAM accepts."""


@dataclass(frozen=True)
class Metadata:
    entity_id: str
    certificates: tuple[str, ...]  # PEM, in document order
    valid_until: datetime | None  # the EntityDescriptor's validUntil, if any


def safe_parser() -> Any:
    """An lxml parser that never expands entities nor fetches anything."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )


def parse_xml(data: bytes) -> Any:
    """The root element of ``data``; ``ValueError`` for anything that is not one XML document
    (including DOCTYPE declarations, which no SAML message or metadata needs)."""
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    if root is None or root.getroottree().docinfo.doctype:
        raise ValueError("DOCTYPE is not allowed")
    return root


def read_metadata(text: str) -> Metadata:
    """The parts of a metadata document STS needs; :class:`MetadataError` when IAM would refuse
    it."""
    try:
        root = parse_xml(text.encode("utf-8"))
    except ValueError:
        raise MetadataError(COULD_NOT_PARSE) from None
    if root.tag != f"{{{MD}}}EntityDescriptor" or not root.get("entityID"):
        raise MetadataError(COULD_NOT_PARSE)
    idp = root.find(f"{{{MD}}}IDPSSODescriptor")
    if idp is None:
        raise MetadataError(COULD_NOT_PARSE)
    certificates = tuple(
        pem
        for descriptor in idp.findall(f"{{{MD}}}KeyDescriptor")
        if descriptor.get("use") in (None, "signing")
        for pem in _certificates(descriptor)
    )
    if not certificates:
        raise MetadataError(COULD_NOT_PARSE)
    return Metadata(str(root.get("entityID")), certificates, _valid_until(root))


def _certificates(descriptor: Any) -> list[str]:
    found: list[str] = []
    for node in descriptor.iter(f"{{{DS}}}X509Certificate"):
        text = "".join(str(node.text or "").split())
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise MetadataError(COULD_NOT_PARSE) from None
        found.append(cert.public_bytes(Encoding.PEM).decode("ascii"))
    return found


def _valid_until(root: Any) -> datetime | None:
    value = root.get("validUntil")
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise MetadataError(COULD_NOT_PARSE) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
