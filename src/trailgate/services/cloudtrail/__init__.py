"""The CloudTrail service: trails (:mod:`.trails`), event history (:mod:`.events`) and the
digest signing keys (:mod:`.keys_api`)."""

from __future__ import annotations

from .events import EventHistoryOps
from .keys_api import PublicKeyOps
from .trails import TrailOps

__all__ = ["CloudTrailProvider", "EventHistoryOps", "PublicKeyOps", "TrailOps"]


class CloudTrailProvider(TrailOps, EventHistoryOps, PublicKeyOps):
    """Trail operations + event history (LookupEvents) + ListPublicKeys, one method per
    operation."""
