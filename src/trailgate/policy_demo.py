"""The seed scenario's questions answered offline by the policy engine.

Each row is one request with the real policies of the scenario (``scenario.py``); the table
shows the expected and the actual decision and the statements that decided it.  ``trailgate
demo`` prints it (the live, end-to-end demo builds on the same rows once the server exists).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import scenario as sc
from .policy.evaluate import PolicySet, evaluate
from .policy.model import (
    Caller,
    Decision,
    PolicyDoc,
    PolicyInputs,
    PolicyType,
    Request,
    make_context,
    principal_context,
)

Docs = Mapping[str, sc.Document]


@dataclass(frozen=True)
class Row:
    who: str
    what: str
    caller: Caller
    action: str
    resource: str
    expect_allowed: bool
    identity: Docs = field(default_factory=dict)
    resource_policy: tuple[str, sc.Document, PolicyType] | None = None
    resource_account: str | None = None
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    session: Docs | None = None


def _inputs(row: Row) -> PolicyInputs:
    def doc(pid: str, body: sc.Document, ptype: PolicyType) -> PolicyDoc:
        return PolicyDoc(pid, ptype, json.dumps(body))

    resource = None
    if row.resource_policy is not None:
        resource = doc(*row.resource_policy)
    session = None
    if row.session is not None:
        session = tuple(doc(k, v, PolicyType.SESSION) for k, v in row.session.items())
    return PolicyInputs(
        identity=tuple(doc(k, v, PolicyType.IDENTITY) for k, v in row.identity.items()),
        resource=resource,
        session=session,
    )


def decide(row: Row) -> Decision:
    now = datetime.now(UTC)
    ctx = principal_context(row.caller)
    ctx.update(
        make_context(
            {
                "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "aws:EpochTime": str(int(now.timestamp())),
                "aws:SecureTransport": "true",
                **row.context,
            }
        )
    )
    request = Request(row.caller, row.action, row.resource, ctx, row.resource_account)
    return evaluate(request, PolicySet.from_inputs(_inputs(row)))


_D_USER = f"arn:aws:iam::{sc.D}:user/dana"
_E_USER = f"arn:aws:iam::{sc.E}:user/erin"
_R_USER = f"arn:aws:iam::{sc.R}:user/rae"
_MFA = {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "0"}


def _user(arn: str) -> Caller:
    name = arn.rsplit("/", 1)[1]
    return Caller.from_arn(arn, unique_id="AIDA" + name[0].upper() * 17)


def _trust(p: sc.Party) -> tuple[str, sc.Document, PolicyType]:
    return (f"{p.role} trust", p.trust, PolicyType.TRUST)


def _session(p: sc.Party, name: str) -> Caller:
    return Caller.from_arn(
        f"arn:aws:sts::{sc.ADMIN}:assumed-role/{p.role}/{name}",
        unique_id="AROA" + p.name * 17,
        role_arn=sc.role_arn(p.role),
    )


def _obj(account: str) -> str:
    return f"arn:aws:s3:::{sc.BUCKET}/AWSLogs/{account}/CloudTrail/{sc.REGION}/x.json.gz"


def _parties() -> tuple[sc.Party, sc.Party, sc.Party]:
    parties = {p.name: p for p in sc.parties()}
    return parties["D"], parties["E"], parties["R"]


def rows() -> list[Row]:
    return _role_rows() + _bucket_rows()


def _role_rows() -> list[Row]:
    """Assuming the scenario's roles, and what each role's session may read."""
    d_user, e_user, r_user = _user(_D_USER), _user(_E_USER), _user(_R_USER)
    d, e, r = _parties()
    d_assume = {"D: may assume": sc.assume_role_policy(d.role)}
    r_assume = {"R: may assume": sc.assume_role_policy(r.role)}
    role_arn_d, role_arn_e, role_arn_r = (sc.role_arn(p.role) for p in (d, e, r))
    bucket = f"arn:aws:s3:::{sc.BUCKET}"
    d_perms = {"D role permissions": d.permissions}
    return [
        Row("D user", "assume D's role, no identity policy", d_user, "sts:AssumeRole",
            role_arn_d, False, {}, _trust(d), sc.ADMIN, _MFA),
        Row("D user", "assume D's role without MFA", d_user, "sts:AssumeRole",
            role_arn_d, False, d_assume, _trust(d), sc.ADMIN),
        Row("D user", "assume D's role with MFA", d_user, "sts:AssumeRole",
            role_arn_d, True, d_assume, _trust(d), sc.ADMIN, _MFA),
        Row("D role", "read D's log file", _session(d, "dana"), "s3:GetObject",
            _obj(sc.D), True, d_perms),
        Row("D role", "read E's log file", _session(d, "dana"), "s3:GetObject",
            _obj(sc.E), False, d_perms),
        Row("D role", "list AWSLogs/E/", _session(d, "dana"), "s3:ListBucket",
            bucket, False, d_perms, context={"s3:prefix": f"AWSLogs/{sc.E}/"}),
        Row("D role", "list AWSLogs/D/", _session(d, "dana"), "s3:ListBucket",
            bucket, True, d_perms, context={"s3:prefix": f"AWSLogs/{sc.D}/"}),
        Row("E user", "assume E's role", e_user, "sts:AssumeRole", role_arn_e, True,
            {"E: may assume": sc.assume_role_policy(e.role)}, _trust(e), sc.ADMIN),
        Row("E role", "read D's log file", _session(e, "erin"), "s3:GetObject",
            _obj(sc.D), True, {"AmazonS3ReadOnlyAccess": e.permissions}),
        Row("E role", "read E's log file", _session(e, "erin"), "s3:GetObject",
            _obj(sc.E), True, {"AmazonS3ReadOnlyAccess": e.permissions}),
        Row("E role", "write a log file", _session(e, "erin"), "s3:PutObject",
            _obj(sc.E), False, {"AmazonS3ReadOnlyAccess": e.permissions}),
        Row("E role + session policy", "read E's file, session allows D's only",
            _session(e, "erin"), "s3:GetObject", _obj(sc.E), False,
            {"AmazonS3ReadOnlyAccess": e.permissions},
            session={"session": sc.prefix_read(sc.BUCKET, sc.D)}),
        Row("R user", "assume R's role without ExternalId", r_user, "sts:AssumeRole",
            role_arn_r, False, r_assume, _trust(r), sc.ADMIN),
        Row("R user", "assume R's role, wrong ExternalId", r_user, "sts:AssumeRole",
            role_arn_r, False, r_assume, _trust(r), sc.ADMIN, {"sts:ExternalId": "guess"}),
        Row("R user", "assume R's role, right ExternalId", r_user, "sts:AssumeRole",
            role_arn_r, True, r_assume, _trust(r), sc.ADMIN,
            {"sts:ExternalId": sc.EXTERNAL_ID}),
        Row("R role", "read E's log file", _session(r, "rae"), "s3:GetObject", _obj(sc.E),
            True, {"AmazonS3ReadOnlyAccess": r.permissions}),
    ]


def _bucket_rows() -> list[Row]:
    """The bucket policy: D reading its own prefix directly, CloudTrail delivering."""
    d_user = _user(_D_USER)
    bucket = f"arn:aws:s3:::{sc.BUCKET}"
    trails = {acct: sc.trail_arn(acct, f"trail-{acct}") for acct in (sc.ADMIN, sc.D, sc.E)}
    bucket_policy = sc.cloudtrail_bucket_policy(sc.BUCKET, trails)
    bucket_policy["Statement"].append(
        {
            "Sid": "DReadsOwnPrefix",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{sc.D}:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{sc.BUCKET}/AWSLogs/{sc.D}/*",
        }
    )
    bpol = ("bucket policy", bucket_policy, PolicyType.RESOURCE)
    service = Caller.from_arn("cloudtrail.amazonaws.com")
    return [
        Row("D user", "read D's file directly, bucket grants D, no identity policy",
            d_user, "s3:GetObject", _obj(sc.D), False, {}, bpol, sc.ADMIN),
        Row("D user", "read D's file directly, bucket grants D + identity allows",
            d_user, "s3:GetObject", _obj(sc.D), True,
            {"D: read bucket": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/*"}]}},
            bpol, sc.ADMIN),
        Row("CloudTrail", "deliver D's log file", service, "s3:PutObject", _obj(sc.D), True,
            {}, bpol, sc.ADMIN,
            {"aws:SourceArn": trails[sc.D], "aws:SourceAccount": sc.D,
             "s3:x-amz-acl": "bucket-owner-full-control"}),
        Row("CloudTrail", "deliver R's log file (R has no trail grant)", service,
            "s3:PutObject", _obj(sc.R), False, {}, bpol, sc.ADMIN,
            {"aws:SourceArn": sc.trail_arn(sc.R, "trail-r"), "aws:SourceAccount": sc.R,
             "s3:x-amz-acl": "bucket-owner-full-control"}),
    ]


def explain(decision: Decision) -> str:
    if decision.statements:
        return ", ".join(
            f"{m.policy_id}#{m.index}" + (f" ({m.sid})" if m.sid else "")
            for m in decision.statements
        )
    return decision.reason or "-"


def run_offline() -> int:
    """Print the table; return 0 when every row matches its expectation."""
    results = [(row, decide(row)) for row in rows()]
    headers = ("who", "what", "expected", "actual", "deciding statements / reason")
    table = [
        (
            row.who,
            row.what,
            "allow" if row.expect_allowed else "deny",
            decision.effect,
            explain(decision),
        )
        for row, decision in results
    ]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    bad = [row for row, dec in results if dec.allowed != row.expect_allowed]
    print()
    print(f"{len(results) - len(bad)} of {len(results)} decisions as expected")
    return 1 if bad else 0
