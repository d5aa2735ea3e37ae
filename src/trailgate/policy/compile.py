"""Policy documents -> compiled, cached statement matchers.

A document is parsed, validated and compiled once and cached by (SHA-256 of its text, its type,
its flavour).  A compiled policy also memoises, per lower-cased action name, which statements
can apply at all, so repeated requests of one shape do no action matching.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from typing import Literal

from .conditions import compile_conditions
from .glob import Matcher, TemplateMatcher, compile_arn_glob, compile_glob, has_wildcard
from .glob import parse_template as _parse_template
from .model import Caller, Policy, PolicyType, PrincipalSpec, Statement
from .parse import parse_policy

Context = Mapping[str, tuple[str, ...]]
ResourceTest = Callable[[str, Context], bool]
ActionTest = Callable[[str], bool]

# How a resource/trust policy statement names the caller (spec 2.3): decides whether the
# grant is direct or still needs the caller's own policies.
NO_MATCH = -1
DIRECT = 0  # "*", user ARN, session ARN, federated user, service, federated, canonical user
ROLE = 1  # the role ARN (or AROA id) of a role session: boundary + session policy still apply
ACCOUNT = 2  # the account (id or :root): the account must still delegate by identity policy

_ACCOUNT_ID_LEN = 12


def _always(_: str) -> bool:
    return True


class PrincipalMatcher:
    """A compiled ``Principal`` (or ``NotPrincipal``) element."""

    __slots__ = ("accounts", "arns", "canonical", "federated", "negate", "services", "wildcard")

    def __init__(self, spec: PrincipalSpec, *, negate: bool) -> None:
        self.negate = negate
        self.wildcard = spec.wildcard
        accounts: set[str] = set()
        arns: set[str] = set()
        for entry in spec.aws:
            if entry == "*":
                self.wildcard = True
            elif len(entry) == _ACCOUNT_ID_LEN and entry.isdigit():
                accounts.add(entry)
            elif entry.startswith("arn:") and entry.endswith(":root") and ":iam::" in entry:
                accounts.add(entry.split(":")[4])
            else:
                arns.add(entry)  # user/role/session/federated-user ARN or a unique id
        self.accounts = frozenset(accounts)
        self.arns = frozenset(arns)
        self.services = frozenset(spec.service)
        self.federated = frozenset(spec.federated)
        self.canonical = frozenset(spec.canonical_user)

    def _kind(self, caller: Caller) -> int:
        if self.wildcard:
            return DIRECT
        kind = caller.kind
        if kind == "service":
            return DIRECT if caller.arn in self.services else NO_MATCH
        if kind == "anonymous":
            return NO_MATCH
        if kind == "federated":
            return DIRECT if caller.arn in self.federated else NO_MATCH
        if caller.canonical_id is not None and caller.canonical_id in self.canonical:
            return ACCOUNT  # a canonical user id names an account (S3)
        arns = self.arns
        if arns:
            if caller.arn in arns:
                return DIRECT
            if kind == "assumed_role":
                if caller.role_arn in arns or (caller.unique_id and caller.unique_id in arns):
                    return ROLE
            elif kind == "user" and caller.unique_id and caller.unique_id in arns:
                return DIRECT
        if caller.account in self.accounts:
            return ACCOUNT
        return NO_MATCH

    def kind(self, caller: Caller) -> int:
        found = self._kind(caller)
        if not self.negate:
            return found
        # NotPrincipal excludes only the principals it names exactly: an account entry excludes
        # the account (its root), not its users or role sessions, and a role ARN does not
        # exclude the role's sessions (AWS's NotPrincipal rules).  Everyone else is covered, as
        # by a grant to "*".
        if (found == ACCOUNT and caller.kind != "root") or found == ROLE:
            found = NO_MATCH
        return DIRECT if found == NO_MATCH else NO_MATCH


def _action_test(patterns: tuple[str, ...], negate: bool) -> ActionTest:
    exact: set[str] = set()
    wild: list[Matcher] = []
    for pattern in patterns:
        low = pattern.lower()
        if low == "*":
            wild = [_always]
            exact.clear()
            break
        if has_wildcard(low):
            wild.append(compile_glob(low))
        else:
            exact.add(low)
    frozen = frozenset(exact)

    def test(action: str) -> bool:
        return (action in frozen or any(m(action) for m in wild)) != negate

    return test


def _resource_test(patterns: tuple[str, ...], negate: bool, variables: bool) -> ResourceTest:
    """Exact entries -> one set lookup; ``literal*`` entries -> one ``str.startswith(tuple)``
    call; other wildcards -> compiled ARN globs; variables -> per-request templates."""
    exact: set[str] = set()
    prefixes: list[str] = []
    wild: list[Matcher] = []
    templates: list[TemplateMatcher] = []
    for pattern in patterns:
        template = _parse_template(pattern) if variables else None
        if template is not None:
            templates.append(TemplateMatcher(template, arn=True))
        elif pattern == "*":
            return (lambda _r, _c: False) if negate else (lambda _r, _c: True)
        elif not has_wildcard(pattern):
            exact.add(pattern)
        elif (
            pattern.endswith("*")
            and not has_wildcard(pattern[:-1])
            and pattern.count(":") >= 5
        ):
            prefixes.append(pattern[:-1])  # literal ARN head: a plain prefix test
        else:
            wild.append(compile_arn_glob(pattern))
    frozen = frozenset(exact)
    starts = tuple(prefixes)
    if not templates and not wild:
        if not starts:
            if negate:
                return lambda r, _c: r not in frozen
            return lambda r, _c: r in frozen
        if not frozen:
            if negate:
                return lambda r, _c: not r.startswith(starts)
            return lambda r, _c: r.startswith(starts)
        if negate:
            return lambda r, _c: not (r in frozen or r.startswith(starts))
        return lambda r, _c: r in frozen or r.startswith(starts)

    def test(resource: str, ctx: Context) -> bool:
        hit = (
            resource in frozen
            or (bool(starts) and resource.startswith(starts))
            or any(m(resource) for m in wild)
        )
        if not hit:
            for t in templates:
                m = t.matcher(ctx)  # None: unresolvable -> this entry matches nothing
                if m is not None and m(resource):
                    hit = True
                    break
        return hit != negate

    return test


class CompiledStatement:
    __slots__ = ("action", "condition", "deny", "index", "principal", "resource", "source")

    def __init__(self, st: Statement, variables: bool) -> None:
        self.source = st
        self.index = st.index
        self.deny = st.effect == "Deny"
        if st.action is not None:
            self.action = _action_test(st.action, False)
        else:
            self.action = _action_test(st.not_action or (), True)
        self.resource: ResourceTest | None = None
        if st.resource is not None:
            self.resource = _resource_test(st.resource, False, variables)
        elif st.not_resource is not None:
            self.resource = _resource_test(st.not_resource, True, variables)
        self.principal: PrincipalMatcher | None = None
        if st.principal is not None:
            self.principal = PrincipalMatcher(st.principal, negate=False)
        elif st.not_principal is not None:
            self.principal = PrincipalMatcher(st.not_principal, negate=True)
        self.condition = compile_conditions(st.conditions, variables)


class CompiledPolicy:
    """A parsed document with compiled statements and a per-action candidate index."""

    __slots__ = ("_by_action", "policy", "statements")

    _MAX_ACTIONS = 2048

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        variables = policy.variables_enabled
        self.statements = tuple(CompiledStatement(s, variables) for s in policy.statements)
        self._by_action: dict[str, tuple[CompiledStatement, ...]] = {}

    def candidates(self, action: str) -> tuple[CompiledStatement, ...]:
        """Statements whose Action/NotAction admits ``action`` (lower-cased)."""
        found = self._by_action.get(action)
        if found is None:
            if len(self._by_action) >= self._MAX_ACTIONS:
                self._by_action.clear()
            found = tuple(s for s in self.statements if s.action(action))
            self._by_action[action] = found
        return found


Flavor = Literal["iam", "s3"]

_cache: dict[tuple[bytes, PolicyType, str], CompiledPolicy] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 20_000


def load_policy(text: str, policy_type: PolicyType, flavor: Flavor = "iam") -> CompiledPolicy:
    """Parse, validate and compile ``text`` (cached by document hash).

    Raises :class:`~trailgate.policy.model.MalformedPolicyError` for an invalid document.
    """
    key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), policy_type, flavor)
    found = _cache.get(key)
    if found is not None:
        return found
    compiled = CompiledPolicy(parse_policy(text, policy_type, flavor=flavor))
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = compiled
    return compiled


def cache_size() -> int:
    return len(_cache)
