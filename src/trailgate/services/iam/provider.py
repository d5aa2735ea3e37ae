"""The IAM service provider: one method per IAM operation, named as botocore names it.

Each method has the signature ``(self, call: Call, tx: Tx) -> dict`` (see
:mod:`trailgate.services.base`); the operations are grouped by area in the mixins below.
Every write that changes IAM state calls ``tx.bump_generation()``.  Record layouts are
documented in :mod:`trailgate.services.iam.queries`.

SimulatePrincipalPolicy / SimulateCustomPolicy are in :mod:`.simulate`.
"""

from __future__ import annotations

from .absent import AbsentEntityOps
from .account import AccountOps
from .change_password import ChangePasswordOps
from .context_keys import ContextKeyOps
from .credential_report import CredentialReportOps
from .entity_policies import EntityPolicyOps
from .groups import GroupOps
from .instance_profiles import InstanceProfileOps
from .keys import AccessKeyOps
from .last_accessed import LastAccessedOps
from .mfa_devices import MfaOps
from .oidc_providers import OidcProviderOps
from .password_policy import PasswordPolicyOps
from .policies import PolicyOps
from .roles import RoleOps
from .saml_providers import SamlProviderOps
from .service_linked import ServiceLinkedRoleOps
from .simulate import SimulationOps
from .users import UserOps


class IamProvider(
    UserOps,
    AccessKeyOps,
    GroupOps,
    RoleOps,
    ServiceLinkedRoleOps,
    InstanceProfileOps,
    EntityPolicyOps,
    PolicyOps,
    MfaOps,
    OidcProviderOps,
    SamlProviderOps,
    AccountOps,
    PasswordPolicyOps,
    ChangePasswordOps,
    SimulationOps,
    AbsentEntityOps,
    CredentialReportOps,
    ContextKeyOps,
    LastAccessedOps,
):
    """IAM.  ``secret_key`` (32 bytes, the data dir's master key) encrypts secret access keys
    at rest (``trailgate.auth.tokens.encrypt_secret``, default context)."""

    def __init__(self, secret_key: bytes) -> None:
        self.secret_key = secret_key
