"""The wire constants kept for routing match botocore's models; plans are built once."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader

from trailgate.protocol import shapes, specs


@pytest.mark.parametrize("service", sorted(specs.SERVICES))
def test_constants_match_model_metadata(service: str) -> None:
    meta = specs.service_model(service).metadata
    info = specs.info(service)
    assert info.protocol == meta["protocol"]
    assert info.api_version == meta["apiVersion"]
    if service == "s3":  # S3 declares it on its request/response shapes, not in metadata
        data = Loader().load_service_model("s3", "service-2")
        found = {
            ref["xmlNamespace"]["uri"]
            for shape in data["shapes"].values()
            for ref in shape.get("members", {}).values()
            if "xmlNamespace" in ref
        }
        assert found == {info.xml_namespace}
    else:
        assert info.xml_namespace == meta.get("xmlNamespace", "")
    assert info.target_prefix == meta.get("targetPrefix", "")
    assert info.json_version == meta.get("jsonVersion", "")
    assert meta.get("signingName", meta["endpointPrefix"]) == service


def test_target_prefixes_and_versions() -> None:
    assert specs.TARGET_PREFIXES["CloudTrail_20131101"] == "cloudtrail"
    assert specs.TARGET_PREFIXES[specs.target_prefix("cloudtrail")] == "cloudtrail"
    assert specs.TARGET_PREFIXES[specs.target_prefix("organizations")] == "organizations"
    assert specs.QUERY_VERSIONS == {"2010-05-08": "iam", "2011-06-15": "sts"}
    assert specs.json_content_type("cloudtrail") == "application/x-amz-json-1.1"


def test_operation_lookup_is_exact_and_cached() -> None:
    assert specs.operation_model("iam", "CreateRole") is specs.operation_model("iam", "CreateRole")
    assert specs.operation_model("iam", "createrole") is None
    assert specs.has_operation("sts", "AssumeRole")
    assert "LookupEvents" in specs.operation_names("cloudtrail")
    with pytest.raises(KeyError):
        specs.service_model("ec2")


def test_plans_are_cached_and_shared() -> None:
    create = shapes.input_plan("iam", "CreateRole")
    tag = shapes.input_plan("iam", "TagRole")
    assert create is shapes.input_plan("iam", "CreateRole")
    assert create is not None and tag is not None
    assert create.by_name["Tags"].node is tag.by_name["Tags"].node
    assert [m.name for m in create.members][:3] == ["Path", "RoleName", "AssumeRolePolicyDocument"]
    assert create.by_name["RoleName"].path == "roleName"
    assert create.by_name["RoleName"].required
    role = shapes.output_plan("iam", "GetRole")
    assert role is not None
    assert role.by_name["Role"].node.by_name["AssumeRolePolicyDocument"].node.policy_document
    assert shapes.output_plan("iam", "DeleteRole") is None
    # the result wrapper is per operation even where the output shape is shared
    assert shapes.result_wrapper("iam", "GetContextKeysForCustomPolicy") == (
        "GetContextKeysForCustomPolicyResult"
    )
    assert shapes.result_wrapper("iam", "GetContextKeysForPrincipalPolicy") == (
        "GetContextKeysForPrincipalPolicyResult"
    )
