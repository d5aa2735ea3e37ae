"""IAM policy and identity management: differences from AWS found by the audit16 sweep."""

from __future__ import annotations

import json
from typing import Any

from .test_iam_api import allow, doc

# -- the policy simulator ------------------------------------------------------------------------

TEAM_LIST_AND_HOME_READ = doc(
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::audit16-bucket",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "storage"}},
    },
    allow("s3:GetObject", "arn:aws:s3:::audit16-bucket/${aws:username}/*"),
)


def test_simulate_custom_policy_reports_keys_of_the_whole_policy_as_missing(iam: Any) -> None:
    # AWS lists every context key the input policies reference and the request does not
    # supply, policy variables included, whichever action is simulated (boto3 issue 3111:
    # aws:username, used only by the s3:GetObject statement, is missing for s3:ListBucket).
    result = iam.simulate_custom_policy(
        PolicyInputList=[TEAM_LIST_AND_HOME_READ], ActionNames=["s3:ListBucket"]
    )["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in result] == [
        ("s3:ListBucket", "implicitDeny")
    ]
    assert result[0]["MissingContextValues"] == ["aws:PrincipalTag/team", "aws:username"]
    supplied = iam.simulate_custom_policy(
        PolicyInputList=[TEAM_LIST_AND_HOME_READ], ActionNames=["s3:ListBucket"],
        ContextEntries=[{"ContextKeyName": "aws:username", "ContextKeyValues": ["ana"],
                         "ContextKeyType": "string"}],
    )["EvaluationResults"][0]
    assert supplied["MissingContextValues"] == ["aws:PrincipalTag/team"]


def test_simulate_custom_policy_without_caller_has_no_user_name(iam: Any) -> None:
    # With no CallerArn there is no simulated principal: aws:username has no value unless a
    # context entry gives one, so a condition on it cannot match.
    named = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
        "Condition": {"StringLike": {"aws:username": "*"}},
    }]})
    result = iam.simulate_custom_policy(
        PolicyInputList=[named], ActionNames=["iam:GetUser"]
    )["EvaluationResults"][0]
    assert (result["EvalDecision"], result["MatchedStatements"]) == ("implicitDeny", [])
    assert result["MissingContextValues"] == ["aws:username"]
    given = iam.simulate_custom_policy(
        PolicyInputList=[named], ActionNames=["iam:GetUser"],
        ContextEntries=[{"ContextKeyName": "aws:username", "ContextKeyValues": ["ana"],
                         "ContextKeyType": "string"}],
    )["EvaluationResults"][0]
    assert (given["EvalDecision"], given["MissingContextValues"]) == ("allowed", [])
