"""The create-role wizard: trusted entity -> permissions -> name -> review -> create.

The choices travel in one hidden ``state`` field (JSON), so any step can be revisited from the
review page without losing the others.  The trust policy is built by
:func:`trailgate.scenario.trust_account` — the very document the CLI/SDK path of the scenario
submits — or, for a service role, the standard service trust policy.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Final
from urllib.parse import quote

from starlette.responses import Response

from .. import scenario
from .web import ActionFailed, Page, page, redirect

STEPS: Final = ("trust", "permissions", "details", "review")
SERVICES: Final = {
    "ec2.amazonaws.com": "EC2",
    "lambda.amazonaws.com": "Lambda",
    "ecs-tasks.amazonaws.com": "Elastic Container Service (tasks)",
    "cloudtrail.amazonaws.com": "CloudTrail",
    "glue.amazonaws.com": "Glue",
    "states.amazonaws.com": "Step Functions",
}
TEMPLATE_NAME: Final = "read-own-prefix"
_ACCOUNT = re.compile(r"\d{12}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass
class Choices:
    kind: str = "account"  # account | service
    account: str = ""
    require_external_id: bool = False
    external_id: str = ""
    require_mfa: bool = False
    service: str = "ec2.amazonaws.com"
    policies: list[str] = field(default_factory=list)  # managed policy ARNs
    template: bool = False  # the scenario's one-prefix read policy, inline
    template_bucket: str = scenario.BUCKET
    template_account: str = ""
    name: str = ""
    description: str = ""

    @classmethod
    def load(cls, text: str) -> Choices:
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__} \
            if isinstance(data, dict) else {}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def dump(self) -> str:
        return json.dumps(asdict(self))

    def trust_policy(self) -> dict[str, Any]:
        if self.kind == "service":
            return {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": self.service},
                               "Action": "sts:AssumeRole"}],
            }
        return scenario.trust_account(
            self.account, mfa=self.require_mfa,
            external_id=self.external_id if self.require_external_id else None,
        )

    def template_policy(self) -> dict[str, Any]:
        return scenario.prefix_read(self.template_bucket,
                                    self.template_account or self.account)


def _read_step(ctx: Page, step: str, c: Choices) -> None:
    """Fold the fields of the submitted step into the choices."""
    if step == "trust":
        c.kind = "service" if ctx.field("kind") == "service" else "account"
        c.account = ctx.field("account").strip().replace("-", "")
        c.require_external_id = ctx.field("require_external_id") == "on"
        c.external_id = ctx.field("external_id").strip()
        c.require_mfa = ctx.field("require_mfa") == "on"
        c.service = ctx.field("service", c.service)
    elif step == "permissions":
        c.policies = ctx.fields("policy")
        c.template = ctx.field("template") == "on"
        c.template_bucket = ctx.field("template_bucket", c.template_bucket).strip()
        c.template_account = ctx.field("template_account").strip()
    elif step == "details":
        c.name = ctx.field("name").strip()
        c.description = ctx.field("description").strip()


def problems(step: str, c: Choices) -> list[str]:
    found: list[str] = []
    if step == "trust":
        if c.kind == "account" and not _ACCOUNT.fullmatch(c.account):
            found.append("Enter the 12-digit ID of the account to trust.")
        if c.kind == "account" and c.require_external_id and \
                not _EXTERNAL_ID.fullmatch(c.external_id):
            found.append("The external ID must be 2 to 1224 characters: letters, digits and "
                         "+=,.@:/-_")
        if c.kind == "service" and c.service not in SERVICES:
            found.append("Choose an AWS service.")
    elif step == "permissions" and c.template:
        if not _BUCKET.fullmatch(c.template_bucket):
            found.append("Enter the name of the bucket that holds the logs.")
        if not _ACCOUNT.fullmatch(c.template_account or c.account):
            found.append("Enter the 12-digit account whose log prefix the role may read.")
    elif step == "details":
        if not _ROLE_NAME.fullmatch(c.name):
            found.append("The role name must be 1 to 64 characters: letters, digits and "
                         "+=,.@-_")
        if len(c.description) > 1000:
            found.append("The description can have at most 1000 characters.")
    return found


async def _policy_choices(ctx: Page, query: str) -> list[dict[str, Any]]:
    out = await ctx.call("iam", "ListPolicies", {"Scope": "All", "MaxItems": 1000})
    listed: list[dict[str, Any]] = out.get("Policies") or []
    listed.sort(key=lambda p: (not p["Arn"].startswith("arn:aws:iam::aws:"),
                               p["PolicyName"].lower()))
    if query:
        listed = [p for p in listed if query.lower() in p["PolicyName"].lower()]
    return listed


async def _show(ctx: Page, step: str, c: Choices, errors: list[str], status: int = 200,
                failure: dict[str, Any] | None = None) -> Response:
    values: dict[str, Any] = {}
    if step == "permissions":
        query = ctx.field("q") if ctx.form is not None else ctx.arg("q")
        values["q"] = query.strip()
        values["available"] = await _policy_choices(ctx, values["q"])
        values["template_preview"] = json.dumps(c.template_policy(), indent=2) \
            if (c.template_account or c.account) else ""
    if step == "review":
        values["trust_json"] = json.dumps(c.trust_policy(), indent=2)
        values["template_json"] = json.dumps(c.template_policy(), indent=2) \
            if c.template else ""
    return ctx.render("wizard.html", status, title="Create role", step=step, steps=STEPS,
                      c=c, state=c.dump(), errors=errors, services=SERVICES,
                      failure=failure, template_name=TEMPLATE_NAME, **values)


@page
async def create_role(ctx: Page) -> Response:
    if ctx.form is None:
        return await _show(ctx, "trust", Choices(), [])
    c = Choices.load(ctx.field("state"))
    step = ctx.field("step")
    if step in STEPS:
        _read_step(ctx, step, c)
    goto = ctx.field("goto")
    if goto == "search":  # the permission step's search box: stay on the step
        return await _show(ctx, "permissions", c, [])
    if goto == "create":
        return await _create(ctx, c)
    forward = goto in STEPS and step in STEPS and STEPS.index(goto) > STEPS.index(step)
    if forward:
        for earlier in STEPS[: STEPS.index(goto)]:
            errors = problems(earlier, c)
            if errors:
                return await _show(ctx, earlier, c, errors, 400)
    return await _show(ctx, goto if goto in STEPS else "trust", c, [])


async def _create(ctx: Page, c: Choices) -> Response:
    for step in STEPS[:3]:
        errors = problems(step, c)
        if errors:
            return await _show(ctx, step, c, errors, 400)
    params: dict[str, Any] = {
        "RoleName": c.name,
        "AssumeRolePolicyDocument": scenario.dumps(c.trust_policy()),
    }
    if c.description:
        params["Description"] = c.description
    try:
        await ctx.call("iam", "CreateRole", params)
        for arn in c.policies:
            await ctx.call("iam", "AttachRolePolicy", {"RoleName": c.name, "PolicyArn": arn})
        if c.template:
            await ctx.call("iam", "PutRolePolicy", {
                "RoleName": c.name, "PolicyName": TEMPLATE_NAME,
                "PolicyDocument": scenario.dumps(c.template_policy()),
            })
    except ActionFailed as failed:
        return await _show(ctx, "review", c, [], 400, failure=failed.view())
    return redirect(f"/console/iam/roles?created={quote(c.name, safe='')}")
