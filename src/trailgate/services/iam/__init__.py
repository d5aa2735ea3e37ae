"""IAM: users, groups, roles, access keys, login profiles, virtual MFA, inline and managed
policies (``provider.IamProvider``); read helpers for authentication, authorization and STS
(``queries``); AWS-managed policies (``managed``)."""

from .provider import IamProvider

__all__ = ["IamProvider"]
