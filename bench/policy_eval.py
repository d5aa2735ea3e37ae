"""Benchmark: trailgate's IAM policy evaluator against Cedar (cedarpy) on an equivalent workload.

Usage::

    .venv/bin/python bench/policy_eval.py [--requests N] [--rounds N] [--seed N] [--json]
                                          [--profile]

Workload (fixed seed): 100 roles across 4 accounts, each with 2-5 identity policies of 1-10
statements drawn from the CloudTrail-sharing scenario (prefix-scoped S3 reads, ``s3:ListBucket``
with ``StringLike s3:prefix``, ``Bool aws:MultiFactorAuthPresent``, trust-like
``sts:AssumeRole`` statements with ``StringEquals sts:ExternalId``, Deny statements).  Every IAM
policy is translated into an equivalent Cedar policy set (one Cedar policy per statement,
``principal ==`` the role, actions expanded against a fixed vocabulary, resource globs as
``resource.arn like``, conditions as ``context`` tests, Deny as ``forbid``).  The request mix is
balanced to 50 % allowed / 50 % denied by trailgate's own decisions; both engines then decide
every request and any disagreement is counted and shown.

Timing, in one process, ``--rounds`` rounds alternating the engine order (A B, B A, ...); the
median over rounds is reported:

- trailgate: ``evaluate(request, policy_set)`` with one ``PolicySet`` built per role before
  timing.  Decisions per second from a plain loop; p50/p99 from a second loop that times every
  call with ``time.perf_counter_ns`` (timer overhead included, not subtracted).
- cedarpy: ``PolicySet`` (one per role) and ``Entities`` handles built once; requests use the
  structured ``{"type", "id"}`` entity form (about twice as fast as the ``'Type::"id"'`` string
  form) and a context pre-serialised to JSON.  The context carries only the attributes the
  translated policies read: cedarpy parses the context on every call, and trimming it is what a
  Cedar user would do (the full-context figure is shown too).  Call paths measured:
  ``cedarpy.is_authorized_batch`` with one batch per role (per-decision time = batch time /
  batch size: an amortised figure, not a latency any single request sees),
  ``cedarpy.is_authorized`` single calls (each timed; decisions per second from the same loop,
  the timers cost < 0.1 % of a call), and, for information, the full-context batch and the
  private ``cedarpy._internal`` batch call.  The ratio uses the faster public path.

This is a benchmark script, not a test; ``tests/unit/test_bench_policy_eval.py`` smoke-tests it.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import json
import math
import pstats
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from trailgate.policy.model import (
    Caller,
    PolicyDoc,
    PolicyInputs,
    PolicyType,
    Request,
    make_context,
    principal_context,
)

# --------------------------------------------------------------------------------------------
# Fixed vocabulary of the scenario
# --------------------------------------------------------------------------------------------

ACCOUNTS: tuple[str, ...] = ("111111111111", "222222222222", "333333333333", "444444444444")
BUCKET = "trail-bucket"
OTHER_BUCKET = "other-bucket"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OTHER_BUCKET_ARN = f"arn:aws:s3:::{OTHER_BUCKET}"
NO_RESOURCE = "*"

# action -> kind of resource it is requested on
ACTIONS: dict[str, str] = {
    "s3:GetObject": "object",
    "s3:GetObjectVersion": "object",
    "s3:GetObjectAcl": "object",
    "s3:GetObjectTagging": "object",
    "s3:PutObject": "object",
    "s3:PutObjectAcl": "object",
    "s3:DeleteObject": "object",
    "s3:DeleteObjectVersion": "object",
    "s3:GetBucketLocation": "bucket",
    "s3:GetBucketAcl": "bucket",
    "s3:GetBucketPolicy": "bucket",
    "s3:ListBucket": "bucket",
    "s3:ListBucketVersions": "bucket",
    "s3:ListAllMyBuckets": "none",
    "sts:AssumeRole": "role",
    "sts:TagSession": "role",
    "sts:GetCallerIdentity": "none",
    "iam:GetRole": "role",
    "iam:ListRoles": "none",
    "cloudtrail:LookupEvents": "none",
    "cloudtrail:DescribeTrails": "none",
    "cloudtrail:GetTrailStatus": "none",
}
LIST_ACTIONS = frozenset({"s3:ListBucket", "s3:ListBucketVersions"})

KEY_MFA = "aws:MultiFactorAuthPresent"
KEY_PREFIX = "s3:prefix"
KEY_EXTERNAL_ID = "sts:ExternalId"
BOOL_KEYS = frozenset(
    {"aws:multifactorauthpresent", "aws:securetransport", "aws:principalisawsservice"}
)
PREFIX_SUFFIXES: tuple[str, ...] = ("", "CloudTrail/", "CloudTrail/us-east-1/2024/01/")


def _object_arns() -> list[str]:
    arns = [f"{BUCKET_ARN}/README.txt", f"{OTHER_BUCKET_ARN}/data/report.csv"]
    for acct in ACCOUNTS:
        for day in range(1, 7):
            stamp = f"202401{day:02d}T0{day}05Z"
            arns.append(
                f"{BUCKET_ARN}/AWSLogs/{acct}/CloudTrail/us-east-1/2024/01/{day:02d}/"
                f"{acct}_CloudTrail_us-east-1_{stamp}_a{day}b.json.gz"
            )
        for day in range(1, 3):
            arns.append(
                f"{BUCKET_ARN}/AWSLogs/{acct}/CloudTrail-Digest/us-east-1/2024/01/{day:02d}/"
                f"{acct}_CloudTrail-Digest_us-east-1_main_us-east-1_202401{day:02d}T000000Z.json.gz"
            )
        arns.append(f"{OTHER_BUCKET_ARN}/AWSLogs/{acct}/CloudTrail/x.json.gz")
    return arns


RESOURCE_POOL: dict[str, list[str]] = {
    "object": _object_arns(),
    "bucket": [BUCKET_ARN, OTHER_BUCKET_ARN],
    "role": [f"arn:aws:iam::{a}:role/{n}" for a in ACCOUNTS for n in ("log-reader", "auditor")],
    "none": [NO_RESOURCE],
}
PREFIX_VALUES: tuple[str, ...] = (
    "",
    "AWSLogs/",
    *(f"AWSLogs/{a}/{s}" for a in ACCOUNTS for s in PREFIX_SUFFIXES),
)


@functools.cache
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whole-string ``*`` / ``?`` glob, used to expand actions and to pick matching resources."""
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


@functools.cache
def expand_actions(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """IAM action patterns (case-insensitive globs) -> the vocabulary actions they match."""
    return tuple(a for a in ACTIONS if any(glob_match(p, a, ignore_case=True) for p in patterns))


# --------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cond:
    operator: str  # StringLike | StringEquals | Bool | BoolIfExists
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Stmt:
    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Cond, ...] = ()


@dataclass
class Role:
    index: int
    account: str
    name: str
    policies: list[list[Stmt]]
    external_ids: list[str] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{self.name}"

    def statements(self) -> list[Stmt]:
        return [s for p in self.policies for s in p]


def _own_or_other(rng: random.Random, own: str) -> str:
    return own if rng.random() < 0.5 else rng.choice(ACCOUNTS)


def _stmt_prefix_read(rng: random.Random, own: str) -> Stmt:
    actions = rng.choice(
        [
            ("s3:GetObject",),
            ("s3:GetObject", "s3:GetObjectVersion"),
            ("s3:Get*",),
            ("s3:GetObject*",),
        ]
    )
    resources = []
    for _ in range(rng.choice((1, 1, 2))):
        acct = _own_or_other(rng, own)
        sub = rng.choice(("", "", "CloudTrail/"))
        resources.append(f"{BUCKET_ARN}/AWSLogs/{acct}/{sub}*")
    return Stmt("Allow", actions, tuple(dict.fromkeys(resources)))


def _stmt_list_prefix(rng: random.Random, own: str) -> Stmt:
    actions = rng.choice(
        [("s3:ListBucket",), ("s3:List*",), ("s3:ListBucket", "s3:ListBucketVersions")]
    )
    acct = _own_or_other(rng, own)
    prefixes = [f"AWSLogs/{acct}/*"]
    if rng.random() < 0.4:
        prefixes.append("")
    if rng.random() < 0.3:
        prefixes.append(f"AWSLogs/{rng.choice(ACCOUNTS)}/CloudTrail/*")
    cond = Cond("StringLike", KEY_PREFIX, tuple(dict.fromkeys(prefixes)))
    return Stmt("Allow", actions, (BUCKET_ARN,), (cond,))


def _stmt_mfa(rng: random.Random, own: str) -> Stmt:
    acct = _own_or_other(rng, own)
    actions, resources = rng.choice(
        [
            (("s3:PutObject", "s3:PutObjectAcl"), (f"{BUCKET_ARN}/AWSLogs/{acct}/*",)),
            (("s3:DeleteObject",), (f"{BUCKET_ARN}/AWSLogs/{acct}/*",)),
            (("s3:GetObject",), (f"{BUCKET_ARN}/*",)),
            (("cloudtrail:LookupEvents", "cloudtrail:Describe*"), (NO_RESOURCE,)),
            (("s3:*",), (f"{BUCKET_ARN}/AWSLogs/{acct}/CloudTrail/*",)),
            (("iam:GetRole", "iam:ListRoles"), (NO_RESOURCE,)),
        ]
    )
    conds = [Cond("Bool", KEY_MFA, ("true",))]
    if "s3:*" in actions and rng.random() < 0.5:
        conds.append(Cond("StringLike", KEY_PREFIX, (f"AWSLogs/{acct}/*",)))
    return Stmt("Allow", actions, resources, tuple(conds))


def _stmt_trust_like(rng: random.Random, own: str, role: Role) -> Stmt:
    acct = _own_or_other(rng, own)
    actions = rng.choice([("sts:AssumeRole",), ("sts:AssumeRole", "sts:TagSession")])
    resource = rng.choice([f"arn:aws:iam::{acct}:role/log-reader", f"arn:aws:iam::{acct}:role/*"])
    ext = f"ext-{acct[:3]}-{rng.randrange(1000):03d}"
    role.external_ids.append(ext)
    cond = Cond("StringEquals", KEY_EXTERNAL_ID, (ext,))
    return Stmt("Allow", actions, (resource,), (cond,))


def _stmt_deny(rng: random.Random, own: str) -> Stmt:
    other = rng.choice([a for a in ACCOUNTS if a != own])
    acct = _own_or_other(rng, own)
    choice = rng.randrange(5)
    if choice == 0:
        acts = rng.choice([("s3:DeleteObject", "s3:DeleteObjectVersion"), ("s3:Delete*",)])
        return Stmt("Deny", acts, (f"{BUCKET_ARN}/*",))
    if choice == 1:
        return Stmt("Deny", ("s3:*",), (f"{BUCKET_ARN}/AWSLogs/{acct}/CloudTrail-Digest/*",))
    if choice == 2:
        return Stmt("Deny", ("s3:GetObject",), (f"{BUCKET_ARN}/AWSLogs/{other}/*",))
    if choice == 3:
        cond = Cond("BoolIfExists", KEY_MFA, ("false",))
        return Stmt("Deny", ("s3:Put*", "s3:Delete*"), (NO_RESOURCE,), (cond,))
    cond = Cond("StringLike", KEY_PREFIX, (f"AWSLogs/{other}/*",))
    return Stmt("Deny", ("s3:ListBucket",), (BUCKET_ARN,), (cond,))


def _stmt_misc(rng: random.Random, own: str) -> Stmt:
    if rng.random() < 0.5:
        actions = rng.choice([("s3:GetBucketLocation", "s3:GetBucketAcl"), ("s3:GetBucket*",)])
        return Stmt("Allow", actions, (BUCKET_ARN,))
    actions = rng.choice(
        [
            ("cloudtrail:LookupEvents", "cloudtrail:Describe*"),
            ("iam:List*",),
            ("sts:GetCallerIdentity", "s3:ListAllMyBuckets"),
        ]
    )
    return Stmt("Allow", actions, (NO_RESOURCE,))


def generate_roles(rng: random.Random, n_roles: int = 100) -> list[Role]:
    """Roles across the 4 accounts, each with 2-5 policies of 1-10 statements."""
    roles: list[Role] = []
    kinds = ("read", "list", "mfa", "trust", "deny", "misc")
    weights = (4, 2, 2, 1.5, 1.5, 1)
    for i in range(n_roles):
        own = ACCOUNTS[i % len(ACCOUNTS)]
        role = Role(i, own, f"bench-role-{i:03d}", [])
        for _ in range(rng.randint(2, 5)):
            stmts: list[Stmt] = []
            for _ in range(rng.randint(1, 10)):
                kind = rng.choices(kinds, weights)[0]
                if kind == "read":
                    stmts.append(_stmt_prefix_read(rng, own))
                elif kind == "list":
                    stmts.append(_stmt_list_prefix(rng, own))
                elif kind == "mfa":
                    stmts.append(_stmt_mfa(rng, own))
                elif kind == "trust":
                    stmts.append(_stmt_trust_like(rng, own, role))
                elif kind == "deny":
                    stmts.append(_stmt_deny(rng, own))
                else:
                    stmts.append(_stmt_misc(rng, own))
            role.policies.append(stmts)
        roles.append(role)
    return roles


def iam_policy_json(stmts: Sequence[Stmt]) -> str:
    """One IAM policy document (JSON text) from statements."""
    out: list[dict[str, Any]] = []
    for n, s in enumerate(stmts):
        doc: dict[str, Any] = {
            "Sid": f"S{n}",
            "Effect": s.effect,
            "Action": s.actions[0] if len(s.actions) == 1 else list(s.actions),
            "Resource": s.resources[0] if len(s.resources) == 1 else list(s.resources),
        }
        if s.conditions:
            block: dict[str, dict[str, Any]] = {}
            for c in s.conditions:
                block.setdefault(c.operator, {})[c.key] = (
                    c.values[0] if len(c.values) == 1 else list(c.values)
                )
            doc["Condition"] = block
        out.append(doc)
    return json.dumps({"Version": "2012-10-17", "Statement": out}, indent=1)


# --------------------------------------------------------------------------------------------
# IAM -> Cedar translation
# --------------------------------------------------------------------------------------------


def cedar_attr(key: str) -> str:
    """A request-context key -> the Cedar context attribute carrying it."""
    return re.sub(r"[^a-z0-9]", "_", key.lower())


def cedar_str(text: str) -> str:
    return json.dumps(text)  # Cedar string literals share JSON's escapes for our ASCII input


def _cedar_like(pattern: str) -> str:
    # In a Cedar pattern '*' is the wildcard and '\*' a literal star; IAM '?' has no Cedar
    # equivalent, so the generator never emits it.
    if "?" in pattern or '"' in pattern or "\\" in pattern:
        raise ValueError(f"cannot translate glob {pattern!r}")
    return '"' + pattern + '"'


def _cedar_resource(patterns: Sequence[str]) -> str | None:
    if NO_RESOURCE in patterns:
        return None
    parts: list[str] = []
    for pat in patterns:
        if "*" not in pat and "?" not in pat:
            parts.append(f"resource == Resource::{cedar_str(pat)}")
            continue
        # IAM globs each ARN segment separately; Cedar's like spans ':'.  Equivalent as long as
        # wildcards are only in the resource segment (after the fifth colon).
        if any("*" in seg for seg in pat.split(":", 5)[:5]):
            raise ValueError(f"wildcard outside the resource segment: {pat!r}")
        parts.append(f"resource.arn like {_cedar_like(pat)}")
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _cedar_condition(c: Cond) -> str:
    attr = f"context.{cedar_attr(c.key)}"
    has = f"context has {cedar_attr(c.key)}"
    if c.operator in ("Bool", "BoolIfExists"):
        (value,) = c.values
        test = f"{attr} == {value.lower()}"
        return f"(!({has}) || {test})" if c.operator == "BoolIfExists" else f"({has} && {test})"
    tests: list[str] = []
    for v in c.values:
        if c.operator == "StringLike" and ("*" in v or "?" in v):
            tests.append(f"{attr} like {_cedar_like(v)}")
        elif c.operator in ("StringLike", "StringEquals"):
            tests.append(f"{attr} == {cedar_str(v)}")
        else:
            raise ValueError(f"operator {c.operator} not translated")
    any_of = tests[0] if len(tests) == 1 else "(" + " || ".join(tests) + ")"
    return f"({has} && {any_of})"


def cedar_policies(role: Role) -> str:
    """The role's IAM policies as Cedar: one permit/forbid per statement."""
    out: list[str] = []
    principal = f"Role::{cedar_str(role.arn)}"
    for p, stmts in enumerate(role.policies):
        for n, s in enumerate(stmts):
            actions = ", ".join(f"Action::{cedar_str(a)}" for a in expand_actions(s.actions))
            clauses = [c for c in [_cedar_resource(s.resources)] if c is not None]
            clauses += [_cedar_condition(c) for c in s.conditions]
            kw = "permit" if s.effect == "Allow" else "forbid"
            text = (
                f'@id("{role.name}/p{p}/S{n}")\n{kw} (principal == {principal}, '
                f"action in [{actions}], resource)"
            )
            if clauses:
                text += "\nwhen { " + " && ".join(clauses) + " }"
            out.append(text + ";")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    role: int
    action: str
    resource: str
    extra: tuple[tuple[str, str], ...]  # request-specific condition keys


@dataclass(frozen=True)
class BenchRequest:
    role: int
    action: str
    resource: str
    iam: Request
    cedar: dict[str, Any]  # context: only the attributes the Cedar policies read
    cedar_full: dict[str, Any]  # context: every key trailgate gets


def _violating_prefix(rng: random.Random, patterns: Sequence[str]) -> str | None:
    bad = [v for v in PREFIX_VALUES if not any(glob_match(p, v) for p in patterns)]
    return rng.choice([None, *bad]) if bad else None


def _context_for(
    rng: random.Random, role: Role, action: str, target: Stmt | None
) -> dict[str, str | None]:
    """Condition keys for one request; ``target``'s conditions are met with probability 0.7."""
    extra: dict[str, str | None] = {KEY_MFA: rng.choice(("true", "false", "false", None))}
    if action in LIST_ACTIONS:
        extra[KEY_PREFIX] = rng.choice((None, *PREFIX_VALUES))
    if action == "sts:AssumeRole":
        extra[KEY_EXTERNAL_ID] = rng.choice((None, "wrong-id", *role.external_ids))
    for c in target.conditions if target else ():
        satisfy = rng.random() < 0.7
        if c.operator == "Bool":
            extra[c.key] = c.values[0] if satisfy else rng.choice(("false", None))
        elif c.operator == "BoolIfExists":
            extra[c.key] = rng.choice((c.values[0], None)) if satisfy else "true"
        elif satisfy:
            v = rng.choice(c.values)
            extra[c.key] = v.replace("*", rng.choice(PREFIX_SUFFIXES))
        elif c.key == KEY_PREFIX:
            extra[c.key] = _violating_prefix(rng, c.values)
        else:
            extra[c.key] = rng.choice((None, "wrong-id"))
    return extra


def _resource_for(rng: random.Random, action: str, patterns: Sequence[str]) -> str:
    pool = RESOURCE_POOL[ACTIONS[action]]
    hits = [r for r in pool if any(glob_match(p, r) for p in patterns)]
    return rng.choice(hits) if hits and rng.random() < 0.9 else rng.choice(pool)


def make_candidate(rng: random.Random, role: Role) -> Candidate:
    """A request aimed at one of the role's statements (80 %) or a random one (20 %)."""
    target: Stmt | None = None
    if rng.random() < 0.8:
        target = rng.choice(role.statements())
        action = rng.choice(expand_actions(target.actions) or tuple(ACTIONS))
        resource = _resource_for(rng, action, target.resources)
    else:
        action = rng.choice(list(ACTIONS))
        resource = rng.choice(RESOURCE_POOL[ACTIONS[action]])
    extra = _context_for(rng, role, action, target)
    if action not in LIST_ACTIONS:
        extra.pop(KEY_PREFIX, None)
    if action != "sts:AssumeRole":
        extra.pop(KEY_EXTERNAL_ID, None)
    items = tuple(sorted((k, v) for k, v in extra.items() if v is not None))
    return Candidate(role.index, action, resource, items)


def _caller(role: Role) -> Caller:
    return Caller(
        kind="assumed_role",
        arn=f"arn:aws:sts::{role.account}:assumed-role/{role.name}/bench-session",
        account=role.account,
        unique_id=f"AROA{role.index:017d}",
        role_arn=role.arn,
    )


def _cedar_value(key: str, value: str) -> str | bool:
    if key in BOOL_KEYS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def referenced_attrs(roles: Iterable[Role]) -> frozenset[str]:
    """The Cedar context attributes that the translated policies read."""
    return frozenset(cedar_attr(c.key) for r in roles for s in r.statements() for c in s.conditions)


def build_request(
    role: Role, cand: Candidate, callers: dict[int, Caller], cedar_keys: frozenset[str]
) -> BenchRequest:
    caller = callers[role.index]
    ctx = principal_context(caller)
    ctx.update(
        make_context(
            {
                "aws:SecureTransport": "true",
                "aws:SourceIp": f"198.51.100.{role.index % 250}",
                "aws:CurrentTime": "2024-01-15T12:00:00Z",
                "aws:EpochTime": "1705320000",
                "aws:RequestedRegion": "us-east-1",
                **dict(cand.extra),
            }
        )
    )
    iam = Request(caller=caller, action=cand.action, resource=cand.resource, context=ctx)
    full = {cedar_attr(k): _cedar_value(k, v[0]) for k, v in ctx.items()}
    used = {k: v for k, v in full.items() if k in cedar_keys}
    cedar: dict[str, Any] = {
        "principal": {"type": "Role", "id": role.arn},
        "action": {"type": "Action", "id": cand.action},
        "resource": {"type": "Resource", "id": cand.resource},
    }
    return BenchRequest(
        role.index,
        cand.action,
        cand.resource,
        iam,
        {**cedar, "context": json.dumps(used, separators=(",", ":"))},
        {**cedar, "context": json.dumps(full, separators=(",", ":"))},
    )


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------


class TrailgateEngine:
    """trailgate: one PolicySet per role, built once."""

    def __init__(self, roles: Sequence[Role]) -> None:
        from trailgate.policy.evaluate import PolicySet, evaluate

        self.evaluate = evaluate
        self.sets: list[Any] = []
        for role in roles:
            docs = tuple(
                PolicyDoc(f"{role.name}/p{p}", PolicyType.IDENTITY, iam_policy_json(stmts))
                for p, stmts in enumerate(role.policies)
            )
            self.sets.append(PolicySet.from_inputs(PolicyInputs(identity=docs)))

    def decide(self, req: BenchRequest) -> str:
        return str(self.evaluate(req.iam, self.sets[req.role]).effect)


class CedarEngine:
    """cedarpy: one PolicySet handle per role and one Entities handle, built once."""

    def __init__(self, roles: Sequence[Role], extra_resources: Iterable[str] = ()) -> None:
        import cedarpy

        self.cedarpy = cedarpy
        self.texts = [cedar_policies(role) for role in roles]
        self.sets = [cedarpy.PolicySet.from_str(t) for t in self.texts]
        arns = {a for pool in RESOURCE_POOL.values() for a in pool} | set(extra_resources)
        ents: list[dict[str, Any]] = [
            {"uid": {"type": "Resource", "id": a}, "attrs": {"arn": a}, "parents": []}
            for a in sorted(arns)
        ]
        ents += [{"uid": {"type": "Role", "id": r.arn}, "attrs": {}, "parents": []} for r in roles]
        self.entities = cedarpy.Entities.from_json_str(json.dumps(ents))
        self.n_entities = len(ents)

    def decide(self, req: BenchRequest) -> tuple[bool, list[str], list[str]]:
        """(allowed, matched policy @ids, evaluation errors)."""
        res = self.cedarpy.is_authorized(req.cedar, self.sets[req.role], self.entities)
        ids = [res.diagnostics.id_annotations_by_reason.get(r, r) for r in res.diagnostics.reasons]
        return res.allowed, ids, list(res.diagnostics.errors)

    def batches(
        self, requests: Sequence[BenchRequest], *, full: bool = False
    ) -> list[tuple[Any, list[dict[str, Any]]]]:
        """The requests grouped into one batch per role, in first-seen order."""
        groups: dict[int, list[dict[str, Any]]] = {}
        for r in requests:
            groups.setdefault(r.role, []).append(r.cedar_full if full else r.cedar)
        return [(self.sets[role], reqs) for role, reqs in groups.items()]


# --------------------------------------------------------------------------------------------
# Workload
# --------------------------------------------------------------------------------------------


@dataclass
class Workload:
    seed: int
    roles: list[Role]
    requests: list[BenchRequest]
    candidates_generated: int


Classifier = Callable[[BenchRequest], bool]


def build_workload(
    seed: int,
    n_requests: int,
    classify: Callable[[list[Role]], Classifier],
    n_roles: int = 100,
) -> Workload:
    """Roles, then a request mix with exactly half allowed according to ``classify``.

    ``classify(roles)`` returns a function deciding one request (trailgate in the benchmark).
    """
    rng = random.Random(seed)
    roles = generate_roles(rng, n_roles)
    decide = classify(roles)
    callers = {r.index: _caller(r) for r in roles}
    cedar_keys = referenced_attrs(roles)
    want_allow = n_requests // 2
    want_deny = n_requests - want_allow
    allowed: list[BenchRequest] = []
    denied: list[BenchRequest] = []
    generated = 0
    while len(allowed) < want_allow or len(denied) < want_deny:
        if generated > 50 * n_requests + 1000:
            raise RuntimeError("could not balance the request mix")
        role = roles[rng.randrange(len(roles))]
        req = build_request(role, make_candidate(rng, role), callers, cedar_keys)
        generated += 1
        bucket = allowed if decide(req) else denied
        if len(bucket) < (want_allow if bucket is allowed else want_deny):
            bucket.append(req)
    requests = allowed + denied
    rng.shuffle(requests)
    return Workload(seed, roles, requests, generated)


def trailgate_classifier(roles: list[Role]) -> Classifier:
    engine = TrailgateEngine(roles)
    return lambda req: engine.decide(req) == "allowed"


# --------------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------------


@dataclass
class Agreement:
    """Decisions of both engines on every request (see :func:`check_agreement`)."""

    trailgate_allowed: int = 0
    cedar_allowed: int = 0
    cedar_errors: int = 0
    disagreements: int = 0
    batch_mismatches: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)


def check_agreement(
    workload: Workload, tg: TrailgateEngine, cd: CedarEngine, max_examples: int = 5
) -> Agreement:
    """Both engines decide every request (cedarpy single calls, used-keys context); the batch
    calls, with both context forms, must give the same decisions."""
    out = Agreement()
    for req in workload.requests:
        effect = tg.decide(req)
        allowed, ids, errors = cd.decide(req)
        out.trailgate_allowed += effect == "allowed"
        out.cedar_allowed += allowed
        out.cedar_errors += bool(errors)
        if (effect == "allowed") != allowed or errors:
            out.disagreements += (effect == "allowed") != allowed
            if len(out.examples) < max_examples:
                out.examples.append(
                    {
                        "role": workload.roles[req.role].arn,
                        "action": req.action,
                        "resource": req.resource,
                        "context": {
                            k: v
                            for k, v in req.iam.context.items()
                            if not k.startswith("aws:principal") and k != "aws:userid"
                        },
                        "trailgate": effect,
                        "cedar": "Allow" if allowed else "Deny",
                        "cedar_policies": ids,
                        "cedar_errors": errors,
                    }
                )
    by_role: dict[int, list[BenchRequest]] = {}
    for req in workload.requests:
        by_role.setdefault(req.role, []).append(req)
    for role, reqs in by_role.items():
        expected = [tg.decide(r) == "allowed" for r in reqs]
        for form in ([r.cedar for r in reqs], [r.cedar_full for r in reqs]):
            batch = cd.cedarpy.is_authorized_batch(form, cd.sets[role], cd.entities)
            out.batch_mismatches += sum(
                res.allowed != want for res, want in zip(batch, expected, strict=True)
            )
    return out


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One timed run of one call path."""

    dec_per_s: float
    p50_us: float
    p99_us: float


def percentile(sorted_ns: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not sorted_ns:
        return 0.0
    rank = max(1, min(len(sorted_ns), math.ceil(q * len(sorted_ns))))
    return float(sorted_ns[rank - 1])


def _sample(n: int, total_ns: int, per_decision_ns: list[float]) -> Sample:
    per_decision_ns.sort()
    return Sample(
        dec_per_s=n * 1e9 / total_ns,
        p50_us=percentile(per_decision_ns, 0.50) / 1000,
        p99_us=percentile(per_decision_ns, 0.99) / 1000,
    )


def time_calls(
    pairs: Sequence[tuple[Any, Any]], call: Callable[[Any, Any], Any], *, throughput_loop: bool
) -> Sample:
    """One call per decision, every call timed with ``perf_counter_ns`` for p50/p99.

    With ``throughput_loop`` the decisions per second come from a separate loop without the
    per-call timers (used for trailgate, whose calls are short enough for the timers to
    matter); otherwise from the wall time of the timed loop.
    """
    pc = time.perf_counter_ns
    gc.collect()
    total = 0
    if throughput_loop:
        t0 = pc()
        for req, ps in pairs:
            call(req, ps)
        total = pc() - t0
    lat: list[float] = []
    add = lat.append
    t0 = pc()
    for req, ps in pairs:
        s = pc()
        call(req, ps)
        add(pc() - s)
    if not throughput_loop:
        total = pc() - t0
    return _sample(len(pairs), total, lat)


def time_cedar_batch(
    batches: Sequence[tuple[Any, list[dict[str, Any]]]],
    call: Callable[[list[dict[str, Any]], Any], Any],
) -> Sample:
    """One call per batch; every decision of a batch is charged batch time / batch size."""
    pc = time.perf_counter_ns
    gc.collect()
    per: list[float] = []
    n = 0
    t0 = pc()
    for ps, reqs in batches:
        s = pc()
        call(reqs, ps)
        dt = pc() - s
        per.extend([dt / len(reqs)] * len(reqs))
        n += len(reqs)
    total = pc() - t0
    return _sample(n, total, per)


def timer_overhead_ns() -> float:
    """Median cost of one ``perf_counter_ns`` pair (included in the per-call figures)."""
    pc = time.perf_counter_ns
    vals = []
    for _ in range(20000):
        s = pc()
        vals.append(pc() - s)
    return float(statistics.median(vals))


PATH_TRAILGATE = "trailgate evaluate()"
PATH_BATCH = "cedarpy.is_authorized_batch, per-role batches, used-keys context"
PATH_SINGLE = "cedarpy.is_authorized, single calls, used-keys context"
PATH_FULL = "cedarpy.is_authorized_batch, per-role batches, full context (info)"
PATH_INTERNAL = "cedarpy._internal.is_authorized_batch + json.loads (private API, info)"
PUBLIC_PATHS = (PATH_BATCH, PATH_SINGLE)


def run_rounds(
    workload: Workload, tg: TrailgateEngine, cd: CedarEngine, rounds: int
) -> dict[str, list[Sample]]:
    """``rounds`` rounds; trailgate first in even rounds, cedarpy first in odd ones."""
    import cedarpy
    from cedarpy import _internal

    reqs = workload.requests
    tg_pairs = [(r.iam, tg.sets[r.role]) for r in reqs]
    cd_pairs = [(r.cedar, cd.sets[r.role]) for r in reqs]
    batches = cd.batches(reqs)
    batches_full = cd.batches(reqs, full=True)
    ents = cd.entities
    inner = ents._inner
    is_authorized = cedarpy.is_authorized
    is_authorized_batch = cedarpy.is_authorized_batch

    def single(req: dict[str, Any], ps: Any) -> Any:
        return is_authorized(req, ps, ents)

    def public_batch(b: list[dict[str, Any]], ps: Any) -> Any:
        return is_authorized_batch(b, ps, ents)

    def private_batch(b: list[dict[str, Any]], ps: Any) -> Any:
        return [json.loads(s) for s in _internal.is_authorized_batch(b, ps, inner, None, False)]

    out: dict[str, list[Sample]] = {
        p: [] for p in (PATH_TRAILGATE, PATH_BATCH, PATH_SINGLE, PATH_FULL, PATH_INTERNAL)
    }

    def run_tg() -> None:
        out[PATH_TRAILGATE].append(time_calls(tg_pairs, tg.evaluate, throughput_loop=True))

    def run_cd() -> None:
        out[PATH_BATCH].append(time_cedar_batch(batches, public_batch))
        out[PATH_SINGLE].append(time_calls(cd_pairs, single, throughput_loop=False))
        out[PATH_FULL].append(time_cedar_batch(batches_full, public_batch))
        out[PATH_INTERNAL].append(time_cedar_batch(batches, private_batch))

    # warm-up, not recorded
    warm = min(len(reqs), 2000)
    time_calls(tg_pairs[:warm], tg.evaluate, throughput_loop=True)
    time_calls(cd_pairs[:warm], single, throughput_loop=False)
    time_cedar_batch(cd.batches(reqs[:warm]), public_batch)
    for r in range(rounds):
        for step in (run_tg, run_cd) if r % 2 == 0 else (run_cd, run_tg):
            step()
    return out


def median_sample(samples: Sequence[Sample]) -> Sample:
    return Sample(
        dec_per_s=statistics.median(s.dec_per_s for s in samples),
        p50_us=statistics.median(s.p50_us for s in samples),
        p99_us=statistics.median(s.p99_us for s in samples),
    )


def profile_trailgate(workload: Workload, tg: TrailgateEngine, top: int = 15) -> str:
    """cProfile of one pass of the trailgate loop, top functions by own time."""
    pairs = [(r.iam, tg.sets[r.role]) for r in workload.requests]
    evaluate = tg.evaluate
    prof = cProfile.Profile()
    prof.enable()
    for req, ps in pairs:
        evaluate(req, ps)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

GOAL_RATIO = 10.0
GOAL_P50_US = 10.0


def workload_stats(workload: Workload, cd: CedarEngine) -> dict[str, Any]:
    stmts = [s for r in workload.roles for s in r.statements()]
    batches = cd.batches(workload.requests)
    cedar_text = "".join(cd.texts)
    return {
        "seed": workload.seed,
        "roles": len(workload.roles),
        "accounts": len({r.account for r in workload.roles}),
        "policies": sum(len(r.policies) for r in workload.roles),
        "statements": len(stmts),
        "allow_statements": sum(s.effect == "Allow" for s in stmts),
        "deny_statements": sum(s.effect == "Deny" for s in stmts),
        "cedar_permit": cedar_text.count("\npermit ("),
        "cedar_forbid": cedar_text.count("\nforbid ("),
        "cedar_entities": cd.n_entities,
        "requests": len(workload.requests),
        "candidates_generated": workload.candidates_generated,
        "batches": len(batches),
        "mean_batch_size": len(workload.requests) / max(1, len(batches)),
    }


def build_report(
    workload: Workload,
    tg: TrailgateEngine,
    cd: CedarEngine,
    agreement: Agreement,
    samples: dict[str, list[Sample]],
) -> dict[str, Any]:
    effects: dict[str, int] = {}
    for r in workload.requests:
        e = tg.decide(r)
        effects[e] = effects.get(e, 0) + 1
    med = {path: median_sample(s) for path, s in samples.items()}
    public = max(PUBLIC_PATHS, key=lambda p: med[p].dec_per_s)
    t = med[PATH_TRAILGATE]
    ratio = t.dec_per_s / med[public].dec_per_s
    n = len(workload.requests)
    goals = {
        "ratio_ge_10x": ratio >= GOAL_RATIO,
        "trailgate_p50_le_10us": t.p50_us <= GOAL_P50_US,
        "zero_disagreements": agreement.disagreements == 0 and agreement.batch_mismatches == 0,
    }
    return {
        "environment": {
            "python": sys.version.split()[0],
            "cedarpy": version("cedarpy"),
            "platform": sys.platform,
        },
        "workload": workload_stats(workload, cd),
        "trailgate_effects": effects,
        "allow_share_trailgate": agreement.trailgate_allowed / n,
        "allow_share_cedar": agreement.cedar_allowed / n,
        "disagreements": agreement.disagreements,
        "cedar_batch_vs_trailgate_mismatches": agreement.batch_mismatches,
        "cedar_evaluation_errors": agreement.cedar_errors,
        "disagreement_examples": agreement.examples,
        "rounds": len(samples[PATH_TRAILGATE]),
        "timer_overhead_ns": timer_overhead_ns(),
        "median": {p: vars(s) for p, s in med.items()},
        "per_round": {p: [vars(x) for x in s] for p, s in samples.items()},
        "cedar_path_for_ratio": public,
        "ratio_trailgate_over_cedarpy": ratio,
        "ratio_trailgate_over_cedarpy_full_context": t.dec_per_s / med[PATH_FULL].dec_per_s,
        "ratio_trailgate_over_cedarpy_private": t.dec_per_s / med[PATH_INTERNAL].dec_per_s,
        "goals": goals,
        "goals_met": all(goals.values()),
    }


def print_report(rep: dict[str, Any], profile: str | None) -> None:
    w = rep["workload"]
    env = rep["environment"]
    print(f"policy_eval: trailgate vs cedarpy {env['cedarpy']} (Python {env['python']})")
    print(
        f"workload: seed {w['seed']}, {w['roles']} roles in {w['accounts']} accounts, "
        f"{w['policies']} policies, {w['statements']} statements "
        f"({w['allow_statements']} Allow / {w['deny_statements']} Deny) -> "
        f"{w['cedar_permit']} Cedar permit + {w['cedar_forbid']} forbid, "
        f"{w['cedar_entities']} Cedar entities"
    )
    eff = ", ".join(f"{k} {v}" for k, v in sorted(rep["trailgate_effects"].items()))
    print(
        f"requests: {w['requests']} (from {w['candidates_generated']} candidates); "
        f"allow share: trailgate {rep['allow_share_trailgate']:.1%}, "
        f"cedar {rep['allow_share_cedar']:.1%}; trailgate effects: {eff}"
    )
    print(
        f"disagreements (allowed vs not): {rep['disagreements']}; cedar batch vs trailgate "
        f"mismatches: {rep['cedar_batch_vs_trailgate_mismatches']}; cedar evaluation errors: "
        f"{rep['cedar_evaluation_errors']}"
    )
    for ex in rep["disagreement_examples"]:
        print("  example:", json.dumps(ex, sort_keys=True))
    print(
        f"timing: {rep['rounds']} rounds (order A B, B A, ...), median of rounds; "
        f"perf_counter_ns pair overhead {rep['timer_overhead_ns']:.0f} ns (not subtracted); "
        f"cedar batches: {w['batches']} of mean size {w['mean_batch_size']:.1f}"
    )
    print(f"  {'call path':<72} {'decisions/s':>12} {'p50 µs':>8} {'p99 µs':>8}")
    for path, s in rep["median"].items():
        note = "  (per-decision = batch time / batch size)" if "batch" in path else ""
        print(
            f"  {path:<72} {s['dec_per_s']:>12,.0f} {s['p50_us']:>8.2f} {s['p99_us']:>8.2f}{note}"
        )
    print(
        f"ratio trailgate/cedarpy decisions/s: {rep['ratio_trailgate_over_cedarpy']:.2f}x "
        f"(vs {rep['cedar_path_for_ratio']}); vs full-context batch: "
        f"{rep['ratio_trailgate_over_cedarpy_full_context']:.2f}x; vs private path: "
        f"{rep['ratio_trailgate_over_cedarpy_private']:.2f}x"
    )
    g = rep["goals"]
    t = rep["median"][PATH_TRAILGATE]

    def yn(ok: bool) -> str:
        return "MET" if ok else "NOT MET"

    print(
        f"goals: >= {GOAL_RATIO:.0f}x cedarpy decisions/s: {yn(g['ratio_ge_10x'])} "
        f"({rep['ratio_trailgate_over_cedarpy']:.2f}x); trailgate p50 <= {GOAL_P50_US:.0f} µs: "
        f"{yn(g['trailgate_p50_le_10us'])} ({t['p50_us']:.2f} µs); zero disagreements: "
        f"{yn(g['zero_disagreements'])} ({rep['disagreements']})"
    )
    if profile:
        print("\ncProfile of one trailgate pass (top by own time):")
        print(profile)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--requests", type=int, default=10000, help="requests in the mix")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds (median reported)")
    ap.add_argument("--seed", type=int, default=20240115, help="random seed of the workload")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--profile", action="store_true", help="add a cProfile of the trailgate loop")
    args = ap.parse_args(argv)
    if args.requests < 2 or args.rounds < 1:
        ap.error("--requests must be >= 2 and --rounds >= 1")
    try:
        import cedarpy  # noqa: F401

        from trailgate.policy import evaluate  # noqa: F401
    except ImportError as exc:
        print(f"policy_eval: cannot run: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    workload = build_workload(args.seed, args.requests, trailgate_classifier)
    tg = TrailgateEngine(workload.roles)
    cd = CedarEngine(workload.roles, (r.resource for r in workload.requests))
    agreement = check_agreement(workload, tg, cd)
    samples = run_rounds(workload, tg, cd, args.rounds)
    report = build_report(workload, tg, cd, agreement, samples)
    profile = profile_trailgate(workload, tg) if args.profile else None
    report["profile"] = profile
    report["wall_seconds"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print_report(report, profile)
        print(f"wall time: {report['wall_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
