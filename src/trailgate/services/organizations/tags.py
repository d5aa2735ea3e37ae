"""Tags on the organization's resources: accounts, OUs, the root and the policies the
organization created (TagResource, UntagResource, ListTagsForResource, and the ``Tags`` of
CreateAccount, CreateOrganizationalUnit and CreatePolicy).

As AWS Organizations has them: at most 50 tags a resource, keys unique within a request and
never starting with ``aws:``, a key tagged again takes the new value.  A resource that does
not exist is a TargetNotFoundException.

Records (namespace ``__organizations__``): ``tags`` key = resource id {ResourceId, Tags}.
"""

from __future__ import annotations

from typing import Any, Final

from ..base import Call
from .base import ORG, OrgBase, org_error

MAX_TAGS: Final = 50


def _target_not_found() -> Exception:
    return org_error("TargetNotFoundException", "We can't find a root, OU, account, or policy "
                     "with the TargetId that you specified.")


def check_tags(tags: Any) -> list[dict[str, str]]:
    """The tags of a request, as ``[{Key, Value}]``, refused as AWS refuses them."""
    pairs = [{"Key": str(t.get("Key") or ""), "Value": str(t.get("Value") or "")}
             for t in tags or []]
    keys = [p["Key"] for p in pairs]
    if len(set(keys)) != len(keys):
        # UNSURE: the message wording (the code and reason are AWS's)
        raise org_error("InvalidInputException", "You specified the same tag key more than "
                        "once.", "DUPLICATE_TAG_KEY")
    if any(k.lower().startswith("aws:") for k in keys):
        # UNSURE: the message wording (the code and reason are AWS's)
        raise org_error("InvalidInputException", "Tag keys that start with aws: are reserved "
                        "for use by AWS.", "INVALID_SYSTEM_TAGS_PARAMETER")
    if len(pairs) > MAX_TAGS:
        raise too_many_tags()
    return pairs


def too_many_tags() -> Exception:
    # UNSURE: the message wording (the code and reason are AWS's)
    return org_error("ConstraintViolationException", "You have exceeded the maximum number "
                     "of tags allowed on this resource.", "MAX_TAG_LIMIT_EXCEEDED")


def tags_of(tx: Any, resource: str) -> list[dict[str, str]]:
    found: dict[str, Any] | None = tx.get(ORG, "tags", resource)
    return list(found["Tags"]) if found is not None else []


def set_tags(tx: Any, resource: str, tags: list[dict[str, str]]) -> None:
    if tags:
        tx.put(ORG, "tags", resource, resource, {"ResourceId": resource, "Tags": tags})
    else:
        tx.delete(ORG, "tags", resource)


def add_tags(tx: Any, resource: str, tags: list[dict[str, str]]) -> None:
    """Merge ``tags`` (checked) into the resource's: a key already there takes the new value."""
    merged = {t["Key"]: t["Value"] for t in tags_of(tx, resource)}
    merged.update((t["Key"], t["Value"]) for t in tags)
    if len(merged) > MAX_TAGS:
        raise too_many_tags()
    set_tags(tx, resource, [{"Key": k, "Value": v} for k, v in merged.items()])


class TagOps(OrgBase):
    """The tagging operations, mixed into the Organizations provider."""

    def _taggable(self, tx: Any, resource: Any) -> str:
        """A resource id that exists: the root, an OU, an account of the organization, or a
        policy the organization created."""
        wanted = str(resource or "")
        if wanted == self._root_id(tx) or any(
                tx.get(ORG, kind, wanted) is not None for kind in ("ou", "account", "policy")):
            return wanted
        # UNSURE: an AWS-managed policy (p-FullAWSAccess) is refused as not found here
        raise _target_not_found()

    def TagResource(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        resource = self._taggable(tx, call.params.get("ResourceId"))
        add_tags(tx, resource, check_tags(call.params.get("Tags")))
        return {}

    def UntagResource(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_management(call, tx)
        resource = self._taggable(tx, call.params.get("ResourceId"))
        gone = {str(k) for k in call.params.get("TagKeys") or ()}
        set_tags(tx, resource, [t for t in tags_of(tx, resource) if t["Key"] not in gone])
        return {}

    def ListTagsForResource(self, call: Call, tx: Any) -> dict[str, Any]:
        self._require_reader(call, tx)
        resource = self._taggable(tx, call.params.get("ResourceId"))
        return {"Tags": tags_of(tx, resource)}
