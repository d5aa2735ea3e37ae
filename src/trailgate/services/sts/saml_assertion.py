"""A SAML 2.0 Response as AssumeRoleWithSAML checks it: base64, one XML document, a
``samlp:Response`` whose status is Success, an XML signature (enveloped, on the Response or on
its Assertion) made with a certificate of the provider's metadata, and the assertion's time
window and audience.  The signature is checked by signxml; everything read afterwards comes
from the element the signature covers, so a forged assertion beside a signed one is never
read.

What each failure answers (code, message) is AWS's where AWS's guides show it; the others are
marked UNSURE.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from signxml.exceptions import SignXMLException
from signxml.verifier import SignatureConfiguration, XMLVerifier

from ...protocol.errors import ServiceError
from ..iam.saml_metadata import parse_xml

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
NAMEID_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
REDEEM_WITHIN = timedelta(minutes=5)

# botocore's description of InvalidIdentityTokenException (for input that is no SAML Response).
INVALID_TOKEN = (
    "The web identity token that was passed could not be validated by Amazon Web Services. "
    "Get a new identity token from the identity provider and then retry the request."
)
SIGNATURE_INVALID = "Response signature invalid"  # AWS's SAML troubleshooting guide
EXPIRED = "Token must be redeemed within 5 minutes of issuance"  # AWS's ExpiredTokenException
# UNSURE: AWS's guide names this failure; its code is not published.
NO_AUDIENCE = "Response does not contain the required audience"
# UNSURE: IdPRejectedClaim is STS's code for an IdP that reports failed authentication; the
# message AWS gives for a non-Success status is not published.
NOT_SUCCESS = "The SAML response does not indicate a successful authentication"
# UNSURE: how AWS answers an EncryptedAssertion is not published; trailgate cannot decrypt one.
ENCRYPTED = "Encrypted SAML assertions are not supported"


def invalid(message: str = INVALID_TOKEN) -> ServiceError:
    return ServiceError("InvalidIdentityToken", message, 400)


@dataclass(frozen=True)
class Assertion:
    """What STS reads from a verified assertion."""

    assertion_id: str
    issuer: str
    subject: str
    subject_format: str
    recipient: str  # SubjectConfirmationData's Recipient: the response's Audience, SAML:aud
    audiences: tuple[str, ...]
    attributes: dict[str, tuple[str, ...]]  # Attribute Name -> AttributeValue texts
    session_not_on_or_after: datetime | None  # AuthnStatement's SessionNotOnOrAfter

    @property
    def subject_type(self) -> str:
        """The NameID format as AWS shows it: ``transient``/``persistent``... for SAML 2.0
        formats, any other format unchanged."""
        return self.subject_format.removeprefix(NAMEID_PREFIX)

    def attribute(self, name: str) -> tuple[str, ...]:
        return self.attributes.get(name, ())


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid() from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _response(encoded: str) -> Any:
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
        root = parse_xml(data)
    except (binascii.Error, ValueError):
        raise invalid() from None
    if root.tag != f"{{{SAMLP}}}Response":
        raise invalid()
    code = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    if code is None or code.get("Value") != SUCCESS:
        raise ServiceError("IDPRejectedClaim", NOT_SUCCESS, 403)
    if root.find(f"{{{SAML}}}EncryptedAssertion") is not None:
        raise invalid(ENCRYPTED)
    return root


def _verified(element: Any, certificates: Sequence[str]) -> Any:
    """The element the signature directly inside ``element`` covers, checked against each
    certificate in turn; InvalidIdentityToken when none verifies it."""
    config = SignatureConfiguration(location="./", expect_references=1)
    for cert in certificates:
        try:
            result = XMLVerifier().verify(element, x509_cert=cert, expect_config=config)
        except (SignXMLException, ValueError):
            continue
        signed = result.signed_xml  # type: ignore[union-attr]
        if signed is not None and signed.tag == element.tag:
            return signed
    raise invalid(SIGNATURE_INVALID)


def _signed_assertion(root: Any, certificates: Sequence[str]) -> Any:
    """The one assertion a signature vouches for: the Response's (when the Response itself is
    signed) or the Assertion's own."""
    if root.find(f"{{{DS}}}Signature") is not None:
        root = _verified(root, certificates)
        assertions = root.findall(f"{{{SAML}}}Assertion")
        if len(assertions) != 1:
            raise invalid()
        return assertions[0]
    assertions = root.findall(f"{{{SAML}}}Assertion")
    if len(assertions) != 1 or assertions[0].find(f"{{{DS}}}Signature") is None:
        raise invalid(SIGNATURE_INVALID)
    return _verified(assertions[0], certificates)


def _text(node: Any) -> str:
    return "" if node is None else str(node.text or "").strip()


def _read(assertion: Any) -> Assertion:
    subject = assertion.find(f"{{{SAML}}}Subject")
    name_id = None if subject is None else subject.find(f"{{{SAML}}}NameID")
    data = None if subject is None else subject.find(
        f"{{{SAML}}}SubjectConfirmation/{{{SAML}}}SubjectConfirmationData")
    audiences = tuple(
        _text(node) for node in assertion.iterfind(
            f"{{{SAML}}}Conditions/{{{SAML}}}AudienceRestriction/{{{SAML}}}Audience"))
    attributes: dict[str, tuple[str, ...]] = {}
    for attr in assertion.iterfind(f"{{{SAML}}}AttributeStatement/{{{SAML}}}Attribute"):
        values = tuple(_text(v) for v in attr.findall(f"{{{SAML}}}AttributeValue"))
        name = str(attr.get("Name") or "")
        attributes[name] = attributes.get(name, ()) + values
    authn = assertion.find(f"{{{SAML}}}AuthnStatement")
    return Assertion(
        assertion_id=str(assertion.get("ID") or ""),
        issuer=_text(assertion.find(f"{{{SAML}}}Issuer")),
        subject=_text(name_id),
        subject_format=str(name_id.get("Format") or UNSPECIFIED) if name_id is not None
        else UNSPECIFIED,
        recipient=str(data.get("Recipient") or "") if data is not None else "",
        audiences=audiences,
        attributes=attributes,
        session_not_on_or_after=_time(
            None if authn is None else authn.get("SessionNotOnOrAfter")),
    )


def _check_times(assertion: Any, now: datetime) -> None:
    """Redeemed within 5 minutes of issuance, inside Conditions' window and before the
    subject confirmation's NotOnOrAfter (UNSURE: AWS answers all of these as the expired
    token it documents)."""
    conditions = assertion.find(f"{{{SAML}}}Conditions")
    data = assertion.find(
        f"{{{SAML}}}Subject/{{{SAML}}}SubjectConfirmation/{{{SAML}}}SubjectConfirmationData")
    issued = _time(assertion.get("IssueInstant"))
    ends = [
        _time(None if node is None else node.get("NotOnOrAfter")) for node in (conditions, data)
    ]
    starts = _time(None if conditions is None else conditions.get("NotBefore"))
    if (
        (issued is not None and now - issued > REDEEM_WITHIN)
        or any(end is not None and now >= end for end in ends)
    ):
        raise ServiceError("ExpiredTokenException", EXPIRED, 400)
    if starts is not None and now < starts:
        raise invalid()  # UNSURE: an assertion not yet valid


def aws_audience(value: str) -> bool:
    """AWS's sign-in endpoints as a SAML audience: the global one, a regional one, or the
    entity id of AWS's own service-provider metadata."""
    if value in ("https://signin.aws.amazon.com/saml", "urn:amazon:webservices"):
        return True
    host = value.removeprefix("https://").removesuffix("/saml")
    region, _, rest = host.partition(".")
    return value.startswith("https://") and rest == "signin.aws.amazon.com" and bool(region)


def verify_response(encoded: str, certificates: Sequence[str], now: datetime) -> Assertion:
    """The verified assertion of a base64 SAML Response; STS's error otherwise."""
    root = _response(encoded)
    signed = _signed_assertion(root, certificates)
    _check_times(signed, now)
    assertion = _read(signed)
    if not any(aws_audience(a) for a in assertion.audiences):
        raise invalid(NO_AUDIENCE)
    return assertion
