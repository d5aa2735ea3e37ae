"""STS AssumeRoleWithSAML against a test identity provider (tests/api/saml_idp.py), through
boto3 as an unsigned request, as AWS answers it; on a server of the module's own."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from .saml_idp import ATTR, SAML, Idp
from .server import MANAGEMENT, REGION, Server
from .test_awscli import run

READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
AUD = {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}


@pytest.fixture(scope="module")
def iam(own_server: Server) -> Any:
    return own_server.client("iam")


@pytest.fixture(scope="module")
def sts(own_server: Server) -> Any:
    return boto3.client(
        "sts", endpoint_url=own_server.endpoint, region_name=REGION,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def idp() -> Idp:
    return Idp()


@pytest.fixture(scope="module")
def provider(iam: Any, idp: Idp) -> str:
    arn: str = iam.create_saml_provider(Name="Corp", SAMLMetadataDocument=idp.metadata())[
        "SAMLProviderArn"]
    return arn


def _role(iam: Any, name: str, provider: str, condition: dict[str, Any] | None = None,
          actions: tuple[str, ...] = ("sts:AssumeRoleWithSAML",)) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Federated": provider},
                                 "Action": list(actions)}
    if condition is not None:
        statement["Condition"] = condition
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
    return arn


@pytest.fixture(scope="module")
def role(iam: Any, provider: str) -> str:
    return _role(iam, "SamlUsers", provider, AUD)


def _refused(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def _client(server: Server, service: str, out: dict[str, Any]) -> Any:
    creds = out["Credentials"]
    return server.client(service, creds["AccessKeyId"], creds["SecretAccessKey"],
                         creds["SessionToken"])


def test_a_signed_assertion_gives_a_role_session(
    own_server: Server, sts: Any, idp: Idp, role: str, provider: str
) -> None:
    out = sts.assume_role_with_saml(
        RoleArn=role, PrincipalArn=provider,
        SAMLAssertion=idp.response(idp.assertion_xml([f"{role},{provider}"])))
    session = f"arn:aws:sts::{MANAGEMENT}:assumed-role/SamlUsers/alice@example.com"
    assert out["AssumedRoleUser"]["Arn"] == session
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice@example.com")
    qualifier = base64.b64encode(hashlib.sha1(
        f"{idp.entity_id}{MANAGEMENT}/Corp".encode()).digest()).decode()
    assert (out["Subject"], out["SubjectType"], out["Issuer"], out["Audience"],
            out["NameQualifier"]) == ("alice", "transient", idp.entity_id,
                                      "https://signin.aws.amazon.com/saml", qualifier)
    assert "PackedPolicySize" not in out and "SourceIdentity" not in out
    left = out["Credentials"]["Expiration"] - datetime.now(UTC)
    assert 3500 < left.total_seconds() <= 3600  # one hour by default
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert _client(own_server, "sts", out).get_caller_identity()["Arn"] == session
    session_iam = _client(own_server, "iam", out)
    assert session_iam.get_role(RoleName="SamlUsers")["Role"]["Arn"] == role
    code, message, _ = _refused(session_iam.create_user, UserName="nope")
    assert code == "AccessDenied" and message.startswith(f"User: {session} is not authorized")


def test_either_order_of_the_role_pair_and_a_signed_response(
    sts: Any, idp: Idp, role: str, provider: str
) -> None:
    assertion = idp.assertion_xml([f"{provider},{role}"], "bob")
    out = sts.assume_role_with_saml(
        RoleArn=role, PrincipalArn=provider, DurationSeconds=900,
        SAMLAssertion=idp.response(assertion, sign_assertion=False, sign_response=True))
    assert out["AssumedRoleUser"]["Arn"].endswith("/SamlUsers/bob")
    left = out["Credentials"]["Expiration"] - datetime.now(UTC)
    assert 800 < left.total_seconds() <= 900


def test_the_call_is_recorded_as_a_saml_user(
    own_server: Server, sts: Any, idp: Idp, role: str, provider: str
) -> None:
    out = sts.assume_role_with_saml(
        RoleArn=role, PrincipalArn=provider,
        SAMLAssertion=idp.response(idp.assertion_xml([f"{role},{provider}"], "carol",
                                                     subject="carol-id")))
    request_id = out["ResponseMetadata"]["RequestId"]
    ct: Any = own_server.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "AssumeRoleWithSAML"}])["Events"]
    [record] = [json.loads(e["CloudTrailEvent"]) for e in events
                if json.loads(e["CloudTrailEvent"])["requestID"] == request_id]
    qualifier = out["NameQualifier"]
    assert record["userIdentity"] == {"type": "SAMLUser", "principalId": f"{qualifier}:carol-id",
                                      "userName": "carol-id", "identityProvider": qualifier}
    params = record["requestParameters"]
    assert params["roleSessionName"] == "carol"
    assert params["sAMLAssertionID"].startswith("_")
    assert (params["roleArn"], params["principalArn"]) == (role, provider)
    assert "sAMLAssertion" not in params
    assert record["responseElements"]["subject"] == "carol-id"
    assert "secretAccessKey" not in record["responseElements"]["credentials"]
    assert record["resources"] == [
        {"ARN": role, "accountId": MANAGEMENT, "type": "AWS::IAM::Role"},
        {"ARN": provider, "accountId": MANAGEMENT, "type": "AWS::IAM::SAMLProvider"}]
    assert (record["recipientAccountId"], record["readOnly"]) == (MANAGEMENT, True)


def _tampered(idp: Idp, role: str, provider: str) -> str:
    signed = idp.sign(idp.assertion_xml([f"{role},{provider}"]))
    signed.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = "mallory"
    return idp.response(signed, sign_assertion=False)


def _unsigned(idp: Idp, role: str, provider: str) -> str:
    return idp.response(idp.assertion_xml([f"{role},{provider}"]), sign_assertion=False)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda idp, r, p: idp.response(idp.assertion_xml([f"{r},{p}"]), key=Idp().key),
         ("InvalidIdentityToken", "Response signature invalid", 400)),
        (_tampered, ("InvalidIdentityToken", "Response signature invalid", 400)),
        (_unsigned, ("InvalidIdentityToken", "Response signature invalid", 400)),
        (lambda idp, r, p: idp.response(idp.assertion_xml(
            [f"{r},{p}"], issued=datetime.now(UTC) - timedelta(minutes=10),
            lifetime=timedelta(minutes=30))),
         ("ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance", 400)),
        (lambda idp, r, p: idp.response(idp.assertion_xml(
            [f"{r},{p}"], issued=datetime.now(UTC) - timedelta(minutes=3),
            lifetime=timedelta(minutes=1))),
         ("ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance", 400)),
        (lambda idp, r, p: idp.response(idp.assertion_xml(
            [f"{r},{p}"], audience="https://example.com/app")),
         ("InvalidIdentityToken", "Response does not contain the required audience", 400)),
        (lambda idp, r, p: idp.response(idp.assertion_xml(
            [f"{r},{p}"], issuer="https://other.example.com")),
         ("InvalidIdentityToken", "Issuer not present in specified provider", 400)),
        (lambda idp, r, p: idp.response(idp.assertion_xml([f"{r},{p}"], session=None)),
         ("InvalidIdentityToken", "RoleSessionName is required in AuthnResponse", 400)),
        (lambda idp, r, p: idp.response(idp.assertion_xml([f"{r},{p}"], session="a b")),
         ("InvalidIdentityToken",
          "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}", 400)),
        (lambda idp, r, p: idp.response(idp.assertion_xml(
            [f"{r.replace('SamlUsers', 'Other')},{p}"])),
         ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML", 403)),
        (lambda idp, r, p: base64.b64encode(b"<samlp:Response/>").decode(),
         ("InvalidIdentityToken",
          "The web identity token that was passed could not be validated by Amazon Web "
          "Services. Get a new identity token from the identity provider and then retry the "
          "request.", 400)),
    ],
    ids=["other-key", "tampered", "unsigned", "issued-too-long-ago", "not-on-or-after",
         "wrong-audience", "wrong-issuer", "no-session-name", "bad-session-name",
         "role-not-in-assertion", "not-a-saml-response"],
)
def test_refusals(sts: Any, idp: Idp, role: str, provider: str, make: Any,
                  expected: tuple[str, str, int]) -> None:
    assert _refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider,
                    SAMLAssertion=make(idp, role, provider)) == expected


def test_the_trust_policy_decides(iam: Any, sts: Any, idp: Idp, provider: str) -> None:
    other_idp = f"arn:aws:iam::{MANAGEMENT}:saml-provider/Other"
    for name, trusted, condition in (
        ("TrustsOther", other_idp, None),
        ("WantsRegionalAudience", provider,
         {"StringEquals": {"SAML:aud": "https://us-west-2.signin.aws.amazon.com/saml"}}),
    ):
        if trusted == other_idp:
            iam.create_saml_provider(Name="Other", SAMLMetadataDocument=Idp().metadata())
        arn = _role(iam, name, trusted, condition)
        assert _refused(
            sts.assume_role_with_saml, RoleArn=arn, PrincipalArn=provider,
            SAMLAssertion=idp.response(idp.assertion_xml([f"{arn},{provider}"]))) == (
            "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML", 403)
    # The regional sign-in endpoint as audience and recipient satisfies such a condition.
    regional = "https://us-west-2.signin.aws.amazon.com/saml"
    arn = f"arn:aws:iam::{MANAGEMENT}:role/WantsRegionalAudience"
    out = sts.assume_role_with_saml(
        RoleArn=arn, PrincipalArn=provider, SAMLAssertion=idp.response(idp.assertion_xml(
            [f"{arn},{provider}"], audience=regional, recipient=regional)))
    assert out["Audience"] == regional


def test_request_checks(sts: Any, idp: Idp, role: str, provider: str) -> None:
    assertion = idp.response(idp.assertion_xml([f"{role},{provider}"]))
    code, message, status = _refused(
        sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider,
        SAMLAssertion=assertion, DurationSeconds=7200)
    assert (code, status) == ("ValidationError", 400)
    assert message == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    assert _refused(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider,
                    SAMLAssertion=assertion, Policy="{not json")[0::2] == (
        "MalformedPolicyDocument", 400)
    assert _refused(sts.assume_role_with_saml, RoleArn=role,
                    PrincipalArn=f"arn:aws:iam::{MANAGEMENT}:saml-provider/Nobody",
                    SAMLAssertion=assertion) == (
        "InvalidIdentityToken", "Specified provider doesn't exist", 400)
    out = sts.assume_role_with_saml(
        RoleArn=role, PrincipalArn=provider, SAMLAssertion=assertion,
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}))
    assert 1 <= out["PackedPolicySize"] <= 100


def test_source_identity_needs_set_source_identity(
    iam: Any, sts: Any, idp: Idp, provider: str
) -> None:
    extra = {ATTR + "SourceIdentity": ["alice"]}
    without = _role(iam, "NoSourceIdentity", provider, AUD)
    assert _refused(sts.assume_role_with_saml, RoleArn=without, PrincipalArn=provider,
                    SAMLAssertion=idp.response(idp.assertion_xml(
                        [f"{without},{provider}"], extra=extra)))[0] == "AccessDenied"
    allowed = _role(iam, "SourceIdentity", provider, AUD,
                    ("sts:AssumeRoleWithSAML", "sts:SetSourceIdentity"))
    out = sts.assume_role_with_saml(
        RoleArn=allowed, PrincipalArn=provider,
        SAMLAssertion=idp.response(idp.assertion_xml([f"{allowed},{provider}"], extra=extra)))
    assert out["SourceIdentity"] == "alice"


def test_the_aws_cli_needs_no_credentials(
    own_server: Server, tmp_path: Path, idp: Idp, role: str, provider: str
) -> None:
    """`aws sts assume-role-with-saml` with no credentials configured at all, as a federated
    user runs it."""
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n")
    (tmp_path / "credentials").write_text("")
    saml = idp.response(idp.assertion_xml([f"{role},{provider}"], "dave"))
    out = run(own_server, tmp_path, "sts", "assume-role-with-saml", "--role-arn", role,
              "--principal-arn", provider, "--saml-assertion", saml)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["AssumedRoleUser"]["Arn"].endswith("/SamlUsers/dave")
    assert answer["SubjectType"] == "transient"


def test_session_not_on_or_after_caps_the_session(
    sts: Any, idp: Idp, role: str, provider: str
) -> None:
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20)
    out = sts.assume_role_with_saml(
        RoleArn=role, PrincipalArn=provider, DurationSeconds=3600,
        SAMLAssertion=idp.response(idp.assertion_xml([f"{role},{provider}"], session_ends=ends)))
    assert out["Credentials"]["Expiration"] == ends


def test_a_refusal_after_verification_is_recorded(
    own_server: Server, iam: Any, sts: Any, idp: Idp, provider: str
) -> None:
    arn = _role(iam, "OnlyBob", provider, {"StringEquals": {"SAML:sub": "bob"}})
    with pytest.raises(ClientError) as exc:
        sts.assume_role_with_saml(RoleArn=arn, PrincipalArn=provider, SAMLAssertion=idp.response(
            idp.assertion_xml([f"{arn},{provider}"], subject="eve")))
    request_id = exc.value.response["ResponseMetadata"]["RequestId"]
    ct: Any = own_server.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": arn}])["Events"]
    [record] = [json.loads(e["CloudTrailEvent"]) for e in events
                if json.loads(e["CloudTrailEvent"])["requestID"] == request_id]
    assert (record["errorCode"], record["errorMessage"]) == (
        "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
    assert (record["userIdentity"]["type"], record["userIdentity"]["userName"]) == (
        "SAMLUser", "eve")
    assert record["responseElements"] is None


def test_session_tags_from_principal_tag_attributes(
    own_server: Server, iam: Any, sts: Any, idp: Idp, provider: str
) -> None:
    extra = {ATTR + "PrincipalTag:Project": ["blue"], ATTR + "PrincipalTag:Team": ["red"],
             ATTR + "TransitiveTagKeys": ["Project"]}
    untagged = _role(iam, "NoTagSession", provider, AUD)
    assert _refused(sts.assume_role_with_saml, RoleArn=untagged, PrincipalArn=provider,
                    SAMLAssertion=idp.response(idp.assertion_xml(
                        [f"{untagged},{provider}"], extra=extra)))[0] == "AccessDenied"
    arn = _role(iam, "TagSession", provider, AUD, ("sts:AssumeRoleWithSAML", "sts:TagSession"))
    iam.put_role_policy(RoleName="TagSession", PolicyName="blue-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/Project": "blue"}}}]}))
    out = sts.assume_role_with_saml(
        RoleArn=arn, PrincipalArn=provider,
        SAMLAssertion=idp.response(idp.assertion_xml([f"{arn},{provider}"], extra=extra)))
    assert 1 <= out["PackedPolicySize"] <= 100
    assert "Buckets" in _client(own_server, "s3", out).list_buckets()
    ct: Any = own_server.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": arn}])["Events"]
    params = json.loads(events[0]["CloudTrailEvent"])["requestParameters"]
    assert params["principalTags"] == {"Project": "blue", "Team": "red"}
    assert params["transitiveTagKeys"] == ["Project"]
