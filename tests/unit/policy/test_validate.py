"""Grammar rules: every refusal with AWS's exact message, table-driven."""

from __future__ import annotations

import json
from typing import Any

import pytest

from trailgate.policy.model import MalformedPolicyError, PolicyType
from trailgate.policy.parse import parse_policy
from trailgate.policy.validate import (
    SCP_MALFORMED_MESSAGE,
    OperatorName,
    check_bucket_resources,
    check_size,
    date_value_ok,
    iam_characters_ok,
    policy_size,
    require_current_version,
    split_operator,
    wildcard_match,
)

IDN = PolicyType.IDENTITY
R = PolicyType.RESOURCE
T = PolicyType.TRUST
S = PolicyType.SCP
B = PolicyType.BOUNDARY
SE = PolicyType.SESSION

SYNTAX = "Syntax errors in policy."
INVALID_JSON = "This policy contains invalid Json"  # IAM, for text that is not a JSON object
LEGACY = "The policy failed legacy parsing"
TRUST_ACTIONS = (
    "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  "
    "and sts:AssumeRoleWithWebIdentity"
)
NO_PRINCIPALS = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        body = {"Version": version, **body}
    return json.dumps(body)


def ok(**extra: Any) -> dict[str, Any]:
    """A valid identity statement, with elements replaced or added."""
    base: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def trust(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
        "Action": "sts:AssumeRole",
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def bucket(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": "arn:aws:s3:::trail-bucket",
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


# (document, policy type, flavor, exact message)
REFUSED: list[tuple[str, PolicyType, str, str]] = [
    # --- JSON itself
    ("", IDN, "iam", INVALID_JSON),
    ("not json", IDN, "iam", INVALID_JSON),
    ('{"Version": "2012-10-17", "Statement": [}', IDN, "iam", INVALID_JSON),
    (doc(ok()) + " {}", IDN, "iam", INVALID_JSON),
    ("[" + doc(ok()) + "]", IDN, "iam", INVALID_JSON),
    (
        '{"Statement": [{"Effect": "Allow", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
        IDN,
        "iam",
        SYNTAX,
    ),
    ('{"Statement": [], "Statement": []}', IDN, "iam", SYNTAX),
    # --- top level
    ('{"Version": "2012-10-17"}', IDN, "iam", SYNTAX),
    (doc(version="2012-10-17"), IDN, "iam", SYNTAX),  # empty Statement array
    (doc(ok(), version="2012-10-18"), IDN, "iam", SYNTAX),
    (
        '{"Version": 2012, "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}',
        IDN,
        "iam",
        SYNTAX,
    ),
    ('{"Statement": "Allow everything"}', IDN, "iam", SYNTAX),
    (
        '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}], "Extra": 1}',
        IDN,
        "iam",
        SYNTAX,
    ),
    (
        '{"Id": 7, "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}',
        IDN,
        "iam",
        SYNTAX,
    ),
    # --- element names are case-sensitive
    (doc({"effect": "Allow", "Action": "s3:*", "Resource": "*"}), IDN, "iam", SYNTAX),
    (doc(ok(resource="*")), IDN, "iam", SYNTAX),
    # --- Effect
    (doc(ok(Effect=None)), IDN, "iam", SYNTAX),
    (doc(ok(Effect="Permit")), IDN, "iam", SYNTAX),
    (doc(ok(Effect="allow")), IDN, "iam", LEGACY),
    (doc(ok(Effect="DENY")), IDN, "iam", LEGACY),
    (doc(ok(Effect=True)), IDN, "iam", SYNTAX),
    # --- pairs that exclude each other, element types
    (doc(ok(NotAction="s3:PutObject")), IDN, "iam", SYNTAX),
    (doc(ok(NotResource="arn:aws:s3:::b")), IDN, "iam", SYNTAX),
    (doc(ok(Action=["s3:GetObject", 7])), IDN, "iam", SYNTAX),
    (doc(ok(Action={"s3": "GetObject"})), IDN, "iam", SYNTAX),
    (doc(ok(Resource=None, NotResource=None, Sid=5)), IDN, "iam", SYNTAX),
    (doc(ok(Condition=["StringEquals"])), IDN, "iam", SYNTAX),
    (doc(ok(Condition={"StringEquals": "aws:username"})), IDN, "iam", SYNTAX),
    (doc(ok(Condition={"StringEquals": {"aws:username": None}})), IDN, "iam", SYNTAX),
    (doc(ok(Condition={"StringEquals": {"aws:username": [["a"]]}})), IDN, "iam", SYNTAX),
    # --- required elements
    (doc(ok(Action=None)), IDN, "iam", "Policy statement must contain actions."),
    (doc(ok(Action=[])), IDN, "iam", "Policy statement must contain actions."),
    (doc(ok(Resource=None)), IDN, "iam", "Policy statement must contain resources."),
    (doc(ok(Resource=[])), B, "iam", "Policy statement must contain resources."),
    (doc(ok(Resource=None)), SE, "iam", "Policy statement must contain resources."),
    (doc(ok(Action=None)), S, "iam", "Policy statement must contain actions."),
    # --- principals per policy type
    (doc(ok(Principal="*")), IDN, "iam", "Policy document should not specify a principal."),
    (
        doc(ok(NotPrincipal={"AWS": "111111111111"})),
        SE,
        "iam",
        "Policy document should not specify a principal.",
    ),
    (
        doc(ok(Principal={"AWS": "111111111111"})),
        S,
        "iam",
        "Policy document should not specify a principal.",
    ),
    (doc(trust(Principal=None)), T, "iam", "Missing required field Principal"),
    (doc(ok()), R, "iam", "Missing required field Principal"),
    (
        doc(trust(Principal=None, NotPrincipal={"AWS": "111111111111"})),
        T,
        "iam",
        "Has prohibited field NotPrincipal",
    ),
    # --- trust policies
    (doc(trust(Resource="*")), T, "iam", "Has prohibited field Resource"),
    (doc(trust(NotResource="arn:aws:s3:::b")), T, "iam", "Has prohibited field Resource"),
    (doc(trust(Action="s3:GetObject")), T, "iam", TRUST_ACTIONS),
    (doc(trust(Action=["sts:AssumeRole", "sts:GetCallerIdentity"])), T, "iam", TRUST_ACTIONS),
    (doc(trust(Action=None)), T, "iam", TRUST_ACTIONS),
    (doc(trust(Action=None, NotAction="sts:AssumeRole")), T, "iam", TRUST_ACTIONS),
    (doc(trust(Action="sts:Get*")), T, "iam", TRUST_ACTIONS),
    # --- Sid
    (
        doc(ok(Sid="read-objects")),
        IDN,
        "iam",
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
        "expression [0-9A-Za-z]*",
    ),
    (
        doc(ok(Sid="A"), ok(Sid="A")),
        IDN,
        "iam",
        "Statement IDs (SID) in a single policy must be unique.",
    ),
    # --- actions
    (doc(ok(Action="GetObject")), IDN, "iam", VENDOR),
    (doc(ok(Action="s3:Get:Object")), IDN, "iam", "Actions/Condition can contain only one colon."),
    (doc(ok(Action="s 3:GetObject")), IDN, "iam", "Vendor s 3 is not valid"),
    (doc(ok(Action=":GetObject")), IDN, "iam", "Vendor  is not valid"),
    # --- resources
    (
        doc(ok(Resource="trail-bucket")),
        IDN,
        "iam",
        'Resource trail-bucket must be in ARN format or "*".',
    ),
    (
        # IAM takes the text before the first colon for "arn" and names the rebuilt ARN
        # (audit 18: AWS answers "aws:s3:::b" with 'Partition "s3" ... "arn:s3:::b:*"')
        doc(ok(Resource="s3:::trail-bucket")),
        IDN,
        "iam",
        'Partition "" is not valid for resource "arn:::trail-bucket:*:*".',
    ),
    (doc(ok(Resource="arn:aws:s3::trail-bucket")), IDN, "iam", LEGACY),
    (
        doc(ok(Resource="arn:${aws:partition}:s3:::b")),
        IDN,
        "iam",
        'Partition "${aws" is not valid for resource "arn:${aws:partition}:s3:::b".',
    ),
    (
        doc(ok(Resource="arn:amazon:s3:::b")),
        IDN,
        "iam",
        'Partition "amazon" is not valid for resource "arn:amazon:s3:::b".',
    ),
    (
        doc(ok(Resource="arn:aws:s*:::b")),
        IDN,
        "iam",
        "Resource vendor must be fully qualified and cannot contain regexes.",
    ),
    # an empty service part is a legacy-parser refusal (audit 18, as AWS answers
    # "arn:aws::::example_bucket")
    (doc(ok(Resource="arn:aws::::b")), IDN, "iam", LEGACY),
    (
        doc(ok(Resource="arn:aws:iam:us-east-1:111111111111:role/R")),
        IDN,
        "iam",
        "IAM resource arn:aws:iam:us-east-1:111111111111:role/R cannot contain region information.",
    ),
    (
        doc(ok(Resource="arn:aws:s3:us-east-1::b")),
        IDN,
        "iam",
        "Resource arn:aws:s3:us-east-1::b can not contain region information.",
    ),
    (
        doc(ok(Resource="arn:aws:iam::111111111111:thing/x")),
        IDN,
        "iam",
        'IAM resource path must either be "*", root, or start with user/, federated-user/, role/, '
        "group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, "
        "saml-provider/, oidc-provider/, report/, access-report/.",
    ),
    (
        doc(ok(Resource="arn:aws:iam::${aws:PrincipalAccount}:user/x")),
        IDN,
        "iam",
        'Resource arn:aws:iam::${aws:PrincipalAccount}:user/x must be in ARN format or "*".',
    ),
    (
        doc(ok(NotResource="bucket", Resource=None)),
        IDN,
        "iam",
        'Resource bucket must be in ARN format or "*".',
    ),
    # --- principals
    (
        doc(trust(Principal={"AWS": "arn:aws:iam::222222222222:role/*"})),
        T,
        "iam",
        'Invalid principal in policy: "AWS":"arn:aws:iam::222222222222:role/*"',
    ),
    (
        doc(trust(Principal={"AWS": "22222222222"})),
        T,
        "iam",
        'Invalid principal in policy: "AWS":"22222222222"',
    ),
    (
        doc(trust(Principal={"AWS": "arn:aws:iam::222222222222:group/admins"})),
        T,
        "iam",
        'Invalid principal in policy: "AWS":"arn:aws:iam::222222222222:group/admins"',
    ),
    (
        doc(trust(Principal={"AWS": "arn:aws:sts::222222222222:assumed-role/R"})),
        T,
        "iam",
        'Invalid principal in policy: "AWS":"arn:aws:sts::222222222222:assumed-role/R"',
    ),
    (
        doc(trust(Principal={"Service": "lambda"})),
        T,
        "iam",
        'Invalid principal in policy: "SERVICE":"lambda"',
    ),
    (
        doc(trust(Principal={"Service": "*"})),
        T,
        "iam",
        'Invalid principal in policy: "SERVICE":"*"',
    ),
    (
        doc(trust(Principal={"Federated": "arn:aws:iam::222222222222:saml-provider/*"})),
        T,
        "iam",
        "Federated principals must be valid domain names or SAML metadata ARNs",
    ),
    (
        doc(trust(Principal={"Federated": ""})),
        T,
        "iam",
        "Federated principals must be valid domain names or SAML metadata ARNs",
    ),
    (
        doc(trust(Principal={"Federated": "arn:aws:iam::222222222222:role/not-a-provider"})),
        T,
        "iam",
        "Federated principals must be valid domain names or SAML metadata ARNs",
    ),
    (
        doc(trust(Principal={"CanonicalUser": "ab" * 32})),
        T,
        "iam",
        f'Invalid principal in policy: "CANONICALUSER":"{"ab" * 32}"',
    ),
    (
        doc(trust(Principal={"Group": "admins"})),
        T,
        "iam",
        'Invalid principal in policy: "Group":"admins"',
    ),
    (doc(trust(Principal={"AWS": []})), T, "iam", NO_PRINCIPALS),  # audit17 (was '"AWS":""')
    (doc(trust(Principal="arn:aws:iam::222222222222:root")), T, "iam", SYNTAX),
    (doc(trust(Principal={"AWS": 222222222222})), T, "iam", SYNTAX),
    # --- conditions
    (doc(ok(Condition={"StringEqualsIgnoreCaseX": {"aws:username": "a"}})), IDN, "iam", SYNTAX),
    (doc(ok(Condition={"stringequals": {"aws:username": "a"}})), IDN, "iam", SYNTAX),
    (doc(ok(Condition={"NullIfExists": {"aws:username": "true"}})), IDN, "iam", SYNTAX),
    (doc(ok(Condition={"ForSomeValues:StringLike": {"aws:TagKeys": "a"}})), IDN, "iam", SYNTAX),
    (doc(ok(Condition={"StringEquals": {"username": "a"}})), IDN, "iam", VENDOR),
    (doc(ok(Condition={"DateGreaterThan": {"aws:CurrentTime": "yesterday"}})), IDN, "iam", LEGACY),
    (
        doc(ok(Condition={"DateLessThan": {"aws:CurrentTime": "2020-13-01T00:00:00Z"}})),
        IDN,
        "iam",
        LEGACY,
    ),
    # --- S3 bucket policies (flavor "s3")
    ("", R, "s3", "Policies must be valid JSON and the first byte must be '{'"),
    ("invalid json", R, "s3", "Policies must be valid JSON and the first byte must be '{'"),
    (" " + doc(bucket()), R, "s3", "Policies must be valid JSON and the first byte must be '{'"),
    ("[]", R, "s3", "Policies must be valid JSON and the first byte must be '{'"),
    ("{", R, "s3", "This policy contains invalid Json"),
    ("{}", R, "s3", "Missing required field Statement"),
    ('{"Statement": []}', R, "s3", "Could not parse the policy: Statement is empty!"),
    (
        doc(bucket(), version="2020-01-01"),
        R,
        "s3",
        "The policy must contain a valid version string",
    ),
    (doc(bucket(Effect="hello")), R, "s3", "Invalid effect: hello"),
    (doc(bucket(Effect="allow")), R, "s3", "Invalid effect: allow"),
    (doc(bucket(effect="Allow", Effect=None)), R, "s3", "Unknown field effect"),
    (doc(bucket(Principal=None)), R, "s3", "Missing required field Principal"),
    (doc(bucket(Action=None)), R, "s3", "Missing required field Action"),
    (doc(bucket(Resource=None)), R, "s3", "Missing required field Resource"),
    (doc(bucket(Action=None, NotAction=None, Sid=[])), R, "s3", "Invalid policy syntax."),
    (doc(bucket(Action="GetBucketAcl")), R, "s3", "Policy has invalid action"),
    (doc(bucket(Resource="trail-bucket")), R, "s3", "Policy has invalid resource"),
    (doc(bucket(Principal={"AWS": "alice"})), R, "s3", "Invalid principal in policy"),
    (
        doc(bucket(Condition={"StringEqualz": {"aws:SourceArn": "x"}})),
        R,
        "s3",
        "Invalid Condition type : StringEqualz",
    ),
    (
        doc(bucket(Condition={"StringEquals": {"SourceArn": "x"}})),
        R,
        "s3",
        "Policy has an invalid condition key",
    ),
]


@pytest.mark.parametrize(("text", "policy_type", "flavor", "message"), REFUSED)
def test_refused_with_aws_message(
    text: str, policy_type: PolicyType, flavor: str, message: str
) -> None:
    assert flavor in ("iam", "s3")
    with pytest.raises(MalformedPolicyError) as info:
        parse_policy(text, policy_type, flavor="s3" if flavor == "s3" else "iam")
    assert info.value.message == message
    assert str(info.value) == message


ACCEPTED: list[tuple[str, PolicyType, str]] = [
    (doc(ok()), IDN, "iam"),
    (doc(ok(), version=None), IDN, "iam"),
    (doc(ok(), version="2008-10-17"), IDN, "iam"),
    (doc(ok(Action="*")), IDN, "iam"),
    (doc(ok(Action="s3:*Object?")), IDN, "iam"),
    (doc(ok(Action="*:Get*")), IDN, "iam"),
    (doc(ok(Action="IAM:listaccesskeys")), IDN, "iam"),
    (doc(ok(Action="s*:GetObject")), IDN, "iam"),
    (doc(ok(Sid="")), IDN, "iam"),
    (doc(ok(Sid=""), ok(Sid="")), IDN, "iam"),
    (doc(ok(Resource="arn:aws:s3:::b/${aws:username}/*")), IDN, "iam"),
    (doc(ok(Resource="arn:aws:iam::*:role/*")), IDN, "iam"),
    (doc(ok(Resource="arn:aws:iam::111111111111:root")), IDN, "iam"),
    (doc(ok(Resource="arn:aws-cn:ec2:cn-north-1:111111111111:instance/*")), IDN, "iam"),
    (doc(ok(Resource="arn:aws:ec2:*:*:*")), IDN, "iam"),
    (doc(ok(Condition={})), IDN, "iam"),
    (doc(ok(Condition={"StringEquals": {}})), IDN, "iam"),
    (doc(ok(Condition={"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*"]}})), IDN, "iam"),
    (doc(ok(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": []}})), IDN, "iam"),
    (doc(ok(Condition={"Null": {"aws:TokenIssueTime": True}})), IDN, "iam"),
    (doc(ok(Condition={"NumericLessThanEquals": {"s3:max-keys": 10}})), IDN, "iam"),
    (
        doc(ok(Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:01Z"}})),
        IDN,
        "iam",
    ),
    (doc(ok(Condition={"DateLessThan": {"aws:EpochTime": "1700000000"}})), IDN, "iam"),
    (doc(ok(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})), IDN, "iam"),
    (doc(ok(Resource=None)), S, "iam"),
    (doc(ok(Effect="Deny", Action=None, NotAction="s3:*")), S, "iam"),
    (doc(trust()), T, "iam"),
    (doc(trust(Principal="*", Action=["sts:AssumeRole", "sts:TagSession"])), T, "iam"),
    (doc(trust(Action="sts:*")), T, "iam"),
    (doc(trust(Action="sts:AssumeRoleWith*")), T, "iam"),
    (doc(trust(Action="*")), T, "iam"),
    (doc(trust(Action="STS:assumerole")), T, "iam"),
    (doc(trust(Action=["sts:SetSourceIdentity", "sts:SetContext"])), T, "iam"),
    (doc(trust(Principal={"AWS": "222222222222"})), T, "iam"),
    (doc(trust(Principal={"AWS": "AIDAJQABLZS4A3QDU576Q"})), T, "iam"),
    (doc(trust(Principal={"AWS": "AROAJQABLZS4A3QDU576Q"})), T, "iam"),
    (doc(trust(Principal={"AWS": "arn:aws:iam::222222222222:user/div/alice"})), T, "iam"),
    (doc(trust(Principal={"AWS": "arn:aws:sts::222222222222:assumed-role/R/s"})), T, "iam"),
    (doc(trust(Principal={"AWS": "arn:aws:sts::222222222222:federated-user/bob"})), T, "iam"),
    (doc(trust(Principal={"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]})), T, "iam"),
    (
        doc(
            trust(
                Principal={"Federated": "arn:aws:iam::222222222222:saml-provider/Okta"},
                Action="sts:AssumeRoleWithSAML",
            )
        ),
        T,
        "iam",
    ),
    (
        doc(
            trust(
                Principal={"Federated": "accounts.google.com"},
                Action="sts:AssumeRoleWithWebIdentity",
            )
        ),
        T,
        "iam",
    ),
    (doc(bucket(Sid="AWSCloudTrailAclCheck20150319")), R, "s3"),
    (doc(bucket(Sid="any text, even spaces"), bucket(Sid="any text, even spaces")), R, "s3"),
    (doc(bucket(Principal={"CanonicalUser": "ab" * 32})), R, "s3"),
    (doc(bucket(Principal={"AWS": "*"}, NotPrincipal=None)), R, "s3"),
]


@pytest.mark.parametrize(("text", "policy_type", "flavor"), ACCEPTED)
def test_accepted(text: str, policy_type: PolicyType, flavor: str) -> None:
    policy = parse_policy(text, policy_type, flavor="s3" if flavor == "s3" else "iam")
    assert len(policy.statements) >= 1


def test_refusal_table_is_large_enough() -> None:
    assert len(REFUSED) >= 40


# --------------------------------------------------------------------------------------------
# Helpers callers use
# --------------------------------------------------------------------------------------------


def test_policy_size_ignores_whitespace() -> None:
    assert policy_size(' {\n\t"a" : "b c"\r\n}') == 10
    assert policy_size("") == 0


def test_check_size_returns_none_when_within_quota_else_the_size() -> None:
    text = doc(ok())
    size = policy_size(text)
    assert check_size(text, size) is None
    assert check_size(text, size - 1) == size
    assert check_size("  {}  ", 2) is None


def test_iam_characters() -> None:
    assert iam_characters_ok('{"a":"\tcafé\r\n\u00ff"}')
    assert not iam_characters_ok('{"a":"\u0100"}')
    assert not iam_characters_ok('{"a":"\x07"}')
    assert not iam_characters_ok('{"a":"\U0001f600"}')


def test_split_operator() -> None:
    assert split_operator("StringEquals") == OperatorName(None, "StringEquals", False)
    assert split_operator("ForAnyValue:StringLikeIfExists") == OperatorName(
        "ForAnyValue", "StringLike", True
    )
    assert split_operator("ForAllValues:Null") == OperatorName("ForAllValues", "Null", False)
    assert split_operator("Null") == OperatorName(None, "Null", False)
    assert split_operator("NullIfExists") is None
    assert split_operator("IfExists") is None
    assert split_operator("stringEquals") is None


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("*", "anything", True),
        ("s3:get*", "s3:getobject", True),
        ("s3:get*", "s3:putobject", False),
        ("s3:?etobject", "s3:getobject", True),
        ("s3:?etobject", "s3:etobject", False),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXcYYb", False),
        ("*a", "bbba", True),
        ("", "", True),
        ("", "a", False),
        ("a**", "a", True),
    ],
)
def test_wildcard_match(pattern: str, text: str, expected: bool) -> None:
    assert wildcard_match(pattern, text) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-01-01", True),
        ("2020-01-01T00:00:01Z", True),
        ("2020-01-01T10:00:00+02:00", True),
        ("2020-01-01T10:00:00.123Z", True),
        ("1700000000", True),
        ("2020-13-01", False),
        ("2020-01-32", False),
        ("2020-01-01T24:00:00Z", False),
        ("tomorrow", False),
        ("", False),
    ],
)
def test_date_values(value: str, expected: bool) -> None:
    assert date_value_ok(value) is expected


def test_managed_policies_need_the_current_version() -> None:
    require_current_version(parse_policy(doc(ok()), IDN))
    for version in (None, "2008-10-17"):
        with pytest.raises(MalformedPolicyError) as info:
            require_current_version(parse_policy(doc(ok(), version=version), IDN))
        assert info.value.message == "Policy document must be version 2012-10-17 or greater."


def test_bucket_policy_resources_must_name_the_bucket() -> None:
    good = parse_policy(
        doc(bucket(Resource=["arn:aws:s3:::trail-bucket", "arn:aws:s3:::trail-bucket/AWSLogs/*"])),
        R,
        flavor="s3",
    )
    check_bucket_resources(good, "trail-bucket")
    for resource in ("*", "arn:aws:s3:::other-bucket/*", "arn:aws:s3:::trail-bucket2"):
        policy = parse_policy(doc(bucket(Resource=resource)), R, flavor="s3")
        with pytest.raises(MalformedPolicyError) as info:
            check_bucket_resources(policy, "trail-bucket")
        assert info.value.message == "Policy has invalid resource"


def test_scp_message_constant() -> None:
    assert SCP_MALFORMED_MESSAGE == (
        "The provided policy document does not meet the requirements of the specified policy type."
    )
