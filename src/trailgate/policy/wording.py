"""The messages of policy validation, per service: IAM's and S3's wording of the same
faults (:mod:`trailgate.policy.validate` raises them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trailgate.policy.model import MalformedPolicyError

Flavor = Literal["iam", "s3"]


# ------------------------------------------------------------------------------------------
# Wording
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wording:
    """The messages of one service.  Templates use ``str.format`` fields named in braces."""

    not_json: str  # the text is not a JSON object at all
    syntax: str  # JSON that is not a policy (types, unknown elements, pairs)
    legacy: str
    invalid_json: str  # a text that starts like an object but is not valid JSON
    unknown_field: str  # {name}
    missing_statement: str
    empty_statement: str
    invalid_version: str
    invalid_effect: str  # {effect}
    missing_effect: str
    missing_action: str
    missing_resource: str
    missing_principal: str
    principal_forbidden: str
    resource_forbidden: str
    not_principal_forbidden: str
    trust_action: str
    sid_not_alnum: str
    sid_duplicate: str
    action_vendor: str
    action_colons: str
    action_bad_vendor: str  # {vendor}
    resource_not_arn: str  # {resource}
    resource_partition: str  # {partition} {resource}
    resource_vendor: str
    resource_region_iam: str  # {resource}
    resource_region_s3: str  # {resource}
    resource_account: str  # {resource}
    iam_resource_path: str
    principal_invalid: str  # {key} {value}
    no_principals: str  # a trust policy statement whose Principal names nobody
    federated_invalid: str
    condition_type: str  # {operator}
    condition_key: str  # {key}
    condition_date: str


IAM_RESOURCE_PREFIXES = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)

IAM_WORDING = Wording(
    not_json="This policy contains invalid Json",
    syntax="Syntax errors in policy.",
    legacy="The policy failed legacy parsing",
    invalid_json="This policy contains invalid Json",
    unknown_field="Syntax errors in policy.",
    missing_statement="Syntax errors in policy.",
    empty_statement="Syntax errors in policy.",
    invalid_version="Syntax errors in policy.",
    invalid_effect="Syntax errors in policy.",
    missing_effect="Syntax errors in policy.",
    missing_action="Policy statement must contain actions.",
    missing_resource="Policy statement must contain resources.",
    missing_principal="Missing required field Principal",  # UNSURE for IAM trust policies
    principal_forbidden="Policy document should not specify a principal.",
    resource_forbidden="Has prohibited field Resource",
    not_principal_forbidden="Has prohibited field NotPrincipal",  # UNSURE (by analogy)
    # UNSURE: the wording other emulators use (double space included); the spec's guess was
    # "AssumeRole policy may only specify STS AssumeRole actions."
    trust_action=(
        "Trust Policy statement actions can only be sts:AssumeRole, "
        "sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"
    ),
    sid_not_alnum=(
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
        "regular expression [0-9A-Za-z]*"
    ),
    sid_duplicate="Statement IDs (SID) in a single policy must be unique.",
    action_vendor="Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
    action_colons="Actions/Condition can contain only one colon.",
    action_bad_vendor="Vendor {vendor} is not valid",  # UNSURE (emulator wording)
    resource_not_arn='Resource {resource} must be in ARN format or "*".',
    resource_partition='Partition "{partition}" is not valid for resource "{resource}".',
    resource_vendor="Resource vendor must be fully qualified and cannot contain regexes.",
    resource_region_iam="IAM resource {resource} cannot contain region information.",
    # S3 bucket / object ARNs and Route 53 ARNs (an AWS answer to a PutRolePolicy naming
    # "arn:aws:route53:eu-west-1:ACCOUNT:hostedzone/*" is quoted in public Terraform code)
    resource_region_s3="Resource {resource} can not contain region information.",
    # the same public report: "arn:aws:route53::ACCOUNT:hostedzone/*"
    resource_account="Resource {resource} cannot contain an account id.",
    # AWS's current wording (quoted from PutRolePolicy / CreatePolicyVersion refusals of 2026
    # in public incident logs); older emulators lack the "root" alternative
    iam_resource_path=(
        'IAM resource path must either be "*", root, or start with '
        + ", ".join(IAM_RESOURCE_PREFIXES)
        + "."
    ),
    principal_invalid='Invalid principal in policy: "{key}":"{value}"',
    # IAM's answer (quoted from real CreateRole refusals, e.g. terraform-aws-iam issue #47) to
    # a trust policy statement whose Principal lists no one ({"AWS": [], "Service": []})
    no_principals=(
        "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
        "The passed in policy has a statement with no principals!"
    ),
    # AWS's words for a Federated value that is neither a domain name nor a provider ARN
    # (reported verbatim by Terraform users, e.g. an IRSA role given an empty provider ARN)
    federated_invalid="Federated principals must be valid domain names or SAML metadata ARNs",
    # IAM answers an unknown operator with a syntax error (emulators tested against AWS agree);
    # S3 names the operator.
    condition_type="Syntax errors in policy.",
    condition_key=("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    condition_date="The policy failed legacy parsing",
)

S3_WORDING = Wording(
    not_json="Policies must be valid JSON and the first byte must be '{'",
    syntax="Invalid policy syntax.",
    legacy="Invalid policy syntax.",  # UNSURE
    invalid_json="This policy contains invalid Json",  # UNSURE
    unknown_field="Unknown field {name}",  # UNSURE
    missing_statement="Missing required field Statement",
    empty_statement="Could not parse the policy: Statement is empty!",  # UNSURE
    invalid_version="The policy must contain a valid version string",  # UNSURE
    invalid_effect="Invalid effect: {effect}",  # UNSURE
    missing_effect="Missing required field Effect",  # UNSURE
    missing_action="Missing required field Action",  # UNSURE
    missing_resource="Missing required field Resource",  # UNSURE
    missing_principal="Missing required field Principal",
    principal_forbidden="Policy document should not specify a principal.",  # (not reachable)
    resource_forbidden="Has prohibited field Resource",  # (not reachable)
    not_principal_forbidden="Has prohibited field NotPrincipal",  # (not reachable)
    trust_action="Policy has invalid action",  # (not reachable)
    sid_not_alnum="",  # S3 accepts any Sid string
    sid_duplicate="",  # not checked for S3  # UNSURE
    action_vendor="Policy has invalid action",
    action_colons="Policy has invalid action",
    action_bad_vendor="Policy has invalid action",
    resource_not_arn="Policy has invalid resource",
    resource_partition="Policy has invalid resource",
    resource_vendor="Policy has invalid resource",
    resource_region_iam="Policy has invalid resource",
    resource_region_s3="Policy has invalid resource",
    resource_account="Policy has invalid resource",
    iam_resource_path="Policy has invalid resource",
    principal_invalid="Invalid principal in policy",
    no_principals="Invalid principal in policy",  # (not reachable: trust policies only)
    federated_invalid="Invalid principal in policy",
    condition_type="Invalid Condition type : {operator}",  # UNSURE
    condition_key="Policy has an invalid condition key",
    condition_date="Invalid policy syntax.",  # UNSURE
)


def wording(flavor: Flavor) -> Wording:
    return S3_WORDING if flavor == "s3" else IAM_WORDING


def fail(message: str, **fields: str) -> MalformedPolicyError:
    """Build the error; ``fields`` fill the template (user text is never re-interpreted)."""
    return MalformedPolicyError(message.format(**fields) if fields else message)


