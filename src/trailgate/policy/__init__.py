"""trailgate's IAM policy engine: a pure library (standard library only, no I/O).

Typical use::

    from trailgate.policy import PolicyInputs, PolicyDoc, PolicyType, PolicySet, evaluate
    doc = PolicyDoc("p", PolicyType.IDENTITY, text)
    policies = PolicySet.from_inputs(PolicyInputs(identity=(doc,)))
    decision = evaluate(request, policies)
"""

from .compile import load_policy
from .evaluate import BoundPolicy, PolicySet, evaluate
from .model import (
    Caller,
    Decision,
    MalformedPolicyError,
    MatchedStatement,
    Policy,
    PolicyDoc,
    PolicyInputs,
    PolicyType,
    Request,
    make_context,
    principal_context,
)
from .parse import parse_policy

__all__ = [
    "BoundPolicy",
    "Caller",
    "Decision",
    "MalformedPolicyError",
    "MatchedStatement",
    "Policy",
    "PolicyDoc",
    "PolicyInputs",
    "PolicySet",
    "PolicyType",
    "Request",
    "evaluate",
    "load_policy",
    "make_context",
    "parse_policy",
    "principal_context",
]
