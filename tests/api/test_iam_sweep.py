"""IAM behaviours found by a fidelity sweep against AWS's documented behaviour: MFA device tags,
instance profiles and other details, driven through boto3 against one real trailgate server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import Server
from .test_iam_api import ACCT, error_of, new_user, uid


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    """The management account's root user."""
    return server.client("iam")


# -- MFA device tags ---------------------------------------------------------------------------


def test_mfa_device_tags(iam: Any) -> None:
    name = uid("mfatag")
    serial = iam.create_virtual_mfa_device(
        VirtualMFADeviceName=name, Path="/team/", Tags=[{"Key": "team", "Value": "red"}]
    )["VirtualMFADevice"]["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCT}:mfa/team/{name}"
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "team", "Value": "red"}
    ]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[
        {"Key": "TEAM", "Value": "blue"}, {"Key": "env", "Value": "ci"},
    ])
    listed = iam.list_mfa_device_tags(SerialNumber=serial)
    assert (listed["Tags"], listed["IsTruncated"]) == (
        [{"Key": "TEAM", "Value": "blue"}, {"Key": "env", "Value": "ci"}], False
    )
    first = iam.list_mfa_device_tags(SerialNumber=serial, MaxItems=1)
    assert first["Tags"] == [{"Key": "TEAM", "Value": "blue"}] and first["IsTruncated"]
    rest = iam.list_mfa_device_tags(SerialNumber=serial, Marker=first["Marker"])
    assert rest["Tags"] == [{"Key": "env", "Value": "ci"}] and not rest["IsTruncated"]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["team"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "env", "Value": "ci"}
    ]
    with pytest.raises(ClientError) as exc:
        iam.tag_mfa_device(SerialNumber=serial, Tags=[
            {"Key": f"k{i}", "Value": "v"} for i in range(50)
        ])
    assert error_of(exc)[0::2] == ("LimitExceeded", 409)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    for call, extra in (
        (iam.list_mfa_device_tags, {}),
        (iam.tag_mfa_device, {"Tags": [{"Key": "a", "Value": "b"}]}),
        (iam.untag_mfa_device, {"TagKeys": ["a"]}),
    ):
        with pytest.raises(ClientError) as exc:
            call(SerialNumber=serial, **extra)
        assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_mfa_device_tags_authorized_on_the_device(server: Server, iam: Any) -> None:
    device = uid("mfatag")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=device)["VirtualMFADevice"][
        "SerialNumber"
    ]
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        f'["iam:ListMFADeviceTags"], "Resource": "{serial}"}}]}}'
    )
    user, keys = new_user(iam, "mfatag", inline=policy)
    caller = server.client("iam", keys.key, keys.secret)
    assert caller.list_mfa_device_tags(SerialNumber=serial)["Tags"] == []
    with pytest.raises(ClientError) as exc:
        caller.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "a", "Value": "b"}])
    assert error_of(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{ACCT}:user/{user} is not authorized to perform: "
        f"iam:TagMFADevice on resource: {serial} because no identity-based policy allows the "
        "iam:TagMFADevice action",
        403,
    )
    iam.delete_virtual_mfa_device(SerialNumber=serial)
