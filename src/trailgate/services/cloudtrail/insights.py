"""CloudTrail Insights selectors of a trail: ``PutInsightSelectors`` / ``GetInsightSelectors``.

trailgate analyses no call rates, so a trail with Insights selectors delivers no Insights
events; the selectors are kept, reported by GetInsightSelectors and flagged by the trail's
``HasInsightSelectors``, as on AWS.  An empty list turns Insights off.  Asking for the
selectors of a trail without any is ``InsightNotEnabledException`` (AWS's message names the
trail by its ARN).
"""

from __future__ import annotations

from typing import Any, Final

from ...protocol.errors import ServiceError
from ...store.interface import Tx
from ..base import Call
from .common import error
from .trails import TrailOps

INSIGHT_TYPES: Final = ("ApiCallRateInsight", "ApiErrorRateInsight")
EVENT_CATEGORIES: Final = ("Management", "Data")


def _invalid(message: str) -> ServiceError:
    return error("InvalidInsightSelectorsException", message)


def normalize_insights(selectors: Any) -> list[dict[str, Any]]:
    """The checked selectors, each as given (``EventCategories`` only when sent).  Values
    outside the enums never get here: the gateway answers InvalidInsightSelectorsException
    first (protocol/cloudtrail_input.py)."""
    if not isinstance(selectors, list):
        raise _invalid("The InsightSelectors statement is not valid.")
    out: list[dict[str, Any]] = []
    for item in selectors:
        kind = item.get("InsightType") if isinstance(item, dict) else None
        if kind not in INSIGHT_TYPES:
            raise _invalid(
                "The InsightSelectors statement is not valid: every selector needs an "
                f"InsightType ({' or '.join(INSIGHT_TYPES)})."
            )
        entry: dict[str, Any] = {"InsightType": kind}
        categories = item.get("EventCategories")
        if categories is not None:
            if not isinstance(categories, list) or any(
                c not in EVENT_CATEGORIES for c in categories
            ):
                raise _invalid("The InsightSelectors statement is not valid: EventCategories.")
            entry["EventCategories"] = list(categories)
        out.append(entry)
    return out


class InsightOps(TrailOps):
    """The trail operations plus the Insights selectors."""

    def PutInsightSelectors(self, call: Call, tx: Tx) -> dict[str, Any]:
        trail = self._own_trail(call, tx, call.params.get("TrailName"))
        selectors = normalize_insights(call.params.get("InsightSelectors"))
        trail["InsightSelectors"] = selectors
        trail["HasInsightSelectors"] = bool(selectors)
        self._save(tx, trail)
        return {"TrailARN": trail["TrailARN"], "InsightSelectors": selectors}

    def GetInsightSelectors(self, call: Call, tx: Tx) -> dict[str, Any]:
        trail = self._trail(call, tx, call.params.get("TrailName"))
        selectors = trail.get("InsightSelectors") or []
        if not selectors:
            raise error(
                "InsightNotEnabledException",
                f"Trail {trail['TrailARN']} does not have Insights enabled. Edit the trail "
                "settings to enable Insights, and then try the operation again.",
            )
        return {"TrailARN": trail["TrailARN"], "InsightSelectors": selectors}
