"""IAM policy and identity management: differences from AWS found by the audit16 sweep."""

from __future__ import annotations

import json
import time
from typing import Any

from .test_iam_api import allow, doc, uid

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


# -- managed policy versions ---------------------------------------------------------------------


def test_policy_update_date_follows_the_newest_remaining_version(iam: Any) -> None:
    # Policy.UpdateDate (botocore's IAM model): the creation date while the policy has one
    # version, else the CreateDate of its most recent version; deleting the newest version
    # moves it back.
    arn = iam.create_policy(PolicyName=uid("upd"), PolicyDocument=doc(allow("iam:GetUser")))[
        "Policy"]["Arn"]
    created = iam.get_policy(PolicyArn=arn)["Policy"]["CreateDate"]
    dates = {}
    for version in ("v2", "v3"):
        time.sleep(1.1)  # IAM dates have whole seconds
        made = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("iam:List*")))
        assert made["PolicyVersion"]["VersionId"] == version
        dates[version] = made["PolicyVersion"]["CreateDate"]
    assert created < dates["v2"] < dates["v3"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["UpdateDate"] == dates["v3"]
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["UpdateDate"] == dates["v2"]
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (policy["CreateDate"], policy["UpdateDate"]) == (created, created)
