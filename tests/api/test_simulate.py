"""SimulatePrincipalPolicy / SimulateCustomPolicy through boto3 (backed by the engine)."""

from __future__ import annotations

import json

from trailgate import scenario as sc

from .scenario_setup import World
from .server import MANAGEMENT, Server


def test_simulate_principal_policy_for_the_scoped_role(world: World) -> None:
    iam = world.client("iam", world.admin)
    role = f"arn:aws:iam::{MANAGEMENT}:role/{sc.D_ROLE}"
    d = world.accounts["D"]
    e = world.accounts["E"]
    out = iam.simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=[
            f"arn:aws:s3:::{sc.BUCKET}/AWSLogs/{d}/CloudTrail/x.json.gz",
            f"arn:aws:s3:::{sc.BUCKET}/AWSLogs/{e}/CloudTrail/x.json.gz",
        ],
    )
    decisions = [
        (r["EvalActionName"], r["EvalResourceName"].split("/")[2], r["EvalDecision"])
        for r in out["EvaluationResults"]
    ]
    assert decisions == [
        ("s3:GetObject", d, "allowed"),
        ("s3:GetObject", e, "implicitDeny"),
        ("s3:PutObject", d, "implicitDeny"),
        ("s3:PutObject", e, "implicitDeny"),
    ]
    first = out["EvaluationResults"][0]["MatchedStatements"]
    assert first == [{
        "SourcePolicyId": f"role/{sc.D_ROLE}/read-own-prefix",
        "SourcePolicyType": "role",
        # sc.dumps indents by 2: the first statement's braces are at line 4 and line 12
        "StartPosition": {"Line": 4, "Column": 5},
        "EndPosition": {"Line": 12, "Column": 5},
    }]


def test_simulate_custom_policy_with_context(server: Server) -> None:
    iam = server.client("iam")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "NeedsMfa", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
    without = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(policy)], ActionNames=["s3:GetObject"]
    )["EvaluationResults"][0]
    assert without["EvalDecision"] == "implicitDeny"
    assert without["MissingContextValues"] == ["aws:MultiFactorAuthPresent"]
    with_mfa = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(policy)], ActionNames=["s3:GetObject"],
        ContextEntries=[{"ContextKeyName": "aws:MultiFactorAuthPresent",
                         "ContextKeyValues": ["true"], "ContextKeyType": "boolean"}],
    )["EvaluationResults"][0]
    assert with_mfa["EvalDecision"] == "allowed"
    assert with_mfa["MissingContextValues"] == []
    assert with_mfa["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"


def test_simulate_explicit_deny_and_malformed_input(server: Server) -> None:
    import pytest
    from botocore.exceptions import ClientError

    iam = server.client("iam")
    allow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}
    result = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(allow), json.dumps(deny)], ActionNames=["s3:DeleteObject"]
    )["EvaluationResults"][0]
    assert result["EvalDecision"] == "explicitDeny"
    assert [m["SourcePolicyId"] for m in result["MatchedStatements"]] == ["PolicyInputList.2"]
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert exc.value.response["Error"]["Code"] == "MalformedPolicyDocument"
