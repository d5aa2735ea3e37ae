"""IAM SAML identity providers as AWS answers them (boto3 against a real server of its own, so
the other tests' accounts never see these providers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .saml_idp import Idp
from .server import MANAGEMENT, REGION, ROOT_KEY, ROOT_SECRET, Server

ARN = f"arn:aws:iam::{MANAGEMENT}:saml-provider/"


@pytest.fixture(scope="module")
def iam(own_server: Server) -> Any:
    return own_server.client("iam")


@pytest.fixture(scope="module")
def idp() -> Idp:
    return Idp()


def _fails(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_create_get_list_delete(iam: Any, idp: Idp) -> None:
    before = int(iam.get_account_summary()["SummaryMap"]["Providers"])
    created = iam.create_saml_provider(Name="Corp.Idp_1", SAMLMetadataDocument=idp.metadata())
    arn = created["SAMLProviderArn"]
    assert arn == ARN + "Corp.Idp_1"
    assert "Tags" not in created
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == idp.metadata()
    assert (got["Tags"], got["PrivateKeyList"], got["AssertionEncryptionMode"]) == (
        [], [], "Allowed")
    assert len(got["SAMLProviderUUID"]) >= 22 and got["SAMLProviderUUID"].isalnum()
    assert abs(got["CreateDate"] - datetime.now(UTC)) < timedelta(minutes=1)
    # No validUntil in the metadata: AWS keeps the provider valid for 100 years.
    assert got["ValidUntil"].year == got["CreateDate"].year + 100
    listed = iam.list_saml_providers()["SAMLProviderList"]
    assert listed == [{"Arn": arn, "ValidUntil": got["ValidUntil"],
                       "CreateDate": got["CreateDate"]}]
    assert int(iam.get_account_summary()["SummaryMap"]["Providers"]) == before + 1
    iam.delete_saml_provider(SAMLProviderArn=arn)
    assert iam.list_saml_providers()["SAMLProviderList"] == []
    assert _fails(iam.get_saml_provider, SAMLProviderArn=arn) == (
        "NoSuchEntity", f"Manifest not found for arn {arn}", 404)
    assert _fails(iam.delete_saml_provider, SAMLProviderArn=arn)[0::2] == ("NoSuchEntity", 404)


def test_valid_until_comes_from_the_metadata(iam: Any, idp: Idp) -> None:
    document = idp.metadata(valid_until="2031-05-06T07:08:09Z")
    arn = iam.create_saml_provider(Name="dated", SAMLMetadataDocument=document)[
        "SAMLProviderArn"]
    assert iam.get_saml_provider(SAMLProviderArn=arn)["ValidUntil"] == datetime(
        2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=idp.metadata(
        valid_until="2032-01-01T00:00:00.000Z"))
    assert iam.get_saml_provider(SAMLProviderArn=arn)["ValidUntil"] == datetime(
        2032, 1, 1, tzinfo=UTC)
    iam.delete_saml_provider(SAMLProviderArn=arn)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda doc: "<notxml>" + "x" * 1000,
        lambda doc: doc.replace("md:IDPSSODescriptor", "md:SPSSODescriptor"),
        lambda doc: doc.replace('use="signing"', 'use="encryption"'),
        lambda doc: doc.replace("<ds:X509Certificate>", "<ds:X509Certificate>AAAA"),
        lambda doc: doc.replace("md:EntityDescriptor", "md:EntitiesDescriptor"),
        lambda doc: doc.replace("entityID=", "otherID="),
        lambda doc: doc.replace('<md:EntityDescriptor', '<!DOCTYPE x [<!ENTITY e SYSTEM '
                                '"file:///etc/passwd">]><md:EntityDescriptor'),
    ],
    ids=["not-xml", "no-idp-descriptor", "no-signing-key", "bad-certificate", "wrong-root",
         "no-entity-id", "doctype"],
)
def test_metadata_iam_cannot_read_is_invalid_input(iam: Any, idp: Idp, mangle: Any) -> None:
    document = mangle(idp.metadata())
    assert _fails(iam.create_saml_provider, Name="bad", SAMLMetadataDocument=document) == (
        "InvalidInput", "Could not parse metadata", 400)
    assert iam.list_saml_providers()["SAMLProviderList"] == []


def test_input_constraints(own_server: Server, idp: Idp) -> None:
    unchecked = boto3.client(
        "iam", endpoint_url=own_server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY, aws_secret_access_key=ROOT_SECRET,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
    code, message, status = _fails(unchecked.create_saml_provider, Name="a b",
                                   SAMLMetadataDocument=idp.metadata())
    assert (code, status) == ("ValidationError", 400)
    assert message == (
        "1 validation error detected: Value 'a b' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w._-]+")
    code, message, _ = _fails(unchecked.create_saml_provider, Name="short",
                              SAMLMetadataDocument="<x/>")
    assert code == "ValidationError"
    assert "'sAMLMetadataDocument' failed to satisfy constraint: Member must have length " \
        "greater than or equal to 1000" in message
    assert _fails(unchecked.get_saml_provider, SAMLProviderArn="not-an-arn-at-all-really") == (
        "InvalidInput", "ARN not-an-arn-at-all-really is not valid.", 400)


def test_names_are_unique_whatever_their_case(iam: Any, idp: Idp) -> None:
    arn = iam.create_saml_provider(Name="Okta", SAMLMetadataDocument=idp.metadata())[
        "SAMLProviderArn"]
    assert _fails(iam.create_saml_provider, Name="OKTA", SAMLMetadataDocument=idp.metadata()) \
        == ("EntityAlreadyExists", "Provider with name OKTA already exists.", 409)
    iam.delete_saml_provider(SAMLProviderArn=arn)


def test_tags(iam: Any, idp: Idp) -> None:
    created = iam.create_saml_provider(
        Name="tagged", SAMLMetadataDocument=idp.metadata(), Tags=[{"Key": "b", "Value": "2"}])
    arn = created["SAMLProviderArn"]
    assert created["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["b"])
    assert iam.get_saml_provider(SAMLProviderArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    assert _fails(iam.list_saml_provider_tags, SAMLProviderArn=ARN + "ghost")[0::2] == (
        "NoSuchEntity", 404)
    iam.delete_saml_provider(SAMLProviderArn=arn)


def test_private_keys_and_assertion_encryption_mode(iam: Any, idp: Idp) -> None:
    assert _fails(iam.create_saml_provider, Name="enc", SAMLMetadataDocument=idp.metadata(),
                  AssertionEncryptionMode="Required")[0::2] == ("InvalidInput", 400)
    arn = iam.create_saml_provider(
        Name="enc", SAMLMetadataDocument=idp.metadata(), AssertionEncryptionMode="Required",
        AddPrivateKey=idp.key_pem.decode())["SAMLProviderArn"]
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["AssertionEncryptionMode"] == "Required"
    [first] = got["PrivateKeyList"]
    assert set(first) == {"KeyId", "Timestamp"}
    assert _fails(iam.update_saml_provider, SAMLProviderArn=arn,
                  AddPrivateKey="not a key")[0::2] == ("InvalidInput", 400)
    iam.update_saml_provider(SAMLProviderArn=arn, AddPrivateKey=Idp().key_pem.decode())
    assert _fails(iam.update_saml_provider, SAMLProviderArn=arn,
                  AddPrivateKey=Idp().key_pem.decode())[0::2] == ("LimitExceeded", 409)
    assert _fails(iam.update_saml_provider, SAMLProviderArn=arn,
                  AddPrivateKey=idp.key_pem.decode(),
                  RemovePrivateKey=first["KeyId"])[0::2] == ("InvalidInput", 400)
    iam.update_saml_provider(SAMLProviderArn=arn, RemovePrivateKey=first["KeyId"])
    keys = iam.get_saml_provider(SAMLProviderArn=arn)["PrivateKeyList"]
    assert len(keys) == 1 and keys[0]["KeyId"] != first["KeyId"]
    assert _fails(iam.update_saml_provider, SAMLProviderArn=arn)[0::2] == ("InvalidInput", 400)
    iam.update_saml_provider(SAMLProviderArn=arn, AssertionEncryptionMode="Allowed")
    assert iam.get_saml_provider(SAMLProviderArn=arn)["AssertionEncryptionMode"] == "Allowed"
    iam.delete_saml_provider(SAMLProviderArn=arn)


def test_operations_are_authorized_on_the_provider_arn(
    own_server: Server, iam: Any, idp: Idp
) -> None:
    arn = iam.create_saml_provider(Name="guarded", SAMLMetadataDocument=idp.metadata())[
        "SAMLProviderArn"]
    iam.create_user(UserName="saml-reader")
    iam.put_user_policy(UserName="saml-reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:GetSAMLProvider", "Resource": arn}]}))
    key = iam.create_access_key(UserName="saml-reader")["AccessKey"]
    reader: Any = own_server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert reader.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"]
    user = f"arn:aws:iam::{MANAGEMENT}:user/saml-reader"
    assert _fails(reader.delete_saml_provider, SAMLProviderArn=arn) == (
        "AccessDenied",
        f"User: {user} is not authorized to perform: iam:DeleteSAMLProvider on resource: "
        f"{arn} because no identity-based policy allows the iam:DeleteSAMLProvider action",
        403)
    assert _fails(reader.create_saml_provider, Name="other",
                  SAMLMetadataDocument=idp.metadata())[1].endswith(
        f"on resource: {ARN}other because no identity-based policy allows the "
        "iam:CreateSAMLProvider action")
    iam.delete_saml_provider(SAMLProviderArn=arn)
