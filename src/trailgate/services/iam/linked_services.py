"""The AWS services trailgate knows service-linked roles for (data only, no imports of the
rest of IAM, so the authorization catalog can read it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkedService:
    role_name: str
    policy: str | None = None  # the AWS managed policy's name, under /aws-service-role/
    suffix_allowed: bool = False


# Service principal -> its service-linked role, as AWS names them (names seen in AWS's
# documentation and in public reports of the real service).
SERVICES: dict[str, LinkedService] = {
    "cloudtrail.amazonaws.com": LinkedService(
        "AWSServiceRoleForCloudTrail", "CloudTrailServiceRolePolicy"
    ),
    "organizations.amazonaws.com": LinkedService(
        "AWSServiceRoleForOrganizations", "AWSOrganizationsServiceTrustPolicy"
    ),
    "access-analyzer.amazonaws.com": LinkedService(
        "AWSServiceRoleForAccessAnalyzer", "AccessAnalyzerServiceRolePolicy"
    ),
    "autoscaling.amazonaws.com": LinkedService(
        "AWSServiceRoleForAutoScaling", "AutoScalingServiceRolePolicy", suffix_allowed=True
    ),
    "config.amazonaws.com": LinkedService("AWSServiceRoleForConfig", "AWSConfigServiceRolePolicy"),
    "ecs.amazonaws.com": LinkedService("AWSServiceRoleForECS", "AmazonECSServiceRolePolicy"),
    "elasticloadbalancing.amazonaws.com": LinkedService(
        "AWSServiceRoleForElasticLoadBalancing", "AWSElasticLoadBalancingServiceRolePolicy"
    ),
    "spot.amazonaws.com": LinkedService(
        "AWSServiceRoleForEC2Spot", "AWSEC2SpotServiceRolePolicy"
    ),
    "support.amazonaws.com": LinkedService(
        "AWSServiceRoleForSupport", "AWSSupportServiceRolePolicy"
    ),
    "trustedadvisor.amazonaws.com": LinkedService(
        "AWSServiceRoleForTrustedAdvisor", "AWSTrustedAdvisorServiceRolePolicy"
    ),
}


def linked_role_arn(account: str, service: str, suffix: str | None) -> str | None:
    """The ARN of ``service``'s service-linked role in ``account`` (None: unknown service)."""
    found = SERVICES.get(service)
    if found is None:
        return None
    name = f"{found.role_name}_{suffix}" if suffix else found.role_name
    return f"arn:aws:iam::{account}:role/aws-service-role/{service}/{name}"
