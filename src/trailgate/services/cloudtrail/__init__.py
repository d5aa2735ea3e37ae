"""The CloudTrail service: trails (:mod:`.trails`) and event history (:mod:`.events`)."""

from __future__ import annotations

from .events import EventHistoryOps
from .trails import TrailOps

__all__ = ["CloudTrailProvider", "EventHistoryOps", "TrailOps"]


class CloudTrailProvider(TrailOps, EventHistoryOps):
    """Trail operations + event history (LookupEvents), one method per operation."""
