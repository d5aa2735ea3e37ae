"""'Why was this allowed or denied?': principal + action + resource -> the engine's decision
and the statements that decided it (IAM SimulatePrincipalPolicy underneath, called as the
signed-in principal), with each deciding statement's text."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import unquote

from starlette.responses import Response

from ..gateway.context import Principal
from .web import ActionFailed, Page, page

SOURCE_TYPES: Final = {
    "user": "inline policy of a user",
    "group": "inline policy of a group",
    "role": "inline policy of a role",
    "aws-managed": "AWS managed policy",
    "user-managed": "customer managed policy",
    "resource": "resource-based policy (bucket policy)",
    "none": "policy",
}
VERDICTS: Final = {
    "allowed": "Allowed",
    "explicitDeny": "Denied — explicitly",
    "implicitDeny": "Denied — implicitly (nothing allows it)",
}


def default_principal(p: Principal) -> str:
    """The IAM ARN the simulator takes for the acting identity (a role, not its session)."""
    if p.kind == "assumed_role" and p.role_arn:
        return p.role_arn
    return p.arn


def excerpt(text: str, start: dict[str, int], end: dict[str, int]) -> str:
    """The text of ``text`` from ``start`` to ``end`` (1-based line/column), re-indented."""
    lines = text.splitlines()
    first, last = max(1, int(start.get("Line", 1))), int(end.get("Line", 1))
    chunk = lines[first - 1: max(first, last)]
    if not chunk:
        return ""
    begin = max(0, int(start.get("Column", 1)) - 1)
    stop = int(end.get("Column", 0))
    if stop > 0:
        chunk[-1] = chunk[-1][:stop]  # up to the statement's closing brace
    chunk[0] = " " * begin + chunk[0][begin:]
    indent = min((len(x) - len(x.lstrip()) for x in chunk if x.strip()), default=0)
    return "\n".join(x[indent:] for x in chunk)


async def _policy_text(ctx: Page, policy_id: str, resource_policy: str) -> str:
    """The document a matched statement came from, read as the acting principal."""
    try:
        if policy_id == "ResourcePolicy":
            return resource_policy
        if policy_id.startswith("arn:"):
            got = await ctx.call("iam", "GetPolicy", {"PolicyArn": policy_id})
            version = got["Policy"]["DefaultVersionId"]
            out = await ctx.call("iam", "GetPolicyVersion",
                                 {"PolicyArn": policy_id, "VersionId": version})
            text = out["PolicyVersion"].get("Document") or ""
        else:
            kind, name, policy = [*policy_id.split("/", 2), "", ""][:3]
            op = {"user": "GetUserPolicy", "role": "GetRolePolicy", "group": "GetGroupPolicy"}
            if kind not in op:
                return ""
            key = {"user": "UserName", "role": "RoleName", "group": "GroupName"}[kind]
            out = await ctx.call("iam", op[kind], {key: name, "PolicyName": policy})
            text = out.get("PolicyDocument") or ""
    except ActionFailed:
        return ""
    text = str(text)
    return unquote(text) if text.lstrip().startswith("%") else text


async def _bucket_policy(ctx: Page, resource: str) -> str:
    if not resource.startswith("arn:aws:s3:::"):
        return ""
    name = resource[len("arn:aws:s3:::"):].split("/", 1)[0]
    if not name:
        return ""
    out, _ = await ctx.attempt("s3", "GetBucketPolicy", {"Bucket": name})
    return str((out or {}).get("Policy") or "")


@page
async def why(ctx: Page) -> Response:
    source = (ctx.field("principal") if ctx.form else ctx.arg("principal")).strip() \
        or default_principal(ctx.principal)
    action = (ctx.field("action") if ctx.form else ctx.arg("action")).strip()
    resource = (ctx.field("resource") if ctx.form else ctx.arg("resource")).strip() or "*"
    values = {"principal": source, "action": action, "resource": resource}
    if not action:
        return ctx.render("why.html", title="Why allowed or denied?", values=values)
    resource_policy = await _bucket_policy(ctx, resource)
    params: dict[str, Any] = {"PolicySourceArn": source, "ActionNames": [action],
                              "ResourceArns": [resource]}
    if resource_policy:
        params["ResourcePolicy"] = resource_policy
    out, failure = await ctx.attempt("iam", "SimulatePrincipalPolicy", params,
                                     resource=source)
    result: dict[str, Any] | None = None
    if out is not None and out.get("EvaluationResults"):
        found = out["EvaluationResults"][0]
        statements = []
        for m in found.get("MatchedStatements") or []:
            text = await _policy_text(ctx, m["SourcePolicyId"], resource_policy)
            statements.append({
                "policy": m["SourcePolicyId"],
                "type": SOURCE_TYPES.get(m.get("SourcePolicyType", "none"), "policy"),
                "text": excerpt(text, m.get("StartPosition") or {}, m.get("EndPosition") or {})
                if text else "",
            })
        result = {
            "decision": found["EvalDecision"],
            "verdict": VERDICTS.get(found["EvalDecision"], found["EvalDecision"]),
            "statements": statements,
            "missing": found.get("MissingContextValues") or [],
            "boundary": found.get("PermissionsBoundaryDecisionDetail"),
            "with_bucket_policy": bool(resource_policy),
        }
    return ctx.render("why.html", title="Why allowed or denied?", values=values,
                      result=result, failure=failure)
