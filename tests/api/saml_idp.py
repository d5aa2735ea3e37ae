"""A test SAML 2.0 identity provider, in-process: an RSA key with a self-signed certificate,
its metadata document, and signed SAML Responses (signxml: enveloped RSA-SHA256 signature,
exclusive c14n) as an IdP posts them to AWS."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner

SIGNIN = "https://signin.aws.amazon.com/saml"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Idp:
    entity_id: str = "https://idp.example.com/saml"
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trailgate test idp")])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def metadata(self, valid_until: str | None = None, use: str = "signing") -> str:
        der = self.cert.public_bytes(serialization.Encoding.DER)
        until = f' validUntil="{valid_until}"' if valid_until else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'entityID="{self.entity_id}"{until}>'
            '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f'<md:KeyDescriptor use="{use}"><ds:KeyInfo '
            'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>'
            f"{base64.b64encode(der).decode()}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
            "</md:KeyDescriptor>"
            f"<md:NameIDFormat>{TRANSIENT}</md:NameIDFormat>"
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            'Location="https://idp.example.com/saml/sso"/>'
            "</md:IDPSSODescriptor></md:EntityDescriptor>"
        )

    def assertion_xml(
        self,
        roles: list[str],
        session: str | None = "alice@example.com",
        *,
        subject: str = "alice",
        audience: str = SIGNIN,
        recipient: str = SIGNIN,
        issued: datetime | None = None,
        lifetime: timedelta = timedelta(minutes=5),
        issuer: str | None = None,
        extra: dict[str, list[str]] | None = None,
        session_ends: datetime | None = None,
    ) -> etree._Element:
        now = issued or datetime.now(UTC)
        expires = _stamp(now + lifetime)
        attrs = {ATTR + "Role": roles, **(extra or {})}
        if session is not None:
            attrs[ATTR + "RoleSessionName"] = [session]
        statements = "".join(
            f'<saml:Attribute Name="{name}">'
            + "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in values)
            + "</saml:Attribute>"
            for name, values in attrs.items()
        )
        text = (
            f'<saml:Assertion xmlns:saml="{SAML}" ID="_{uuid.uuid4().hex}" Version="2.0" '
            f'IssueInstant="{_stamp(now)}"><saml:Issuer>{issuer or self.entity_id}</saml:Issuer>'
            f'<saml:Subject><saml:NameID Format="{TRANSIENT}">{subject}</saml:NameID>'
            '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData NotOnOrAfter="{expires}" Recipient="{recipient}"/>'
            "</saml:SubjectConfirmation></saml:Subject>"
            f'<saml:Conditions NotBefore="{_stamp(now - timedelta(seconds=5))}" '
            f'NotOnOrAfter="{expires}"><saml:AudienceRestriction>'
            f"<saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>"
            "</saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{_stamp(now)}"'
            + (f' SessionNotOnOrAfter="{_stamp(session_ends)}"' if session_ends else "")
            + ">"
            "<saml:AuthnContext><saml:AuthnContextClassRef>"
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            f"<saml:AttributeStatement>{statements}</saml:AttributeStatement></saml:Assertion>"
        )
        return etree.fromstring(text.encode())

    def sign(self, element: etree._Element, key: rsa.RSAPrivateKey | None = None) -> etree._Element:
        signer = XMLSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                           c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        signed: etree._Element = signer.sign(
            element, key=key or self.key, cert=[self.cert], reference_uri=element.get("ID")
        )
        return signed

    def response(self, assertion: etree._Element, *, sign_assertion: bool = True,
                 sign_response: bool = False, key: rsa.RSAPrivateKey | None = None) -> str:
        """The base64 SAMLResponse wrapping ``assertion`` (signed as asked)."""
        if sign_assertion:
            assertion = self.sign(assertion, key)
        now = _stamp(datetime.now(UTC))
        response = etree.fromstring(
            f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" '
            f'ID="_{uuid.uuid4().hex}" Version="2.0" IssueInstant="{now}" '
            f'Destination="{SIGNIN}"><saml:Issuer>{self.entity_id}</saml:Issuer>'
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            "</samlp:Status></samlp:Response>".encode()
        )
        response.append(assertion)
        if sign_response:
            response = self.sign(response, key)
        return base64.b64encode(etree.tostring(response)).decode()
